"""Statuses as people read them: their order from worst to best, their colours, and the
status table (each metric's value on a day beside its value some days before) that the
explorer, the report, the index and the POA all show.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from .policy import Policy

# Worst first: a status table, an index cell or a POA picks the first of these it finds.
STATUS_ORDER = ("breach", "at_risk", "ok", "no_data", "info")
STATUS_COLOURS = {"ok": "#1a7f37", "at_risk": "#b7791f", "breach": "#c0392b", "no_data": "#8a8f98",
                  "info": "#2f6fb5", "failed": "#6b2c91"}


def rank(status: pd.Series) -> pd.Series:
    """Each status's place in :data:`STATUS_ORDER` (unknown ones last)."""
    return status.map({s: i for i, s in enumerate(STATUS_ORDER)}).fillna(len(STATUS_ORDER))


def worst(rows: pd.DataFrame) -> pd.Series | None:
    """The row with the worst status (the first such row on a tie); None for no rows."""
    if rows.empty:
        return None
    return rows.iloc[int(rank(rows["status"]).to_numpy().argmin())]


def status_table(series: pd.DataFrame, policy: Policy, day: dt.date, compare_days: int = 7) -> pd.DataFrame:
    """Every value on ``day`` (maturing views left out) beside the same value ``compare_days`` earlier.

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
    shown = series[~series["metric"].map(lambda m: policy[m].maturing if m in policy.metrics else False)]
    now = shown[shown["as_of"] == day]
    before = shown[shown["as_of"] == day - dt.timedelta(days=compare_days)][["metric", "segment", "rate"]]
    out = now.merge(before.rename(columns={"rate": "rate_before"}), on=["metric", "segment"], how="left")
    return out.reset_index(drop=True)
