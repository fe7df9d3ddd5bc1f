"""Metamorphic tests, in empyrical's spirit: change the input in a known way, predict the output.

- Shifting every date of an account by k weeks shifts every series by k weeks, nothing else
  (whole weeks, because the invoice deadline counts business days).
- Adding one defect to an order changes exactly the values whose window holds that order and
  whose day has learned of the defect, each by one.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfkit.engine.context import AccountContext
from perfkit.loading.loader import load_account
from perfkit.engine.metrics import account_series, window_bounds
from perfkit.engine.dates import date_to_day

from .conftest import write_account
from .test_engine_property import BASE, event_rows, order_rows, return_rows, write_random_account

VALUE = ["metric", "segment", "numerator", "denominator", "rate", "status", "headroom"]


def _shift(acc, days: int) -> None:
    """Move every date of a loaded account ``days`` days later, in place."""
    delta = pd.Timedelta(days=days)
    for table in ("orders", "feedback", "claims", "chargebacks", "returns"):
        frame = acc.table(table)
        for col in frame.columns:
            if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
                frame[col] = frame[col] + delta


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(orders=order_rows, events=event_rows, returns=return_rows, weeks=st.integers(-60, 60))
def test_shifting_every_date_shifts_every_series(tmp_path_factory, orders, events, returns, weeks):
    # Whole weeks: the invoice deadline counts business days, so a shift must keep each weekday.
    k = 7 * weeks
    # UTC: a shift of k whole days moves every local day by exactly k (no daylight saving in between).
    folder = write_random_account(tmp_path_factory.mktemp("shift"), "UTC", orders, events, returns)
    days = [BASE.date() + dt.timedelta(days=d) for d in range(-2, 120, 4)]
    before = account_series(load_account(folder), days, early=True)
    moved = load_account(folder)
    _shift(moved, k)
    after = account_series(moved, [d + dt.timedelta(days=k) for d in days], early=True)
    assert list(after["as_of"]) == [d + dt.timedelta(days=k) for d in before["as_of"]]
    pd.testing.assert_frame_equal(before[VALUE].reset_index(drop=True), after[VALUE].reset_index(drop=True))


def test_one_more_defect_changes_exactly_the_days_whose_window_holds_it(tmp_path):
    # 5 MFN orders a day from 1 January to 30 April 2026; order X of 10 February gets a 1-star
    # feedback on 3 March. ODR (60 days, lag 14) as of every day from 1 February to 30 June.
    rows = [f"D{d:%m%d}-{i},{d:%Y-%m-%d}T09:00:00,MFN,Shipped"
            for d in pd.date_range("2026-01-01", "2026-04-30") for i in range(5)]
    orders = "order_id,purchase_date,fulfillment_channel,order_status\n" + "\n".join(rows) + "\n"
    plain = load_account(write_account(tmp_path / "a", orders=orders))
    with_defect = load_account(write_account(tmp_path / "b", orders=orders,
                                             feedback="order_id,feedback_date,rating\nD0210-3,2026-03-03,1\n"))
    days = [d.date() for d in pd.date_range("2026-02-01", "2026-06-30")]
    a = account_series(plain, days, metrics=["odr"]).set_index(["as_of", "segment"])
    b = account_series(with_defect, days, metrics=["odr"]).set_index(["as_of", "segment"])
    mp = AccountContext.of(plain).metric("odr")
    purchase, known = date_to_day("2026-02-10"), date_to_day("2026-03-03")
    for day in days:
        lo, hi = window_bounds(mp, date_to_day(day))
        holds = lo <= purchase <= hi and known <= date_to_day(day)
        for seg in ("MFN", "all"):
            assert b.loc[(day, seg), "defects"] - a.loc[(day, seg), "defects"] == int(holds), (day, seg)
            assert b.loc[(day, seg), "denominator"] == a.loc[(day, seg), "denominator"]
        assert b.loc[(day, "AFN"), "defects"] == a.loc[(day, "AFN"), "defects"] == 0
    # By hand: the window holds 10 February from as-of 24 February (60-day window ending 14 days
    # earlier) to 24 April; the defect is known from 3 March: 3 March .. 24 April, 53 days.
    changed = [d for d in days if b.loc[(d, "MFN"), "defects"] != a.loc[(d, "MFN"), "defects"]]
    assert (changed[0], changed[-1], len(changed)) == (dt.date(2026, 3, 3), dt.date(2026, 4, 24), 53)
