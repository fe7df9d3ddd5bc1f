"""Drill-down, recovery forecast, reconciliation with Amazon, and the metrics CLI contract."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from perfkit import AccountContext, defective_units, load_account, recovery_forecast, window_drivers, window_units
from perfkit.engine.metrics import COLUMNS
from perfkit.analysis.reconcile import official_points, reconcile

from .conftest import write_account

H = "order_id,purchase_date,fulfillment_channel,order_status,buyer_requested_cancel"


def daily_orders(per_day: int, first: str, days: int, cancelled=lambda day, i: False) -> str:
    """``per_day`` MFN orders at 10:00 on each of ``days`` days from ``first``; ids D<yyyymmdd>-<i>."""
    start = pd.Timestamp(first)
    rows = []
    for k in range(days):
        day = start + pd.Timedelta(days=k)
        for i in range(per_day):
            status = "Cancelled" if cancelled(day.day, i) else "Shipped"
            rows.append(f"D{day:%Y%m%d}-{i},{day:%Y-%m-%d}T10:00:00,MFN,{status},false")
    return H + "\n" + "\n".join(rows) + "\n"


def cancel_account(tmp_path):
    # 10 MFN orders a day, 1..10 March 2026. On 8 March five are cancelled by the seller.
    return write_account(tmp_path, orders=daily_orders(10, "2026-03-01", 10, lambda d, i: d == 8 and i < 5))


def test_drilldown_lists_the_defective_orders(tmp_path):
    acc = load_account(cancel_account(tmp_path))
    bad = defective_units(acc, "cancel_rate", "2026-03-10", "MFN")
    assert sorted(bad["order_id"]) == [f"D20260308-{i}" for i in range(5)]
    assert set(bad["defect"]) == {"seller_cancellation"}
    units = window_units(acc, "cancel_rate", "2026-03-10", "MFN")
    assert len(units) == 70  # 4..10 March, 10 a day
    by_week = window_drivers(acc, "cancel_rate", "2026-03-10", "MFN")[2]["week"]
    # Weeks start Monday: 2 March (4..8 March: 50 orders, 5 defects) and 9 March (20 orders).
    assert by_week[["defects", "units"]].values.tolist() == [[5, 50], [0, 20]]


def test_recovery_forecast_no_new_defects_and_recent_pace(tmp_path):
    acc = load_account(cancel_account(tmp_path))
    rec = recovery_forecast(acc, "cancel_rate", "2026-03-10", "MFN")
    # 5/70 now. The 8 March defects leave the 7-day window on 15 March (window 9..15 March).
    assert (rec.defects, rec.units) == (5, 70)
    assert rec.date_no_new_defects == pd.Timestamp("2026-03-15")
    assert rec.schedule.values.tolist() == [[pd.Timestamp("2026-03-15").date(), 5, 0]]
    # Recent pace: 5 defects in 70 orders over 7 days keeps the rate at 7.1%: never.
    assert rec.daily_units == 10 and rec.daily_defects == pytest.approx(5 / 7)
    assert rec.date_at_recent_pace is None
    assert "not at this pace" in rec.describe()


def test_recovery_with_a_slow_pace_that_still_meets_the_target(tmp_path):
    # The early ODR view (60 days, no lag): 20 orders a day, 1 January .. 1 March 2026 = 1200 orders.
    # 15 orders of 5 January get 1-star feedback (10 January); one order of 20 February too (25 February).
    # As of 1 March: 16/1200 = 1.33%, a breach.
    feedback = [f"D20260105-{i},2026-01-10,1" for i in range(15)] + ["D20260220-0,2026-02-25,1"]
    acc = load_account(write_account(tmp_path, orders=daily_orders(20, "2026-01-01", 60),
                                     feedback="order_id,feedback_date,rating\n" + "\n".join(feedback) + "\n"))
    rec = recovery_forecast(acc, "odr_early", "2026-03-01", "MFN")
    assert (rec.defects, rec.units) == (16, 1200)
    # The 5 January defects leave on 6 March (window 6 January .. 6 March): 1/1200 < 1%.
    assert rec.date_no_new_defects == pd.Timestamp("2026-03-06")
    # Recent pace (last 30 days of the window): 600 orders, 1 defect -> 20 a day, 1/30 defect a day.
    # On 6 March: 1 + 5/30 defects over 1200 orders = 0.097% < 1%: the same day.
    assert rec.daily_units == 20 and rec.daily_defects == pytest.approx(1 / 30)
    assert rec.date_at_recent_pace == pd.Timestamp("2026-03-06")
    assert rec.schedule.values.tolist() == [[pd.Timestamp("2026-03-06").date(), 15, 1],
                                            [pd.Timestamp("2026-04-21").date(), 1, 0]]
    # A breach on the last day gets a forecast only over a whole window, and never for the maturing
    # early view (whole here: 1 January .. 1 March). Amazon's ODR window (18 December .. 15 February:
    # 15 defects in 920 orders) starts before the first order: partial data, no forecast.
    from perfkit import account_series
    from perfkit.analysis.forecast import breach_forecasts

    series = account_series(acc, ["2026-03-01"], early=True)
    assert set(series.loc[series["status"] == "breach", "metric"]) == {"odr", "odr_early"}
    assert series.set_index(["metric", "segment"]).loc[("odr", "MFN"), "denominator"] == 920
    assert series.set_index(["metric", "segment"]).loc[("odr_early", "MFN"), "coverage"] == 1
    assert breach_forecasts(AccountContext.of(acc), series) == []
    # With the data starting 60 days earlier (orders from 2 November), the ODR window is whole.
    longer = write_account(tmp_path / "longer", orders=daily_orders(20, "2025-11-02", 120),
                           feedback="order_id,feedback_date,rating\n" + "\n".join(feedback) + "\n")
    series = account_series(load_account(longer), ["2026-03-01"], early=True)
    assert [(r.metric, r.segment, r.defects, r.units)
            for r in breach_forecasts(AccountContext.of(longer), series)] == [("odr", "MFN", 15, 1200),
                                                                                ("odr", "all", 15, 1200)]


AMAZON = {
    "performanceMetrics": [{
        "marketplaceId": "ATVPDKIKX0DER",
        "preFulfillmentCancellationRate": {
            "reportingDateRange": {"reportingDateFrom": "2026-03-04T00:00:00Z", "reportingDateTo": "2026-03-10T00:00:00Z"},
            "orderCount": 70, "cancellationCount": 5, "rate": 0.0714, "targetValue": 0.025,
            "targetCondition": "LESS_THAN", "status": "BAD"},
        "lateShipmentRateList": [{
            "reportingDateRange": {"reportingDateFrom": "2026-03-01T00:00:00Z", "reportingDateTo": "2026-03-10T00:00:00Z"},
            "orderCount": 100, "lateShipmentCount": 0, "rate": 0.0}],
        "orderDefectRate": {"mfn": {
            "reportingDateRange": {"reportingDateFrom": "2026-01-01", "reportingDateTo": "2026-03-01"},
            "orderCount": 12, "orderWithDefects": {"count": 1}, "rate": 8.3}},
        "accountHealthRating": {"ahrStatus": "AT_RISK", "ahrScore": 180},
    }]
}


def test_reconcile_same_window_and_reasons(tmp_path):
    folder = cancel_account(tmp_path)
    report = tmp_path / "perf.json"
    report.write_text(json.dumps(AMAZON))
    frame = reconcile(AccountContext.of(folder), report).set_index("metric")
    # Cancel rate over Amazon's window 4..10 March: 5/70, a match.
    c = frame.loc["cancel_rate"]
    assert (c.amazon_numerator, c.amazon_denominator, c.perfkit_numerator, c.perfkit_denominator) == (5, 70, 5, 70)
    assert c.reason == "match"
    # The 10-day list entry becomes late_shipment_rate_10d; the orders carry no ship-by dates.
    ls = frame.loc["late_shipment_rate_10d"]
    assert ls.perfkit_denominator == 0 and "missing input: orders.latest_ship_date" in ls.reason
    # ODR MFN: the rate 8.3 is a percentage in this payload; the counts win: 1/12.
    o = frame.loc["odr"]
    assert o.amazon_rate == pytest.approx(1 / 12)
    assert o.perfkit_denominator == 10 and "perfkit counts 2 fewer units than Amazon (10 against 12)" in o.reason
    assert frame.attrs["ahrScore"] == 180
    # The report was archived by date and becomes official points for the charts.
    pts = official_points(AccountContext.of(folder))
    assert (folder / "amazon-performance" / "2026-03-10.json").is_file()
    assert set(pts["metric"]) == {"cancel_rate", "late_shipment_rate_10d", "odr"}
    odr_point = pts[pts.metric == "odr"].iloc[0]
    assert odr_point.as_of == pd.Timestamp("2026-03-15").date()  # window end + the 14-day lag


def test_reconcile_refuses_a_file_that_is_not_the_report(tmp_path):
    folder = cancel_account(tmp_path)
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "reconcile", str(tmp_path), "--account", "acct",
                          "--amazon", str(bad)], capture_output=True, text=True)
    assert res.returncode == 2 and "x.json: has no performanceMetrics list" in res.stderr
    assert "Traceback" not in res.stderr
    assert folder.is_dir()


def run(*args):
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", *args], capture_output=True, text=True)


def test_metrics_csv_contract_columns_and_values(tmp_path):
    cancel_account(tmp_path)
    res = run("metrics", str(tmp_path), "--format", "csv", "--as-of", "2026-03-10")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0]) == COLUMNS
    cancel = [r for r in rows if r["metric"] == "cancel_rate"][0]
    assert cancel == {"account_id": "acct", "as_of": "2026-03-10", "metric": "cancel_rate", "segment": "MFN",
                      "window_days": "7", "numerator": "5", "denominator": "70", "rate": str(5 / 70),
                      "target": "< 0.025", "status": "breach", "headroom": "-4", "coverage": "1.0",
                      "unit_coverage": "1.0"}  # every order has its purchase day (#20)
    # ODR's window (26 December .. 24 February) holds no order: coverage 0 of 60 days.
    assert {r["coverage"] for r in rows if r["metric"] == "odr"} == {"0.0"}
    afn = [r for r in rows if r["metric"] == "odr" and r["segment"] == "AFN"][0]
    assert (afn["rate"], afn["status"], afn["headroom"]) == ("", "no_data", "")
    # The account has no feedback, claims or chargebacks: the CLI says so (on stderr, the CSV stays clean).
    assert ("perfkit: warning: missing input feedback: negative feedback is not counted in ODR; the negative "
            "feedback rate has no data (1 account: acct;") in res.stderr
    # No refund_date column: the refund rate is not 0%, it has no value.
    info = [r for r in rows if r["metric"] == "refund_rate"][0]
    assert (info["target"], info["rate"], info["status"], info["headroom"]) == ("", "", "no_data", "")
    assert {r["metric"] for r in rows}.isdisjoint({"odr_early"})


def test_metrics_json_range_and_fail_on(tmp_path):
    cancel_account(tmp_path)
    res = run("metrics", str(tmp_path), "--format", "json", "--from", "2026-03-09", "--to", "2026-03-10",
              "--fail-on", "breach")
    assert res.returncode == 1
    records = json.loads(res.stdout)
    assert list(records[0]) == COLUMNS
    assert sorted({r["as_of"] for r in records}) == ["2026-03-09", "2026-03-10"]
    ok = run("metrics", str(tmp_path), "--as-of", "2026-02-01", "--fail-on", "at_risk")
    assert ok.returncode == 0 and "no_data" in ok.stdout


def test_metrics_policy_option_changes_status(tmp_path):
    from perfkit.core.policy import default_policy_text

    cancel_account(tmp_path)
    loose = tmp_path / "loose.toml"
    loose.write_text(default_policy_text().replace('value = "0.025"', 'value = "0.10"'), encoding="utf-8")
    res = run("metrics", str(tmp_path), "--format", "csv", "--as-of", "2026-03-10", "--policy", str(loose))
    row = [r for r in csv.DictReader(io.StringIO(res.stdout)) if r["metric"] == "cancel_rate"][0]
    # 5/70 = 7.1% < 10%, but >= the 2% warning level: at_risk; allowed max n with n/70 < 10% is 6 -> headroom 1.
    assert (row["target"], row["status"], row["headroom"]) == ("< 0.1", "at_risk", "1")


def test_bad_policy_file_is_one_line(tmp_path):
    cancel_account(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[metrics.odr]\nwindow = 60\ntarget = '<'\n")
    res = run("metrics", str(tmp_path), "--policy", str(bad))
    assert res.returncode == 2 and "bad.toml: [metrics.odr] has target '<' but no value" in res.stderr


def slow_drivers(units: pd.DataFrame) -> dict[str, dict]:
    """The obvious count: defects per component, category, carrier and Monday-based week, row by row."""
    out: dict[str, dict] = {"component": {}, "category": {}, "carrier": {}, "week": {}}
    for _, u in units.iterrows():
        day = pd.Timestamp(u["anchor_date"]).date()
        week = day - pd.Timedelta(days=day.weekday())
        for key, value in (("category", u.get("category")), ("carrier", u.get("carrier")), ("week", week)):
            value = "(none)" if pd.isna(value) else value
            n, d = out[key].get(value, (0, 0))
            out[key][value] = (n + 1, d + int(u["defective"]))
        if u["defective"]:
            for c in u["defect"].split(", "):
                out["component"][c] = out["component"].get(c, 0) + 1
    return out


@pytest.mark.parametrize("metric", ["valid_tracking_rate", "odr", "on_time_delivery_rate", "late_shipment_rate_10d"])
def test_drivers_equal_a_row_by_row_count(metric):
    from .conftest import SAMPLE

    acc = load_account(SAMPLE / "us-summit-outdoor")
    units = window_units(acc, metric, "2026-11-01")
    slow = slow_drivers(units)
    n, bad, fast = window_drivers(acc, metric, "2026-11-01")
    assert (n, bad) == (len(units), int(units["defective"].sum()))
    assert dict(zip(fast["component"]["component"], fast["component"]["defects"])) == slow["component"]
    for key in ("category", "carrier", "week"):
        if key in fast:
            got = {k: (int(u), int(d)) for k, u, d in zip(fast[key][key], fast[key]["units"], fast[key]["defects"])}
            assert got == slow[key], key
    latest = window_units(acc, metric, "2026-11-01", defective_only=True, latest=5)
    assert len(latest) == min(5, bad) and latest["defective"].all()
    assert sorted(latest["anchor_date"], reverse=True) == sorted(units.loc[units["defective"], "anchor_date"],
                                                                 reverse=True)[:len(latest)]


def test_misspelt_policy_key_is_refused(tmp_path):
    from perfkit.core.policy import default_policy_text

    cancel_account(tmp_path)
    typo = tmp_path / "typo.toml"
    typo.write_text(default_policy_text().replace('value = "0.025"', 'vlaue = "0.025"'), encoding="utf-8")
    res = run("metrics", str(tmp_path), "--policy", str(typo))
    assert res.returncode == 2
    assert "typo.toml: [metrics.cancel_rate]: unknown key 'vlaue'" in res.stderr
