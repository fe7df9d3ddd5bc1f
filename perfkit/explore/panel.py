"""Every rate's chart of the current account, under the widget: one small figure per metric.

Each figure is the light :mod:`perfkit.explore.figure` widget (a plotly ``FigureWidget`` carries
plotly.js, 5 MB, in every instance: ten of them sent 50 MB when the panel opened). A change of
account or dates sends each figure's new dict, built once per account, period and language
(:meth:`ExplorerState.memo`): switching back to an account is only sending.
"""
from __future__ import annotations

import ipywidgets as W

from perfkit.analysis.reconcile import official_points
from perfkit.engine import registry
from perfkit.explore.figure import figure_class, plain, shared_loader
from perfkit.explore.state import ExplorerState
from perfkit.explore.views import heading, tagged
from perfkit.views.charts import rate_chart_spec
from perfkit.views.labels import t

PANEL_HEIGHT = 260   # each figure: small, so ten fit on a few screens


class ChartsPanel:
    """Every rate's chart of the current account (the cell under the widget), folded until
    opened. One small figure per metric, made on first opening and then updated in place from
    the state's series; while folded nothing is drawn (the figures are emptied, so none keeps
    the previous account) and opening draws the account shown.

    Each metric of the policy has its figure in the panel for the panel's life, in policy order;
    one the account lacks is hidden and emptied. Taking a figure out of the children would remove
    its browser view (ipywidgets also re-creates every child view after the first changed one):
    plotly's FigureWidget view kept answering its model after removal, which logged "Error
    setting state: Cannot read properties of undefined" on the next update."""

    def __init__(self, state: ExplorerState) -> None:
        self.state, self.revision = state, 0
        self.title, self.box = W.HTML(), W.VBox()
        self.fold = tagged(W.Accordion(children=[W.VBox([self.title, self.box])], selected_index=None),
                           "charts-panel")
        self.figures: dict[str, W.Widget] = {}
        self.loader: W.Widget | None = None
        self.fold.observe(state.guard(lambda _c: self.update()), "selected_index")
        state.on_change(lambda _c: self.update(), {"account", "start", "end", "lang"})
        self.update()

    def metrics(self) -> list[str]:
        present = self.state.memo("metrics", lambda: set(self.state.series()["metric"]))
        return [m for m in registry.chart_metrics(self.state.policy) if m in present]

    def update(self) -> None:
        st = self.state
        self.fold.titles = (f"{st.ctx().account.name}: {t('charts_heading', st.lang)}",)
        self.title.value = f"<p>{heading(st, t('charts_heading', st.lang))}</p>"
        if self.fold.selected_index is None:
            for figure in self.figures.values():
                if figure.figure:
                    figure.figure = {}
            return
        self.draw()

    def draw(self) -> None:
        st = self.state
        if self.loader is None:
            # Every slot once, in policy order, and never taken out: ipywidgets re-creates each
            # child view after the first changed one; a metric the account lacks is hidden.
            self.loader = shared_loader()
            for metric in registry.chart_metrics(st.policy):
                figure = tagged(figure_class()(layout=W.Layout(width="100%")), "panel-figure")
                self.figures[metric] = tagged(figure, f"panel-{metric}")
            self.box.children = [self.loader, *self.figures.values()]
        self.revision += 1
        present = set(self.metrics())
        for metric, figure in self.figures.items():
            with figure.hold_sync():  # figure and display in one message
                if metric not in present:
                    figure.layout.display = "none"
                    figure.figure = {}
                    continue
                figure.figure = plain(st.memo("panel-spec", lambda m=metric: rate_chart_spec(
                    st.series(), m, st.policy, st.lang, official=official_points(st.ctx()), height=PANEL_HEIGHT),
                    metric), self.revision)
                figure.layout.display = None
