"""Every rate's chart of the current account, under the widget: one small figure per metric.

A plotly ``FigureWidget`` carries plotly.js (5 MB) in every instance: ten of them sent 50 MB to
the browser when the panel opened. Here plotly.js goes to the browser once (:class:`plotly_loader`,
the same file the weekly report inlines) and each figure is a small widget holding only its
figure dict: a change of account or dates sends each figure's new dict, and the browser redraws
it in place with ``Plotly.react``, only while the figure is on screen (one scrolled away is
drawn when it comes into view).
"""
from __future__ import annotations

import functools

import ipywidgets as W
import traitlets as T

from perfkit.analysis.reconcile import official_points
from perfkit.engine import registry
from perfkit.explore.state import ExplorerState
from perfkit.explore.views import heading, tagged
from perfkit.views.charts import rate_chart_spec
from perfkit.views.figures import CONFIG
from perfkit.views.labels import t

PANEL_HEIGHT = 260   # each figure: small, so ten fit on a few screens

# A figure draws once plotly.js is there, while it is on screen (or within 200 px of it), and again
# in place (Plotly.react) when its figure changes. "On screen" is judged against JupyterLab's
# notebook scroller where there is one (it clips the page, and an observer's margin applies only
# to its root), else the page (Voila). Two attributes say what the browser shows, for tests and the
# browser benchmark: data-visible ("1" while on screen) and data-revision (the revision of the
# figure drawn, set once Plotly.react has finished).
FIGURE_JS = """
const plotly = () => new Promise(resolve => {
  const wait = () => (globalThis.Plotly ? resolve(globalThis.Plotly) : setTimeout(wait, 30));
  wait();
});
export default {
  async render({ model, el }) {
    el.classList.add("perfkit-panel-figure");
    el.dataset.visible = "0";
    const Plotly = await plotly();
    const div = document.createElement("div");
    el.appendChild(div);
    let visible = false, stale = true, seen = null, gone = false;
    const draw = () => {
      const fig = model.get("figure") || {};
      el.style.minHeight = ((fig.layout || {}).height || 0) + "px";
      if (!visible) { stale = true; return; }
      stale = false;
      const revision = String((fig.layout || {}).datarevision ?? "");
      Plotly.react(div, fig.data || [], fig.layout || {}, model.get("config"))
        .then(() => { el.dataset.revision = revision; });
    };
    const watch = () => {
      if (gone) return;
      if (!el.isConnected) { setTimeout(watch, 50); return; }  // placed in the page after render
      seen = new IntersectionObserver(entries => {
        visible = entries[entries.length - 1].isIntersecting;
        el.dataset.visible = visible ? "1" : "0";
        if (visible && stale) draw();
      }, { root: el.closest(".jp-WindowedPanel-outer"), rootMargin: "200px" });
      seen.observe(el);
    };
    model.on("change:figure", draw);
    draw();
    watch();
    return () => { gone = true; seen?.disconnect(); model.off("change:figure", draw); Plotly.purge(div); };
  }
};
"""


@functools.lru_cache(maxsize=1)
def figure_class() -> type:
    """The panel's figure widget (made on first use: nothing is built at import)."""
    import anywidget

    class PanelFigure(anywidget.AnyWidget):
        _esm = FIGURE_JS
        figure = T.Dict().tag(sync=True)
        config = T.Dict(CONFIG).tag(sync=True)

    return PanelFigure


@functools.lru_cache(maxsize=1)
def loader_class() -> type:
    """A widget that only loads plotly.js into the page, once (the figures wait for it)."""
    import anywidget
    from plotly.offline import get_plotlyjs

    class PlotlyLoader(anywidget.AnyWidget):
        _esm = ("if (!globalThis.Plotly) {\n" + get_plotlyjs() + "\n}\nexport default { render() {} };\n")

    return PlotlyLoader


def plain(spec: dict, revision: int) -> dict:
    """A figure dict to send, with its revision. ``rate_chart_spec`` builds plain JSON already
    (lists of str, float, int and None), so no JSON round trip through plotly's encoder: it cost
    a sixth of a redraw (a test checks the dict equals what plotly's encoder writes)."""
    return {**spec, "layout": {**spec["layout"], "datarevision": revision}}


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
        present = set(self.state.series()["metric"])
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
            self.loader = loader_class()(layout=W.Layout(display="none"))
            for metric in registry.chart_metrics(st.policy):
                self.figures[metric] = tagged(figure_class()(layout=W.Layout(width="100%")), f"panel-{metric}")
            self.box.children = [self.loader, *self.figures.values()]
        official = official_points(st.ctx())
        series = st.series()
        self.revision += 1
        present = set(self.metrics())
        for metric, figure in self.figures.items():
            if metric not in present:
                figure.layout.display = "none"
                figure.figure = {}
                continue
            figure.figure = plain(rate_chart_spec(series, metric, st.policy, st.lang, official=official,
                                                  height=PANEL_HEIGHT), self.revision)
            figure.layout.display = None
