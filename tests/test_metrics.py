"""Exact values on small hand-built accounts, one rule of the metric spec per test.

Every expected number is counted by hand in the comment above it.
"""
from __future__ import annotations

import pandas as pd
import pytest

from perfkit.engine import registry
from perfkit.loading.loader import load_account
from perfkit.engine.metrics import account_series, judge
from perfkit.core.policy import default_policy_text
from perfkit.engine.registry import load_policy

from .conftest import write_account

H = "order_id,purchase_date,fulfillment_channel,order_status"


def value(folder, as_of: str, metric: str, segment: str = "all", **kwargs) -> dict:
    series = account_series(load_account(folder), [as_of], metrics=[metric], **kwargs)
    rows = series[series["segment"] == segment]
    assert len(rows) == 1, series
    return rows.iloc[0].to_dict()


def counts(row: dict) -> tuple:
    head = None if pd.isna(row["headroom"]) else int(row["headroom"])
    return row["numerator"], row["denominator"], row["status"], head


def many_orders(n: int, day: str = "2026-03-01", channel: str = "MFN", prefix: str = "O") -> list[str]:
    return [f"{prefix}{i},{day}T12:00:00,{channel},Shipped" for i in range(n)]


# --- ODR -------------------------------------------------------------------------------------


def odr_account(root, orders: int, negative: int):
    """``orders`` MFN orders on 1 March; the first ``negative`` get 1-star feedback on 5 March."""
    fb = "".join(f"O{i},2026-03-05,1\n" for i in range(negative))
    return write_account(root, orders=H + "\n" + "\n".join(many_orders(orders)),
                         feedback="order_id,feedback_date,rating\n" + fb)


def test_three_defects_in_300_orders_is_a_breach_with_headroom_minus_one(tmp_path):
    # 300 orders on 1 March; 3 of them get a negative feedback. 3/300 = 1% is not below 1%.
    # Allowed: the most n with n/300 < 1% is 2, so headroom = 2 - 3 = -1.
    folder = odr_account(tmp_path, 300, 3)
    # ODR at D covers purchases D-73 .. D-14: as of 20 March the window is 6 Jan .. 6 March.
    r = value(folder, "2026-03-20", "odr")
    assert counts(r) == (3, 300, "breach", -1)
    assert r["rate"] == pytest.approx(0.01)
    assert r["target"] == "< 0.01"


def test_two_defects_in_300_orders_is_at_risk(tmp_path):
    # 2/300 = 0.67% < 1%: ok by the target, but headroom 2 - 2 = 0, so one more defect breaches.
    folder = odr_account(tmp_path, 300, 2)
    assert counts(value(folder, "2026-03-20", "odr")) == (2, 300, "at_risk", 0)


def test_warning_level_marks_at_risk(tmp_path):
    # 8 defects in 1000 orders: 0.8% < 1% (ok) but >= 0.75% warn; headroom: max n with n/1000 < 1% is 9 -> 1.
    folder = odr_account(tmp_path, 1000, 8)
    assert counts(value(folder, "2026-03-20", "odr")) == (8, 1000, "at_risk", 1)
    # 7 defects: 0.7% < 0.75%, headroom 2 -> ok.
    folder = odr_account(tmp_path / "b", 1000, 7)
    assert counts(value(folder, "2026-03-20", "odr")) == (7, 1000, "ok", 2)


def test_order_with_claim_and_negative_feedback_counts_once(tmp_path):
    # O0 has both a 1-star feedback and a granted claim; O1 a chargeback. Defective orders: O0, O1 = 2.
    folder = write_account(
        tmp_path, orders=H + "\n" + "\n".join(many_orders(10)),
        feedback="order_id,feedback_date,rating\nO0,2026-03-05,1\n",
        claims="order_id,claim_date,status\nO0,2026-03-06,granted\n",
        chargebacks="order_id,chargeback_date,kind\nO1,2026-03-07,service\n")
    assert counts(value(folder, "2026-03-20", "odr"))[:2] == (2, 10)
    assert counts(value(folder, "2026-03-20", "odr_negative_feedback"))[:3] == (1, 10, "info")
    assert counts(value(folder, "2026-03-20", "odr_claims"))[:2] == (1, 10)
    assert counts(value(folder, "2026-03-20", "odr_chargebacks"))[:2] == (1, 10)


def test_removed_feedback_denied_claim_and_fraud_chargeback_do_not_count(tmp_path):
    # O0: 1-star removed; O1: 3-star (not negative); O2: denied claim; O3: withdrawn claim;
    # O4: fraud chargeback; O5: pending claim (counts). Defects: O5 only.
    folder = write_account(
        tmp_path, orders=H + "\n" + "\n".join(many_orders(10)),
        feedback="order_id,feedback_date,rating,removed\nO0,2026-03-05,1,true\nO1,2026-03-05,3,\n",
        claims="order_id,claim_date,status\nO2,2026-03-06,denied\nO3,2026-03-06,Withdrawn\nO5,2026-03-06,pending\n",
        chargebacks="order_id,chargeback_date,kind\nO4,2026-03-07,fraud\n")
    assert counts(value(folder, "2026-03-20", "odr"))[:2] == (1, 10)


def test_claim_policy_can_count_every_status(tmp_path):
    # The 2015 wording counted every claim: with an empty "not counted" list O2, O3 and O5 count.
    folder = write_account(
        tmp_path, orders=H + "\n" + "\n".join(many_orders(10)),
        claims="order_id,claim_date,status\nO2,2026-03-06,denied\nO3,2026-03-06,withdrawn\nO5,2026-03-06,pending\n")
    policy_file = tmp_path / "p.toml"
    policy_file.write_text(default_policy_text().replace('claim_statuses_not_counted = ["denied", "withdrawn"]',
                                        "claim_statuses_not_counted = []"), encoding="utf-8")
    assert counts(value(folder, "2026-03-20", "odr"))[:2] == (1, 10)
    assert counts(value(folder, "2026-03-20", "odr", policy=policy_file))[:2] == (3, 10)


def test_odr_window_is_60_days_ending_14_days_before(tmp_path):
    # As of 31 May: D-14 = 17 May; D-73 = 19 March (31 May - 31 days = 30 April, - 30 = 31 March,
    # - 12 = 19 March). Window 19 March .. 17 May (13 + 30 + 17 = 60 days).
    # Orders: 18 Mar (out), 19 Mar (in), 17 May (in), 18 May (out).
    folder = write_account(tmp_path, orders=H + """
A,2026-03-18T12:00:00,MFN,Shipped
B,2026-03-19T12:00:00,MFN,Shipped
C,2026-05-17T12:00:00,MFN,Shipped
D,2026-05-18T12:00:00,MFN,Shipped
""")
    assert value(folder, "2026-05-31", "odr")["denominator"] == 2
    # The early view (lag 0) as of 31 May covers 2 April .. 31 May: C and D.
    assert value(folder, "2026-05-31", "odr_early")["denominator"] == 2


def test_odr_early_view_window_edges(tmp_path):
    # One order on 18 March. Early window as of 16 May = 18 March .. 16 May (D-59 .. D): in.
    # As of 17 May it starts 19 March: out.
    folder = write_account(tmp_path, orders=H + "\nA,2026-03-18T12:00:00,MFN,Shipped\n")
    assert value(folder, "2026-05-16", "odr_early")["denominator"] == 1
    assert value(folder, "2026-05-17", "odr_early")["denominator"] == 0


def test_odr_is_per_channel_and_combined(tmp_path):
    # 2 MFN orders (one defective), 3 AFN orders (one defective): MFN 1/2, AFN 1/3, all 2/5.
    folder = write_account(tmp_path, orders=H + "\n" + "\n".join(
        many_orders(2, channel="MFN", prefix="M") + many_orders(3, channel="AFN", prefix="F")),
        feedback="order_id,feedback_date,rating\nM0,2026-03-05,1\nF0,2026-03-05,2\n")
    s = account_series(load_account(folder), ["2026-03-20"], metrics=["odr"]).set_index("segment")
    assert s.loc["MFN", ["numerator", "denominator"]].tolist() == [1, 2]
    assert s.loc["AFN", ["numerator", "denominator"]].tolist() == [1, 3]
    assert s.loc["all", ["numerator", "denominator"]].tolist() == [2, 5]


def test_event_after_as_of_is_not_counted_yet(tmp_path):
    # The feedback is dated 25 March: unknown as of 24 March, counted from 25 March.
    folder = write_account(tmp_path, orders=H + "\n" + "\n".join(many_orders(4)),
                           feedback="order_id,feedback_date,rating\nO0,2026-03-25,1\n")
    assert value(folder, "2026-03-24", "odr")["numerator"] == 0
    assert value(folder, "2026-03-25", "odr")["numerator"] == 1


def test_empty_window_is_no_data_never_zero(tmp_path):
    folder = write_account(tmp_path, orders=H + "\n" + "\n".join(many_orders(4)))
    r = value(folder, "2026-02-01", "odr")
    assert r["status"] == "no_data" and r["denominator"] == 0 and pd.isna(r["rate"]) and pd.isna(r["headroom"])


@pytest.mark.parametrize("tz,local,expected_day", [
    ("Asia/Shanghai", "2026-03-01T23:30:00", "2026-03-01"),         # east of UTC: 15:30 UTC, still 1 March locally
    ("America/Los_Angeles", "2026-03-01T23:30:00", "2026-03-01"),   # west of UTC: 07:30 UTC on 2 March
    ("Asia/Shanghai", "2026-03-01T23:30:00-08:00", "2026-03-02"),   # an instant: 15:30 on 2 March in Shanghai
])
def test_orders_at_2330_land_on_the_local_day(tmp_path, tz, local, expected_day):
    # One MFN order, seller-cancelled. Cancel rate's 7-day window as of D holds D-6 .. D, so the
    # order first counts on its local day and not the day before.
    folder = write_account(tmp_path, tz=tz, orders=f"{H}\nA,{local},MFN,Cancelled\n")
    day = pd.Timestamp(expected_day)
    before = (day - pd.Timedelta(days=1)).date().isoformat()
    assert value(folder, before, "cancel_rate", "MFN")["denominator"] == 0
    assert counts(value(folder, expected_day, "cancel_rate", "MFN"))[:2] == (1, 1)
    last = (day + pd.Timedelta(days=6)).date().isoformat()
    gone = (day + pd.Timedelta(days=7)).date().isoformat()
    assert value(folder, last, "cancel_rate", "MFN")["denominator"] == 1
    assert value(folder, gone, "cancel_rate", "MFN")["denominator"] == 0


# --- cancel rate -----------------------------------------------------------------------------


def test_cancel_rate_counts_seller_cancellations_of_mfn_orders_only(tmp_path):
    # MFN: M0 seller-cancelled (defect), M1 buyer-requested (not a defect), M2..M4 shipped -> 1/5.
    # F0 is an FBA cancellation: not in the population at all.
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,buyer_requested_cancel
        M0,2026-03-01,MFN,Cancelled,false
        M1,2026-03-01,MFN,Cancelled,true
        M2,2026-03-01,MFN,Shipped,
        M3,2026-03-02,MFN,Shipped,
        M4,2026-03-03,MFN,Shipped,
        F0,2026-03-02,AFN,Cancelled,false
        """)
    r = value(folder, "2026-03-05", "cancel_rate", "MFN")
    assert counts(r) == (1, 5, "breach", 0 - 1)  # allowed: max n with n/5 < 2.5% is 0


# --- late shipment ---------------------------------------------------------------------------

LSR_H = "order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date"


def test_shipment_confirmed_exactly_at_deadline_is_on_time(tmp_path):
    # A: confirmed at the deadline instant (on time). B: one second later (late).
    # C: never confirmed, deadline passed (late). D: cancelled (out of population).
    # E: FBA (out). Population A, B, C; late B, C -> 2/3.
    folder = write_account(tmp_path, orders=f"""\
        {LSR_H}
        A,2026-03-01,MFN,Shipped,2026-03-03,2026-03-03T23:59:59
        B,2026-03-01,MFN,Shipped,2026-03-03,2026-03-04T00:00:00
        C,2026-03-01,MFN,Unshipped,2026-03-03,
        D,2026-03-01,MFN,Cancelled,2026-03-03,
        E,2026-03-01,AFN,Shipped,2026-03-03,
        """)
    assert counts(value(folder, "2026-03-05", "late_shipment_rate_10d", "MFN"))[:2] == (2, 3)
    # The anchor is the ship-by day: as of 2 March nothing is due yet.
    assert value(folder, "2026-03-02", "late_shipment_rate_10d", "MFN")["denominator"] == 0
    # 30-day window as of 1 April holds 3 March (D-29 = 3 March); the 10-day one does not.
    assert value(folder, "2026-04-01", "late_shipment_rate_30d", "MFN")["denominator"] == 3
    assert value(folder, "2026-04-01", "late_shipment_rate_10d", "MFN")["denominator"] == 0


def test_unconfirmed_order_is_late_from_its_deadline_day(tmp_path):
    # Deadline 3 March, confirmed 6 March: late as of 3, 4 and 5 March already (unconfirmed, deadline passed).
    folder = write_account(tmp_path, orders=f"{LSR_H}\nA,2026-03-01,MFN,Shipped,2026-03-03,2026-03-06T10:00:00\n")
    assert counts(value(folder, "2026-03-03", "late_shipment_rate_10d", "MFN"))[:2] == (1, 1)


# --- valid tracking --------------------------------------------------------------------------


def test_valid_tracking_per_category_and_overall(tmp_path):
    # Confirmed MFN shipments: Toys T1 valid, T2 valid, T3 invalid; Garden G1 no tracking id.
    # Overall good 2/4 (defects 2); Toys 2/3; Garden 0/1. U1 unconfirmed: not a shipment.
    # Placed by the promised delivery date (6 March) with a 14-day lag: on 20 March the 30-day
    # window covers 5 February to 6 March.
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,ship_confirm_date,tracking_id,tracking_valid,category,latest_delivery_date
        T1,2026-03-01,MFN,Shipped,2026-03-02T10:00:00,1Z1,,Toys,2026-03-06
        T2,2026-03-01,MFN,Shipped,2026-03-02T10:00:00,1Z2,true,Toys,2026-03-06
        T3,2026-03-01,MFN,Shipped,2026-03-02T10:00:00,1Z3,false,Toys,2026-03-06
        G1,2026-03-01,MFN,Shipped,2026-03-02T10:00:00,,,Garden,2026-03-06
        U1,2026-03-01,MFN,Unshipped,,,,Garden,2026-03-06
        """)
    s = account_series(load_account(folder), ["2026-03-20"], metrics=["valid_tracking_rate"]).set_index("segment")
    assert list(s.index) == ["MFN", "category=Garden", "category=Toys"]
    assert s.loc["MFN", ["numerator", "denominator", "defects"]].tolist() == [2, 4, 2]
    assert s.loc["category=Toys", ["numerator", "denominator"]].tolist() == [2, 3]
    assert s.loc["category=Garden", ["numerator", "denominator", "status"]].tolist() == [0, 1, "breach"]
    # > 95%: good must exceed 0.95 * 4 = 3.8, so 4 good are needed; bad allowed 0; headroom 0 - 2 = -2.
    assert s.loc["MFN", "headroom"] == -2
    assert s.loc["MFN", "target"] == "> 0.95"


def test_above_target_headroom_and_at_risk(tmp_path):
    mp = load_policy()["valid_tracking_rate"]
    # 100 shipments, 4 bad: 96% > 95% ok, but 96% <= 96% warn -> at_risk; bad allowed: good > 95 -> 96 good -> 4 bad; headroom 0.
    j = judge(mp, pd.Series([4, 3, 5]).to_numpy(), pd.Series([100, 100, 100]).to_numpy())
    assert list(j["status"]) == ["at_risk", "ok", "breach"]
    assert list(j["headroom"]) == [0, 1, -1]
    assert list(j["numerator"]) == [96, 97, 95]


# --- on-time delivery ------------------------------------------------------------------------


def test_on_time_delivery(tmp_path):
    # Promised by 10 March (end of day). A delivered 10 March 20:00 (on time); B 11 March (late);
    # C not delivered (late once the date passed); D invalid tracking (out); E not shipped (out).
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,ship_confirm_date,tracking_id,latest_delivery_date,delivered_date
        A,2026-03-01,MFN,Shipped,2026-03-02T10:00:00,1Z1,2026-03-10,2026-03-10T20:00:00
        B,2026-03-01,MFN,Shipped,2026-03-02T10:00:00,1Z2,2026-03-10,2026-03-11T08:00:00
        C,2026-03-01,MFN,Shipped,2026-03-02T10:00:00,1Z3,2026-03-10,
        D,2026-03-01,MFN,Shipped,2026-03-02T10:00:00,,2026-03-10,2026-03-05T08:00:00
        E,2026-03-01,MFN,Unshipped,,,2026-03-10,
        """)
    # 14 days of promised dates with a 7-day delay: on 17 March the window is 1 to 10 March.
    r = value(folder, "2026-03-17", "on_time_delivery_rate", "MFN")
    assert counts(r)[:2] == (1, 3)  # numerator counts the on-time shipments
    assert r["status"] == "breach"


# --- invoice defects -------------------------------------------------------------------------

INV_H = "order_id,purchase_date,fulfillment_channel,order_status,ship_confirm_date,is_business_order,invoice_upload_date"


def test_friday_ship_confirm_with_monday_invoice_is_on_time(tmp_path):
    # 6 March 2026 is a Friday: the deadline is the end of Monday 9 March.
    # A: invoice Monday 23:00 (on time). B: Tuesday (defect). C: none (defect). D: not business (out).
    # Ordered 25 February: Amazon's window (orders of the 7 days starting two weeks ago, D-13 to
    # D-7) holds them on 8 March (23 Feb to 1 March) and 9 March (24 Feb to 2 March).
    # A German account: Amazon enforces Invoice Defect Rate there.
    folder = write_account(tmp_path, marketplace="DE", orders=f"""\
        {INV_H}
        A,2026-02-25,MFN,Shipped,2026-03-06T18:00:00,true,2026-03-09T23:00:00
        B,2026-02-25,MFN,Shipped,2026-03-06T18:00:00,true,2026-03-10T08:00:00
        C,2026-02-25,MFN,Shipped,2026-03-06T18:00:00,yes,
        D,2026-02-25,MFN,Shipped,2026-03-06T18:00:00,false,
        """)
    # As of Sunday 8 March the deadline has not passed: 3 units, 0 defects known.
    assert counts(value(folder, "2026-03-08", "invoice_defect_rate", "MFN"))[:2] == (0, 3)
    # As of Monday 9 March (end of day) the deadline has passed: B and C are defects.
    assert counts(value(folder, "2026-03-09", "invoice_defect_rate", "MFN"))[:2] == (2, 3)


# --- returns ---------------------------------------------------------------------------------


def test_return_answered_exactly_at_48_hours_is_on_time(tmp_path):
    # R1 answered at 48h exactly (ok); R2 at 48h + 1s (late); R3 never answered (late, known once
    # 48 h have passed); R4 rejected and not upheld (defect); R5 negative return feedback (defect);
    # R6 rejected and upheld (ok). Population 6, defects R2, R3, R4, R5 = 4.
    folder = write_account(tmp_path, orders=H + "\n" + "\n".join(many_orders(6)), returns="""\
        return_id,order_id,request_date,response_date,decision,rejection_valid,negative_return_feedback
        R1,O0,2026-03-10T09:00:00,2026-03-12T09:00:00,authorized,,
        R2,O1,2026-03-10T09:00:00,2026-03-12T09:00:01,authorized,,
        R3,O2,2026-03-10T09:00:00,,,,
        R4,O3,2026-03-10T09:00:00,2026-03-10T12:00:00,rejected,false,
        R5,O4,2026-03-10T09:00:00,2026-03-10T12:00:00,authorized,,yes
        R6,O5,2026-03-10T09:00:00,2026-03-10T12:00:00,rejected,true,
        """)
    assert counts(value(folder, "2026-03-20", "return_dissatisfaction_rate"))[:2] == (4, 6)
    # As of 11 March the 48 hours have not run out: only R4 and R5 are known defects.
    assert counts(value(folder, "2026-03-11", "return_dissatisfaction_rate"))[:2] == (2, 6)


# --- perfect order and refunds ---------------------------------------------------------------


def test_perfect_order_percentage_and_refund_rate(tmp_path):
    # 5 orders on 1 March. O0 refunded 5 March; O1 1-star feedback; O2 seller-cancelled;
    # O3 buyer-cancelled (still perfect); O4 clean. Perfect: O3, O4 -> 2/5. Refunds: 1/5.
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,buyer_requested_cancel,refund_date
        O0,2026-03-01,AFN,Shipped,,2026-03-05T10:00:00
        O1,2026-03-01,AFN,Shipped,,
        O2,2026-03-01,MFN,Cancelled,false,
        O3,2026-03-01,MFN,Cancelled,true,
        O4,2026-03-01,MFN,Shipped,,
        """, feedback="order_id,feedback_date,rating\nO1,2026-03-06,2\n")
    assert counts(value(folder, "2026-03-10", "perfect_order_percentage"))[:3] == (2, 5, "info")
    assert counts(value(folder, "2026-03-10", "refund_rate"))[:2] == (1, 5)
    assert counts(value(folder, "2026-03-04", "refund_rate"))[:2] == (0, 5)


def test_perfect_order_late_shipment_is_late_shipment_rates(tmp_path):
    # 4 MFN orders bought 2 March 09:00, ship by 4 March (end of day). As of 10 March:
    # B0 cancelled at the buyer's request on 3 March, never shipped: not late (Late Shipment Rate
    #    leaves cancelled orders out) and not a seller cancellation: perfect.
    # L1 confirmed 6 March: late. S2 confirmed 3 March: on time. U3 never confirmed: late.
    # Late Shipment Rate (10 days): 2 late of 3 (B0 is not in it). Perfect orders: B0, S2: 2 of 4.
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,buyer_requested_cancel,latest_ship_date,ship_confirm_date
        B0,2026-03-02T09:00:00,MFN,Cancelled,true,2026-03-04,
        L1,2026-03-02T09:00:00,MFN,Shipped,false,2026-03-04,2026-03-06T10:00:00
        S2,2026-03-02T09:00:00,MFN,Shipped,false,2026-03-04,2026-03-03T10:00:00
        U3,2026-03-02T09:00:00,MFN,Unshipped,false,2026-03-04,
        """)
    assert counts(value(folder, "2026-03-10", "late_shipment_rate_10d", "MFN"))[:2] == (2, 3)
    assert counts(value(folder, "2026-03-10", "perfect_order_percentage"))[:3] == (2, 4, "info")


# --- policy as data --------------------------------------------------------------------------


def test_changing_a_threshold_in_the_policy_changes_status(tmp_path):
    folder = odr_account(tmp_path, 300, 3)
    loose = tmp_path / "loose.toml"
    loose.write_text(default_policy_text().replace('value = "0.01"\nwarn = "0.0075"', 'value = "0.02"\nwarn = "0.015"', 1), encoding="utf-8")
    r = value(folder, "2026-03-20", "odr", policy=loose)
    # 3/300 = 1% < 2%: ok; allowed max n with n/300 < 2% is 5, headroom 2.
    assert counts(r) == (3, 300, "ok", 2) and r["target"] == "< 0.02"


def test_series_over_a_range_has_one_row_per_day_metric_and_segment(tmp_path):
    folder = write_account(tmp_path, orders=H + "\n" + "\n".join(many_orders(3)))
    s = account_series(load_account(folder), start="2026-03-01", end="2026-03-10")
    assert s["as_of"].nunique() == 10
    assert not s.duplicated(["as_of", "metric", "segment"]).any()


# --- return rate -------------------------------------------------------------------------------


def test_return_rate_counts_orders_with_any_return_request(tmp_path):
    folder = write_account(tmp_path, orders=H + """
R1,2026-03-01T12:00:00,MFN,Shipped
R2,2026-03-02T12:00:00,MFN,Shipped
R3,2026-03-03T12:00:00,AFN,Shipped
R4,2026-03-20T12:00:00,MFN,Shipped
""", returns="""return_id,order_id,request_date
X1,R1,2026-03-10T09:00:00
X2,R1,2026-03-12T09:00:00
X3,R3,2026-04-15T09:00:00
X4,R4,2026-03-25T09:00:00
""")
    # As of 30 March the 30-day window is 1..30 March: R1..R4 (MFN R1, R2, R4; AFN R3). Returned and
    # known by then: R1 (twice, one order) and R4; R3's request comes on 15 April.
    assert counts(value(folder, "2026-03-30", "return_rate"))[:3] == (2, 4, "info")
    assert counts(value(folder, "2026-03-30", "return_rate", "MFN"))[:2] == (2, 3)
    assert counts(value(folder, "2026-03-30", "return_rate", "AFN"))[:2] == (0, 1)
    # As of 9 March (window 8 February .. 9 March): R1..R3, none returned yet (R1's request is on the 10th).
    assert counts(value(folder, "2026-03-09", "return_rate"))[:2] == (0, 3)
    # As of 15 April (window 17 March .. 15 April): R4 only, returned; no AFN order.
    assert counts(value(folder, "2026-04-15", "return_rate"))[:2] == (1, 1)
    assert counts(value(folder, "2026-04-15", "return_rate", "AFN"))[:3] == (0, 0, "no_data")


def test_return_rate_without_a_returns_file_has_no_value(tmp_path):
    folder = write_account(tmp_path, orders=H + "\nR1,2026-03-01T12:00:00,MFN,Shipped\n")
    row = value(folder, "2026-03-10", "return_rate")
    assert (row["status"], pd.isna(row["rate"])) == ("no_data", True)


def test_a_returns_report_without_response_dates_counts_no_late_response(tmp_path):
    # Amazon's Returns report gives requests, not the seller's responses: two requests (12 and 14 March),
    # neither answered in the file. Without response dates lateness is unknown, not late: 0 of 2.
    # No marketplace: every target enforced as written (in any marketplace Amazon only advises on it).
    folder = write_account(tmp_path, marketplace=None,
                           orders=H + "\nA1,2026-03-01T12:00:00,MFN,Shipped\nA2,2026-03-02T12:00:00,MFN,Shipped\n",
                           **{"returns-2026.csv": "Order ID,Order date,Return request date,Return request status,"
                                                 "Amazon RMA ID\nA1,2026-03-01,2026-03-12,Approved,R1\n"
                                                 "A2,2026-03-02,2026-03-14,Pending,R2\n"})
    row = value(folder, "2026-03-31", "return_dissatisfaction_rate")
    assert counts(row) == (0, 2, "at_risk", 0)  # one late response of two would breach 10%: no headroom
    assert ("missing input returns.response_date: Return Dissatisfaction Rate counts no late response (its "
            "late-response component has no data); late responses cannot be judged") in registry.account_notes(load_account(folder))
    # A response_date column empty in every row says no more than no column (#20): still 0 of 2.
    (folder / "returns-2026.csv").unlink()
    (folder / "returns.csv").write_text("return_id,order_id,request_date,response_date\n"
                                        "R1,A1,2026-03-12T09:00:00,\nR2,A2,2026-03-14T09:00:00,\n")
    assert counts(value(folder, "2026-03-31", "return_dissatisfaction_rate"))[:2] == (0, 2)
    # Once the column has dates, an empty cell is a request never answered: R1 answered after 49 hours
    # (late) and R2 unanswered (late): 2 of 2.
    (folder / "returns.csv").write_text("return_id,order_id,request_date,response_date\n"
                                        "R1,A1,2026-03-12T09:00:00,2026-03-14T10:00:00\nR2,A2,2026-03-14T09:00:00,\n")
    assert counts(value(folder, "2026-03-31", "return_dissatisfaction_rate"))[:2] == (2, 2)


FBA_RETURNS_REPORT = (  # Amazon's published header list of the FBA customer returns report
    "return-date\torder-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\tdetailed-disposition\t"
    "reason\tstatus\tlicense-plate-number\tcustomer-comments\n"
    "2026-03-10T08:00:00+00:00\tR2\tS2\tB02\tX02\tLamp\t1\tPHX3\tSELLABLE\tNOT_AS_DESCRIBED\tUnit returned to "
    "inventory\tLPN1\tcolour differs\n"
    "2026-03-11T08:00:00+00:00\tR3\tS3\tB03\tX03\tTent\t1\tPHX3\tDEFECTIVE\tDEFECTIVE\tReimbursed\t\t\n"
    "2026-03-11T08:00:00+00:00\tR3\tS3\tB03\tX03\tTent\t1\tPHX3\tDEFECTIVE\tDEFECTIVE\tReimbursed\t\t\n"
)


def test_fba_customer_returns_count_in_the_return_rate_not_in_return_dissatisfaction(tmp_path):
    from perfkit.loading.loader import load_account as load

    folder = write_account(tmp_path, orders=H + """
R1,2026-03-01T12:00:00,MFN,Shipped
R2,2026-03-02T12:00:00,AFN,Shipped
R3,2026-03-03T12:00:00,AFN,Shipped
""", returns="""return_id,order_id,request_date,response_date
X1,R1,2026-03-09T09:00:00,2026-03-09T10:00:00
""", **{"fba-returns.txt": FBA_RETURNS_REPORT})
    returns = load(folder).returns.set_index("return_id")
    # The second FBA row has no licence plate: named by its order and time; its repeat (a second unit) counts once.
    assert sorted(returns.index) == ["LPN1", "R3#2026-03-11T08:00:00+00:00", "X1"]
    assert returns["fba"].to_dict() == {"X1": False, "LPN1": True, "R3#2026-03-11T08:00:00+00:00": True}
    assert returns.loc["LPN1", "reason"] == "NOT_AS_DESCRIBED"
    # Return rate as of 31 March (30 days: 2 to 31 March): R2 and R3 (R1 was bought on 1 March, outside),
    # both returned through FBA.
    assert counts(value(folder, "2026-03-31", "return_rate"))[:2] == (2, 2)
    assert counts(value(folder, "2026-03-30", "return_rate"))[:2] == (3, 3)  # 1..30 March: R1 too
    # Return Dissatisfaction counts the seller's own request only (answered within the hour): 0 of 1.
    assert counts(value(folder, "2026-03-31", "return_dissatisfaction_rate"))[:2] == (0, 1)


# --- no look-ahead in events ---------------------------------------------------------------------


def test_a_removed_feedback_and_a_denied_claim_count_until_their_dates(tmp_path):
    orders = H + "".join(f"\nO{i},2026-03-01T12:00:00,MFN,Shipped" for i in range(4)) + "\n"
    folder = write_account(tmp_path, orders=orders, feedback="""order_id,feedback_date,rating,removed,removed_date
O0,2026-03-05,1,true,2026-03-20
O1,2026-03-06,1,true,
""", claims="""order_id,claim_date,status,status_date
O2,2026-03-07,denied,2026-03-25
O3,2026-03-08,denied,
""")
    # ODR's window on 1..4 April (lag 14, 60 days) holds the four orders of 1 March. Defects by day:
    # O0's feedback counts 5..19 March (removed on the 20th); O1's removal has no date: never counted;
    # O2's claim counts 7..24 March (denied on the 25th); O3's denial has no date: never counted.
    for day, defects in (("2026-03-06", 1), ("2026-03-07", 2), ("2026-03-19", 2), ("2026-03-20", 1),
                         ("2026-03-24", 1), ("2026-03-25", 0)):
        row = value(folder, day, "odr_early")  # the same window with no lag, so every day is seen
        assert (row["defects"], row["denominator"]) == (defects, 4), day
    # The drill-down agrees with the count on those days.
    from perfkit.analysis.drilldown import defective_units

    assert sorted(defective_units(load_account(folder), "odr_early", "2026-03-19", "all")["order_id"]) == ["O0", "O2"]
    assert sorted(defective_units(load_account(folder), "odr_early", "2026-03-21", "all")["order_id"]) == ["O2"]
    # Perfect Order counts any claim, decided or not: O2 and O3 stay imperfect; O0 until its removal.
    pop = value(folder, "2026-03-30", "perfect_order_percentage")
    assert (pop["defects"], pop["denominator"]) == (2, 4)
    warnings = load_account(folder).warnings
    assert ("feedback: 1 removed feedback without removed_date count as removed on every day, also before their "
            "removal; add removed_date to date each removal") in warnings
    assert any(w.startswith("claims: 1 denied or withdrawn claims without status_date") for w in warnings)


def test_a_feedback_removed_and_a_claim_filed_later_reopen_the_order(tmp_path):
    orders = H + "\nO0,2026-03-01T12:00:00,MFN,Shipped\n"
    folder = write_account(tmp_path, orders=orders, feedback="""order_id,feedback_date,rating,removed,removed_date
O0,2026-03-05,1,true,2026-03-10
""", claims="""order_id,claim_date,status
O0,2026-03-15,granted
""")
    # Defective 5..9 March (feedback), not 10..14 March, and again from 15 March (the claim).
    got = [value(folder, d, "odr_early")["defects"] for d in ("2026-03-04", "2026-03-05", "2026-03-09",
                                                               "2026-03-10", "2026-03-14", "2026-03-15", "2026-03-30")]
    assert got == [0, 1, 1, 0, 0, 1, 1]


def test_an_item_cancelled_inside_a_shipped_order_is_a_seller_cancellation(tmp_path):
    # Amazon's All Orders report, one row per item. Order 111-1 shipped its lamp; its bulb was cancelled (the
    # report has no buyer-request flag, so the seller's). Order 111-2 shipped both items: cancel rate 1 of 2.
    report = ("amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\t"
              "sales-channel\tproduct-name\tsku\titem-status\tquantity\n"
              "111-1\t\t2026-03-02T10:00:00+00:00\t2026-03-03T10:00:00+00:00\tShipped\tMerchant\tAmazon.com\tLamp\tL\tShipped\t1\n"
              "111-1\t\t2026-03-02T10:00:00+00:00\t2026-03-03T10:00:00+00:00\tShipped\tMerchant\tAmazon.com\tBulb\tB\tCancelled\t1\n"
              "111-2\t\t2026-03-02T11:00:00+00:00\t2026-03-03T10:00:00+00:00\tShipped\tMerchant\tAmazon.com\tDesk\tD\tShipped\t1\n"
              "111-2\t\t2026-03-02T11:00:00+00:00\t2026-03-03T10:00:00+00:00\tShipped\tMerchant\tAmazon.com\tLeg\tG\tShipped\t1\n")
    folder = tmp_path / "acct"
    folder.mkdir()
    (folder / "account.json").write_text('{"marketplace": "US", "timezone": "UTC"}')
    (folder / "All Orders.txt").write_text(report)
    acc = load_account(folder)
    assert acc.orders.set_index("order_id")["item_cancelled"].to_dict() == {"111-1": True, "111-2": False}
    assert counts(value(folder, "2026-03-05", "cancel_rate", "MFN"))[:2] == (1, 2)


def test_a_rejected_return_outside_policy_is_a_valid_rejection(tmp_path):
    # Amazon's Returns report: two rejected requests; "In policy" N (outside Amazon's policy: rejecting it is
    # valid) and Y (inside: rejecting it is an invalid rejection). No response dates: lateness is not judged.
    # No marketplace: every target enforced as written (in any marketplace Amazon only advises on it).
    folder = write_account(tmp_path, marketplace=None,
                           orders=H + "\nA1,2026-03-01T12:00:00,MFN,Shipped\nA2,2026-03-02T12:00:00,MFN,Shipped\n",
                           **{"returns-2026.csv": "Order ID,Order date,Return request date,Return request status,"
                                                 "Amazon RMA ID,In policy\nA1,2026-03-01,2026-03-12,Rejected,R1,N\n"
                                                 "A2,2026-03-02,2026-03-14,Rejected,R2,Y\n"})
    returns = load_account(folder).returns.set_index("return_id")
    assert returns["rejection_valid"].to_dict() == {"R1": True, "R2": False}
    assert counts(value(folder, "2026-03-31", "return_dissatisfaction_rate"))[:2] == (1, 2)
