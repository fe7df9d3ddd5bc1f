"""The units behind a value: which orders (or returns) made the defects, and what drives them.

This is the evidence a Plan of Action needs: order ids, which defect, its dates, category,
carrier, and the buyer's own words (untrusted text: whoever shows it must escape it).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import PerfkitError
from .loaders import Account
from .metrics import as_of_days
from .policy import Policy, resolve_policy
from .units import NEVER, AccountDays, Units, build_units, day_to_date

ORDER_DETAIL = ["order_id", "fulfillment_channel", "order_status", "category", "carrier", "tracking_id",
                "purchase_date", "latest_ship_date", "ship_confirm_date", "latest_delivery_date",
                "delivered_date", "product_name"]


def _segment_mask(units: Units, metric: str, segment: str | None) -> np.ndarray:
    if segment is None:
        return np.ones(len(units.anchor), bool)
    if segment not in units.segments:
        choices = ", ".join(units.segments) or "none (no units)"
        raise PerfkitError(f"metric {metric} has no segment {segment!r}; choose from {choices}")
    return units.segments[segment]


def window_units(account: Account, metric: str, as_of: object = None, segment: str | None = None,
                 policy: Policy | str | Path | None = None, prepared: AccountDays | None = None) -> pd.DataFrame:
    """Every unit in the metric's window as of a day, with ``defective`` and its components.

    One row per unit. ``defect`` names the components known by the as-of day (comma-separated);
    dates are local to the account.
    """
    pol = resolve_policy(policy)
    if metric not in pol.metrics:
        raise PerfkitError(f"unknown metric {metric!r}; choose from {', '.join(pol.metrics)}")
    mp = pol[metric]
    day = int(as_of_days(account, None if as_of is None else [as_of])[0])
    if prepared is None or prepared.account is not account or prepared.policy is not pol:
        prepared = AccountDays.build(account, pol)
    units = build_units(prepared, metric)
    hi = day - mp.lag
    lo = hi - mp.window + 1
    keep = _segment_mask(units, metric, segment) & (units.anchor >= lo) & (units.anchor <= hi) & (units.enter <= day)
    rows = units.rows[keep]
    comp_names = list(units.components)
    active = {c: units.components[c][keep] <= day for c in comp_names}
    defect = np.array([", ".join(c for c in comp_names if active[c][i]) for i in range(len(rows))], dtype=object)
    frame = _detail(account, units.table, rows)
    frame.insert(0, "metric", metric)
    frame["anchor_date"] = [day_to_date(a).date() for a in units.anchor[keep]]
    frame["defective"] = defect != ""
    frame["defect"] = defect
    known = np.maximum(units.enter[keep], units.known[keep])
    frame["defect_known_date"] = [day_to_date(k).date() if k < NEVER and k <= day else None for k in known]
    return _with_buyer_words(account, frame, day)


def defective_units(account: Account, metric: str, as_of: object = None, segment: str | None = None,
                    policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """The drill-down: only the defective units behind a metric's value on a day."""
    units = window_units(account, metric, as_of, segment, policy)
    return units[units["defective"]].reset_index(drop=True)


def _detail(account: Account, table: str, rows: np.ndarray) -> pd.DataFrame:
    tz = account.timezone
    if table == "returns":
        r = account.returns.iloc[rows].reset_index(drop=True)
        o = account.orders.set_index("order_id")
        detail = r[["return_id", "order_id", "request_date", "response_date", "decision"]].copy()
        for col in ("category", "carrier", "fulfillment_channel"):
            detail[col] = o[col].reindex(detail["order_id"]).to_numpy()
    else:
        detail = account.orders.iloc[rows][ORDER_DETAIL].reset_index(drop=True).copy()
    for col in detail.columns:
        if isinstance(detail[col].dtype, pd.DatetimeTZDtype):
            detail[col] = detail[col].dt.tz_convert(tz).dt.tz_localize(None)
    return detail


def _with_buyer_words(account: Account, frame: pd.DataFrame, day: int) -> pd.DataFrame:
    """Attach the latest negative feedback comment and claim reason known by the as-of day."""
    tz = account.timezone
    cutoff = day_to_date(day + 1).tz_localize(tz)
    fb = account.feedback[(account.feedback["feedback_date"] < cutoff) & (account.feedback["rating"] <= 2)]
    cl = account.claims[account.claims["claim_date"] < cutoff]
    comments = fb.sort_values("feedback_date").groupby("order_id")["comments"].last()
    reasons = cl.sort_values("claim_date").groupby("order_id")["reason"].last()
    statuses = cl.sort_values("claim_date").groupby("order_id")["status"].last()
    frame["buyer_comment"] = comments.reindex(frame["order_id"]).to_numpy()
    frame["claim_reason"] = reasons.reindex(frame["order_id"]).to_numpy()
    frame["claim_status"] = statuses.reindex(frame["order_id"]).to_numpy()
    return frame


def drivers(units: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What drives a value: defects and defect rate by component, category, carrier and week."""
    out: dict[str, pd.DataFrame] = {}
    bad = units[units["defective"]]
    comp = bad["defect"].str.split(", ").explode()
    out["component"] = comp.value_counts().rename_axis("component").reset_index(name="defects")
    for key in ("category", "carrier"):
        if key in units.columns and units[key].notna().any():
            g = units.groupby(units[key].fillna("(none)"), dropna=False)["defective"].agg(["sum", "count"])
            g = g.rename(columns={"sum": "defects", "count": "units"})
            g["rate"] = g["defects"] / g["units"]
            out[key] = g.sort_values(["defects", "rate"], ascending=False).reset_index()
    if len(units):
        week = pd.to_datetime(units["anchor_date"]).dt.to_period("W-SUN").dt.start_time.dt.date
        g = units.groupby(week)["defective"].agg(["sum", "count"]).rename(columns={"sum": "defects", "count": "units"})
        g["rate"] = g["defects"] / g["units"]
        out["week"] = g.rename_axis("week").reset_index()
    return out
