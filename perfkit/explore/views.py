"""The explorer's views, each drawn from :class:`~perfkit.explore.state.ExplorerState` alone.

A view subscribes to the names it depends on and redraws itself whole; pickers write into the
state and never patch another view. Every view names the account it shows, so a screen can
never mix two accounts without saying so.
"""
from __future__ import annotations

import base64
import html

import ipywidgets as W
import pandas as pd

from perfkit.analysis.drilldown import Window, driver_tables, units_frame
from perfkit.explore.state import ExplorerState
from perfkit.views.labels import metric_name, segment_name, t
from perfkit.views.status import STATUS_COLOURS, counted_text, status_reason

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

    def __init__(self, widget: W.ValueWidget, state: ExplorerState, name: str, empty: bool = False) -> None:
        """``empty``: a cleared picker (None) is passed on too, for the state to refuse in words."""
        self.widget, self.state, self.name, self._busy, self.empty = widget, state, name, False, empty
        widget.observe(self._to_state, "value")

    def _to_state(self, change: dict) -> None:
        if not self._busy and (change["new"] is not None or self.empty):
            setattr(self.state, self.name, change["new"])

    def set(self, value: object, options: list | None = None) -> None:
        self._busy = True
        try:
            refill(self.widget, options, value)
        finally:
            self._busy = False


def refill(widget: W.Widget, options: list | None, value: object = ()) -> None:
    """New options (None: keep them) and a new choice in one message: the browser never selects
    an option it lacks."""
    with widget.hold_sync():
        if options is not None:
            widget.options = options
        widget.value = value


def tagged(widget: W.Widget, name: str) -> W.Widget:
    """``widget`` with the CSS class ``perfkit-<name>`` (what a browser test or a stylesheet finds)."""
    widget.add_class(f"perfkit-{name}")
    return widget


def heading(state: ExplorerState, *parts: str) -> str:
    """``<b>Account name (id)</b> · part · part``: every view says whose figures it shows."""
    acc = state.ctx().account
    last = state.ctx().last_day  # the account's own data day: said on every view
    stops = t("data_stops", state.lang, day=last.date().isoformat()) if last is not None else ""
    return " · ".join([f"<b>{E(acc.name)} ({E(acc.account_id)})</b>", *(E(p) for p in (*parts, stops) if p)])


class TabView:
    """A view in one of the explorer's tabs: drawn while its tab is shown. While hidden, a change
    only clears it (its heading names the new account at once) and it draws when shown, so a
    switch costs what the visible tab costs, and no hidden tab keeps the previous account."""

    tab = ""        # the view's name in ExplorerState.tab
    stale = False
    state: ExplorerState

    def shown(self) -> bool:
        return self.state.tab in (None, self.tab)  # None: no tabs (a script), every view draws

    def update(self) -> None:
        if self.shown():
            self.stale = False
            self.draw()
        else:
            self.stale = True
            self.clear()

    def reveal(self) -> None:
        """Called when the tab is selected."""
        if self.stale:
            self.update()

    def draw(self) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError


class StatusView:
    """The status table of the period's last day and the account-health section."""

    def __init__(self, state: ExplorerState) -> None:
        self.state, self.out = state, tagged(W.Output(), "status")
        state.on_change(lambda _c: self.draw(), {"account", "start", "end", "lang"})
        self.draw()

    def html(self) -> str:
        from perfkit.views.health import health_html

        st, lang, pol = self.state, self.state.lang, self.state.policy
        rows = []
        for r in st.status().itertuples():
            rate = "–" if pd.isna(r.rate) else f"{r.rate:.2%}"
            trend = "" if pd.isna(r.trend) else f"{r.trend:+.2f} pt"
            head = "" if pd.isna(r.headroom) else str(int(r.headroom))
            why = status_reason(pol, r.metric, r.shown, r.numerator, r.denominator, lang)
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
        show(self.out, _html(self.state.memo("status-html", self.html)))  # once per account, period, language


def defect_names(units: pd.DataFrame, lang: str) -> list[str]:
    """Each unit's defect types (``invalid_tracking, late_delivery``) as people read them in ``lang``."""
    names = {d: ", ".join(t(c.strip(), lang) for c in d.split(",")) for d in units["defect"].dropna().unique() if d}
    return [names.get(d, "") for d in units["defect"]]


def readable(units: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The drill-down's columns with their names and defect types in ``lang``; blanks, never <NA>."""
    cols = [c for c in COLUMNS if c in units.columns]
    out = units[cols].copy()
    if "defect" in out:
        out["defect"] = defect_names(out, lang)
    out = out.astype(object).where(out.notna(), "")
    return out.rename(columns={c: t("col_" + c, lang) for c in cols})


class LoadingNotes:
    """What loading noticed about the account shown (what ``perfkit check`` prints): a short line
    with the count and the notes under it; *Hide* folds them away for that account."""

    SHOWN = 3  # notes shown before "and N more"

    def __init__(self, state: ExplorerState) -> None:
        self.state, self.hidden = state, set()
        self.text = tagged(W.HTML(), "notes")
        self.hide = tagged(W.Button(layout=W.Layout(width="auto")), "notes-hide")
        self.hide.on_click(state.guard(lambda _b: self.dismiss()))
        state.on_change(lambda _c: self.draw(), {"account", "lang"})
        self.draw()

    def dismiss(self) -> None:
        self.hidden.add(self.state.account)
        self.draw()

    def draw(self) -> None:
        st, lang = self.state, self.state.lang
        notes = st.notes()
        self.hide.description = t("hide", lang)
        if not notes or st.account in self.hidden:
            self.text.value, self.hide.layout.display = "", "none"
            return
        self.hide.layout.display = None
        items = "".join(f"<li>{E(n)}</li>" for n in notes[:self.SHOWN])
        more = "".join(f"<li>{E(n)}</li>" for n in notes[self.SHOWN:])
        if more:
            items += f"<details><summary>+{len(notes) - self.SHOWN}</summary>{more}</details>"
        self.text.value = (f"<div style='color:#8a5a00'>⚠ {E(t('load_warnings', lang, n=len(notes)))} "
                           f"({E(st.account)})<ul style='margin:2px 0'>{items}</ul></div>")

    def widget(self) -> W.Widget:
        return W.HBox([self.text, self.hide])


class DrillView(TabView):
    """The units behind the chosen metric, day and segment: defective first, a page at a time."""

    tab = "drill"

    def __init__(self, state: ExplorerState) -> None:
        self.state, self.page = state, 0
        self.segment = W.Dropdown(description=t("segment", state.lang))
        self.bound_segment = Bound(self.segment, state, "segment")
        self.day = W.DatePicker(description=t("date", state.lang))
        self.bound_day = Bound(self.day, state, "day", empty=True)
        self.note = tagged(W.HTML(), "drill-note")  # why a day typed here was not used
        state.on_change(lambda _c: self.show_note(), {"date_note", "day"})
        self.prev, self.next = W.Button(), W.Button()  # words, not icons: Voila has no icon font offline
        self.prev.on_click(state.guard(lambda _b: self.turn(-1)))
        self.next.on_click(state.guard(lambda _b: self.turn(1)))
        self.title, self.counter, self.download = W.HTML(), W.HTML(), W.HTML()
        self.table, self.drivers = W.Output(), W.Output()
        self._bad: pd.DataFrame | None = None
        state.on_change(lambda _c: self.update(), {"account", "start", "end", "lang", "metric", "segment", "day"})
        self.update()

    def show_note(self) -> None:
        st = self.state
        self.bound_day.set(st.day)  # a refused day is set back in the picker too
        self.note.value = f"<span style='color:#c0392b'>⚠ {E(st.date_note)}</span>" if st.date_note else ""

    def frame(self, w: Window | None = None) -> pd.DataFrame:
        """Every defective unit of window ``w`` (default: the state's), newest first, readable."""
        st = self.state
        w = w or st.window()
        bad = units_frame(st.ctx(), w, defective_only=True).sort_values("anchor_date", ascending=False, kind="stable")
        return readable(bad, st.lang)

    def draw(self) -> None:
        st, lang = self.state, self.state.lang
        segs = st.segments()
        self.segment.description, self.day.description = t("segment", lang), t("date", lang)
        self.prev.description, self.next.description = t("previous", lang), t("next", lang)
        self.bound_segment.set(st.current_segment(), [(segment_name(s, lang), s) for s in segs])
        self.bound_day.set(st.day)
        self.page = 0
        if st.day is None or not segs:
            self.clear()
            self.title.value = heading(st, t("no_data", lang))
            return
        w = st.window()
        n_units, n_bad, tables = driver_tables(st.ctx(), w)
        self._bad = self.frame(w)
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

    def clear(self) -> None:
        self._bad = None
        self.title.value = heading(self.state)
        self.counter.value = self.download.value = ""
        show(self.table)
        show(self.drivers)

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
        return tagged(W.VBox([W.HBox([tagged(self.segment, "drill-segment"), tagged(self.day, "drill-day"), self.note]),
                              tagged(self.title, "drill-title"),
                              W.HBox([tagged(self.prev, "drill-prev"), tagged(self.counter, "drill-counter"),
                                      tagged(self.next, "drill-next"), tagged(self.download, "drill-csv")]),
                              tagged(self.table, "drill-table"), self.drivers]), "drill")
