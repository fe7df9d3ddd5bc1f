"""Who is counted: for each metric, its units, the day each enters the window and the day its
defect became known.

Every date becomes a day number on the account's own calendar (days since 1970-01-01, local).
A unit is described by three day numbers:

- ``anchor``: the day that places it in a window (purchase, ship-by, ship-confirm, ...);
- ``enter``: the first day it is known to be in the population (usually the anchor);
- ``known``: the first day its defect is known (``NEVER`` when it has none).

The value at as-of day D then counts units with anchor in the window and enter <= D, and the
defective ones among them with known <= D: nothing learned after D leaks into D.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import timezones
from .loaders import Account
from .policy import Policy

NEVER = np.int64(1) << 40  # a day number later than any date


def local_days(ts: pd.Series, tz: str) -> np.ndarray:
    """UTC instants to local day numbers; missing instants become NEVER."""
    if len(ts) == 0:
        return np.empty(0, dtype=np.int64)
    return timezones.local_days(timezones.utc_values(ts), tz, missing=NEVER)


def day_to_date(day: int | np.integer) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(day), "D"))


def date_to_day(value: object) -> int:
    """A date (``'2026-03-01'``, date, Timestamp) to its day number."""
    ts = pd.Timestamp(value)
    return int(np.datetime64(ts.date(), "D").astype(np.int64))


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 ... Sunday = 6 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def next_business_day(days: np.ndarray, business_days: frozenset[int]) -> np.ndarray:
    """The first business day strictly after each day."""
    out = np.full(days.shape, NEVER, dtype=np.int64)
    todo = days < NEVER
    for step in range(1, 8):
        cand = days + step
        hit = todo & np.isin(weekday(cand), list(business_days))
        out[hit] = cand[hit]
        todo &= ~hit
    return out


@dataclass
class Units:
    """The units of one metric (see the module docstring)."""

    table: str  # "orders" or "returns": where ``rows`` point
    rows: np.ndarray
    anchor: np.ndarray
    enter: np.ndarray
    known: np.ndarray
    components: dict[str, np.ndarray]  # defect component -> day it became known (NEVER if none)
    orders: np.ndarray  # the position of each unit's order (-1 for a return naming no known order)
    segments: dict[str, np.ndarray] = field(default_factory=dict)


class _OrderDays(Mapping):
    """The orders' date columns as local day numbers, computed on first use and kept."""

    COLUMNS = ("purchase_date", "latest_ship_date", "ship_confirm_date", "latest_delivery_date",
               "delivered_date", "invoice_upload_date", "refund_date")

    def __init__(self, days: AccountDays) -> None:
        self._d = days

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self.COLUMNS:
            raise KeyError(column)
        cache = self._d._days
        if column not in cache:
            cache[column] = local_days(self._d.account.orders[column], self._d.account.timezone)
        return cache[column]

    def __iter__(self):
        return iter(self.COLUMNS)

    def __len__(self) -> int:
        return len(self.COLUMNS)


@dataclass
class AccountDays:
    """An account's dates as local day numbers, computed once and shared by every metric."""

    account: Account
    policy: Policy
    built: dict[str, Units] = field(default_factory=dict)  # units per metric, built once
    factorized: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _days: dict[str, np.ndarray] = field(default_factory=dict)
    _raw: dict[Callable, Units] = field(default_factory=dict)  # units per counting rule

    @property
    def orders(self) -> _OrderDays:
        """Orders date column -> local day numbers (NEVER where missing), each computed when first asked."""
        return _OrderDays(self)

    @functools.cached_property
    def mfn(self) -> np.ndarray:
        """Fulfilled by the merchant (the only other channel is AFN)."""
        return (self.account.orders["fulfillment_channel"] == "MFN").to_numpy(dtype=bool, na_value=False)

    def _first_day(self, table: str, mask: np.ndarray, column: str) -> np.ndarray:
        """Per order, the first local day of its events where ``mask`` holds."""
        frame = self.account.table(table)
        out = np.full(len(self.account.orders), NEVER, dtype=np.int64)
        if mask.any():
            days = local_days(frame.loc[mask, column], self.account.timezone)
            np.minimum.at(out, frame["_order"].to_numpy()[mask], days)
        return out

    @functools.cached_property
    def negative_feedback(self) -> np.ndarray:
        fb = self.account.feedback
        neg = (fb["rating"].isin(list(self.policy.negative_ratings)) & ~fb["removed"]).to_numpy(bool)
        return self._first_day("feedback", neg, "feedback_date")

    @functools.cached_property
    def counted_claim(self) -> np.ndarray:
        counted = ~self.account.claims["status"].isin(list(self.policy.claim_statuses_not_counted))
        return self._first_day("claims", counted.to_numpy(bool), "claim_date")

    @functools.cached_property
    def any_claim(self) -> np.ndarray:
        return self._first_day("claims", np.ones(len(self.account.claims), bool), "claim_date")

    @functools.cached_property
    def service_chargeback(self) -> np.ndarray:
        service = ~self.account.chargebacks["kind"].isin(list(self.policy.chargeback_kinds_not_counted))
        return self._first_day("chargebacks", service.to_numpy(bool), "chargeback_date")

    def order_positions(self, table: str) -> np.ndarray:
        """For each row of an event table, the position of its order (found by the loader)."""
        return self.account.table(table)["_order"].to_numpy()

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """An orders text column as (codes, labels), missing as the label "(none)"; computed once."""
        if column not in self.factorized:
            codes, labels = pd.factorize(self.account.orders[column], use_na_sentinel=True)
            labels = np.array([str(x) for x in labels] + ["(none)"], dtype=object)
            self.factorized[column] = (np.where(codes < 0, len(labels) - 1, codes), labels)
        return self.factorized[column]

    @classmethod
    def reuse(cls, prepared: AccountDays | None, account: Account, policy: Policy) -> AccountDays:
        """``prepared`` when it was built for this account and policy, else a new build."""
        if prepared is not None and prepared.account is account and prepared.policy == policy:
            return prepared
        return cls.build(account, policy)

    @classmethod
    def build(cls, account: Account, policy: Policy) -> AccountDays:
        """The account's day numbers; each is computed when a metric first needs it."""
        return cls(account=account, policy=policy)

    # --- shared building blocks -------------------------------------------------------------

    def status(self, value: str) -> np.ndarray:
        return (self.account.orders["order_status"] == value).to_numpy(bool)

    def seller_cancelled(self) -> np.ndarray:
        return self.status("Cancelled") & ~self.account.orders["buyer_requested_cancel"].to_numpy(bool)

    def late_shipment(self) -> np.ndarray:
        """Shipped after the ship-by instant, or never confirmed (judged once ship-by passed)."""
        o = self.account.orders
        confirm, lsd = timezones.utc_values(o["ship_confirm_date"]), timezones.utc_values(o["latest_ship_date"])
        return ((confirm > lsd) | np.isnat(confirm)) & ~np.isnat(lsd)

    def odr_components(self) -> dict[str, np.ndarray]:
        return {
            "negative_feedback": self.negative_feedback,
            "a_to_z_claim": self.counted_claim,
            "chargeback": self.service_chargeback,
        }

    def order_units(self, keep: np.ndarray, anchor: np.ndarray, components: dict[str, np.ndarray],
                    enter: np.ndarray | None = None) -> Units:
        rows = np.flatnonzero(keep & (anchor < NEVER))
        whole = len(rows) == len(anchor)  # every order is a unit: no copies needed
        comps = {k: v if whole else v[rows] for k, v in components.items()}
        known = np.full(len(rows), NEVER, dtype=np.int64)
        for v in comps.values():
            np.minimum(known, v, out=known)
        a = anchor if whole else anchor[rows]
        e = a if enter is None else (enter if whole else enter[rows])
        return Units("orders", rows, a, e, known, comps, rows)


def _when(mask: np.ndarray, day: np.ndarray) -> np.ndarray:
    """``day`` where mask holds, NEVER elsewhere."""
    return np.where(mask, day, NEVER)


def _odr(component: str | None) -> Callable[[AccountDays], Units]:
    def build(d: AccountDays) -> Units:
        comps = d.odr_components()
        if component is not None:
            comps = {component: comps[component]}
        return d.order_units(np.ones(len(d.mfn), bool), d.orders["purchase_date"], comps)
    return build


def _cancel(d: AccountDays) -> Units:
    p = d.orders["purchase_date"]
    return d.order_units(d.mfn, p, {"seller_cancellation": _when(d.seller_cancelled(), p)})


def _late_shipment(d: AccountDays) -> Units:
    lsd = d.orders["latest_ship_date"]
    keep = d.mfn & ~d.status("Cancelled")
    return d.order_units(keep, lsd, {"late_shipment": _when(d.late_shipment(), lsd)})


def _valid_tracking(d: AccountDays) -> Units:
    c = d.orders["ship_confirm_date"]
    invalid = ~d.account.orders["tracking_valid"].to_numpy(bool)
    return d.order_units(d.mfn, c, {"invalid_tracking": _when(invalid, c)})


def _on_time_delivery(d: AccountDays) -> Units:
    o = d.account.orders
    ldd, confirm = d.orders["latest_delivery_date"], d.orders["ship_confirm_date"]
    keep = d.mfn & (confirm < NEVER) & o["tracking_valid"].to_numpy(bool)
    delivered, promised = o["delivered_date"], o["latest_delivery_date"]
    late = ((delivered > promised) | delivered.isna()).to_numpy(bool)
    return d.order_units(keep, ldd, {"late_delivery": _when(late, ldd)}, enter=confirm)


def _invoice(d: AccountDays) -> Units:
    o = d.account.orders
    confirm = d.orders["ship_confirm_date"]
    keep = d.mfn & o["is_business_order"].to_numpy(bool)
    deadline = next_business_day(confirm, d.policy.business_days)
    missed = d.orders["invoice_upload_date"] > deadline  # NEVER (no upload) is later than any deadline
    return d.order_units(keep, confirm, {"missing_invoice": _when(missed, deadline)})


def _perfect_order(d: AccountDays) -> Units:
    p = d.orders["purchase_date"]
    comps = {
        "a_to_z_claim": d.any_claim,
        "seller_cancellation": _when(d.seller_cancelled(), p),
        "late_shipment": _when(d.late_shipment() & d.mfn, d.orders["latest_ship_date"]),
        "negative_feedback": d.negative_feedback,
        "refund": d.orders["refund_date"],
        "chargeback": d.service_chargeback,
    }
    return d.order_units(np.ones(len(p), bool), p, comps)


def _refund(d: AccountDays) -> Units:
    p = d.orders["purchase_date"]
    return d.order_units(np.ones(len(p), bool), p, {"refund": d.orders["refund_date"]})


def _return_dissatisfaction(d: AccountDays) -> Units:
    r = d.account.returns
    tz = d.account.timezone
    request = local_days(r["request_date"], tz)
    response_instant = r["response_date"]
    deadline_instant = r["request_date"] + pd.Timedelta(hours=d.policy.return_response_hours)
    late = (response_instant.isna() | (response_instant > deadline_instant)).to_numpy(bool)
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
    return Units("returns", np.arange(len(r)), request, request, known, comps, d.order_positions("returns"))


_ODR = _odr(None)
BUILDERS: dict[str, Callable[[AccountDays], Units]] = {
    "odr": _ODR,
    "odr_early": _ODR,
    "odr_negative_feedback": _odr("negative_feedback"),
    "odr_claims": _odr("a_to_z_claim"),
    "odr_chargebacks": _odr("chargeback"),
    "cancel_rate": _cancel,
    "late_shipment_rate_10d": _late_shipment,
    "late_shipment_rate_30d": _late_shipment,
    "valid_tracking_rate": _valid_tracking,
    "on_time_delivery_rate": _on_time_delivery,
    "invoice_defect_rate": _invoice,
    "return_dissatisfaction_rate": _return_dissatisfaction,
    "perfect_order_percentage": _perfect_order,
    "refund_rate": _refund,
}

# The inputs each metric needs: when one is missing the value is computed but flagged.
INPUTS: dict[str, tuple[str, ...]] = {
    "odr": ("feedback", "claims", "chargebacks"),
    "odr_early": ("feedback", "claims", "chargebacks"),
    "odr_negative_feedback": ("feedback",),
    "odr_claims": ("claims",),
    "odr_chargebacks": ("chargebacks",),
    "cancel_rate": ("orders.buyer_requested_cancel",),
    "late_shipment_rate_10d": ("orders.latest_ship_date", "orders.ship_confirm_date"),
    "late_shipment_rate_30d": ("orders.latest_ship_date", "orders.ship_confirm_date"),
    "valid_tracking_rate": ("orders.ship_confirm_date",),
    "on_time_delivery_rate": ("orders.latest_delivery_date", "orders.delivered_date", "orders.ship_confirm_date"),
    "invoice_defect_rate": ("orders.is_business_order", "orders.invoice_upload_date", "orders.ship_confirm_date"),
    "return_dissatisfaction_rate": ("returns",),
    "perfect_order_percentage": ("feedback", "claims", "chargebacks", "orders.refund_date", "orders.latest_ship_date"),
    "refund_rate": ("orders.refund_date",),
}


# What each metric reads beyond the required order columns: (orders columns, optional tables).
READS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "odr": ((), ("feedback", "claims", "chargebacks")),
    "cancel_rate": (("buyer_requested_cancel",), ()),
    "late_shipment_rate_10d": (("latest_ship_date", "ship_confirm_date"), ()),
    "valid_tracking_rate": (("ship_confirm_date", "tracking_id", "tracking_valid", "category"), ()),
    "on_time_delivery_rate": (("ship_confirm_date", "tracking_id", "tracking_valid", "latest_delivery_date",
                               "delivered_date"), ()),
    "invoice_defect_rate": (("ship_confirm_date", "is_business_order", "invoice_upload_date"), ()),
    "return_dissatisfaction_rate": ((), ("returns",)),
    "perfect_order_percentage": (("buyer_requested_cancel", "latest_ship_date", "ship_confirm_date", "refund_date"),
                                 ("feedback", "claims", "chargebacks")),
    "refund_rate": (("refund_date",), ()),
}
for _alias, _same in (("odr_early", "odr"), ("odr_negative_feedback", "odr"), ("odr_claims", "odr"),
                      ("odr_chargebacks", "odr"), ("late_shipment_rate_30d", "late_shipment_rate_10d")):
    READS[_alias] = READS[_same]


def reads(metrics: Collection[str]) -> tuple[set[str], set[str]]:
    """The orders columns and optional tables a set of metrics needs (for column pruning)."""
    columns, tables = set(), set()
    for m in metrics:
        cols, tabs = READS.get(m, ((), ()))
        columns |= set(cols)
        tables |= set(tabs)
    return columns, tables


def segment_masks(units: Units, segments: tuple[str, ...], days: AccountDays) -> dict[str, np.ndarray]:
    """Segment label -> mask over the units, in the policy's order (categories sorted)."""
    out: dict[str, np.ndarray] = {}
    known = units.orders >= 0
    for seg in segments:
        if seg == "all":
            out["all"] = np.ones(len(units.anchor), bool)
        elif seg in ("MFN", "AFN"):
            out[seg] = known & (days.mfn[units.orders] == (seg == "MFN"))
        elif seg == "category":
            codes, labels = days.codes("category")
            unit_codes = np.where(known, codes[units.orders], len(labels) - 1)
            present = np.flatnonzero(np.bincount(unit_codes, minlength=len(labels))[:-1])  # "(none)" is last
            for code in sorted(present, key=lambda c: labels[c]):
                out[f"category={labels[code]}"] = unit_codes == code
    return out


def segment_mask(units: Units, metric: str, segment: str | None) -> np.ndarray:
    """The mask of one segment (every unit for ``None``); an unknown segment is a user error."""
    from .errors import PerfkitError

    if segment is None:
        return np.ones(len(units.anchor), bool)
    if segment not in units.segments:
        choices = ", ".join(units.segments) or "none (no units)"
        raise PerfkitError(f"metric {metric} has no segment {segment!r}; choose from {choices}")
    return units.segments[segment]


def build_units(days: AccountDays, metric_id: str) -> Units:
    """A metric's units for an account (memoised on ``days``: units do not depend on the as-of day)."""
    if metric_id not in BUILDERS:
        raise KeyError(metric_id)
    if metric_id not in days.built:
        rule = BUILDERS[metric_id]
        if rule not in days._raw:  # metrics sharing a rule (late shipment 10/30 days) share units
            days._raw[rule] = rule(days)
        units = dataclasses.replace(days._raw[rule])
        units.segments = segment_masks(units, days.policy[metric_id].segments, days)
        days.built[metric_id] = units
    return days.built[metric_id]
