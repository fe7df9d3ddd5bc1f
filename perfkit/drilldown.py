"""The units behind a value: which orders (or returns) made the defects, and what drives them.

This is the evidence a Plan of Action needs: order ids, which defect, its dates, category,
carrier, and the buyer's own words (untrusted text: whoever shows it must escape it).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import PerfkitError
from .loaders import Account, positions
from .metrics import as_of_days
from .policy import Policy, resolve_policy
from .units import NEVER, AccountDays, Units, build_units, day_to_date, segment_mask

ORDER_DETAIL = ["order_id", "fulfillment_channel", "order_status", "category", "carrier", "tracking_id",
                "purchase_date", "latest_ship_date", "ship_confirm_date", "latest_delivery_date",
                "delivered_date", "product_name"]


@dataclass
class Window:
    """The units of one metric's window on one day, as arrays (cheap to make and to count)."""

    metric: str
    day: int
    units: Units
    keep: np.ndarray  # which of the metric's units are in the window
    mask: np.ndarray  # per unit in the window: bit i set when component i is known by the day

    @property
    def defective(self) -> np.ndarray:
        return self.mask != 0


def _window(account: Account, metric: str, as_of: object, segment: str | None, policy: Policy | str | Path | None,
            prepared: AccountDays | None) -> tuple[Window, AccountDays]:
    pol = resolve_policy(policy)
    if metric not in pol.metrics:
        raise PerfkitError(f"unknown metric {metric!r}; choose from {', '.join(pol.metrics)}")
    mp = pol[metric]
    day = int(as_of_days(account, None if as_of is None else [as_of])[0])
    prepared = AccountDays.reuse(prepared, account, pol)
    units = build_units(prepared, metric)
    hi = day - mp.lag
    lo = hi - mp.window + 1
    keep = segment_mask(units, metric, segment) & (units.anchor >= lo) & (units.anchor <= hi) & (units.enter <= day)
    mask = np.zeros(int(keep.sum()), dtype=np.int64)
    for bit, c in enumerate(units.components):
        mask |= (units.components[c][keep] <= day).astype(np.int64) << bit
    return Window(metric, day, units, keep, mask), prepared


def window_units(account: Account, metric: str, as_of: object = None, segment: str | None = None,
                 policy: Policy | str | Path | None = None, prepared: AccountDays | None = None,
                 defective_only: bool = False, latest: int | None = None) -> pd.DataFrame:
    """Every unit in the metric's window as of a day, with ``defective`` and its components.

    One row per unit (only the defective ones with ``defective_only``; only the ``latest`` n by
    anchor date if given). ``defect`` names the components known by the as-of day
    (comma-separated); dates are local to the account.
    """
    w, prepared = _window(account, metric, as_of, segment, policy, prepared)
    units, day = w.units, w.day
    pick = w.defective if defective_only else np.ones(len(w.mask), bool)
    if latest is not None:
        idx = np.flatnonzero(pick)
        newest = idx[np.argsort(-units.anchor[w.keep][idx], kind="stable")[:latest]]
        pick = np.zeros(len(w.mask), bool)
        pick[newest] = True
    mask = w.mask[pick]
    rows = units.rows[w.keep][pick]
    comp_names = list(units.components)
    # Each unit's set of components as a bit mask, named once per distinct mask.
    names = {m: ", ".join(c for bit, c in enumerate(comp_names) if m >> bit & 1) for m in np.unique(mask)}
    frame = _detail(prepared, units.table, rows)
    frame.insert(0, "metric", metric)
    frame["anchor_date"] = units.anchor[w.keep][pick].astype("datetime64[D]").astype(object)
    frame["defective"] = mask != 0
    frame["defect"] = pd.Series(mask, dtype=np.int64).map(names).to_numpy(dtype=object)
    known = np.maximum(units.enter[w.keep], units.known[w.keep])[pick]
    shown = (known < NEVER) & (known <= day) & (mask != 0)
    frame["defect_known_date"] = np.where(shown, np.where(shown, known, 0).astype("datetime64[D]").astype(object), None)
    return _with_buyer_words(account, frame, day)


def window_drivers(account: Account, metric: str, as_of: object = None, segment: str | None = None,
                   policy: Policy | str | Path | None = None,
                   prepared: AccountDays | None = None) -> tuple[int, int, dict[str, pd.DataFrame]]:
    """(units, defects, drivers) for a window, counted on arrays: what the explorer redraws on a switch."""
    w, prepared = _window(account, metric, as_of, segment, policy, prepared)
    units = w.units
    bad = w.defective
    out: dict[str, pd.DataFrame] = {}
    comps = [(c, int(np.count_nonzero(w.mask >> bit & 1))) for bit, c in enumerate(units.components)]
    comps = sorted((x for x in comps if x[1]), key=lambda x: -x[1])
    out["component"] = pd.DataFrame(comps, columns=["component", "defects"])
    if units.table == "orders":
        rows = units.rows[w.keep]
        for key in ("category", "carrier"):
            all_codes, labels = prepared.codes(key)
            codes = all_codes[rows]
            n = np.bincount(codes, minlength=len(labels))
            d = np.bincount(codes, weights=bad, minlength=len(labels)).astype(int)
            seen = n > 0
            if not seen.any() or (seen.sum() == 1 and labels[seen][0] == "(none)"):
                continue
            table = pd.DataFrame({key: labels[seen], "defects": d[seen], "units": n[seen], "rate": d[seen] / n[seen]})
            out[key] = table.sort_values(["defects", "rate"], ascending=False).reset_index(drop=True)
    return int(len(w.mask)), int(bad.sum()), out


def defective_units(account: Account, metric: str, as_of: object = None, segment: str | None = None,
                    policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """The drill-down: only the defective units behind a metric's value on a day."""
    units = window_units(account, metric, as_of, segment, policy)
    return units[units["defective"]].reset_index(drop=True)


def _detail(prepared: AccountDays, table: str, rows: np.ndarray) -> pd.DataFrame:
    account = prepared.account
    tz = account.timezone
    if table == "returns":
        r = account.returns.iloc[rows].reset_index(drop=True)
        detail = r[["return_id", "order_id", "request_date", "response_date", "decision"]].copy()
        pos = prepared.order_positions("returns")[rows]  # events name known orders only
        for col in ("category", "carrier", "fulfillment_channel"):
            detail[col] = account.orders[col].iloc[pos].to_numpy(dtype=object)
    else:
        detail = account.orders[ORDER_DETAIL].iloc[rows].reset_index(drop=True)
    for col in detail.columns:
        if isinstance(detail[col].dtype, pd.DatetimeTZDtype):
            detail[col] = detail[col].dt.tz_convert(tz).dt.tz_localize(None)
    return detail


def _with_buyer_words(account: Account, frame: pd.DataFrame, day: int) -> pd.DataFrame:
    """Attach, to the defective units, the latest negative feedback comment and claim known by the day."""
    tz = account.timezone
    cutoff = day_to_date(day + 1).tz_localize(tz)
    bad_ids = frame.loc[frame["defective"], "order_id"]
    fb = account.feedback[(account.feedback["feedback_date"] < cutoff) & (account.feedback["rating"] <= 2)]
    cl = account.claims[account.claims["claim_date"] < cutoff]
    fb = fb[positions(bad_ids, fb["order_id"]) >= 0].sort_values("feedback_date")
    cl = cl[positions(bad_ids, cl["order_id"]) >= 0].sort_values("claim_date")
    for column, source, field_name in (("buyer_comment", fb, "comments"), ("claim_reason", cl, "reason"),
                                       ("claim_status", cl, "status")):
        latest = source.groupby("order_id")[field_name].last()
        values = np.full(len(frame), None, dtype=object)
        values[frame["defective"].to_numpy()] = latest.reindex(bad_ids).to_numpy(dtype=object)
        frame[column] = values
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
