"""Coverage: how much of each window the data covers, counted by hand."""
from __future__ import annotations

import numpy as np
import pytest

from perfkit import AccountContext, account_series, load_account
from perfkit.engine.dates import date_to_day
from perfkit.engine.metrics import coverage
from perfkit.engine.registry import load_policy

from .conftest import write_account


def orders(first: str, last: str) -> str:
    import pandas as pd

    rows = [f"O{d:%m%d},{d:%Y-%m-%d}T12:00:00,MFN,Shipped" for d in pd.date_range(first, last)]
    return "order_id,purchase_date,fulfillment_channel,order_status\n" + "\n".join(rows) + "\n"


def test_coverage_of_whole_and_half_windows(tmp_path):
    import datetime as dt

    # Orders every day from 1 March to 30 June 2026.
    acc = load_account(write_account(tmp_path, orders=orders("2026-03-01", "2026-06-30")))
    s = account_series(acc, ["2026-03-07", "2026-03-04", "2026-06-30", "2026-07-03", "2026-05-13", "2026-04-14"],
                       metrics=["cancel_rate", "odr"]).set_index(["metric", "segment", "as_of"])["coverage"]
    day = dt.date.fromisoformat
    # Cancel rate, 7 days, no lag. 7 March: 1..7 March, the first window wholly covered.
    assert s[("cancel_rate", "MFN", day("2026-03-07"))] == 1
    # 4 March: 26 February .. 4 March, of which 1..4 March are covered: 4 of 7.
    assert s[("cancel_rate", "MFN", day("2026-03-04"))] == pytest.approx(4 / 7)
    # 30 June: 24..30 June, whole; 3 July: 27 June .. 3 July, 4 of 7 (the data ends 30 June).
    assert s[("cancel_rate", "MFN", day("2026-06-30"))] == 1
    assert s[("cancel_rate", "MFN", day("2026-07-03"))] == pytest.approx(4 / 7)
    # ODR, 60 days, lag 14. 13 May: 13 May - 14 = 29 April, 29 April - 59 = 1 March: the window is
    # 1 March .. 29 April, the first wholly covered.
    assert s[("odr", "all", day("2026-05-13"))] == 1
    # 14 April: 31 January .. 31 March: 1..31 March covered, 31 of 60 (about half).
    assert s[("odr", "all", day("2026-04-14"))] == pytest.approx(31 / 60)
    assert s[("odr", "MFN", day("2026-04-14"))] == s[("odr", "all", day("2026-04-14"))]


def test_coverage_function_on_the_edges():
    mp = load_policy()["cancel_rate"]
    span = (date_to_day("2026-03-01"), date_to_day("2026-03-10"))
    days = np.array([date_to_day(d) for d in ("2026-02-20", "2026-03-01", "2026-03-10", "2026-03-20")])
    assert coverage(mp, days, span).tolist() == [0.0, pytest.approx(1 / 7), 1.0, 0.0]
    assert coverage(mp, days, None).tolist() == [0, 0, 0, 0]


def test_purchase_span_is_local(tmp_path):
    # 23:30 UTC on 28 February is 1 March in Shanghai.
    folder = write_account(tmp_path, tz="Asia/Shanghai", orders="order_id,purchase_date,fulfillment_channel,"
                           "order_status\nA,2026-02-28T23:30:00Z,MFN,Shipped\nB,2026-03-05T10:00:00,MFN,Shipped\n")
    assert AccountContext.of(folder).purchase_span == (date_to_day("2026-03-01"), date_to_day("2026-03-05"))
