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

from .errors import PerfkitError
from .loaders import Account
from .metrics import as_of_days
from .policy import MetricPolicy, Policy, resolve_policy
from .units import AccountDays, build_units, day_to_date, segment_mask


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


def _meets(mp: MetricPolicy, bad: Fraction, den: Fraction) -> bool:
    if den <= 0:
        return False
    rate_bad = bad / den
    return rate_bad < mp.value if mp.target == "<" else (1 - rate_bad) > mp.value


def recovery_forecast(account: Account, metric: str, as_of: object = None, segment: str | None = None,
                      policy: Policy | str | Path | None = None, prepared: AccountDays | None = None) -> Recovery:
    """Project a metric's recovery from the as-of day (see the module docstring)."""
    pol = resolve_policy(policy)
    if metric not in pol.metrics:
        raise PerfkitError(f"unknown metric {metric!r}; choose from {', '.join(pol.metrics)}")
    mp = pol[metric]
    if mp.target == "info":
        raise PerfkitError(f"{metric} has no target, so there is nothing to recover to")
    day = int(as_of_days(account, None if as_of is None else [as_of])[0])
    prepared = AccountDays.reuse(prepared, account, pol)
    units = build_units(prepared, metric)
    seg = segment or next(iter(units.segments), mp.segments[0])
    mask = segment_mask(units, metric, seg)
    W, L = mp.window, mp.lag
    hi = day - L
    known = mask & (units.enter <= day)
    a = units.anchor[known]
    bad_now = np.maximum(units.enter, units.known)[known] <= day
    in_window = (a > hi - W) & (a <= hi)
    pace = min(pol.pace_days, W)
    recent = (a > hi - pace) & (a <= hi)
    daily_units = Fraction(int(recent.sum()), pace)
    daily_defects = Fraction(int((recent & bad_now).sum()), pace)
    bad_anchors = np.sort(a[in_window & bad_now])
    all_anchors = np.sort(a[in_window])

    def project(j: int, defects_per_day: Fraction) -> tuple[Fraction, Fraction]:
        lo_f = hi + j - W + 1  # the window on day D+j starts here; old units below it have left
        old_den = len(all_anchors) - np.searchsorted(all_anchors, lo_f, side="left")
        old_bad = len(bad_anchors) - np.searchsorted(bad_anchors, lo_f, side="left")
        new_days = min(j, W)
        return old_bad + defects_per_day * new_days, old_den + daily_units * new_days

    def first_day(defects_per_day: Fraction) -> pd.Timestamp | None:
        for j in range(1, pol.horizon_days + 1):
            if _meets(mp, *project(j, defects_per_day)):
                return day_to_date(day + j)
        return None

    leave = bad_anchors + L + W  # the first as-of day whose window no longer holds the unit
    dates, counts = np.unique(leave, return_counts=True)
    schedule = pd.DataFrame({
        "date": [day_to_date(d).date() for d in dates],
        "defects_leaving": counts.astype(int),
        "defects_left": (len(bad_anchors) - np.cumsum(counts)).astype(int),
    })
    return Recovery(
        metric=metric, segment=seg, as_of=day_to_date(day), defects=int(len(bad_anchors)),
        units=int(len(all_anchors)), daily_units=daily_units, daily_defects=daily_defects,
        date_no_new_defects=first_day(Fraction(0)),
        date_at_recent_pace=first_day(daily_defects),
        schedule=schedule,
    )


def breach_forecasts(account: Account, series: pd.DataFrame, policy: Policy | str | Path | None = None,
                     prepared: AccountDays | None = None) -> list[Recovery]:
    """A recovery forecast for every (metric, segment) in breach on the series' last day.

    Maturing views (the early ODR) are left out: they are not the figure Amazon judges.
    """
    pol = resolve_policy(policy)
    prepared = AccountDays.reuse(prepared, account, pol)
    last = series["as_of"].max()
    rows = series[(series["as_of"] == last) & (series["status"] == "breach")]
    return [recovery_forecast(account, r.metric, last, r.segment, pol, prepared) for r in rows.itertuples()
            if not pol[r.metric].maturing]
