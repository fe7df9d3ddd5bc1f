"""The explorer's Root causes and Plan of Action tabs, drawn from the explorer's one state.

Causes are saved under the state's account for the orders the analyst picks (none at first);
the POA of its own metric is redrafted from them whenever the account, day, metric or causes
change.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import ipywidgets as W
import pandas as pd

from perfkit.engine import registry
from perfkit.core.atomic import atomic_write_text
from perfkit.poa.causes import OTHER, CauseChoice, CauseStore, cause_label, causes_for
from perfkit.engine.dates import day_to_date
from perfkit.analysis.drilldown import units_frame
from perfkit.explore.state import ExplorerState
from perfkit.explore.views import E, Bound, TabView, defect_names, heading, refill, tagged
from perfkit.views.labels import metric_name, segment_name, t
from perfkit.engine.metrics import window_bounds
from perfkit.core.errors import PerfkitError
from perfkit.poa.draft import draft_poa, evidence_csv


def order_labels(units: pd.DataFrame, lang: str) -> list[str]:
    """``[return ·] order · defect type · carrier · category`` for each unit (blank parts left out)."""
    parts = [units["order_id"].astype(str).tolist()]
    if "return_id" in units:  # a return's own id first: the POA names returns by it
        parts.insert(0, units["return_id"].astype(str).tolist())
    if "defect" in units:
        parts.append(defect_names(units, lang))
    for key in ("carrier", "category"):
        if key in units:
            parts.append(["" if pd.isna(v) else str(v) for v in units[key]])
    return [" · ".join(p for p in row if p) for row in zip(*parts)]


class CausesView(TabView):
    """Root causes of one metric in breach or at risk, tied to orders the analyst picks."""

    tab = "causes"

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
        self.recorded_pick = W.Dropdown(layout=W.Layout(width="70%"))  # the account's causes, to edit or remove
        self.edit_button, self.remove_button = W.Button(), W.Button()
        self._editing: int | None = None  # the record a save replaces
        self.edit_button.on_click(state.guard(lambda _b: self.edit()))
        self.remove_button.on_click(state.guard(lambda _b: self.remove()))
        self.select_all.on_click(state.guard(lambda _b: self.select_all_defective()))
        self.save_button.on_click(state.guard(lambda _b: self.save()))
        self.pick.observe(state.guard(lambda _c: self.fill()), "value")
        self._filling = False
        state.on_change(lambda _c: self.update(), {"account", "start", "end", "lang", "day"})
        state.on_change(lambda _c: self.show_recorded(), {"causes_version"})
        self.update()

    def draw(self) -> None:
        st, lang = self.state, self.state.lang
        for widget, key in ((self.pick, "metric"), (self.causes, "cause"), (self.note, "note"),
                            (self.orders, "orders"), (self.author, "author"), (self.save_button, "save"),
                            (self.select_all, "select_all_defective"), (self.recorded_pick, "recorded_pick"),
                            (self.edit_button, "edit_cause"), (self.remove_button, "remove_cause")):
            setattr(widget, "description", t(key, lang))
        self.other.placeholder = t("other_cause", lang)
        hot = st.hot_metrics(st.day)
        unjudged = [] if hot else st.unjudged(st.day)
        # Never "no breach" alone when some rate could not be judged: say which.
        quiet = t("no_breach_judged", lang, list=", ".join(metric_name(m, lang, st.policy) for m in unjudged)) \
            if unjudged else t("no_breach", lang)
        self.title.value = heading(st, t("as_of", lang) + f" {st.day}", "" if hot else quiet)
        self.message.value = ""
        self._filling = True
        try:
            refill(self.pick, [(f"{metric_name(m, lang, st.policy)} · {segment_name(s, lang)}", (m, s)) for m, s in hot],
                   st.in_view(st.day))  # the metric in view when it needs causes, else the worst
        finally:
            self._filling = False
        self.fill()

    def clear(self) -> None:
        self.title.value = heading(self.state)
        self.message.value = ""
        self._filling = True
        try:
            refill(self.pick, [], None)
        finally:
            self._filling = False
        refill(self.causes, [])
        refill(self.orders, [])
        self.show_recorded()

    def fill(self) -> None:
        """The chosen metric's causes and defective orders, nothing selected."""
        if self._filling:
            return
        st, lang = self.state, self.state.lang
        chosen = self.pick.value
        self.other.value = self.note.value = ""
        if chosen is None:
            refill(self.causes, [])
            refill(self.orders, [])
            self.show_recorded()
            return
        metric, segment = chosen
        refill(self.causes, [(label, key) for key, label in causes_for(metric, lang)])
        units = units_frame(st.ctx(), st.window(metric, segment=segment), defective_only=True)
        units = units.sort_values("anchor_date", ascending=False, kind="stable")
        ids = units["return_id" if "return_id" in units else "order_id"].astype(str).tolist()
        refill(self.orders, list(zip(order_labels(units, lang), ids)))
        self.show_recorded()

    def select_all_defective(self) -> None:
        self.orders.value = tuple(v for _, v in self.orders.options)

    def period(self, metric: str) -> tuple[dt.date, dt.date]:
        bounds = window_bounds(self.state.policy[metric], self.state.ctx().day(self.state.day))
        return tuple(day_to_date(d).date() for d in bounds)

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
        if ids and self._editing is not None:  # an edit replaces the record it started from
            self.store.remove(self._editing)
            self._editing = None
        if ids:
            st.causes_version += 1
        return ids

    def _record(self, choice_id: object):
        rows = self.store.current(self.state.account)
        rows = rows[rows["id"] == choice_id]
        return None if rows.empty else rows.iloc[0]

    def remove(self) -> None:
        """Remove the recorded cause the picker shows (its history stays in the store)."""
        row = self._record(self.recorded_pick.value)
        if row is None:
            return
        self.store.remove(int(row["id"]))
        label = cause_label(row["metric"], row["cause"], self.state.lang, row["free_text"] or "")
        self.state.causes_version += 1
        self.message.value = E(t("removed_cause", self.state.lang, cause=label))

    def edit(self) -> None:
        """Load the recorded cause the picker shows into the form; saving replaces it."""
        row, lang = self._record(self.recorded_pick.value), self.state.lang
        if row is None:
            return
        wanted = (row["metric"], row["segment"])
        if wanted not in [v for _, v in self.pick.options]:
            self.message.value = E(t("poa_none", lang, reason=f"{row['metric']} · {row['segment']} is not in breach "
                                     "or at risk on this day; pick that day to edit it"))
            return
        self.pick.value = wanted
        if row["cause"] == OTHER:
            self.causes.value, self.other.value = (), row["free_text"]
        else:
            self.causes.value = (row["cause"],)
        self.note.value = row["note"] or ""
        offered = {v for _, v in self.orders.options}
        self.orders.value = tuple(o for o in row["orders"] if o in offered)
        self._editing = int(row["id"])
        self.message.value = E(t("editing_cause", lang, cause=cause_label(row["metric"], row["cause"], lang,
                                                                         row["free_text"] or "")))

    def show_recorded(self) -> None:
        st, lang = self.state, self.state.lang
        rows = self.store.current(st.account)
        refill(self.recorded_pick, [(f"{r.metric} · {r.segment} · {cause_label(r.metric, r.cause, lang, r.free_text or '')}"
                                     f" · {r.period_start}..{r.period_end}", r.id) for r in rows.itertuples()],
               int(rows["id"].iloc[0]) if len(rows) else None)
        if not len(rows):
            self.recorded.value = f"<p>{E(t('no_causes', lang))}</p>"
            return
        items = "".join(
            f"<li>{E(metric_name(r.metric, lang, st.policy) if r.metric in st.policy.metrics else r.metric)} · "
            f"{E(segment_name(r.segment, lang))}: {E(cause_label(r.metric, r.cause, lang, r.free_text or ''))}"
            f" ({E(t('orders', lang))}: {len(r.orders)}; {E(str(r.author or ''))})</li>" for r in rows.itertuples())
        self.recorded.value = f"<b>{E(t('causes_heading', lang))} · {E(st.ctx().account.name)}</b><ul>{items}</ul>"

    def widget(self) -> W.Widget:
        return tagged(W.VBox([tagged(self.title, "causes-title"), tagged(self.pick, "cause-metric"),
                              tagged(self.causes, "cause-list"), self.other, self.note,
                              tagged(self.orders, "cause-orders"),
                              W.HBox([tagged(self.select_all, "select-all"), tagged(self.author, "author"),
                                      tagged(self.save_button, "cause-save")]),
                              tagged(self.message, "cause-message"), tagged(self.recorded, "cause-recorded"),
                              W.HBox([tagged(self.recorded_pick, "cause-recorded-pick"),
                                      tagged(self.edit_button, "cause-edit"),
                                      tagged(self.remove_button, "cause-remove")])]),
                      "causes")


class PoaView(TabView):
    """The POA draft of its own metric, redrawn whenever the account, day, metric or causes change.

    The box always holds the letter of the metric the picker shows (or nothing, with the reason,
    for a metric that cannot have one), and Save writes that metric's file with the evidence CSV
    beside it, as ``perfkit poa --out`` does. A change of language alone keeps the analyst's edits:
    the letter is in English either way.
    """

    tab = "poa"

    def __init__(self, state: ExplorerState, store: CauseStore, poa_dir: Path) -> None:
        self.state, self.store, self.poa_dir = state, store, Path(poa_dir)
        self.metric = W.Dropdown()
        self.bound = Bound(self.metric, state, "poa_metric")
        self.text = W.Textarea(layout=W.Layout(width="100%", height="360px"))
        self.save_button = W.Button()
        self.title, self.message = W.HTML(), W.HTML()
        self.letter_of: str | None = None  # the metric whose draft is in the box
        self._draft, self._drafted_for = "", None  # the text last drafted, and for what
        self.save_button.on_click(state.guard(lambda _b: self.save()))
        state.on_change(lambda _c: self.update(), {"account", "start", "end", "lang", "day", "poa_metric",
                                                  "causes_version"})
        self.update()

    def options(self) -> list[str]:
        """The metrics a letter can be written for: those with an Amazon target."""
        st = self.state
        return [m for m in registry.chart_metrics(st.policy) if st.policy[m].target != "info"]

    def metric_id(self) -> str | None:
        """The POA's metric: the chosen one, else the one in view if in breach or at risk, else the
        worst one that is, else the first."""
        st = self.state
        options = self.options()
        if st.poa_metric in options:
            return st.poa_metric
        hot = [m for m, _ in st.hot_metrics(st.day) if m in options]
        if st.metric in hot:
            return st.metric
        return hot[0] if hot else (options[0] if options else None)

    def draw(self) -> None:
        st, lang = self.state, self.state.lang
        self.metric.description, self.save_button.description = t("metric", lang), t("save_poa", lang)
        metric = self.metric_id()
        self.bound.set(metric, [(metric_name(m, lang, st.policy), m) for m in self.options()])
        self.title.value = heading(st, t("as_of", lang) + f" {st.day}")
        key = (st.account, metric, st.day, st.causes_version)
        if key == self._drafted_for and self.text.value != self._draft:
            self.message.value = E(t("kept_edits", lang))  # only the language changed: keep what was typed
            return
        self.message.value = ""
        self._drafted_for = key
        if metric is None or st.day is None:
            self.text.value = self._draft = ""
            self.letter_of = None
            return
        ctx = st.ctx()
        try:
            text = draft_poa(ctx, ctx.metric(metric, targeted=True), ctx.day(st.day),
                             self.store.current(st.account, metric))
        except PerfkitError as exc:  # e.g. a metric Amazon does not compute in this marketplace
            self.text.value = self._draft = ""
            self.letter_of = None
            self.message.value = E(t("poa_none", lang, reason=str(exc)))
            return
        self.text.value = self._draft = text
        self.letter_of = metric

    def clear(self) -> None:
        self.title.value = heading(self.state)
        self.text.value = self.message.value = self._draft = ""
        self.letter_of, self._drafted_for = None, None

    def save(self) -> Path | None:
        """Write the box under its own metric's name, and the evidence CSV beside a letter."""
        st = self.state
        if self.letter_of is None or not self.text.value.strip():
            self.message.value = E(t("nothing_to_save", st.lang))
            return None
        target = self.poa_dir / f"{st.account}-{self.letter_of}-{st.day}.md"
        atomic_write_text(target, self.text.value)
        if "No POA needed" not in self._draft:
            ctx = st.ctx()
            csv_path = target.with_name(target.stem + "-evidence.csv")
            atomic_write_text(csv_path, evidence_csv(ctx, ctx.metric(self.letter_of, targeted=True), ctx.day(st.day)))
        self.message.value = E(t("saved_to", st.lang, path=str(target)))
        return target

    def widget(self) -> W.Widget:
        return tagged(W.VBox([tagged(self.title, "poa-title"), tagged(self.metric, "poa-metric"),
                              tagged(self.text, "poa-text"),
                              W.HBox([tagged(self.save_button, "poa-save"), tagged(self.message, "poa-message")])]),
                      "poa")
