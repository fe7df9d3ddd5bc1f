"""Counting rules: for each metric, which units it counts and when each defect became known.

A rule takes an account's :class:`~perfkit.engine.units.AccountDays` and returns its
:class:`~perfkit.engine.units.Units`. Rules know nothing of windows, targets or as-of days: the
engine (:mod:`perfkit.engine.metrics`) counts their units over any window, and the registry
(:mod:`perfkit.engine.registry`) ties each rule to a metric.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from perfkit.engine.dates import NEVER, local_days, next_business_day
from perfkit.engine.units import AccountDays, Units


def _when(mask: np.ndarray, day: np.ndarray) -> np.ndarray:
    """``day`` where mask holds, NEVER elsewhere."""
    return np.where(mask, day, NEVER)


def odr(component: str | None) -> Callable[[AccountDays], Units]:
    def build(d: AccountDays) -> Units:
        comps = d.odr_components()
        if component is not None:
            comps = {component: comps[component]}
        return d.order_units(np.ones(len(d.mfn), bool), d.orders["purchase_date"], comps, ends=_stops(d, comps))
    return build


def _stops(d: AccountDays, comps: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """When each event-based component stops counting: a feedback removed, a claim denied (dated)."""
    ends = {"negative_feedback": d.negative_feedback_end, "a_to_z_claim": d.counted_claim_end}
    return {c: ends[c] for c in comps if c in ends}


def cancel(d: AccountDays) -> Units:
    p = d.orders["purchase_date"]
    return d.order_units(d.mfn, p, {"seller_cancellation": _when(d.seller_cancelled(), p)})


def late_shipment_defect(d: AccountDays) -> np.ndarray:
    """Late Shipment Rate's population (MFN orders not cancelled) and its late test, as one mask."""
    return d.mfn & ~d.status("Cancelled") & d.late_shipment()


def late_shipment(d: AccountDays) -> Units:
    lsd = d.orders["latest_ship_date"]
    keep = d.mfn & ~d.status("Cancelled")
    return d.order_units(keep, lsd, {"late_shipment": _when(late_shipment_defect(d), lsd)})


def valid_tracking(d: AccountDays) -> Units:
    """MFN shipments (ship-confirmed), placed by the promised delivery date as Amazon places them;
    a shipment enters once confirmed, and its tracking is judged from then."""
    confirm, ldd = d.orders["ship_confirm_date"], d.orders["latest_delivery_date"]
    keep = d.mfn & (confirm < NEVER)
    return d.order_units(keep, ldd, {"invalid_tracking": _when(~d.tracking_valid, confirm)}, enter=confirm)


def on_time_delivery(d: AccountDays) -> Units:
    o = d.account.orders
    ldd, confirm = d.orders["latest_delivery_date"], d.orders["ship_confirm_date"]
    keep = d.mfn & (confirm < NEVER) & d.tracking_valid
    delivered, promised = o["delivered_date"], o["latest_delivery_date"]
    late = ((delivered > promised) | delivered.isna()).to_numpy(bool)
    return d.order_units(keep, ldd, {"late_delivery": _when(late, ldd)}, enter=confirm)


def invoice(d: AccountDays) -> Units:
    """MFN business orders that were ship-confirmed, placed by purchase day (Amazon takes the orders
    placed in the seven days starting two weeks ago: window 7, lag 7); an invoice is missing once
    the first business day after the ship-confirm day has ended without one."""
    o = d.account.orders
    confirm, purchase = d.orders["ship_confirm_date"], d.orders["purchase_date"]
    keep = d.mfn & o["is_business_order"].to_numpy(bool) & (confirm < NEVER)
    deadline = next_business_day(confirm, d.policy.business_days)
    missed = d.orders["invoice_upload_date"] > deadline  # NEVER (no upload) is later than any deadline
    return d.order_units(keep, purchase, {"missing_invoice": _when(missed, deadline)}, enter=confirm)


def perfect_order(d: AccountDays) -> Units:
    p = d.orders["purchase_date"]
    comps = {
        "a_to_z_claim": d.any_claim,
        "seller_cancellation": _when(d.seller_cancelled(), p),
        # Exactly Late Shipment Rate's defect: a cancelled order that never shipped is not late.
        "late_shipment": _when(late_shipment_defect(d), d.orders["latest_ship_date"]),
        "negative_feedback": d.negative_feedback,
        "refund": d.orders["refund_date"],
        "chargeback": d.service_chargeback,
    }
    # Perfect Order counts any claim (a_to_z_claim is every claim, decided or not): only removals stop.
    return d.order_units(np.ones(len(p), bool), p, comps, ends={"negative_feedback": d.negative_feedback_end})


def refund(d: AccountDays) -> Units:
    p = d.orders["purchase_date"]
    return d.order_units(np.ones(len(p), bool), p, {"refund": d.orders["refund_date"]})


def returned(d: AccountDays) -> Units:
    """Return rate: orders (anchored on purchase) with a return request of any reason, known from
    the day of the first request."""
    p = d.orders["purchase_date"]
    return d.order_units(np.ones(len(p), bool), p, {"return_request": d.first_return})


def return_dissatisfaction(d: AccountDays) -> Units:
    r = d.account.returns
    tz = d.account.timezone
    request = local_days(r["request_date"], tz)
    response_instant = r["response_date"]
    deadline_instant = r["request_date"] + pd.Timedelta(hours=d.policy.return_response_hours)
    late = (response_instant.isna() | (response_instant > deadline_instant)).to_numpy(bool)
    if not d.account.has("returns.response_date"):  # no response dates at all: lateness is unknown, not late
        late = np.zeros(len(r), bool)
    invalid = ((r["decision"] == "rejected").fillna(False) & ~r["rejection_valid"]).to_numpy(bool)
    response = local_days(response_instant, tz)
    comps = {
        # The return-feedback rating carries no date of its own: it counts from the request.
        "negative_return_feedback": _when(r["negative_return_feedback"].to_numpy(bool), request),
        "late_response": _when(late, local_days(deadline_instant, tz)),
        "invalid_rejection": _when(invalid, np.where(response < NEVER, response, request)),
    }
    known = np.full(len(r), NEVER, dtype=np.int64)
    for v in comps.values():
        known = np.minimum(known, v)
    rows = np.flatnonzero(~r["fba"].to_numpy(bool))  # Amazon answered FBA returns, not the seller
    if len(rows) < len(r):
        comps = {k: v[rows] for k, v in comps.items()}
        request, known = request[rows], known[rows]
    return Units("returns", rows, request, request, known, comps, d.order_positions("returns")[rows])
