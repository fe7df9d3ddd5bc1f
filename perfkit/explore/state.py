"""The explorer's one state: which account, dates, language, metric, segment and day it shows.

Every view of the explorer (status table, charts, drill-down, root causes, POA, the cells under
the widget) subscribes to the names it depends on and redraws once per change, whatever set it:
a picker, a chart click or code. An account change resets what belongs to the account (its
dates, the day, the segment, the POA's metric) inside one batch, so no view ever draws the new
account with the old account's dates or the old account's orders.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd
import traitlets as T

from perfkit.engine import registry
from perfkit.engine.context import AccountContext
from perfkit.analysis.drilldown import Window, window
from perfkit.engine.dates import first_data_day
from perfkit.engine.metrics import account_series
from perfkit.core.policy import Policy
from perfkit.views.status import rank, status_table

Listener = Callable[[set[str]], None]


class ExplorerState(T.HasTraits):
    """The current account, period, day, language, metric, segment and POA metric.

    ``causes_version`` counts saved causes: views that show causes follow it. Subscribe with
    :meth:`on_change`; listeners get the set of names that changed, once per batch.
    """

    account = T.Unicode()
    start = T.Any(None, allow_none=True)          # datetime.date: the charts' first day
    end = T.Any(None, allow_none=True)            # datetime.date: the status table's day
    day = T.Any(None, allow_none=True)            # datetime.date: the drill-down's, causes' and POA's day
    lang = T.Unicode("en")
    metric = T.Unicode()                          # the chart's and the drill-down's metric
    segment = T.Unicode(None, allow_none=True)    # the drill-down's segment (None: the metric's first)
    poa_metric = T.Unicode(None, allow_none=True) # the POA tab's own metric
    causes_version = T.Int(0)
    error = T.Unicode("")                         # one line when a redraw or a button failed


    def __init__(self, root: Path, policy: Policy, account: str, lang: str = "en", start: object = None,
                 end: object = None) -> None:
        super().__init__()
        self.root, self.policy = root, policy
        self._contexts: dict[str, AccountContext] = {}
        self._series: dict[tuple, pd.DataFrame] = {}
        self._listeners: list[tuple[Listener, frozenset[str]]] = []
        self._pending: set[str] = set()
        self._depth = 0
        self.tab: str | None = None  # the explorer's selected tab (None: no tabs, every view draws)
        targets = registry.chart_metrics(policy, with_info=True)
        self._given = (pd.Timestamp(start).date() if start else None, pd.Timestamp(end).date() if end else None)
        self.observe(self._changed)
        with self.batch():
            self.lang, self.metric = lang, "odr" if "odr" in targets else targets[0]
            self.account = account

    # --- notifications -------------------------------------------------------------------------

    def on_change(self, listener: Listener, names: Iterable[str]) -> None:
        """Call ``listener(changed_names)`` after any change touching ``names``."""
        self._listeners.append((listener, frozenset(names)))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Set several names at once: listeners run once, after the block."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
        if self._depth == 0:
            self._flush()

    def guard(self, action: Callable[..., object]) -> Callable[..., object]:
        """``action`` with any exception shown as one line in ``error`` (a widget callback's
        traceback would otherwise land in JupyterLab's log console, where nobody looks)."""
        def run(*args: object) -> object:
            try:
                return action(*args)
            except Exception as exc:  # noqa: BLE001 - shown to the analyst, never swallowed
                from perfkit.core.errors import explain

                self.error = explain(exc)
                return None
        return run

    def _changed(self, change: dict) -> None:
        if change["name"] == "error":
            return
        if change["name"] == "account" and change["old"]:
            try:
                self.ctx()
            except Exception as exc:  # noqa: BLE001 - the account is refused, in one line
                from perfkit.core.errors import explain

                # Back to the account shown before, whole: never one account's name on another's figures.
                self.account = change["old"]
                self.error = f"{change['new']}: {explain(exc)} (still showing {change['old']})"
                return
        self._pending.add(change["name"])
        if change["name"] == "account":
            with self.batch():
                self._account_defaults()
        elif change["name"] in ("start", "end") and self.end is not None and not (
                self.day is not None and (self.start or self.day) <= self.day <= self.end):
            with self.batch():  # the day the drill-down, causes and POA look at stays inside the period
                self.day = self.end
        elif self._depth == 0:
            self._flush()

    def _flush(self) -> None:
        changed, self._pending = self._pending, set()
        if not changed:
            return
        self.error = ""
        for listener, names in list(self._listeners):
            if changed & names:
                self.guard(listener)(changed)

    def _account_defaults(self) -> None:
        """The new account's own period and day: the first account keeps the dates it was given."""
        start, end = self._given
        self._given = (None, None)
        last = self.ctx().last_day
        end = end or (last.date() if last is not None else None)
        if start is None and end is not None:
            first = first_data_day(self.ctx().account)
            start = min(first.date(), end) if first is not None else end
        self.start, self.end, self.day = start, end, end
        self.segment = None
        self.poa_metric = None

    # --- data of the current account -----------------------------------------------------------

    def ctx(self) -> AccountContext:
        """The current account's context (loaded once per account)."""
        if self.account not in self._contexts:
            self._contexts[self.account] = AccountContext.of(self.root / self.account, self.policy)
        return self._contexts[self.account]

    def series(self) -> pd.DataFrame:
        key = (self.account, self.start, self.end)
        if key not in self._series:
            self._series[key] = account_series(self.ctx(), start=self.start, end=self.end, early=True)
        return self._series[key]

    def as_of(self) -> dt.date | None:
        s = self.series()
        return None if s.empty else s["as_of"].max()

    def status(self, day: dt.date | None = None) -> pd.DataFrame:
        """Every metric's value on ``day`` (default: the period's last), with its 7-day change in points."""
        s = self.series()
        out = status_table(s, self.policy, day or s["as_of"].max())
        out["trend"] = (out["rate"] - out["rate_before"]) * 100
        return out

    def hot_metrics(self, day: dt.date | None = None) -> list[tuple[str, str]]:
        """(metric, segment) in breach or at risk on ``day``, worst first."""
        st = self.status(day)
        st = st[st["shown"].isin(["breach", "at_risk"])]
        st = st.assign(_o=rank(st["shown"])).sort_values(["_o", "metric"], kind="stable")
        return list(zip(st["metric"], st["segment"]))

    def unjudged(self, day: dt.date | None = None) -> list[str]:
        """The targeted metrics none of whose values on ``day`` could be judged (partial or no data)."""
        st = self.status(day)
        st = st[st["target"] != ""]
        judged = set(st.loc[~st["shown"].isin(["partial", "no_data"]), "metric"])
        return [m for m in dict.fromkeys(st["metric"]) if m not in judged]

    def segments(self, metric: str | None = None) -> list[str]:
        s = self.series()
        return list(dict.fromkeys(s.loc[s["metric"] == (metric or self.metric), "segment"]))

    def window(self, metric: str | None = None, day: object = None, segment: str | None = None) -> Window:
        """A metric's window on a day and segment (default: the state's metric, day and segment)."""
        ctx = self.ctx()
        return window(ctx, ctx.metric(metric or self.metric), ctx.day(day or self.day or self.end),
                      segment if segment is not None else self.current_segment())

    def current_segment(self) -> str | None:
        """The drill-down's segment: the chosen one, else the metric's first."""
        segs = self.segments()
        return self.segment if self.segment in segs else (segs[0] if segs else None)
