"""The explorer's light figure widget: a figure dict drawn in the browser with ``Plotly.react``.

A plotly ``FigureWidget`` carries plotly.js (5 MB) in every instance and validates every trace in
the kernel on each update (a third of an account switch). Here plotly.js goes to the browser once
(:func:`plotly_loader`, the same file the weekly report inlines) and each figure is a small widget
holding only its figure dict: a change sends the new dict and the browser redraws it in place,
only while the figure is on screen (one scrolled away or in a hidden tab is drawn when shown).
A click on a point comes back as a message naming the figure's revision, the trace and the
point, so the kernel can tell a click made on a figure drawn before from one on the figure now.
"""
from __future__ import annotations

import functools

import traitlets as T

from perfkit.views.figures import CONFIG

# A figure draws once plotly.js is there, while it is on screen (or within 200 px of it), and again
# in place (Plotly.react) when its figure changes. "On screen" is judged against JupyterLab's
# notebook scroller where there is one (it clips the page, and an observer's margin applies only
# to its root), else the page (Voila). Two attributes say what the browser shows, for tests and the
# browser benchmark: data-visible ("1" while on screen) and data-revision (the revision of the
# figure drawn, set once Plotly.react has finished). A click sends {event, revision, curve, index,
# x, y} with the revision of the figure drawn (not the one last sent).
FIGURE_JS = """
const plotly = () => new Promise(resolve => {
  const wait = () => (globalThis.Plotly ? resolve(globalThis.Plotly) : setTimeout(wait, 30));
  wait();
});
export default {
  async render({ model, el }) {
    el.classList.add("perfkit-figure");
    el.dataset.visible = "0";
    const Plotly = await plotly();
    const div = document.createElement("div");
    el.appendChild(div);
    let visible = !model.get("lazy"), stale = true, seen = null, gone = false, listening = false, drawn = "";
    const draw = () => {
      const fig = model.get("figure") || {};
      el.style.minHeight = ((fig.layout || {}).height || 0) + "px";
      if (!visible) { stale = true; return; }
      stale = false;
      const revision = String((fig.layout || {}).datarevision ?? "");
      Plotly.react(div, fig.data || [], fig.layout || {}, model.get("config")).then(() => {
        el.dataset.revision = drawn = revision;
        if (model.get("clicks") && !listening) {
          listening = true;
          div.on("plotly_click", ev => {
            const p = (ev.points || [])[0];
            if (!p) return;
            model.send({ event: "click", revision: drawn, curve: p.curveNumber,
                         index: p.pointIndex ?? p.pointNumber, x: p.x, y: p.y ?? null });
          });
        }
      });
    };
    const watch = () => {
      if (gone) return;
      if (!model.get("lazy")) { visible = true; el.dataset.visible = "1"; if (stale) draw(); return; }
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
    """The figure widget (made on first use: nothing is built at import)."""
    import anywidget

    class Figure(anywidget.AnyWidget):
        _esm = FIGURE_JS
        figure = T.Dict().tag(sync=True)
        config = T.Dict(CONFIG).tag(sync=True)
        clicks = T.Bool(False).tag(sync=True)  # send clicks on points back to the kernel
        # Drawn only while on screen (the panel's figures). The explorer's own chart is not: in
        # JupyterLab its observer never said it was on screen (why was not found), and its tab
        # sends it only while shown anyway.
        lazy = T.Bool(True).tag(sync=True)

    return Figure


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


_loader: list = []


def shared_loader():
    """The one plotly.js loader of the kernel, shown (hidden) beside every figure that needs it:
    each loader instance sends the 5 MB file again."""
    import ipywidgets as W

    if not _loader or _loader[0].comm is None:  # none yet, or closed
        _loader[:] = [loader_class()(layout=W.Layout(display="none"))]
    return _loader[0]
