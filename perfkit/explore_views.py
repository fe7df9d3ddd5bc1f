"""The explorer's views, each drawn from :class:`~perfkit.explore_state.ExplorerState` alone.

A view subscribes to the names it depends on and redraws itself whole; pickers write into the
state and never patch another view. Every view names the account it shows, so a screen can
never mix two accounts without saying so.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Callable
from pathlib import Path

import ipywidgets as W
import numpy as np
import pandas as pd

from . import registry
from .atomic import atomic_write_text
from .causes import OTHER, CauseChoice, CauseStore, causes_for
from .charts import rate_chart_spec
from .drilldown import driver_tables, units_frame, window
from .explore_state import ExplorerState
from .labels import metric_name, segment_name, t
from .metrics import window_bounds
from .notebook import FigureSpec
from .poa import draft_poa
from .reconcile import official_points
from .status import STATUS_COLOURS, counted_text, status_reason

E = html.escape
PAGE = 50  # drill-down rows per page
COLUMNS = ("order_id", "return_id", "defect", "anchor_date", "category", "carrier", "buyer_comment", "claim_reason")


def show(out: W.Output, *objects: object) -> None:
    """Replace an Output widget's content (works with or without a running kernel)."""
    out.outputs = ()
    for obj in objects:
        out.append_display_data(obj)


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)


class Bound:
    """A picker bound to one state name: the user's choice goes into the state; the state's
    value (and relabelled options) come back without echoing into the state again."""

    def __init__(self, widget: W.ValueWidget, state: ExplorerState, name: str,
                 convert: Callable[[object], object] = lambda v: v) -> None:
        self.widget, self.state, self.name, self._busy = widget, state, name, False
        widget.observe(self._to_state, "value")
        self.convert = convert

    def _to_state(self, change: dict) -> None:
        if not self._busy and change["new"] is not None:
            setattr(self.state, self.name, self.convert(change["new"]))

    def set(self, value: object, options: list | None = None) -> None:
        self._busy = True
        try:
            if options is not None:
                self.widget.options = options
            self.widget.value = value
        finally:
            self._busy = False


def tagged(widget: W.Widget, name: str) -> W.Widget:
    """``widget`` with the CSS class ``perfkit-<name>`` (what a browser test or a stylesheet finds)."""
    widget.add_class(f"perfkit-{name}")
    return widget


def heading(state: ExplorerState, *parts: str) -> str:
    """``<b>Account name (id)</b> · part · part``: every view says whose figures it shows."""
    acc = state.ctx().account
    return " · ".join([f"<b>{E(acc.name)} ({E(acc.account_id)})</b>", *(E(p) for p in parts if p)])


class StatusView:
    """The status table of the period's last day and the account-health section."""

    def __init__(self, state: ExplorerState) -> None:
        self.state, self.out = state, tagged(W.Output(), "status")
        state.on_change(lambda _c: self.draw(), {"account", "start", "end", "lang"})
        self.draw()

    def html(self) -> str:
        from .health_view import health_html

        st, lang, pol = self.state, self.state.lang, self.state.policy
        rows = []
        for r in st.status().itertuples():
            rate = "–" if pd.isna(r.rate) else f"{r.rate:.2%}"
            trend = "" if pd.isna(r.trend) else f"{r.trend:+.2f} pt"
            head = "" if pd.isna(r.headroom) else str(int(r.headroom))
            why = status_reason(pol, r.metric, r.shown, r.headroom, r.rate, lang)
            rows.append(f"<tr><td>{E(metric_name(r.metric, lang, pol))}</td><td>{E(segment_name(r.segment, lang))}</td>"
                        f"<td>{rate}</td><td>{E(counted_text(pol, r.metric, r.numerator, r.denominator, lang))}</td>"
                        f"<td>{E(pol[r.metric].target_display())}</td>"
                        f"<td style='color:{STATUS_COLOURS.get(r.shown, '#999')};font-weight:600'>{E(t(r.shown, lang))}</td>"
                        f"<td>{E(why)}</td><td>{head}</td><td>{trend}</td></tr>")
        heads = "".join(f"<th>{E(t(k, lang))}</th>" for k in
                        ("metric", "segment", "rate", "counted", "target", "status", "why", "headroom", "trend"))
        day = st.as_of()
        top = heading(st, t("as_of", lang) + f" {day}")
        health = health_html(st.ctx(), day, lang) if day is not None else ""
        return (f"<div class='perfkit-status'><p>{top}</p><table><thead><tr>{heads}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>{health}</div>")

    def draw(self) -> None:
        show(self.out, _html(self.html()))


class ChartView:
    """The chosen metric's chart as a FigureWidget: clicking a point picks that day and segment."""

    def __init__(self, state: ExplorerState, on_pick: Callable[[], None] = lambda: None) -> None:
        self.state, self.on_pick = state, on_pick
        self.metric = W.Dropdown(description=t("metric", state.lang))
        self.bound = Bound(self.metric, state, "metric")
        self.hint = W.HTML()
        self.box = W.Box(layout=W.Layout(width="100%"))
        self.figure = None  # the go.FigureWidget, made on the first draw
        state.on_change(lambda _c: self.draw(), {"account", "start", "end", "lang", "metric"})
        self.draw()

    def spec(self) -> dict:
        st = self.state
        spec = rate_chart_spec(st.series(), st.metric, st.policy, st.lang, official=official_points(st.ctx()))
        spec["layout"]["hovermode"] = "closest"  # a click then names one point, on one segment's line
        return spec

    def draw(self) -> None:
        import plotly.graph_objects as go

        st, lang = self.state, self.state.lang
        targets = registry.chart_metrics(st.policy, with_info=True)
        self.metric.description = t("metric", lang)
        self.bound.set(st.metric, [(metric_name(m, lang, st.policy), m) for m in targets])
        self.hint.value = heading(st, t("click_hint", lang))
        spec = self.spec()
        if self.figure is None:
            # One FigureWidget for the view's life: each new one would ship plotly's 5 MB bundle
            # to the browser again, and Voila gives a widget 2 s to start.
            self.figure = go.FigureWidget(spec)
            self.box.children = [self.figure]
        else:
            with self.figure.batch_update():
                self.figure.data = ()
                self.figure.layout = spec["layout"]
            self.figure.add_traces(spec["data"])
        for trace in self.figure.data:
            trace.on_click(self.state.guard(self._clicked))

    def _clicked(self, trace, points, _selector) -> None:
        if not points.xs:
            return
        self.pick(str(points.xs[0])[:10], trace.legendgroup or None)

    def pick(self, day: str, segment: str | None) -> None:
        """What a click on a point does: that day and segment in the drill-down."""
        with self.state.batch():
            self.state.day = dt.date.fromisoformat(day)
            if segment in self.state.segments():
                self.state.segment = segment
        self.on_pick()

    def widget(self) -> W.Widget:
        return tagged(W.VBox([tagged(self.metric, "chart-metric"), self.hint, self.box]), "chart")


def readable(units: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The drill-down's columns with their names and defect types in ``lang``; blanks, never <NA>."""
    cols = [c for c in COLUMNS if c in units.columns]
    out = units[cols].copy()
    if "defect" in out:
        out["defect"] = [", ".join(t(c.strip(), lang) for c in str(v).split(",")) if isinstance(v, str) and v else ""
                         for v in out["defect"]]
    out = out.astype(object).where(out.notna(), "")
    return out.rename(columns={c: t("col_" + c, lang) for c in cols})


class DrillView:
    """The units behind the chosen metric, day and segment: defective first, a page at a time."""

    def __init__(self, state: ExplorerState) -> None:
        self.state, self.page = state, 0
        self.segment = W.Dropdown(description=t("segment", state.lang))
        self.bound_segment = Bound(self.segment, state, "segment")
        self.day = W.DatePicker(description=t("date", state.lang))
        self.bound_day = Bound(self.day, state, "day")
        self.prev, self.next = W.Button(), W.Button()  # words, not icons: Voila has no icon font offline
        self.prev.on_click(state.guard(lambda _b: self.turn(-1)))
        self.next.on_click(state.guard(lambda _b: self.turn(1)))
        self.title, self.counter, self.download = W.HTML(), W.HTML(), W.HTML()
        self.table, self.drivers = W.Output(), W.Output()
        self._bad: pd.DataFrame | None = None
        state.on_change(lambda _c: self.draw(), {"account", "start", "end", "lang", "metric", "segment", "day"})
        self.draw()

    def frame(self) -> pd.DataFrame:
        """Every defective unit of the current window, newest first, readable."""
        st = self.state
        w = self._window()
        bad = units_frame(st.ctx(), w, defective_only=True).sort_values("anchor_date", ascending=False, kind="stable")
        return readable(bad, st.lang)

    def _window(self):
        st = self.state
        ctx = st.ctx()
        return window(ctx, ctx.metric(st.metric), ctx.day(st.day or st.end), st.current_segment())

    def draw(self) -> None:
        st, lang = self.state, self.state.lang
        segs = st.segments()
        self.segment.description, self.day.description = t("segment", lang), t("date", lang)
        self.prev.description, self.next.description = t("previous", lang), t("next", lang)
        self.bound_segment.set(st.current_segment(), [(segment_name(s, lang), s) for s in segs])
        self.bound_day.set(st.day)
        self.page = 0
        if st.day is None or not segs:
            self._bad = None
            self.title.value = heading(st, t("no_data", lang))
            show(self.table)
            show(self.drivers)
            self.counter.value = self.download.value = ""
            return
        w = self._window()
        n_units, n_bad, tables = driver_tables(st.ctx(), w)
        self._bad = self.frame()
        self.title.value = heading(st, metric_name(st.metric, lang, st.policy),
                                   segment_name(st.current_segment(), lang), str(st.day),
                                   t("defects_of", lang, bad=n_bad, units=n_units))
        csv = self._bad.to_csv(index=False).encode("utf-8-sig")  # with a BOM: Excel reads Chinese text
        name = f"{st.account}-{st.metric}-{st.day}.csv"
        self.download.value = (f"<a download='{E(name)}' href='data:text/csv;base64,{base64.b64encode(csv).decode()}'>"
                               f"{E(t('download_csv', lang, n=len(self._bad)))}</a>")
        items = []
        for key, table in tables.items():
            if len(table):
                head = table.head(8).copy()
                if key == "component":
                    head["component"] = [t(c, lang) for c in head["component"]]
                head = head.rename(columns={c: t("col_" + c, lang) for c in head.columns})
                items.append(_html(f"<b>{E(t('by_' + key, lang))}</b>"
                                   + head.to_html(index=False, escape=True, float_format=lambda v: f"{v:.2%}")))
        show(self.drivers, *items)
        self.show_page()

    def turn(self, step: int) -> None:
        if self._bad is None:
            return
        pages = max(1, -(-len(self._bad) // PAGE))
        self.page = min(max(self.page + step, 0), pages - 1)
        self.show_page()

    def show_page(self) -> None:
        bad, lang = self._bad, self.state.lang
        total = len(bad)
        lo, hi = self.page * PAGE, min((self.page + 1) * PAGE, total)
        self.counter.value = E(t("showing", lang, lo=lo + 1 if total else 0, hi=hi, total=total))
        self.prev.disabled, self.next.disabled = self.page == 0, hi >= total
        show(self.table, _html(bad.iloc[lo:hi].to_html(index=False, escape=True)))

    def widget(self) -> W.Widget:
        return tagged(W.VBox([W.HBox([tagged(self.segment, "drill-segment"), tagged(self.day, "drill-day")]),
                              tagged(self.title, "drill-title"),
                              W.HBox([tagged(self.prev, "drill-prev"), tagged(self.counter, "drill-counter"),
                                      tagged(self.next, "drill-next"), tagged(self.download, "drill-csv")]),
                              tagged(self.table, "drill-table"), self.drivers]), "drill")


class CausesView:
    """Root causes of one metric in breach or at risk, tied to orders the analyst picks."""

    def __init__(self, state: ExplorerState, store: CauseStore) -> None:
        self.state, self.store = state, store
        self.pick = W.Dropdown(layout=W.Layout(width="95%"))
        self.causes = W.SelectMultiple(rows=6, layout=W.Layout(width="95%"))
        self.other = W.Text(description="+", layout=W.Layout(width="95%"))
        self.note = W.Textarea(layout=W.Layout(width="95%", height="70px"))
        self.orders = W.SelectMultiple(rows=8, layout=W.Layout(width="95%"))
        self.select_all = W.Button()
        self.author = W.Text()
        self.save_button = W.Button(button_style="primary")
        self.title, self.message, self.recorded = W.HTML(), W.HTML(), W.HTML()
        self.select_all.on_click(state.guard(lambda _b: self.select_all_defective()))
        self.save_button.on_click(state.guard(lambda _b: self.save()))
        self.pick.observe(state.guard(lambda _c: self.fill()), "value")
        self._filling = False
        state.on_change(lambda _c: self.draw(), {"account", "start", "end", "lang", "day"})
        state.on_change(lambda _c: self.show_recorded(), {"causes_version"})
        self.draw()

    def draw(self) -> None:
        st, lang = self.state, self.state.lang
        for widget, key in ((self.pick, "metric"), (self.causes, "cause"), (self.note, "note"),
                            (self.orders, "orders"), (self.author, "author"), (self.save_button, "save"),
                            (self.select_all, "select_all_defective")):
            setattr(widget, "description", t(key, lang))
        self.other.placeholder = t("other_cause", lang)
        hot = st.hot_metrics(st.day)
        self.title.value = heading(st, t("as_of", lang) + f" {st.day}",
                                   "" if hot else t("no_breach", lang))
        self.message.value = ""
        self._filling = True
        try:
            self.pick.options = [(f"{metric_name(m, lang, st.policy)} · {segment_name(s, lang)}", (m, s)) for m, s in hot]
            self.pick.value = (hot[0] if hot else None)
        finally:
            self._filling = False
        self.fill()

    def fill(self) -> None:
        """The chosen metric's causes and defective orders, nothing selected."""
        if self._filling:
            return
        st, lang = self.state, self.state.lang
        chosen = self.pick.value
        self.causes.value, self.orders.value = (), ()
        self.other.value = self.note.value = ""
        if chosen is None:
            self.causes.options, self.orders.options = [], []
            self.show_recorded()
            return
        metric, segment = chosen
        self.causes.options = [(label, key) for key, label in causes_for(metric, lang)]
        ctx = st.ctx()
        units = units_frame(ctx, window(ctx, ctx.metric(metric), ctx.day(st.day), segment), defective_only=True)
        units = units.sort_values("anchor_date", ascending=False, kind="stable")
        self.orders.options = [(self._order_label(r, lang), str(r["order_id"])) for _, r in units.iterrows()]
        self.show_recorded()

    @staticmethod
    def _order_label(row: pd.Series, lang: str) -> str:
        parts = [str(row["order_id"])]
        if isinstance(row.get("defect"), str):
            parts.append(", ".join(t(c.strip(), lang) for c in row["defect"].split(",")))
        for key in ("carrier", "category"):
            value = row.get(key)
            if isinstance(value, str) and value:
                parts.append(value)
        return " · ".join(parts)

    def select_all_defective(self) -> None:
        self.orders.value = tuple(v for _, v in self.orders.options)

    def period(self, metric: str) -> tuple[dt.date, dt.date]:
        ctx = self.state.ctx()
        bounds = window_bounds(self.state.policy[metric], ctx.day(self.state.day))
        return tuple(pd.Timestamp(np.datetime64(d, "D")).date() for d in bounds)

    def save(self) -> list[int]:
        """Store each chosen cause (and the typed one) for the chosen orders, under this account."""
        st, lang = self.state, self.state.lang
        if self.pick.value is None:
            return []
        metric, segment = self.pick.value
        lo, hi = self.period(metric)
        common = dict(account_id=st.account, metric=metric, segment=segment, period_start=lo, period_end=hi,
                      note=self.note.value, orders=list(self.orders.value), author=self.author.value)
        ids = [self.store.save(CauseChoice(cause=key, **common)) for key in self.causes.value]
        if self.other.value.strip():
            ids.append(self.store.save(CauseChoice(cause=OTHER, free_text=self.other.value.strip(), **common)))
        self.message.value = E(t("saved_causes", lang, n=len(ids), orders=len(self.orders.value),
                                 time=f"{dt.datetime.now():%H:%M:%S}") if ids else t("choose_cause", lang))
        if ids:
            st.causes_version += 1
        return ids

    def show_recorded(self) -> None:
        st, lang = self.state, self.state.lang
        rows = self.store.current(st.account)
        if not len(rows):
            self.recorded.value = f"<p>{E(t('no_causes', lang))}</p>"
            return
        from .causes import cause_label

        items = "".join(
            f"<li>{E(metric_name(r.metric, lang, st.policy) if r.metric in st.policy.metrics else r.metric)} · "
            f"{E(segment_name(r.segment, lang))}: {E(cause_label(r.metric, r.cause, lang, r.free_text or ''))}"
            f" ({E(t('orders', lang))}: {len(r.orders)})</li>" for r in rows.itertuples())
        self.recorded.value = f"<b>{E(t('causes_heading', lang))}</b><ul>{items}</ul>"

    def widget(self) -> W.Widget:
        return tagged(W.VBox([tagged(self.title, "causes-title"), tagged(self.pick, "cause-metric"),
                              tagged(self.causes, "cause-list"), self.other, self.note,
                              tagged(self.orders, "cause-orders"),
                              W.HBox([tagged(self.select_all, "select-all"), tagged(self.author, "author"),
                                      tagged(self.save_button, "cause-save")]),
                              tagged(self.message, "cause-message"), tagged(self.recorded, "cause-recorded")]),
                      "causes")


class PoaView:
    """The POA draft of its own metric, redrawn whenever the account, day, metric or causes change."""

    def __init__(self, state: ExplorerState, store: CauseStore, poa_dir: Path) -> None:
        self.state, self.store, self.poa_dir = state, store, Path(poa_dir)
        self.metric = W.Dropdown()
        self.bound = Bound(self.metric, state, "poa_metric")
        self.text = W.Textarea(layout=W.Layout(width="100%", height="360px"))
        self.save_button = W.Button()
        self.title, self.message = W.HTML(), W.HTML()
        self.save_button.on_click(state.guard(lambda _b: self.save()))
        state.on_change(lambda _c: self.draw(), {"account", "start", "end", "lang", "day", "poa_metric",
                                                  "causes_version"})
        self.draw()

    def metric_id(self) -> str | None:
        """The POA's metric: the chosen one, else the worst one in breach or at risk, else the first."""
        st = self.state
        options = registry.chart_metrics(st.policy)
        if st.poa_metric in options:
            return st.poa_metric
        hot = [m for m, _ in st.hot_metrics(st.day) if m in options]
        return hot[0] if hot else (options[0] if options else None)

    def draw(self) -> None:
        st, lang = self.state, self.state.lang
        self.metric.description, self.save_button.description = t("metric", lang), t("save_poa", lang)
        metric = self.metric_id()
        self.bound.set(metric, [(metric_name(m, lang, st.policy), m) for m in registry.chart_metrics(st.policy)])
        self.title.value = heading(st, t("as_of", lang) + f" {st.day}")
        self.message.value = ""
        if metric is None or st.day is None:
            self.text.value = ""
            return
        ctx = st.ctx()
        self.text.value = draft_poa(ctx, ctx.metric(metric, targeted=True), ctx.day(st.day),
                                    self.store.current(st.account, metric))

    def needed(self) -> bool:
        return "No POA needed" not in self.text.value

    def save(self) -> Path:
        st = self.state
        target = self.poa_dir / f"{st.account}-{self.metric_id()}-{st.day}.md"
        atomic_write_text(target, self.text.value)
        self.message.value = E(t("saved_to", st.lang, path=str(target)))
        return target

    def widget(self) -> W.Widget:
        return tagged(W.VBox([tagged(self.title, "poa-title"), tagged(self.metric, "poa-metric"),
                              tagged(self.text, "poa-text"),
                              W.HBox([tagged(self.save_button, "poa-save"), tagged(self.message, "poa-message")])]),
                      "poa")


class ChartsPanel:
    """Every rate's chart of the current account (the cell under the widget), folded until opened:
    ten charts drawn at page load would hold up everything else, in Voila most of all."""

    def __init__(self, state: ExplorerState) -> None:
        self.state, self.out = state, W.Output()
        self.fold = tagged(W.Accordion(children=[self.out], selected_index=None), "charts-panel")
        self.fold.observe(state.guard(lambda _c: self.draw()), "selected_index")
        state.on_change(lambda _c: self.draw(), {"account", "start", "end", "lang"})
        self.draw()

    def draw(self) -> None:
        st = self.state
        self.fold.titles = (f"{st.ctx().account.name}: {t('charts_heading', st.lang)}",)
        if self.fold.selected_index is None:
            show(self.out)  # folded: nothing drawn, nothing stale kept
            return
        official = official_points(st.ctx())
        items = [_html(f"<p>{heading(st, t('charts_heading', st.lang))}</p>")]
        items += [FigureSpec(rate_chart_spec(st.series(), m, st.policy, st.lang, official=official))
                  for m in registry.chart_metrics(st.policy)]
        show(self.out, *items)
