"""Rates over rolling windows, judged against the policy's targets, for any set of as-of days.

Counting is done with sorted day numbers, never by re-filtering the orders per day: the number
of units with anchor in ``[D-lag-window+1, D-lag]`` and a time ``t <= D`` equals
``#{max(anchor, t-lag) <= D-lag} - #{max(anchor, t-lag-window) <= D-lag-window}``, and each
term is one ``searchsorted`` over all as-of days at once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from perfkit.engine import registry
from perfkit.engine.context import AccountContext
from perfkit.engine.dates import NEVER, as_of_days
from perfkit.core.errors import PerfkitError
from perfkit.core.account import Account
from perfkit.core.policy import MetricPolicy, Policy
from perfkit.engine.units import Units

COLUMNS = ["account_id", "as_of", "metric", "segment", "window_days", "numerator", "denominator",
           "rate", "target", "status", "headroom", "coverage", "unit_coverage"]


def _running(values: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``out[i]`` = how many values are <= ``lo + i``, for i in 0..hi-lo (one histogram and its running sum)."""
    # Values below lo fall in bucket 0, above hi (NEVER included) in the last bucket.
    buckets = np.clip(values, lo - 1, hi + 1) - (lo - 1)
    return np.cumsum(np.bincount(buckets, minlength=hi - lo + 3))[1:hi - lo + 2]


def window_count(anchor: np.ndarray, t: np.ndarray | None, days: np.ndarray, window: int, lag: int) -> np.ndarray:
    """For each as-of day D: units with anchor in [D-lag-window+1, D-lag] and t <= D.

    Parameters
    ----------
    anchor : ndarray of int
        Each unit's anchor day number.
    t : ndarray of int or None
        The day each unit counts from (NEVER: never); ``None`` means from its anchor on, and
        one histogram of the anchors then serves both ends of the window.
    days : ndarray of int
        The as-of days.
    window, lag : int
        The window's length and lag in days.

    Returns
    -------
    ndarray of int
        One count per as-of day.
    """
    if len(days) == 0:
        return np.zeros(0, dtype=np.int64)
    x = days - lag
    lo, hi = int(x.min()) - window, int(x.max())
    if t is None:
        run = _running(anchor, lo, hi)
        return (run[x - lo] - run[x - window - lo]).astype(np.int64)
    enter = _running(np.maximum(anchor, t - lag), lo, hi)
    leave = _running(np.maximum(anchor, t - lag - window), lo, hi)
    return (enter[x - lo] - leave[x - window - lo]).astype(np.int64)


def window_bounds(mp: MetricPolicy, day: int) -> tuple[int, int]:
    """The first and last anchor day of a metric's window on as-of day ``day`` (inclusive).

    Parameters
    ----------
    mp : MetricPolicy
        Gives the window and lag.
    day : int
        The as-of day number.
    """
    hi = day - mp.lag
    return hi - mp.window + 1, hi


def in_window(units: Units, mp: MetricPolicy, day: int) -> np.ndarray:
    """Which units count in the window of ``day``: anchored inside it and known by ``day``.

    Parameters
    ----------
    units : Units
        A metric's units.
    mp : MetricPolicy
        Gives the window and lag.
    day : int
        The as-of day number.
    """
    lo, hi = window_bounds(mp, day)
    return (units.anchor >= lo) & (units.anchor <= hi) & (units.enter <= day)


def coverage(mp: MetricPolicy, days: np.ndarray, span: tuple[int, int] | None) -> np.ndarray:
    """How much of each window the data covers: the share of its days (lag applied) that lie
    between the account's first and last purchase day.

    Parameters
    ----------
    mp : MetricPolicy
        Gives the window and lag.
    days : ndarray of int
        The as-of days.
    span : (int, int) or None
        The first and last purchase day of the loaded orders (None: no dated orders).

    Returns
    -------
    ndarray of float
        1.0 for a whole window; 0.0 for a window wholly outside the data.
    """
    if span is None:
        return np.zeros(len(days))
    lo, hi = days - mp.lag - mp.window + 1, days - mp.lag
    covered = np.minimum(hi, span[1]) - np.maximum(lo, span[0]) + 1
    return np.clip(covered, 0, mp.window) / mp.window


def meets(mp: MetricPolicy, bad, den):
    """Whether ``bad`` defective units out of ``den`` (> 0) meet a metric's target, exactly.

    Works on integers, integer arrays and Fractions alike (no float ever decides a status):
    "< 1%" holds when ``bad / den < 0.01``, "> 95%" when ``(den - bad) / den > 0.95``.

    Parameters
    ----------
    mp : MetricPolicy
        A metric with a target.
    bad, den : int, ndarray of int or Fraction
        Defective units and all units.
    """
    p, q = mp.value.numerator, mp.value.denominator
    if mp.target == "<":
        return bad * q < p * den
    return (den - bad) * q > p * den


def past_warning(mp: MetricPolicy, bad, den):
    """Whether ``bad`` defective units out of ``den`` reach a metric's warning level, exactly
    (False for a metric without one). Integers, integer arrays and Fractions alike, as :func:`meets`.
    """
    if mp.warn is None:
        return np.zeros(np.shape(den), bool) if np.ndim(den) else False
    wp, wq = mp.warn.numerator, mp.warn.denominator
    return (bad * wq >= wp * den) if mp.target == "<" else ((den - bad) * wq <= wp * den)


def judge(mp: MetricPolicy, defects: np.ndarray, denominator: np.ndarray) -> dict[str, np.ndarray]:
    """Numerator, rate, status and exact headroom from integer defect and unit counts.

    Parameters
    ----------
    mp : MetricPolicy
        The metric's target and warning level.
    defects, denominator : ndarray of int
        Defective units and all units, per value.

    Returns
    -------
    dict
        ``numerator`` (good units for a ">" target), ``rate`` (NaN where the denominator is 0),
        ``status`` (ok, at_risk, breach, no_data or info; ok or advisory for a target the
        marketplace only recommends; too_few below the marketplace's minimum units) and ``headroom`` (nullable integers).
    """
    den = denominator.astype(np.int64)
    bad = defects.astype(np.int64)
    good = den - bad
    num = good if mp.counts_good else bad
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    n = len(den)
    status = np.full(n, "info", dtype=object)
    room = np.zeros(n, dtype=np.int64)
    if mp.target != "info":
        p, q = mp.value.numerator, mp.value.denominator
        ok = meets(mp, bad, den)
        if mp.target == "<":
            # The most defects that still meet "< value": ceil(value * den) - 1.
            room = (p * den + q - 1) // q - 1 - bad
        else:
            # The fewest good units that meet "> value" is floor(value * den) + 1.
            room = den - ((p * den) // q + 1) - bad
        if mp.advisory:  # Amazon only recommends the target here: missing it is advice, not a breach
            status = np.where(ok, "ok", "advisory").astype(object)
        else:
            warn = past_warning(mp, bad, den)
            status = np.where(ok, np.where(warn | (room == 0), "at_risk", "ok"), "breach").astype(object)
    status[den == 0] = "no_data"
    if mp.target != "info" and mp.min_units:  # fewer units than the marketplace judges: shown, not judged
        status[(den > 0) & (den < mp.min_units)] = "too_few"
    # Headroom is an integer, undefined (NA) for info metrics and empty windows.
    headroom = pd.arrays.IntegerArray(room, (den == 0) | (mp.target == "info"))
    return {"numerator": num, "rate": rate, "status": status, "headroom": headroom}


def _selected(policy: Policy, metrics: Sequence[str] | None, early: bool) -> list[MetricPolicy]:
    if metrics:
        unknown = [m for m in metrics if m not in policy.metrics and m not in policy.not_applicable]
        if unknown:
            raise PerfkitError(f"unknown metric {unknown[0]!r}; choose from {', '.join(policy.metrics)}")
        return [policy[m] for m in metrics if m in policy.metrics]  # not computed in this marketplace: no rows
    return [m for m in policy.metrics.values() if early or not m.maturing]


def segment_values(mp: MetricPolicy, units: Units, days: np.ndarray) -> list[dict]:
    """One block of values per segment: counts, judged, for every as-of day.

    Parameters
    ----------
    mp : MetricPolicy
        The metric (window, lag, target).
    units : Units
        Its units, split by segment.
    days : ndarray of int
        The as-of days.

    Returns
    -------
    list of dict
        Per segment: metric, segment, window_days, target, denominator, defects and what
        :func:`judge` adds, each an array over ``days``.
    """
    # Units enter on their anchor day for most metrics; defects are few, so they are counted
    # on their own short arrays.
    from_anchor = units.enter is units.anchor
    bad_rows = np.flatnonzero(units.known < NEVER)
    bad_anchor = units.anchor[bad_rows]
    bad_t = np.maximum(units.enter[bad_rows], units.known[bad_rows])
    segs = units.segments
    # Every order is MFN or AFN: when those two cover every unit, "all" is their sum.
    split = {"all", "MFN", "AFN"} <= set(segs) and bool((segs["MFN"] | segs["AFN"]).all())
    counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for segment, mask in segs.items():
        if split and segment == "all":
            continue
        whole = bool(mask.all())
        a = units.anchor if whole else units.anchor[mask]
        if from_anchor:
            den = window_count(a, None, days, mp.window, mp.lag)
        else:
            den = window_count(a, units.enter if whole else units.enter[mask], days, mp.window, mp.lag)
        pick = mask[bad_rows]
        bad = window_count(bad_anchor[pick], bad_t[pick], days, mp.window, mp.lag)
        if units.changes is not None:  # defects that stopped (a removal) or started again later
            rows, when, sign = units.changes
            sel = mask[rows]
            t = np.maximum(units.enter[rows], when)
            for s in (-1, 1):
                part = sel & (sign == s)
                if part.any():
                    bad = bad + s * window_count(units.anchor[rows][part], t[part], days, mp.window, mp.lag)
        counts[segment] = den, bad
    if split:
        counts["all"] = counts["MFN"][0] + counts["AFN"][0], counts["MFN"][1] + counts["AFN"][1]
    return [{"metric": mp.id, "segment": segment, "window_days": mp.window, "target": mp.target_text(),
             "denominator": den, "defects": bad, **judge(mp, bad, den),
             "unit_coverage": unit_coverage(units.uncovered, segment, den, days, mp)}
            for segment, (den, bad) in ((seg, counts[seg]) for seg in segs)]


def unit_coverage(uncovered: Units | None, segment: str, den: np.ndarray, days: np.ndarray,
                  mp: MetricPolicy) -> np.ndarray:
    """The share of a window's units that have the metric's anchor column: 1.0 when every one
    has it; below 1 the value is computed on part of its units (a ship-by date on 18 of 1,013
    orders). Units without the anchor are placed by their purchase day (the only day they have)."""
    if uncovered is None or segment not in uncovered.segments:
        return np.ones(len(days))
    mask = uncovered.segments[segment]
    missed = window_count(uncovered.anchor[mask], None, days, mp.window, mp.lag)
    total = den + missed
    return np.where(total > 0, den / np.where(total > 0, total, 1), 1.0)


def partial_values(frame: pd.DataFrame) -> pd.Series:
    """Values computed on part of their window or part of their units: shown as partial, never
    counted by ``--fail-on`` (unless asked) nor as a breach in a headline."""
    units = frame["unit_coverage"] if "unit_coverage" in frame else 1.0
    return (frame["coverage"] < 1) | (units < 1)


def _assemble(account_id: str, blocks: list[dict], days: np.ndarray) -> pd.DataFrame:
    """One frame from all blocks at once (building a frame per segment costs more than the counting)."""
    n = len(days)
    if not blocks:
        return pd.DataFrame(columns=COLUMNS + ["defects"])

    def repeat(key: str) -> np.ndarray:
        return np.repeat(np.array([b[key] for b in blocks], dtype=object), n)

    def stack(key: str) -> np.ndarray:
        return np.concatenate([b[key] for b in blocks])

    headroom = pd.arrays.IntegerArray(np.concatenate([b["headroom"]._data for b in blocks]),
                                      np.concatenate([b["headroom"]._mask for b in blocks]))
    return pd.DataFrame({
        "account_id": account_id,
        "as_of": np.tile(days.astype("datetime64[D]"), len(blocks)).astype(object),
        "metric": repeat("metric"),
        "segment": repeat("segment"),
        "window_days": np.repeat(np.array([b["window_days"] for b in blocks], dtype=np.int64), n),
        "numerator": stack("numerator"),
        "denominator": stack("denominator"),
        "rate": stack("rate"),
        "target": repeat("target"),
        "status": stack("status"),
        "headroom": headroom,
        "coverage": stack("coverage"),
        "unit_coverage": stack("unit_coverage"),
        "defects": stack("defects"),
    })


def account_series(source: AccountContext | Account | str | Path, as_of: Iterable[object] | None = None, *,
                   start: object = None, end: object = None, policy: Policy | str | Path | None = None,
                   metrics: Sequence[str] | None = None, early: bool = False) -> pd.DataFrame:
    """The daily series of every metric and segment for one account (tidy: one row per value).

    Parameters
    ----------
    source : AccountContext, Account, str or Path
        The account (a context is used as it is; anything else is an edge that builds one).
    as_of : iterable of dates, optional
        Exactly these as-of days; by default the last day of data.
    start, end : date, optional
        Every as-of day of a range instead.
    policy : Policy, str or Path, optional
        For an Account or folder: the policy (default: perfkit's).
    metrics : sequence of str, optional
        Only these metrics (default: every metric of the policy but maturing views).
    early : bool
        Also the maturing views (the early ODR).

    Returns
    -------
    DataFrame
        The CSV contract's columns (:data:`COLUMNS`) plus ``defects`` (defective units, also
        for rates whose numerator counts good units). ``coverage`` is the share of each window
        the data covers (:func:`coverage`): below 1 the value is computed on part of its window.
    """
    ctx = AccountContext.of(source, policy)
    return series(ctx, as_of_days(ctx.account, as_of, start, end), _selected(ctx.policy, metrics, early))


def series(ctx: AccountContext, days: np.ndarray, chosen: Sequence[MetricPolicy]) -> pd.DataFrame:
    """The values of the chosen metrics on the given as-of days, below the edge.

    Parameters
    ----------
    ctx : AccountContext
        The account, its policy and day tables.
    days : ndarray of int
        The as-of day numbers.
    chosen : sequence of MetricPolicy
        The metrics, validated at the edge.
    """
    blocks: list[dict] = []
    for mp in chosen:
        share = coverage(mp, days, ctx.purchase_span)
        values = segment_values(mp, ctx.units(mp), days)
        if registry.lacking(mp.id, ctx.account.has):
            values = [without_input(b) for b in values]
        blocks += [{**b, "coverage": share} for b in values]
    return _assemble(ctx.account_id, blocks, days)


def without_input(block: dict) -> dict:
    """A block whose metric lacks an essential input: no rate, no status but ``no_data``, no
    headroom, nothing counted as defective (the orders stay the denominator they are)."""
    n = len(block["denominator"])
    return {**block, "numerator": np.zeros(n, np.int64), "defects": np.zeros(n, np.int64),
            "rate": np.full(n, np.nan), "status": np.full(n, "no_data", dtype=object),
            "headroom": pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool))}


def to_contract(series: pd.DataFrame) -> pd.DataFrame:
    """Only the contract's columns, in order, with as_of as ISO text."""
    out = series.loc[:, COLUMNS].copy()
    out["as_of"] = out["as_of"].astype(str)
    return out
