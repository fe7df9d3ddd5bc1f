"""Small helpers for notebooks: showing figures the same way in JupyterLab and exported HTML."""
from __future__ import annotations

import plotly.graph_objects as go

CONFIG = {"displaylogo": False, "responsive": True}


def figure_html(fig: go.Figure | dict) -> str:
    """A figure (or a figure dict, rendered without re-validation) as a div without plotly.js."""
    import plotly.io as pio

    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=CONFIG, validate=False)


def show_figure(fig: go.Figure | dict) -> None:
    """Display a figure as a plain HTML div that draws with the page's own plotly.js.

    Exported reports load plotly.js once in their head (inline or from a file beside them), so
    the figures themselves carry none and the page needs no network.
    """
    from IPython.display import HTML, display

    display(HTML(figure_html(fig)))


class FigureSpec:
    """A figure dict that displays as a plotly figure in JupyterLab without building a go.Figure."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        import json

        import plotly.io as pio

        data = json.loads(pio.to_json(self.spec, validate=False))
        return {"application/vnd.plotly.v1+json": {**data, "config": CONFIG}, "text/html": figure_html(self.spec)}
