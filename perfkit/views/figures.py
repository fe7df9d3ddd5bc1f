"""Small helpers for notebooks: showing figures the same way in JupyterLab and exported HTML."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # plotly itself only where a go.Figure is drawn: a report kernel shows dicts
    import plotly.graph_objects as go

CONFIG = {"displaylogo": False, "responsive": True}


# plotly.io's own escapes, so buyer text in a chart can never close the page's <script>.
_SAFE_JSON = (("<", "\\u003c"), (">", "\\u003e"), ("/", "\\u002f"))


def _json(value: object) -> str:
    """Compact JSON as plotly.io writes it, or None where plotly's encoder is needed (numpy
    values, NaN): the report's figure dicts hold plain lists, so that is the exception."""
    import json

    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None
    for unsafe, safe in _SAFE_JSON:
        text = text.replace(unsafe, safe)
    return text


def _px(value: object) -> str:
    return f"{value}px" if isinstance(value, (int, float)) else str(value)


def figure_html(fig: go.Figure | dict, div_id: str | None = None) -> str:
    """A figure (or a figure dict, rendered without re-validation) as a div without plotly.js.

    A figure dict is written here as ``plotly.io.to_html`` writes it (the same markup and
    JSON; tests compare the two) without importing plotly, which was most of a report
    kernel's chart time.
    """
    import json
    import uuid

    data = _json(fig.get("data", [])) if isinstance(fig, dict) and not fig.get("frames") else None
    layout = _json(fig.get("layout", {})) if data is not None else None
    if layout is None:
        import plotly.io as pio

        return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=CONFIG, validate=False,
                           div_id=div_id)
    lay = fig.get("layout", {})
    template = (lay.get("template") or {}).get("layout", {})
    width = _px(lay.get("width", template.get("width", "100%")))
    height = _px(lay.get("height", template.get("height", "100%")))
    plot = div_id or str(uuid.uuid4())
    pad = " " * 4
    script = (f'{pad * 4}if (document.getElementById("{plot}")) {{{pad * 5}Plotly.newPlot({pad * 6}"{plot}",'
              f'{pad * 6}{data},{pad * 6}{layout},{pad * 6}{json.dumps(CONFIG)}{pad * 5}){pad * 4}}}')
    return (f'<div style="height:{height}; width:{width};">{pad * 7}<div id="{plot}" class="plotly-graph-div" '
            f'style="height:100%; width:100%;"></div>{pad * 3}<script>{pad * 4}window.PLOTLYENV=window.PLOTLYENV || {{}};'
            f'{pad * 4}{script};{pad * 3}</script>{pad * 2}</div>')


class FigureSpec:
    """A figure dict that displays as a plotly figure in JupyterLab without building a go.Figure."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        import json

        import plotly.io as pio

        data = json.loads(pio.to_json(self.spec, validate=False))
        return {"application/vnd.plotly.v1+json": {**data, "config": CONFIG}, "text/html": figure_html(self.spec)}
