"""The account's calendar: day numbers, business days and which as-of days a question is about.

Every date becomes a day number on the account's own calendar (days since 1970-01-01,
local); missing dates become :data:`NEVER`, a day later than any date.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from perfkit.core import timezones
from perfkit.core.errors import PerfkitError

if TYPE_CHECKING:
    from perfkit.core.account import Account

NEVER = np.int64(1) << 40  # a day number later than any date


def local_days(ts: pd.Series, tz: str) -> np.ndarray:
    """UTC instants to local day numbers; missing instants become NEVER."""
    if len(ts) == 0:
        return np.empty(0, dtype=np.int64)
    return timezones.local_days(timezones.utc_values(ts), tz, missing=NEVER)


def day_to_date(day: int | np.integer) -> pd.Timestamp:
    """A day number to its (naive) date."""
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


def last_data_day(account: Account) -> pd.Timestamp | None:
    """The account's latest local day with an event in it (deadlines, which lie ahead, excluded)."""
    tz = account.timezone
    stamps = [account.orders[c] for c in ("purchase_date", "ship_confirm_date", "delivered_date",
                                          "invoice_upload_date", "refund_date")]
    stamps += [account.feedback["feedback_date"], account.claims["claim_date"],
               account.chargebacks["chargeback_date"], account.returns["request_date"],
               account.returns["response_date"]]
    latest = [s.max() for s in stamps if len(s) and s.notna().any()]
    if not latest:
        return None
    return max(latest).tz_convert(tz).tz_localize(None).normalize()


def last_order_day(account: Account) -> pd.Timestamp | None:
    """The account's own data day: its latest local purchase day (None without dated orders).

    Every default as-of day is this one, not the last day of any event: a chargeback two months
    after the last order does not move it (the days after it are "after the data")."""
    p = account.orders["purchase_date"]
    if not len(p) or not p.notna().any():
        return None
    return p.max().tz_convert(account.timezone).tz_localize(None).normalize()


def first_data_day(account: Account) -> pd.Timestamp | None:
    """The account's first local purchase day (None without dated orders)."""
    p = account.orders["purchase_date"]
    if not p.notna().any():
        return None
    return p.min().tz_convert(account.timezone).tz_localize(None).normalize()


def as_of_days(account: Account, as_of: Iterable[object] | None = None, start: object = None,
               end: object = None) -> np.ndarray:
    """The as-of days asked for, as day numbers.

    Parameters
    ----------
    account : Account
        Gives the default (its last day with orders, :func:`last_order_day`) and the first day of
        an open range.
    as_of : iterable of dates, optional
        Exactly these days.
    start, end : date, optional
        Every day of a range; a missing end is the last day of data, a missing start the first.
    """
    if as_of is not None:
        days = [date_to_day(d) for d in as_of]
    elif start is not None or end is not None:
        last = last_order_day(account) if start is None or end is None else None
        lo = date_to_day(start) if start is not None else date_to_day(first_data_day(account) or last)
        hi = date_to_day(end) if end is not None else date_to_day(last)
        if hi < lo:
            raise PerfkitError(f"--from {day_to_date(lo).date()} is after --to {day_to_date(hi).date()}")
        days = list(range(lo, hi + 1))
    else:
        last = last_order_day(account)
        if last is None:
            raise PerfkitError(f"{account.account_id}: no dated orders, so there is no last day of data; pass --as-of")
        days = [date_to_day(last)]
    return np.asarray(days, dtype=np.int64)
