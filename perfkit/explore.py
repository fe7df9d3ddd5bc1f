"""The explorer's widget logic: account and date pickers, status, charts, drill-down, root-cause
picker and Plan of Action draft. The notebook only arranges these; everything here works (and
is tested) without a browser by setting widget ``.value`` and calling the methods.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import time
from pathlib import Path

import ipywidgets as W
import numpy as np
import pandas as pd

from . import registry
from .atomic import atomic_write_text
from .causes import OTHER, CauseChoice, CauseStore, causes_for
from .charts import rate_chart, rate_chart_spec
from .config import paths
from .context import AccountContext
from .dates import first_data_day
from .drilldown import driver_tables, units_frame, window
from .errors import PerfkitError
from .labels import metric_name, segment_name, t
from .loaders import Account, account_dirs
from .metrics import account_series, window_bounds
from .notebook import FigureSpec
from .poa import draft_poa
from .policy import Policy, resolve_policy
from .reconcile import official_points
from .status import STATUS_COLOURS, counted_text, rank, status_table



def _name_of(folder: Path) -> str:
    try:
        meta = json.loads((folder / "account.json").read_text(encoding="utf-8-sig"))
        return str(meta.get("name") or folder.name)
    except (OSError, ValueError, AttributeError):
        return folder.name


def _show(out: W.Output, *objects: object) -> None:
    """Replace an Output widget's content (works with or without a running kernel)."""
    out.outputs = ()
    for obj in objects:
        out.append_display_data(obj)


class CausePicker:
    """Known causes for one metric, a free-text cause, a note and the affected orders; saved to the store."""

    def __init__(self, store: CauseStore, account_id: str, metric: str, segment: str, period: tuple[dt.date, dt.date],
                 policy: Policy, lang: str = "en", orders: list[str] | None = None, author: str = "") -> None:
        self.store, self.account_id, self.metric, self.segment, self.period = store, account_id, metric, segment, period
        self.lang, self.policy = lang, policy
        options = causes_for(metric, lang)
        recorded = store.current(account_id, metric)
        recorded = recorded[recorded["segment"] == segment]
        known = {k for k, _ in options}
        self.causes = W.SelectMultiple(options=[(label, key) for key, label in options],
                                       value=tuple(k for k in recorded["cause"] if k in known),
                                       description=t("cause", lang), rows=min(6, max(2, len(options))),
                                       layout=W.Layout(width="95%"))
        others = recorded[recorded["cause"] == OTHER]
        self.other = W.Text(value=others["free_text"].iloc[-1] if len(others) else "",
                            placeholder=t("other_cause", lang), description="+", layout=W.Layout(width="95%"))
        notes = recorded["note"].tolist()
        self.note = W.Textarea(value=notes[-1] if notes else "", description=t("note", lang),
                               layout=W.Layout(width="95%", height="70px"))
        prefill = list(orders or [])
        previous = [o for lst in recorded["orders"] for o in lst]
        self.orders = W.SelectMultiple(options=list(dict.fromkeys(prefill + previous)),
                                       value=tuple(dict.fromkeys(previous or prefill)),
                                       description=t("orders", lang), rows=6, layout=W.Layout(width="95%"))
        self.author = W.Text(value=author, description=t("author", lang))
        self.save_button = W.Button(description=t("save", lang), button_style="primary", icon="save")
        self.message = W.HTML()
        self.save_button.on_click(lambda _b: self.save())

    def save(self) -> list[int]:
        """Store every selected cause (and the free-text one) with the note and orders."""
        chosen = list(self.causes.value)
        ids = []
        common = dict(account_id=self.account_id, metric=self.metric, segment=self.segment,
                      period_start=self.period[0], period_end=self.period[1], note=self.note.value,
                      orders=list(self.orders.value), author=self.author.value)
        for key in chosen:
            ids.append(self.store.save(CauseChoice(cause=key, **common)))
        if self.other.value.strip():
            ids.append(self.store.save(CauseChoice(cause=OTHER, free_text=self.other.value.strip(), **common)))
        saved = len(ids)
        self.message.value = html.escape(f"saved {saved} cause(s) at {dt.datetime.now():%H:%M:%S}" if saved
                                         else "choose a cause or type one first")
        return ids

    def widget(self) -> W.Widget:
        title = W.HTML(f"<b>{html.escape(metric_name(self.metric, self.lang, self.policy))} · "
                       f"{html.escape(segment_name(self.segment, self.lang))}</b>")
        return W.VBox([title, self.causes, self.other, self.note, self.orders,
                       W.HBox([self.author, self.save_button]), self.message])


class Explorer:
    """One account at a time: status, charts, drill-down, causes and the POA draft."""

    def __init__(self, data_root: str | Path | None = None, account_id: str | None = None, start: object = None,
                 end: object = None, lang: str = "en", causes_db: str | Path | None = None,
                 policy: Policy | str | Path | None = None, poa_dir: str | Path | None = None) -> None:
        p = paths()
        self.root = Path(data_root or p.data)
        self.policy = resolve_policy(policy or None)
        self.store = CauseStore(causes_db or p.causes_db)
        self.poa_dir = Path(poa_dir or p.reports / "poa")
        folders = account_dirs(self.root)
        if not folders:
            raise PerfkitError(f"{self.root}: no account folders")
        self._contexts: dict[str, AccountContext] = {}
        self._series: dict[tuple, pd.DataFrame] = {}
        options = [(f"{_name_of(f)} ({f.name})", f.name) for f in folders]
        ids = [v for _, v in options]
        self.account = W.Dropdown(options=options, value=account_id if account_id in ids else ids[0],
                                  description=t("account", lang))
        self.lang = W.ToggleButtons(options=[("English", "en"), ("中文", "zh")], value=lang)
        self.start = W.DatePicker(value=pd.Timestamp(start).date() if start else None)
        self.end = W.DatePicker(value=pd.Timestamp(end).date() if end else None)
        targets = registry.chart_metrics(self.policy, with_info=True)
        self.metric = W.Dropdown(options=[(metric_name(m, lang, self.policy), m) for m in targets], value="odr"
                                 if "odr" in targets else targets[0], description=t("metric", lang))
        self.segment = W.Dropdown(options=[], description=t("segment", lang))
        self.drill_date = W.DatePicker(description=t("date", lang))
        self.status_out, self.chart_out, self.drill_out = W.Output(), W.Output(), W.Output()
        self.causes_out, self.poa_out = W.Output(), W.Output()
        self.poa_text = W.Textarea(layout=W.Layout(width="100%", height="360px"))
        self.poa_save = W.Button(icon="save")
        self.tabs = W.Tab()
        self.poa_message = W.HTML()
        self.poa_save.on_click(lambda _b: self.save_poa())
        self.last_refresh_ms = 0.0
        self._quiet = False  # set while the explorer itself moves the date pickers
        self._fill_dates()
        self.account.observe(self._on_account, "value")
        for w in (self.lang, self.start, self.end):
            w.observe(lambda _c: None if self._quiet else self.refresh(), "value")
        self._relabel()
        self.metric.observe(lambda _c: self._on_metric(), "value")
        self.segment.observe(lambda _c: self.show_drill(), "value")
        self.drill_date.observe(lambda _c: None if self._quiet else self.show_drill(), "value")

    # --- data ----------------------------------------------------------------------------------

    @property
    def lang_code(self) -> str:
        return self.lang.value

    def ctx(self) -> AccountContext:
        """The current account's context (loaded, with its day numbers, once per account)."""
        aid = self.account.value
        if aid not in self._contexts:
            self._contexts[aid] = AccountContext.of(self.root / aid, self.policy)
        return self._contexts[aid]

    def current_account(self) -> Account:
        return self.ctx().account

    def last_day(self) -> pd.Timestamp | None:
        return self.ctx().last_day

    def _fill_dates(self) -> None:
        last = self.last_day()
        if last is None:
            return
        if self.end.value is None:
            self.end.value = last.date()
        if self.start.value is None:  # the charts span the data's own period
            first = first_data_day(self.current_account())
            self.start.value = min(first.date(), self.end.value) if first is not None else self.end.value
        if self.drill_date.value is None:
            self.drill_date.value = self.end.value

    def series(self) -> pd.DataFrame:
        key = (self.account.value, self.start.value, self.end.value)
        if key not in self._series:
            self._series[key] = account_series(self.ctx(), start=self.start.value, end=self.end.value, early=True)
        return self._series[key]

    def status(self) -> pd.DataFrame:
        """Last day's value of every metric, with the change over 7 days (points)."""
        s = self.series()
        out = status_table(s, self.policy, s["as_of"].max())
        out["trend"] = (out["rate"] - out["rate_before"]) * 100
        return out[["as_of", "metric", "segment", "numerator", "denominator", "rate", "target", "status", "headroom",
                    "coverage", "shown", "trend"]]

    def hot_metrics(self) -> list[tuple[str, str]]:
        """(metric, segment) in breach or at risk on the last day, worst first."""
        st = self.status()
        st = st[st["shown"].isin(["breach", "at_risk"])]
        st = st.assign(_o=rank(st["shown"])).sort_values(["_o", "metric"])
        return list(zip(st["metric"], st["segment"]))

    # --- views ---------------------------------------------------------------------------------

    def status_html(self) -> str:
        lang = self.lang_code
        rows = []
        for r in self.status().itertuples():
            rate = "–" if pd.isna(r.rate) else f"{r.rate:.2%}"
            trend = "" if pd.isna(r.trend) else f"{r.trend:+.2f} pt"
            head = "" if pd.isna(r.headroom) else str(int(r.headroom))
            colour = STATUS_COLOURS.get(r.shown, "#999")
            note = f" title='{html.escape(t('partial_note', lang))}'" if r.shown == "partial" else ""
            counted = counted_text(self.policy, r.metric, r.numerator, r.denominator, lang)
            rows.append(f"<tr><td>{html.escape(metric_name(r.metric, lang, self.policy))}</td>"
                        f"<td>{html.escape(segment_name(r.segment, lang))}</td><td>{rate}</td>"
                        f"<td>{html.escape(counted)}</td><td>{html.escape(self.policy[r.metric].target_display())}</td>"
                        f"<td style='color:{colour};font-weight:600'{note}>{html.escape(t(r.shown, lang))}</td>"
                        f"<td>{head}</td><td>{trend}</td></tr>")
        heads = "".join(f"<th>{html.escape(t(k, lang))}</th>" for k in
                        ("metric", "segment", "rate", "counted", "target", "status", "headroom", "trend"))
        from .health_view import health_html

        health = health_html(self.ctx(), self.series()["as_of"].max(), lang)
        return f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>{health}"

    def chart(self, metric: str | None = None, spec: bool = False):
        """The chosen metric's chart (a go.Figure, or with ``spec`` the cheaper figure dict)."""
        make = rate_chart_spec if spec else rate_chart
        return make(self.series(), metric or self.metric.value, self.policy, self.lang_code,
                    official=official_points(self.ctx()))

    def chart_metrics(self) -> list[str]:
        """The metrics the explorer draws, in policy order."""
        return registry.chart_metrics(self.policy)

    def segments(self, metric: str | None = None) -> list[str]:
        s = self.series()
        return list(dict.fromkeys(s.loc[s["metric"] == (metric or self.metric.value), "segment"]))

    def _window(self, metric: str | None, day: object, segment: str | None):
        ctx = self.ctx()
        return window(ctx, ctx.metric(metric or self.metric.value), ctx.day(day), segment)

    def drill(self, metric: str | None = None, day: object = None, segment: str | None = None) -> pd.DataFrame:
        """The units behind the chosen metric on the chosen day (defective ones first)."""
        w = self._window(metric, day or self.drill_date.value,
                         segment if segment is not None else (self.segment.value or None))
        units = units_frame(self.ctx(), w)
        return units.sort_values(["defective", "anchor_date"], ascending=[False, False]).reset_index(drop=True)

    def cause_picker(self, metric: str, segment: str) -> CausePicker:
        mp = self.policy[metric]
        end = self.drill_date.value or self.end.value
        lo, hi = (pd.Timestamp(np.datetime64(d, "D")).date() for d in window_bounds(mp, self.ctx().day(end)))
        units = units_frame(self.ctx(), self._window(metric, end, segment))
        orders = units.loc[units["defective"], "order_id"].astype(str).tolist()
        return CausePicker(self.store, self.account.value, metric, segment, (lo, hi), self.policy, self.lang_code,
                           orders)

    def draft_poa(self, metric: str | None = None, segment: str | None = None) -> str:
        ctx = self.ctx()
        mp = ctx.metric(metric or self.metric.value, targeted=True)
        recorded = self.store.current(self.account.value, mp.id)
        if segment is not None and len(recorded):
            recorded = recorded[recorded["segment"].isin([segment, "all"])]
        text = draft_poa(ctx, mp, ctx.day(self.drill_date.value or self.end.value), recorded, segment)
        self.poa_text.value = text
        return text

    def save_poa(self, text: str | None = None) -> Path:
        text = self.poa_text.value if text is None else text
        day = self.drill_date.value or self.end.value
        target = self.poa_dir / f"{self.account.value}-{self.metric.value}-{day}.md"
        atomic_write_text(target, text)
        self.poa_message.value = html.escape(f"saved {target}")
        return target

    # --- wiring --------------------------------------------------------------------------------

    def _on_account(self, _change) -> None:
        self._quiet = True
        try:
            self.start.value = self.end.value = self.drill_date.value = None
            self._fill_dates()
        finally:
            self._quiet = False
        self.refresh()

    def _on_metric(self) -> None:
        segs = self.segments()
        self.segment.options = [(segment_name(s, self.lang_code), s) for s in segs]
        self.segment.value = segs[0] if segs else None
        self.redraw()

    def _relabel(self) -> None:
        """Every visible label in the chosen language."""
        lang = self.lang_code
        for widget, key in ((self.account, "account"), (self.start, "from_date"), (self.end, "to_date"),
                            (self.metric, "metric"), (self.segment, "segment"), (self.drill_date, "date"),
                            (self.poa_save, "save_poa")):
            widget.description = t(key, lang)
        chosen = self.metric.value
        self.metric.options = [(metric_name(m, lang, self.policy), m) for _, m in self.metric.options]
        self.metric.value = chosen
        if len(self.tabs.children) == 4:
            self.tabs.titles = tuple(t(k, lang) for k in ("tab_charts", "tab_drill", "tab_causes", "tab_poa"))

    def refresh(self) -> float:
        """Recompute for the chosen account and dates and redraw everything; returns milliseconds."""
        from IPython.display import HTML

        t0 = time.perf_counter()
        self._relabel()
        self.series()
        _show(self.status_out, HTML(self.status_html()))
        self._on_metric()
        self.last_refresh_ms = (time.perf_counter() - t0) * 1000
        return self.last_refresh_ms

    def redraw(self) -> float:
        """Redraw the chart and drill-down for the chosen metric; returns milliseconds."""
        t0 = time.perf_counter()
        _show(self.chart_out, FigureSpec(self.chart(spec=True)))
        self.show_drill()
        return (time.perf_counter() - t0) * 1000

    def show_drill(self) -> None:
        from IPython.display import HTML

        if self.metric.value is None or self.drill_date.value is None:
            return
        metric, day = self.metric.value, self.drill_date.value
        segment = self.segment.value or None
        w = self._window(metric, day, segment)
        n_units, n_bad, tables = driver_tables(self.ctx(), w)
        bad = units_frame(self.ctx(), w, defective_only=True, latest=50).sort_values("anchor_date", ascending=False)
        cols = [c for c in ("order_id", "return_id", "defect", "anchor_date", "category", "carrier",
                            "buyer_comment", "claim_reason") if c in bad.columns]
        items = [HTML(f"<b>{n_bad} / {n_units}</b> · {html.escape(t('defects', self.lang_code))}"),
                 HTML(bad[cols].head(50).to_html(index=False, escape=True, na_rep=""))]
        # Drivers as small tables: drawing three more figures on every switch costs more than it shows.
        for key, table in tables.items():
            if len(table):
                head = table.head(8).copy()
                if key == "component":
                    head["component"] = [t(c, self.lang_code) for c in head["component"]]
                items.append(HTML(f"<b>{html.escape(t('by_' + key, self.lang_code))}</b>"
                                  + head.to_html(index=False, escape=True, float_format=lambda v: f"{v:.2%}")))
        _show(self.drill_out, *items)

    def widget(self) -> W.Widget:
        """The whole explorer for JupyterLab."""
        self.refresh()
        pickers = [self.cause_picker(m, s).widget() for m, s in self.hot_metrics()]
        self.draft_poa(self.hot_metrics()[0][0] if self.hot_metrics() else None)
        causes = W.VBox(pickers or [W.HTML(html.escape(t("no_breach", self.lang_code)))])
        poa = W.VBox([self.poa_text, W.HBox([self.poa_save, self.poa_message])])
        self.tabs.children = [W.VBox([self.metric, self.chart_out]),
                              W.VBox([W.HBox([self.segment, self.drill_date]), self.drill_out]), causes, poa]
        self._relabel()
        return W.VBox([W.HBox([self.account, self.lang]), W.HBox([self.start, self.end]), self.status_out, self.tabs])
