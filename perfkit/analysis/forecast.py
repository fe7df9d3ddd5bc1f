"""When does a breached rate meet its target again?

Old defects leave the window day by day. Two futures are projected from the as-of day D:

- *no new defect*: volume continues at the recent daily average, no new defect arrives;
- *recent pace*: volume and defects both continue at their averages over the last
  ``pace_days`` (policy) days of the window; if that pace alone misses the target, never.

Counts of future units are expected values (fractions); the target test stays exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from perfkit.engine.context import AccountContext
from perfkit.engine.dates import day_to_date
from perfkit.core.errors import PerfkitError
from perfkit.core.account import Account
from perfkit.engine.metrics import meets, partial_values, window_bounds
from perfkit.core.policy import MetricPolicy, Policy
from perfkit.engine.units import segment_mask


@dataclass
class Recovery:
    metric: str
    segment: str
    as_of: pd.Timestamp
    defects: int
    units: int
    daily_units: Fraction
    daily_defects: Fraction
    date_no_new_defects: pd.Timestamp | None  # None: not within the horizon
    date_at_recent_pace: pd.Timestamp | None  # None: not at this pace
    schedule: pd.DataFrame  # date, defects_leaving, defects_left

    def describe(self) -> str:
        """One sentence in English."""
        first = self.date_no_new_defects.date().isoformat() if self.date_no_new_defects is not None else "not within the horizon"
        pace = self.date_at_recent_pace.date().isoformat() if self.date_at_recent_pace is not None else "not at this pace"
        return (f"{self.metric} ({self.segment}) meets its target again on {first} if no new defect arrives; "
                f"at the recent pace of {float(self.daily_defects):.2f} defects a day: {pace}")


def recovery_forecast(source: AccountContext | Account | str | Path, metric: str, as_of: object = None,
                      segment: str | None = None, policy: Policy | str | Path | None = None) -> Recovery:
    """Project a metric's recovery from the as-of day (see the module docstring).

    Parameters
    ----------
    source : AccountContext, Account, str or Path
        The account.
    metric : str
        A metric with a target.
    as_of : date, optional
        The day to project from (default: the last day of data).
    segment : str, optional
        The segment (default: the metric's first).
    policy : Policy, str or Path, optional
        For an Account or folder: the policy.
    """
    ctx = AccountContext.of(source, policy)
    mp = ctx.metric(metric)
    if mp.target == "info":
        raise PerfkitError(f"{metric} has no target, so there is nothing to recover to")
    return recovery(ctx, mp, ctx.day(as_of), segment)


def recovery(ctx: AccountContext, mp: MetricPolicy, day: int, segment: str | None = None) -> Recovery:
    """:func:`recovery_forecast` below the edge.

    Parameters
    ----------
    ctx : AccountContext
        The account and policy.
    mp : MetricPolicy
        A validated metric with a target.
    day : int
        The as-of day number to project from.
    segment : str, optional
        The segment (default: the metric's first).
    """
    units = ctx.units(mp)
    seg = segment or next(iter(units.segments), mp.segments[0])
    mask = segment_mask(units, mp.id, seg)
    W, L = mp.window, mp.lag
    lo, hi = window_bounds(mp, day)
    known = mask & (units.enter <= day)
    a = units.anchor[known]
    bad_now = units.active(day)[known]
    in_window = (a >= lo) & (a <= hi)
    pace = min(ctx.policy.pace_days, W)
    recent = (a > hi - pace) & (a <= hi)
    daily_units = Fraction(int(recent.sum()), pace)
    daily_defects = Fraction(int((recent & bad_now).sum()), pace)
    bad_anchors = np.sort(a[in_window & bad_now])
    all_anchors = np.sort(a[in_window])

    def first_day(defects_per_day: Fraction) -> pd.Timestamp | None:
        # Every day of the horizon at once, in integers: both counts times `pace` (the rates'
        # common denominator), which leaves "meets the target" unchanged, so still exact.
        j = np.arange(1, ctx.policy.horizon_days + 1, dtype=np.int64)
        lo_f = window_bounds(mp, day + j)[0]  # old units anchored before it have left
        old_den = len(all_anchors) - np.searchsorted(all_anchors, lo_f, side="left")
        old_bad = len(bad_anchors) - np.searchsorted(bad_anchors, lo_f, side="left")
        new_days = np.minimum(j, W)
        bad = old_bad * pace + int(defects_per_day * pace) * new_days
        den = old_den * pace + int(daily_units * pace) * new_days
        hit = np.flatnonzero((den > 0) & meets(mp, bad, den))
        return day_to_date(day + int(j[hit[0]])) if len(hit) else None

    leave = bad_anchors + L + W  # the first as-of day whose window no longer holds the unit
    dates, counts = np.unique(leave, return_counts=True)
    schedule = pd.DataFrame({
        "date": [day_to_date(d).date() for d in dates],
        "defects_leaving": counts.astype(int),
        "defects_left": (len(bad_anchors) - np.cumsum(counts)).astype(int),
    })
    return Recovery(
        metric=mp.id, segment=seg, as_of=day_to_date(day), defects=int(len(bad_anchors)),
        units=int(len(all_anchors)), daily_units=daily_units, daily_defects=daily_defects,
        date_no_new_defects=first_day(Fraction(0)),
        date_at_recent_pace=first_day(daily_defects),
        schedule=schedule,
    )


def breach_forecasts(ctx: AccountContext, series: pd.DataFrame) -> list[Recovery]:
    """A recovery forecast for every (metric, segment) in breach on the series' last day, over a
    whole window.

    Maturing views (the early ODR) are left out: they are not the figure Amazon judges.

    Parameters
    ----------
    ctx : AccountContext
        The account and policy the series was computed with.
    series : DataFrame
        :func:`~perfkit.engine.metrics.account_series` output for this account.
    """
    if series.empty:
        return []
    last = series["as_of"].max()
    # A breach on part of its window or of its units is no breach Amazon would count.
    rows = series[(series["as_of"] == last) & (series["status"] == "breach") & ~partial_values(series)]
    day = ctx.day(last)
    return [recovery(ctx, ctx.policy[r.metric], day, r.segment) for r in rows.itertuples()
            if not ctx.policy[r.metric].maturing]
