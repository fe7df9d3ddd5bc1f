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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from perfkit.core import timezones
from perfkit.engine.dates import NEVER, local_days
from perfkit.core.errors import PerfkitError

if TYPE_CHECKING:
    from perfkit.core.account import Account
    from perfkit.core.policy import Policy

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
    # component -> day it stopped (a feedback removed, a claim denied; NEVER: still on). Absent: never stops.
    ends: dict[str, np.ndarray] = field(default_factory=dict)
    # Later changes of a unit's defect beyond its first known day: (unit, day, +1 defective again /
    # -1 no longer defective), from the union of its components' intervals. Empty for most metrics.
    changes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    # The population's units that lack the anchor column (a ship-by date, a promised delivery date):
    # they cannot be placed in a window, so each is placed by its purchase day only to count how
    # many units a window's value misses (its unit coverage). None: every unit has its anchor.
    uncovered: Units | None = None
    # Defect column -> how many of the population's units lack it (their file does not carry it).
    short: dict[str, int] = field(default_factory=dict)

    def component_on(self, component: str, day: int, keep: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Which units (of ``keep``) have ``component`` on ``day``: started by then, not yet stopped."""
        on = self.components[component][keep] <= day
        if component in self.ends:  # a removed feedback or a decided claim stops counting on its day
            on &= self.ends[component][keep] > day
        return on

    def active(self, day: int) -> np.ndarray:
        """Which units are defective on ``day`` (any component on)."""
        on = np.zeros(len(self.anchor), bool)
        for c in self.components:
            on |= self.component_on(c, day)
        return on


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

    def _last_end(self, table: str, mask: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Per order, the last day its events where ``mask`` holds stop counting (NEVER if one never does):
        the hull of the events' intervals (two feedbacks of one order, one removed, count as one span)."""
        out = np.full(len(self.account.orders), -1, dtype=np.int64)
        if mask.any():
            np.maximum.at(out, self.account.table(table)["_order"].to_numpy()[mask], ends[mask])
        return np.where(out < 0, NEVER, out)

    @functools.cached_property
    def _feedback_spans(self) -> tuple[np.ndarray, np.ndarray]:
        fb = self.account.feedback
        removed = fb["removed"].to_numpy(bool)
        gone = local_days(fb["removed_date"], self.account.timezone)  # NEVER where no removal date
        # A removal without its date counts as removed on every day (the file cannot say when).
        neg = (fb["rating"].isin(list(self.policy.negative_ratings))).to_numpy(bool) & ~(removed & (gone >= NEVER))
        ends = np.where(removed, gone, NEVER)
        return self._first_day("feedback", neg, "feedback_date"), self._last_end("feedback", neg, ends)

    @property
    def negative_feedback(self) -> np.ndarray:
        return self._feedback_spans[0]

    @property
    def negative_feedback_end(self) -> np.ndarray:
        return self._feedback_spans[1]

    @functools.cached_property
    def _claim_spans(self) -> tuple[np.ndarray, np.ndarray]:
        cl = self.account.claims
        decided = local_days(cl["status_date"], self.account.timezone)
        not_counted = cl["status"].isin(list(self.policy.claim_statuses_not_counted)).to_numpy(bool)
        # A claim the file marks as Amazon-funded or protected (Buy Shipping) never counts against the seller.
        protected = cl["protected"].to_numpy(bool)
        # A denied or withdrawn claim counted as any other until the day it was decided, when that is known.
        counted = (~not_counted | (decided < NEVER)) & ~protected
        ends = np.where(not_counted, decided, NEVER)
        return self._first_day("claims", counted, "claim_date"), self._last_end("claims", counted, ends)

    @property
    def counted_claim(self) -> np.ndarray:
        return self._claim_spans[0]

    @property
    def counted_claim_end(self) -> np.ndarray:
        return self._claim_spans[1]

    @functools.cached_property
    def any_claim(self) -> np.ndarray:
        return self._first_day("claims", np.ones(len(self.account.claims), bool), "claim_date")

    @functools.cached_property
    def first_return(self) -> np.ndarray:
        """Per order, the local day of its first return request (any reason)."""
        return self._first_day("returns", np.ones(len(self.account.returns), bool), "request_date")

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
    def build(cls, account: Account, policy: Policy) -> AccountDays:
        """The account's day numbers; each is computed when a metric first needs it."""
        return cls(account=account, policy=policy)

    # --- shared building blocks -------------------------------------------------------------

    def status(self, value: str) -> np.ndarray:
        return (self.account.orders["order_status"] == value).to_numpy(bool)

    def seller_cancelled(self) -> np.ndarray:
        """Cancelled (wholly, or an item of it) and not at the buyer's request."""
        o = self.account.orders
        cancelled = self.status("Cancelled") | o["item_cancelled"].to_numpy(bool)
        return cancelled & ~o["buyer_requested_cancel"].to_numpy(bool)

    @functools.cached_property
    def tracking_valid(self) -> np.ndarray:
        """Per order, whether its shipment has valid tracking: the file's ``tracking_valid`` where it
        says; elsewhere a tracking id that is not a placeholder (``N/A``, ``-``, ``0``, ...) and, when
        the account has a carrier column, a carrier that is present and not one Amazon cannot
        track (``Other``). Both lists are policy (``[counting.tracking]``)."""
        o = self.account.orders
        ids = o["tracking_id"].astype("string").str.strip().str.lower()
        valid = (ids.notna() & ~ids.isin(list(self.policy.tracking_placeholders))).to_numpy(bool, na_value=False)
        if self.account.has("orders.carrier"):
            carrier = o["carrier"].astype("string").str.strip().str.lower()
            valid = valid & (carrier.notna() & (carrier != "")
                             & ~carrier.isin(list(self.policy.untracked_carriers))).to_numpy(bool, na_value=False)
        given = o["tracking_valid"].astype("boolean")
        rule = given.isna().to_numpy()
        if self.account.has("orders.carrier") and self.policy.tracking_formats:
            valid = valid & ~_wrong_format(o["carrier"], o["tracking_id"], rule & valid, self.policy.tracking_formats)
        return np.where(rule, valid, given.to_numpy(bool, na_value=False))

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
                    enter: np.ndarray | None = None, ends: dict[str, np.ndarray] | None = None) -> Units:
        rows = np.flatnonzero(keep & (anchor < NEVER))
        whole = len(rows) == len(anchor)  # every order is a unit: no copies needed
        comps = {k: v if whole else v[rows] for k, v in components.items()}
        stops = {k: v if whole else v[rows] for k, v in (ends or {}).items() if (v < NEVER).any()}
        known = np.full(len(rows), NEVER, dtype=np.int64)
        for v in comps.values():
            np.minimum(known, v, out=known)
        a = anchor if whole else anchor[rows]
        e = a if enter is None else (enter if whole else enter[rows])
        units = Units("orders", rows, a, e, known, comps, rows, ends=stops)
        if stops:
            units.changes = interval_changes(comps, stops)
        lost = np.flatnonzero(keep & (anchor >= NEVER))
        if len(lost):
            bought = self.orders["purchase_date"][lost]
            none = np.full(len(lost), NEVER, dtype=np.int64)
            units.uncovered = Units("orders", lost, bought, bought, none, {}, lost)
        return units


def _wrong_format(carrier: pd.Series, ids: pd.Series, todo: np.ndarray,
                  formats: dict[str, tuple[str, ...]]) -> np.ndarray:
    """Which of the ``todo`` rows name a carrier with published formats but an id that is none of
    them (wrong length, letters or check digit), checked with the tracking-numbers library."""
    out = np.zeros(len(ids), bool)
    names = carrier.astype("string").str.strip().str.lower()
    rows = np.flatnonzero(todo & names.isin(list(formats)).to_numpy(bool, na_value=False))
    if not len(rows):
        return out  # nothing to check: the library's import (its patterns compiled) is not paid
    from tracking_numbers import get_tracking_number

    for i in rows:
        found = get_tracking_number(str(ids.iat[i]).strip().replace(" ", "").upper())
        out[i] = found is None or not found.valid or found.courier.name not in formats[names.iat[i]]
    return out


def interval_changes(starts: dict[str, np.ndarray], ends: dict[str, np.ndarray]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The days a unit's defect stops or starts again after its first known day.

    Each component is on over [start, end); a unit is defective while any is. Sweeping the
    components in order of start, a unit's blocks of overlapping spans give: the first start (its
    known day, counted by the engine as usual), then -1 at each block's end and +1 at each later
    block's start.
    """
    names = list(starts)
    # Only units with a defect can have a change (most have none): the sweep runs on those rows
    # alone and their positions are mapped back, in the same order as over every row.
    some = np.zeros(len(starts[names[0]]), bool)
    for c in names:
        some |= starts[c] < NEVER
    rows = np.flatnonzero(some)
    s = np.stack([starts[c][rows] for c in names], axis=1)
    e = np.stack([ends[c][rows] if c in ends else np.full(len(rows), NEVER, dtype=np.int64) for c in names], axis=1)
    e = np.where(s >= NEVER, NEVER, e)
    order = np.argsort(s, axis=1, kind="stable")
    s, e = np.take_along_axis(s, order, 1), np.take_along_axis(e, order, 1)
    units, days, signs = [], [], []
    reach = e[:, 0].copy()  # the end of the current block
    for k in range(1, s.shape[1]):
        start, end = s[:, k], e[:, k]
        gap = (start < NEVER) & (start > reach)  # a new block: the previous one ended first
        for mask, day, sign in ((gap, reach, -1), (gap, start, +1)):
            idx = np.flatnonzero(mask)
            units.append(idx), days.append(day[idx]), signs.append(np.full(len(idx), sign))
        reach = np.where(gap, end, np.where(start < NEVER, np.maximum(reach, end), reach))
    last = np.flatnonzero((reach < NEVER) & (s[:, 0] < NEVER))
    units.append(last), days.append(reach[last]), signs.append(np.full(len(last), -1))
    return (rows[np.concatenate(units).astype(np.int64)], np.concatenate(days).astype(np.int64),
            np.concatenate(signs).astype(np.int64))


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
    if segment is None:
        return np.ones(len(units.anchor), bool)
    if segment not in units.segments:
        choices = ", ".join(units.segments) or "none (no units)"
        raise PerfkitError(f"metric {metric} has no segment {segment!r}; choose from {choices}")
    return units.segments[segment]


def judged_rows(orders: pd.DataFrame, column: str, alternatives: Iterable[str] = ()) -> np.ndarray | None:
    """Per order row, whether a file it comes from carries ``column`` ("orders.x", marked
    ``_carried_x`` by loading) or one of ``alternatives``, or None when the column is not uneven
    (one orders file, or every file has it: nothing to split)."""
    mark = orders.get(f"_carried_{column.partition('.')[2]}")
    if mark is None:
        return None
    # An alternative counts where its file has it (loading fills absent columns, so presence says nothing).
    marks = [mark] + [m for m in (orders.get(f"_carried_{a.partition('.')[2]}") for a in alternatives) if m is not None]
    return np.logical_or.reduce([m.notna().to_numpy() for m in marks])


def without_uncovered(units: Units, judged: np.ndarray, column: str) -> Units:
    """``units`` without the ones whose order row cannot be judged (``judged``, per order row, is
    False: the row's file lacks a defect column the test reads). They join ``uncovered``, placed by
    their own anchor, so the value says it is computed on part of its units, never counting them
    as defects; ``short[column]`` says how many the column misses over the whole account."""
    ok = judged[units.orders] if units.table == "orders" else np.ones(len(units.anchor), bool)
    out = dataclasses.replace(units, short=dict(units.short))
    out.short[column] = int((~ok).sum())
    if ok.all() or units.changes is not None:  # a metric whose defects stop and restart is not split
        return out
    keep = np.flatnonzero(ok)
    out.rows, out.anchor, out.enter, out.known, out.orders = (units.rows[keep], units.anchor[keep],
                                                              units.enter[keep], units.known[keep],
                                                              units.orders[keep])
    out.components = {k: v[keep] for k, v in units.components.items()}
    out.ends = {k: v[keep] for k, v in units.ends.items()}
    lost = np.flatnonzero(~ok)
    none = np.full(len(lost), NEVER, dtype=np.int64)
    extra = Units(units.table, units.rows[lost], units.anchor[lost], units.anchor[lost], none, {},
                  units.orders[lost])
    if units.uncovered is not None:
        old = units.uncovered
        extra = Units(units.table, np.concatenate([old.rows, extra.rows]), np.concatenate([old.anchor, extra.anchor]),
                      np.concatenate([old.enter, extra.enter]), np.concatenate([old.known, extra.known]), {},
                      np.concatenate([old.orders, extra.orders]))
    out.uncovered = extra
    return out
