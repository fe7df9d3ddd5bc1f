"""The explorer's one state: which account, dates, language, metric, segment and day it shows.

Every view of the explorer (status table, charts, drill-down, root causes, POA, the cells under
the widget) subscribes to the names it depends on and redraws once per change, whatever set it:
a picker, a chart click or code. An account change resets what belongs to the account (its
dates, the day, the segment, the POA's metric) inside one batch, so no view ever draws the new
account with the old account's dates or the old account's orders.

A folder that cannot be loaded is refused (``refused``: its reason in one line), wherever it
sorts; a date the explorer cannot use is refused with a line in ``date_note`` and the previous
date stays. The series is computed once per account over its whole data and sliced for a
period, so a date change costs a slice, not a recount.
"""
from __future__ import annotations

import collections
import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd
import traitlets as T

from perfkit.engine import registry
from perfkit.engine.context import AccountContext
from perfkit.analysis.drilldown import Window, window
from perfkit.core.errors import PerfkitError, explain
from perfkit.engine.dates import first_data_day
from perfkit.engine.metrics import account_series
from perfkit.core.policy import Policy
from perfkit.core.notes import render as render_note
from perfkit.views.labels import t
from perfkit.views.status import rank, status_table

MEMO_SIZE = 400  # figure dicts and tables kept (about ten per account and period seen)

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
    refused = T.Dict()                            # account id -> why its folder cannot be shown
    date_note = T.Unicode("")                     # why the last date asked for was not used

    def __init__(self, root: Path, policy: Policy, account: str | list[str], lang: str = "en",
                 start: object = None, end: object = None) -> None:
        """``account``: the account to show, or candidates in order (the first that loads is shown,
        the ones before it are refused)."""
        super().__init__()
        self.root, self.policy = root, policy
        self._contexts: dict[str, AccountContext] = {}
        self._series: dict[tuple, pd.DataFrame] = {}
        self._memo: collections.OrderedDict[tuple, object] = collections.OrderedDict()
        self._listeners: list[tuple[Listener, frozenset[str]]] = []
        self._pending: set[str] = set()
        self._depth = 0
        self._resetting = False  # the account's own dates are being set: not the user's choice
        self._reverting = False  # a refused date is being set back: nothing changed
        self.tab: str | None = None  # the explorer's selected tab (None: no tabs, every view draws)
        targets = registry.chart_metrics(policy, with_info=True)
        self._given = (pd.Timestamp(start).date() if start else None, pd.Timestamp(end).date() if end else None)
        self.observe(self._changed)
        with self.batch():
            self.lang, self.metric = lang, "odr" if "odr" in targets else targets[0]
            self.account = self._first_loadable([account] if isinstance(account, str) else list(account))

    def _first_loadable(self, ids: list[str]) -> str:
        """The first of ``ids`` whose folder loads; the ones that fail go to ``refused``."""
        refused = {}
        for account_id in ids:
            try:
                self._context(account_id)
            except Exception as exc:  # noqa: BLE001 - one folder's failure, whatever it is, is that folder's
                refused[account_id] = explain(exc)
                continue
            self.refused = refused
            return account_id
        raise PerfkitError(f"{self.root}: no account folder can be loaded: "
                           + "; ".join(f"{k}: {v}" for k, v in refused.items()))

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
        if change["name"] in ("error", "refused"):
            return
        if change["name"] == "date_note":
            self._pending.add("date_note")
            if self._depth == 0:
                self._flush()
            return
        if change["name"] == "account" and change["old"]:
            try:
                self.ctx()
            except Exception as exc:  # noqa: BLE001 - the account is refused, in one line
                # Back to the account shown before, whole: never one account's name on another's figures.
                self.account = change["old"]
                self.refused = {**self.refused, change["new"]: explain(exc)}
                self.error = f"{change['new']}: {explain(exc)} (still showing {change['old']})"
                return
        if self._reverting:
            return
        if change["name"] == "day" and not self._resetting and self._depth == 0:
            problem = self._day_problem(change["new"], change["old"])
            if problem:
                self._refuse("day", change["old"], problem)
                return
            if self.date_note:
                self.date_note = ""
        if change["name"] in ("start", "end") and not self._resetting:
            problem = self._date_problem(change["name"], change["new"])
            if change["new"] is None and self.span()[0] is not None:
                problem = t("date_empty", self.lang, field=t(f"{change['name']}_label", self.lang), day=change["old"])
            if problem:
                self._refuse(change["name"], change["old"], problem)
                return
            if self.date_note:
                self.date_note = ""
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
        """The new account's own period and day: the first account keeps the dates it was given
        (unless the account cannot use them: then its own, and a line saying so)."""
        given, self._given = self._given, (None, None)
        first, last = self.span()
        start, end = first, last
        problems = [p for p in (self._date_problem("start", given[0], end=given[1] or last),
                                self._date_problem("end", given[1], start=given[0] or first)) if p]
        if given != (None, None) and not problems:
            start, end = given[0] or first, given[1] or last
        self._resetting = True
        try:
            self.start, self.end, self.day = start, end, end
        finally:
            self._resetting = False
        self.date_note = problems[0] if problems and given != (None, None) else ""
        self.segment = None
        self.poa_metric = None

    def _refuse(self, name: str, old: object, problem: str) -> None:
        """Set ``name`` back to ``old`` without a redraw and say why beside the pickers (the
        note is cleared first so the pickers are set back even when the same note repeats)."""
        self._reverting = True
        try:
            self.set_trait(name, old)
        finally:
            self._reverting = False
        self.date_note = ""
        self.date_note = problem

    def span(self) -> tuple[dt.date | None, dt.date | None]:
        """The first and last day of the current account's data (None: it has no dated orders)."""
        first, last = first_data_day(self.ctx().account), self.ctx().last_day
        if first is None or last is None:
            return None, None
        return min(first.date(), last.date()), last.date()

    def _day_problem(self, value: object, old: object) -> str:
        """Why ``value`` cannot be the drill-down's day (it must lie in the period shown); ''."""
        if self.start is None or self.end is None:
            return ""
        if value is None:
            return t("date_empty", self.lang, field=t("date", self.lang), day=old)
        day = pd.Timestamp(value).date()
        if not self.start <= day <= self.end:
            return t("day_outside", self.lang, day=day, start=self.start, end=self.end)
        return ""

    def _date_problem(self, name: str, value: object, start: object = None, end: object = None) -> str:
        """Why ``value`` cannot be the period's ``name`` (start or end), in the explorer's words;
        '' when it can. ``start``/``end`` default to the other end of the current period."""
        lang, (first, last) = self.lang, self.span()
        label = t(f"{name}_label", lang)
        if value is None:
            return ""
        day = pd.Timestamp(value).date()
        if first is not None and not first <= day <= last:
            return t("date_outside", lang, field=label, day=day, first=first, last=last)
        lo = day if name == "start" else (start if start is not None else self.start)
        hi = day if name == "end" else (end if end is not None else self.end)
        if lo is not None and hi is not None and pd.Timestamp(lo).date() > pd.Timestamp(hi).date():
            return t("date_order", lang, start=pd.Timestamp(lo).date(), end=pd.Timestamp(hi).date())
        return ""

    # --- data of the current account -----------------------------------------------------------

    def ctx(self) -> AccountContext:
        """The current account's context (loaded once per account)."""
        return self._context(self.account)

    def _context(self, account_id: str) -> AccountContext:
        if account_id not in self._contexts:
            self._contexts[account_id] = AccountContext.of(self.root / account_id, self.policy)
        return self._contexts[account_id]

    def full_series(self) -> pd.DataFrame:
        """Every metric on every day of the account's data (computed once per account): a value
        depends on its day alone, never on the period shown, so periods are slices of this."""
        key = (self.account,)
        if key not in self._series:
            first, last = self.span()
            self._series[key] = account_series(self.ctx(), start=first, end=last, early=True)
        return self._series[key]

    def series(self) -> pd.DataFrame:
        """The series of the period shown."""
        key = (self.account, self.start, self.end)
        if key not in self._series:
            full = self.full_series()
            if self.start is None or self.end is None or full.empty:
                self._series[key] = full
            else:
                days = pd.to_datetime(full["as_of"])
                keep = (days >= pd.Timestamp(self.start)) & (days <= pd.Timestamp(self.end))
                self._series[key] = full[keep.to_numpy()].reset_index(drop=True)
        return self._series[key]

    def memo(self, kind: str, build: Callable[[], object], *extra: object) -> object:
        """``build()`` made once per account, period, language and ``extra`` (the views' figure
        dicts and status table: a switch back to an account, or a period seen before, is then
        only sending). It depends on nothing else: the state's data never change for a key."""
        key = (kind, self.account, self.start, self.end, self.lang, *extra)
        if key in self._memo:
            self._memo.move_to_end(key)
        else:
            self._memo[key] = build()
            while len(self._memo) > MEMO_SIZE:  # the least recently used go: periods pile up
                self._memo.popitem(last=False)
        return self._memo[key]

    def notes(self) -> list[str]:
        """What loading noticed about the current account (what ``perfkit check`` prints), and
        what was assumed for want of an account.json."""
        acc = self.ctx().account
        # As `perfkit check` says them: the loader's notes, and the missing inputs on one line
        # (what each costs is in the status table's own rows).
        notes = [render_note(n, self.lang) for n in acc.warnings]
        if acc.missing:
            notes.append(t("missing_list", self.lang, items=", ".join(acc.missing)))
        if acc.path is not None and not (Path(acc.path) / "account.json").is_file():
            notes.insert(0, t("no_account_json", self.lang, tz=acc.timezone))
        return notes

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
        """(metric, segment) in breach or at risk on ``day``, worst first: breaches before risks,
        then the furthest past its target (the miss as a multiple of what the target allows)."""
        st = self.status(day)
        st = st[st["shown"].isin(["breach", "at_risk"])]
        st = st.assign(_o=rank(st["shown"]), _miss=[-miss(self.policy, m, r) for m, r in zip(st["metric"], st["rate"])])
        st = st.sort_values(["_o", "_miss"], kind="stable")
        return list(zip(st["metric"], st["segment"]))

    def unjudged(self, day: dt.date | None = None) -> list[str]:
        """The targeted metrics none of whose values on ``day`` could be judged (partial or no data)."""
        st = self.status(day)
        st = st[st["target"] != ""]
        judged = set(st.loc[~st["shown"].isin(["partial", "no_data"]), "metric"])
        return [m for m in dict.fromkeys(st["metric"]) if m not in judged]

    def in_view(self, day: dt.date | None = None) -> tuple[str, str] | None:
        """The (metric, segment) the analyst is looking at, if it is in breach or at risk on
        ``day``; else the worst that is (None: none is)."""
        hot = self.hot_metrics(day)
        here = (self.metric, self.current_segment())
        if here in hot:
            return here
        same = [h for h in hot if h[0] == self.metric]
        return same[0] if same else (hot[0] if hot else None)

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


def miss(policy: Policy, metric: str, rate: float) -> float:
    """How far ``rate`` is past the metric's target, as a multiple of the room the target
    allows (1 at the target): 2% against "< 1%" and 80% against "> 90%" are both 2."""
    mp = policy[metric]
    if mp.value is None or pd.isna(rate):
        return 0.0
    value = float(mp.value)
    room = value if mp.target == "<" else 1 - value
    gap = rate if mp.target == "<" else 1 - rate
    return float(gap / room) if room > 0 else 0.0
