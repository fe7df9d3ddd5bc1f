"""The explorer's chart: the chosen metric's chart (a click opens its orders). The panel of every
rate's chart under the widget is :mod:`perfkit.explore.panel`.

Both draw from the state's series (computed once per account, sliced for the period) with the
light :mod:`perfkit.explore.figure` widget, kept for the view's life and updated in place. A
click is taken only if it was made on the figure shown now (its revision), and names the line
it was made on; where lines lie too close to tell apart, the segment picker beside the chart
decides.
"""
from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

import ipywidgets as W
import pandas as pd

from perfkit.analysis.reconcile import official_points
from perfkit.engine import registry
from perfkit.explore.figure import figure_class, plain, shared_loader
from perfkit.explore.state import ExplorerState
from perfkit.explore.views import Bound, TabView, heading, refill, tagged
from perfkit.views.charts import breach_runs, drawn_segments, rate_chart_spec
from perfkit.views.labels import metric_name, segment_name, t

E = html.escape
NEAR_PX = 6          # two lines closer than this at the clicked day cannot be told apart by a click


def plot_height(layout: dict) -> float:
    """The plotting area's height in pixels (the figure's height less its margins)."""
    margin = layout.get("margin", {})
    return float(layout.get("height", 360)) - float(margin.get("t", 50)) - float(margin.get("b", 40))


def same_point(trace: dict, index: int, x: object, y: object) -> bool:
    """Whether point ``index`` of ``trace`` (a trace dict as sent) is at (x, y)."""
    xs, ys = trace.get("x"), trace.get("y")
    if xs is None or ys is None or not 0 <= index < len(xs) or str(xs[index])[:10] != str(x)[:10]:
        return False
    if ys[index] is None or y is None:
        return ys[index] is None and y is None
    return abs(float(ys[index]) - float(y)) < 1e-9


class ChartView(TabView):
    """The chosen metric's chart: clicking a point picks that day and segment;
    a segment picker beside it and a breach picker that zooms the chart to a breach."""

    tab = "chart"

    def __init__(self, state: ExplorerState, on_pick: Callable[[], None] = lambda: None) -> None:
        self.state, self.on_pick = state, on_pick
        self.metric = W.Dropdown(description=t("metric", state.lang))
        self.bound = Bound(self.metric, state, "metric")
        self.segment = W.Dropdown(description=t("segment", state.lang))
        self.bound_segment = Bound(self.segment, state, "segment")
        self.breach = W.Dropdown(description=t("breach_picker", state.lang))
        self.breach.observe(state.guard(lambda _c: self.zoom()), "value")
        self.hint, self.note = W.HTML(), tagged(W.HTML(), "chart-note")
        self.box = W.Box(layout=W.Layout(width="100%"))
        self.figure = None  # the figure widget, made on the first draw
        self.revision = 0   # of the figure sent: a click names the revision it was made on
        self._layout: dict = {}
        self._data: list = []
        self._zooming = False
        state.on_change(lambda _c: self.update(), {"account", "start", "end", "lang", "metric"})
        state.on_change(lambda _c: self.bound_segment.set(state.current_segment()), {"segment"})
        self.update()

    def spec(self) -> dict:
        """The chart's figure dict, built once per account, period, language and metric."""
        def build() -> dict:
            st = self.state
            spec = rate_chart_spec(st.series(), st.metric, st.policy, st.lang, official=official_points(st.ctx()))
            spec["layout"]["hovermode"] = "closest"  # a click then names one point, on one segment's line
            return spec
        return self.state.memo("chart-spec", build, self.state.metric)

    def drawn(self) -> list[str]:
        """The segments drawn on the chart (those with units), in the chart's order."""
        def build() -> list[str]:
            s = self.state.series()
            return drawn_segments(s[s["metric"] == self.state.metric])
        return self.state.memo("drawn", build, self.state.metric)

    def runs(self, first: str | None) -> list:
        """The breaches of the chart's first line, for the breach picker."""
        def build() -> list:
            s = self.state.series()
            return breach_runs(s[s["metric"] == self.state.metric], first)
        return self.state.memo("runs", build, self.state.metric, first)

    def draw(self) -> None:
        st, lang = self.state, self.state.lang
        targets = registry.chart_metrics(st.policy, with_info=True)
        self.metric.description, self.segment.description = t("metric", lang), t("segment", lang)
        self.breach.description = t("breach_picker", lang)
        self.bound.set(st.metric, [(metric_name(m, lang, st.policy), m) for m in targets])
        segs = self.drawn()
        self.bound_segment.set(st.current_segment() if st.current_segment() in segs else (segs[0] if segs else None),
                               [(segment_name(s, lang), s) for s in segs])
        self.hint.value = heading(st, t("click_hint", lang))
        self.note.value = ""
        spec = self.spec()
        self._layout, self._data = spec["layout"], spec["data"]
        if self.figure is None:
            # One light figure for the view's life (a FigureWidget validated every trace in the
            # kernel on each update: a third of an account switch); plotly.js comes once.
            self.figure = figure_class()(clicks=True, lazy=False, layout=W.Layout(width="100%"))
            self.figure.on_msg(lambda _w, content, _b: self.state.guard(self.clicked)(content))
            self.box.children = [shared_loader(), self.figure]
        self.revision += 1
        self.figure.figure = plain(spec, self.revision)
        self._zooming = True
        try:
            refill(self.breach, [(t("whole_period", lang), None)]
                   + [(f"{a.date()} – {b.date()}", (a.date(), b.date())) for a, b in self.runs(segs[0] if segs else None)],
                   None)
        finally:
            self._zooming = False

    def zoom(self) -> None:
        """The chart's days: the chosen breach with as many days again on each side (at least two
        weeks), or the whole period (the same data: the revision, and so clicks, stay good)."""
        if self._zooming or self.figure is None or not self.figure.figure:
            return
        chosen, fig = self.breach.value, self.figure.figure
        xaxis = {k: v for k, v in fig["layout"].get("xaxis", {}).items() if k not in ("range", "autorange")}
        if chosen is None:
            xaxis["autorange"] = True
        else:
            first, last = chosen
            pad = max(dt.timedelta(days=14), last - first)
            xaxis["range"] = [str(first - pad), str(last + pad)]
        self.figure.figure = {**fig, "layout": {**fig["layout"], "xaxis": xaxis}}

    def clear(self) -> None:
        self.hint.value = heading(self.state)
        self.note.value = ""
        if self.figure is not None:
            self.revision += 1  # a click on what was drawn before is not on anything shown now
            self.figure.figure = {}
            self._data = []

    def clicked(self, content: dict) -> None:
        """A click sent by the browser: {event, revision, curve, index, x, y}. Taken only if it was
        made on the figure sent last, at a point it has (one made on the figure drawn before,
        another account's or metric's, is not: the analyst is asked to click again)."""
        if not isinstance(content, dict) or content.get("event") != "click":
            return
        curve, index = content.get("curve"), content.get("index")
        trace = self._data[curve] if isinstance(curve, int) and 0 <= curve < len(self._data) else None
        if (str(content.get("revision")) != str(self.revision) or trace is None or not isinstance(index, int)
                or not same_point(trace, index, content.get("x"), content.get("y"))):
            self.note.value = E(t("stale_click", self.state.lang))
            return
        day = str(content["x"])[:10]
        self.pick(day, self.line_at(day, trace.get("legendgroup") or None, content.get("y")))

    def line_at(self, day: str, segment: str | None, y: float | None) -> str | None:
        """The segment a click on ``segment``'s line at ``y`` (percent) on ``day`` names: itself,
        unless another drawn line passes within NEAR_PX there; then the segment picker's."""
        st = self.state
        s = st.series()
        rows = s[(s["metric"] == st.metric) & (pd.to_datetime(s["as_of"]) == pd.Timestamp(day))
                 & s["segment"].isin(self.drawn()) & (s["segment"] != segment) & s["rate"].notna()]
        lo, hi = (self._layout.get("yaxis", {}).get("range") or [0.0, 100.0])
        px_per_point = plot_height(self._layout) / max(float(hi) - float(lo), 1e-9)
        if y is None or rows.empty or (abs(rows["rate"].astype(float) * 100 - float(y)) * px_per_point >= NEAR_PX).all():
            return segment
        chosen = self.segment.value
        self.note.value = E(t("lines_meet", st.lang, segment=segment_name(chosen, st.lang)))
        return chosen

    def pick(self, day: str, segment: str | None) -> None:
        """What a click on a point does: that day and segment in the drill-down."""
        with self.state.batch():
            self.state.day = dt.date.fromisoformat(day)
            if segment in self.state.segments():
                self.state.segment = segment
        self.on_pick()

    def widget(self) -> W.Widget:
        pickers = W.HBox([tagged(self.metric, "chart-metric"), tagged(self.segment, "chart-segment"),
                          tagged(self.breach, "chart-breach")])
        return tagged(W.VBox([pickers, self.hint, self.note, self.box]), "chart")
