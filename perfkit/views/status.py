"""Statuses as people read them: their order from worst to best, their colours, and the
status table (each metric's value on a day beside its value some days before) that the
explorer, the report, the index and the POA all show.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from perfkit.core.policy import Policy

# Worst first: a status table, an index cell or a POA picks the first of these it finds.
# "advisory" (a target Amazon only recommends in the marketplace, missed) is never a breach.
# "too_few": fewer units in the window than the marketplace judges (shown, not judged).
STATUS_ORDER = ("breach", "at_risk", "advisory", "partial", "too_few", "ok", "no_data", "info")
STATUS_COLOURS = {"ok": "#1a7f37", "at_risk": "#b7791f", "breach": "#c0392b", "no_data": "#8a8f98",
                  "info": "#2f6fb5", "failed": "#6b2c91", "partial": "#7d8fa3", "advisory": "#8e6bb8",
                  "too_few": "#8a8f98"}
# A value computed on part of its window (the data starts or ends inside it) or on part of its
# units (an anchor column that only some rows fill) is shown as "partial data", never as a red
# badge: Amazon counts the whole window and every unit.
PARTIAL = "partial"
JUDGED = ("breach", "at_risk", "ok", "advisory")


def shown_status(status: str, coverage: float, unit_coverage: float = 1.0) -> str:
    """The status a person is shown: ``partial`` for a judged value whose window the data only
    partly covers, or computed on part of its units; else the status itself."""
    short = (coverage == coverage and coverage < 1) or (unit_coverage == unit_coverage and unit_coverage < 1)
    if status in JUDGED and short:
        return PARTIAL
    return status


def shown_statuses(frame: pd.DataFrame) -> list[str]:
    """:func:`shown_status` of every row of a series."""
    units = frame["unit_coverage"] if "unit_coverage" in frame else [1.0] * len(frame)
    return [shown_status(s, c, u) for s, c, u in zip(frame["status"], frame["coverage"], units)]


def judged_segments(segments: list[str]) -> list[str]:
    """The segments Amazon judges among a metric's: seller-fulfilled and FBA apart when both are
    there (the combined "all" is then informational), else every one."""
    if {"MFN", "AFN"} <= set(segments):
        return [s for s in segments if s != "all"]
    return list(segments)


_PLACE = {s: i for i, s in enumerate(STATUS_ORDER)}


def rank(status: pd.Series) -> pd.Series:
    """Each status's place in :data:`STATUS_ORDER` (unknown ones last)."""
    return status.map(_PLACE).fillna(len(STATUS_ORDER))


def worst(rows: pd.DataFrame, column: str = "status") -> pd.Series | None:
    """The row with the worst status in ``column`` (the first such row on a tie); None for no rows."""
    if rows.empty:
        return None
    return rows.iloc[int(rank(rows[column]).to_numpy().argmin())]


def worst_record(records: list[dict], key: str = "status") -> dict | None:
    """:func:`worst` over plain records (a few rows: pandas' per-call cost is most of the work)."""
    return min(records, key=lambda r: _PLACE.get(r[key], len(STATUS_ORDER)), default=None)


def counted_text(policy: Policy, metric: str, numerator: int, denominator: int, lang: str) -> str:
    """``6 defective / 100`` or, for a rate of good units, ``94 good / 100``."""
    from perfkit.views.labels import t

    word = t("good" if policy[metric].counts_good else "defective", lang)
    return f"{numerator} {word} / {denominator}"


def status_reason(policy: Policy, metric: str, shown: str, numerator: int, denominator: int, lang: str) -> str:
    """Why a value has its status, in words: an "at risk" 0.00% means one more defect breaches.

    Decided on the counts, by the same exact rule as the status itself (:func:`perfkit.engine.metrics.judge`).

    Parameters
    ----------
    policy : Policy
        The metric's target and warning level.
    metric, shown : str
        The metric and its displayed status (:func:`shown_status`).
    numerator, denominator : int
        The value's counts (good units for a rate of good units).
    lang : str
        ``en`` or ``zh``.
    """
    from perfkit.views.labels import t
    from perfkit.engine.metrics import past_warning

    mp = policy[metric]
    if shown == "breach":
        return t("why_breach", lang, target=mp.target_display())
    if shown == "partial":
        return t("partial_note", lang)
    if shown == "advisory":
        return t("why_advisory", lang, target=mp.target_display())
    if shown == "too_few":
        return t("why_too_few", lang, n=mp.min_units)
    if shown != "at_risk":
        return ""
    bad = denominator - numerator if mp.counts_good else numerator
    if past_warning(mp, int(bad), int(denominator)):
        return t("why_warning", lang, warn=f"{float(mp.warn) * 100:.4g}%")
    return t("why_no_headroom", lang)  # at risk without reaching the warning level: no headroom left


def status_table(series: pd.DataFrame, policy: Policy, day: dt.date, compare_days: int = 7) -> pd.DataFrame:
    """Every value on ``day`` (maturing views left out) beside the same value ``compare_days`` earlier,
    with ``shown``: the status as displayed (:func:`shown_status`).

    Parameters
    ----------
    series : DataFrame
        One account's series.
    policy : Policy
        Says which metrics are maturing views.
    day : date
        The day to show.
    compare_days : int
        How far back ``rate_before`` looks (NaN where the series does not reach).
    """
    # The two days first (a few dozen rows of a year's series), then the maturing views.
    earlier = day - dt.timedelta(days=compare_days)
    near = series[(series["as_of"] == day) | (series["as_of"] == earlier)]
    maturing = [m for m in near["metric"].unique() if m in policy.metrics and policy[m].maturing]
    shown = near[~near["metric"].isin(maturing)]
    now = shown[shown["as_of"] == day]
    before = shown[shown["as_of"] == earlier][["metric", "segment", "rate"]]
    out = now.merge(before.rename(columns={"rate": "rate_before"}), on=["metric", "segment"], how="left")
    out["shown"] = shown_statuses(out)
    return out.reset_index(drop=True)
