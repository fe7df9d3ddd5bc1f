"""The units behind a value: which orders (or returns) made the defects, and what drives them.

This is the evidence a Plan of Action needs: order ids, which defect, its dates, category,
carrier, and the buyer's own words (untrusted text: whoever shows it must escape it).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfkit.engine.context import AccountContext
from perfkit.engine.dates import NEVER, day_to_date
from perfkit.core.account import Account
from perfkit.loading.loader import positions
from perfkit.engine.metrics import in_window
from perfkit.core.policy import MetricPolicy, Policy
from perfkit.engine.units import Units, segment_mask

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


def window(ctx: AccountContext, mp: MetricPolicy, day: int, segment: str | None) -> Window:
    """The units of a metric's window on one day (the engine's window rule), with their components."""
    units = ctx.units(mp)
    keep = segment_mask(units, mp.id, segment) & in_window(units, mp, day)
    mask = np.zeros(int(keep.sum()), dtype=np.int64)
    for bit, c in enumerate(units.components):
        mask |= units.component_on(c, day, keep).astype(np.int64) << bit
    return Window(mp.id, day, units, keep, mask)


def units_frame(ctx: AccountContext, w: Window, defective_only: bool = False,
                latest: int | None = None) -> pd.DataFrame:
    """A window's units as a table (see :func:`window_units`)."""
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
    frame = _detail(ctx, units.table, rows)
    frame.insert(0, "metric", w.metric)
    frame["anchor_date"] = units.anchor[w.keep][pick].astype("datetime64[D]").astype(object)
    frame["defective"] = mask != 0
    frame["defect"] = pd.Series(mask, dtype=np.int64).map(names).to_numpy(dtype=object)
    known = np.maximum(units.enter[w.keep], units.known[w.keep])[pick]
    shown = (known < NEVER) & (known <= day) & (mask != 0)
    frame["defect_known_date"] = np.where(shown, np.where(shown, known, 0).astype("datetime64[D]").astype(object), None)
    return _with_buyer_words(ctx.account, frame, day)


def driver_tables(ctx: AccountContext, w: Window) -> tuple[int, int, dict[str, pd.DataFrame]]:
    """(units, defects, drivers) of a window: defects and rates by component, category, carrier
    and week, counted on arrays (what the explorer redraws on every switch)."""
    units = w.units
    bad = w.defective
    out: dict[str, pd.DataFrame] = {}
    comps = [(c, int(np.count_nonzero(w.mask >> bit & 1))) for bit, c in enumerate(units.components)]
    comps = sorted((x for x in comps if x[1]), key=lambda x: -x[1])
    out["component"] = pd.DataFrame(comps, columns=["component", "defects"])
    if units.table == "orders":
        rows = units.rows[w.keep]
        for key in ("category", "carrier"):
            all_codes, labels = ctx.days.codes(key)
            codes = all_codes[rows]
            n = np.bincount(codes, minlength=len(labels))
            d = np.bincount(codes, weights=bad, minlength=len(labels)).astype(int)
            seen = n > 0
            if not seen.any() or (seen.sum() == 1 and labels[seen][0] == "(none)"):
                continue
            table = pd.DataFrame({key: labels[seen], "defects": d[seen], "units": n[seen], "rate": d[seen] / n[seen]})
            out[key] = table.sort_values(["defects", "rate"], ascending=False).reset_index(drop=True)
    anchors = units.anchor[w.keep]
    if len(anchors):
        monday = anchors - (anchors + 3) % 7  # weeks start on Monday (day 0 was a Thursday)
        weeks, which = np.unique(monday, return_inverse=True)
        n = np.bincount(which, minlength=len(weeks))
        d = np.bincount(which, weights=bad, minlength=len(weeks)).astype(int)
        out["week"] = pd.DataFrame({"week": [day_to_date(x).date() for x in weeks], "defects": d, "units": n,
                                    "rate": d / n})
    return int(len(w.mask)), int(bad.sum()), out


# --- the public API: edges that build a context and validate the metric once ----------------------


def _edge(source, metric: str, as_of: object, policy) -> tuple[AccountContext, MetricPolicy, int]:
    ctx = AccountContext.of(source, policy)
    return ctx, ctx.metric(metric), ctx.day(as_of)


def window_units(source: AccountContext | Account | str | Path, metric: str, as_of: object = None,
                 segment: str | None = None, policy: Policy | str | Path | None = None,
                 defective_only: bool = False, latest: int | None = None) -> pd.DataFrame:
    """Every unit in a metric's window as of a day, with ``defective`` and its components.

    Parameters
    ----------
    source : AccountContext, Account, str or Path
        The account.
    metric : str
        The metric id.
    as_of : date, optional
        The as-of day (default: the last day of data).
    segment : str, optional
        ``MFN``, ``AFN``, ``all`` or ``category=<name>`` (default: every unit of the metric).
    policy : Policy, str or Path, optional
        For an Account or folder: the policy.
    defective_only : bool
        Only the defective units.
    latest : int, optional
        Only the newest ``latest`` units by anchor date.

    Returns
    -------
    DataFrame
        One row per unit (order or return): its details, ``anchor_date``, ``defective``,
        ``defect`` (the components known by the day, comma-separated), ``defect_known_date``
        and, for defective orders, the buyer's latest words (untrusted text: escape it).
    """
    ctx, mp, day = _edge(source, metric, as_of, policy)
    return units_frame(ctx, window(ctx, mp, day, segment), defective_only, latest)


def window_drivers(source: AccountContext | Account | str | Path, metric: str, as_of: object = None,
                   segment: str | None = None,
                   policy: Policy | str | Path | None = None) -> tuple[int, int, dict[str, pd.DataFrame]]:
    """What drives a value: (units, defects, tables by component, category, carrier and week).

    Parameters are those of :func:`window_units`. Each table has ``defects`` and (but the
    component table) ``units`` and ``rate``, largest first.
    """
    ctx, mp, day = _edge(source, metric, as_of, policy)
    return driver_tables(ctx, window(ctx, mp, day, segment))


def defective_units(source: AccountContext | Account | str | Path, metric: str, as_of: object = None,
                    segment: str | None = None, policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """The drill-down: only the defective units behind a metric's value on a day
    (parameters as :func:`window_units`)."""
    units = window_units(source, metric, as_of, segment, policy)
    return units[units["defective"]].reset_index(drop=True)


def _detail(ctx: AccountContext, table: str, rows: np.ndarray) -> pd.DataFrame:
    account = ctx.account
    tz = account.timezone
    if table == "returns":
        r = account.returns.iloc[rows].reset_index(drop=True)
        detail = r[["return_id", "order_id", "request_date", "response_date", "decision", "reason"]].copy()
        pos = ctx.days.order_positions("returns")[rows]  # events name known orders only
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
    bad = frame["defective"].to_numpy()
    bad_ids = frame["order_id"].to_numpy(dtype=object)[bad]
    # The units' own events first (a report asks for a handful of units), then the day and rating.
    fb = account.feedback[positions(bad_ids, account.feedback["order_id"]) >= 0]
    cl = account.claims[positions(bad_ids, account.claims["order_id"]) >= 0]
    fb = fb[(fb["feedback_date"] < cutoff) & (fb["rating"] <= 2)].sort_values("feedback_date")
    cl = cl[cl["claim_date"] < cutoff].sort_values("claim_date")
    for column, source, field_name in (("buyer_comment", fb, "comments"), ("claim_reason", cl, "reason"),
                                       ("claim_status", cl, "status")):
        # Each order's last value that is not missing (groupby's last), by plain lookups: these are
        # a few rows, where pandas' per-call cost was a tenth of a report page's own work.
        latest: dict = {}
        for order, value in zip(source["order_id"].tolist(), source[field_name].tolist()):
            if not pd.isna(value):
                latest[order] = value
        missing = getattr(source[field_name].dtype, "na_value", np.nan)  # what a reindex would fill in
        values = np.full(len(frame), None, dtype=object)
        values[bad] = [latest.get(order, missing) for order in bad_ids]
        frame[column] = values
    return frame
