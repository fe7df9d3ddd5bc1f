"""What people read: chart lines and shading, forecasts and reconcile of "above" targets, the
report's default week, causes over time, the index colours, alerts and the sample command."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pandas as pd
import pytest

from perfkit import AccountContext, account_series, load_account, recovery_forecast
from perfkit.report.batch import Outcome, write_index
from perfkit.poa.causes import CauseChoice, CauseStore
from perfkit.views.charts import rate_chart_spec
from perfkit.engine.registry import load_policy
from perfkit.analysis.reconcile import reconcile
from perfkit.report.page import last_full_week_end
from perfkit.views.status import STATUS_COLOURS

from .conftest import ROOT, SAMPLE as SAMPLE_ROOT, write_account
from .test_analysis import cancel_account


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", *args], capture_output=True, text=True, timeout=300)


def test_chart_draws_target_warning_and_shades_each_breach_run(tmp_path):
    # Cancel rate (7 days, < 2.5%, warning 2%): 10 orders a day 1..10 March, 5 seller cancellations
    # on 8 March. The windows holding 8 March (as of 8..14 March) breach; 15 March is 0/20 (at risk:
    # no headroom), from 17 March no orders: no data. Windows past 10 March (the last order) hold
    # only part of their days: their breach is not shaded, so the shaded run is 8..10 March.
    acc = load_account(cancel_account(tmp_path))
    series = account_series(acc, start="2026-03-01", end="2026-03-20")
    pol = load_policy()
    spec = rate_chart_spec(series, "cancel_rate", pol)
    lines = [s for s in spec["layout"]["shapes"] if s["type"] == "line"]
    assert [(s["y0"], s["line"]["dash"], s["line"]["color"]) for s in lines] == [
        (2.5, "dash", STATUS_COLOURS["breach"]), (2.0, "dot", STATUS_COLOURS["at_risk"])]
    rects = [s for s in spec["layout"]["shapes"] if s["type"] == "rect"]
    assert [(r["x0"], r["x1"]) for r in rects] == [("2026-03-07T12:00:00", "2026-03-10T12:00:00")]
    # The partial values are drawn apart (dotted), joined to the last whole value of 10 March.
    main, partial = spec["data"][0], spec["data"][1]
    assert main["y"][9] == pytest.approx(100 * 5 / 70) and main["y"][10] is None
    assert partial["line"]["dash"] == "dot" and partial["y"][8] is None and partial["y"][9] == main["y"][9]
    assert partial["y"][10] == pytest.approx(100 * 5 / 60)
    labels = [a["text"] for a in spec["layout"]["annotations"]]
    assert labels == ["Target &lt; 2.5%", "Warning level 2%"]
    # Target label above its line at the left, warning label below its line at the right: apart.
    assert [(a["x"], a["xanchor"], a["yanchor"]) for a in spec["layout"]["annotations"]] == [
        (0, "left", "bottom"), (1, "right", "top")]


def test_labels_of_an_above_target_sit_away_from_each_other(tmp_path):
    # Valid Tracking: target > 95% with warning 96%. The warning line is above the target line, so
    # the target's label goes below its line and the warning's above its own.
    series = account_series(load_account(vtr_account(tmp_path)), start="2026-03-01", end="2026-03-10")
    spec = rate_chart_spec(series, "valid_tracking_rate", load_policy())
    notes = [(a["y"], a["x"], a["xanchor"], a["yanchor"]) for a in spec["layout"]["annotations"]]
    assert notes == [(95.0, 0, "left", "top"), (96.0, 1, "right", "bottom")]


def test_an_at_risk_status_says_why():
    from perfkit.views.status import status_reason

    pol = load_policy()
    # Cancel rate < 2.5%, warning 2%: 0 of 20 meets the target but allows no defect (ceil(0.5) - 1 = 0).
    assert status_reason(pol, "cancel_rate", "at_risk", 0, 20, "en") == (
        "meets the target, but one more defect in this window would miss it")
    assert status_reason(pol, "cancel_rate", "at_risk", 3, 140, "en") == "past the warning level (2%)"  # 2.14%
    assert status_reason(pol, "cancel_rate", "breach", 3, 100, "zh") == "未达到亚马逊目标(< 2.5%)"
    assert status_reason(pol, "cancel_rate", "ok", 1, 1000, "en") == ""
    # Exactly on the warning level: Late Shipment (10 days) < 4%, warning 3%, 9 late of 300 = 3%. Two
    # more are allowed (ceil(12) - 1 - 9 = 2): the reason is the warning level, decided on the counts
    # (9/300 as a float is just under 0.03).
    assert status_reason(pol, "late_shipment_rate_10d", "at_risk", 9, 300, "en") == "past the warning level (3%)"
    # A rate of good units: Valid Tracking > 95%, warning 96%: 96 good of 100 is on the warning level.
    assert status_reason(pol, "valid_tracking_rate", "at_risk", 96, 100, "en") == "past the warning level (96%)"


def vtr_account(tmp_path):
    # 10 MFN shipments a day, 1..10 March 2026, confirmed the day they were bought and promised for
    # that day too; on 5 March six of them have no valid tracking. Valid Tracking places a shipment
    # by its promised day with a 14-day lag: the window of as-of D ends D-14.
    rows = []
    for day in range(1, 11):
        for i in range(10):
            valid = "false" if day == 5 and i < 6 else "true"
            rows.append(f"V{day}-{i},2026-03-{day:02d}T08:00:00,MFN,Shipped,2026-03-{day:02d}T18:00:00,1Z{day}{i},{valid},"
                        f"2026-03-{day:02d}")
    return write_account(tmp_path, orders="order_id,purchase_date,fulfillment_channel,order_status,ship_confirm_date,"
                                          "tracking_id,tracking_valid,latest_delivery_date\n" + "\n".join(rows) + "\n")


def test_forecast_of_an_above_target(tmp_path):
    # As of 24 March the window ends 10 March (lag 14): every date below is 14 days after the
    # promised day it is counted on.
    rec = recovery_forecast(load_account(vtr_account(tmp_path)), "valid_tracking_rate", "2026-03-24", "MFN")
    # 94 valid of 100 = 94%, not above 95%. Recent pace: 100 shipments and 6 defects over 30 days.
    assert (rec.defects, rec.units) == (6, 100)
    assert rec.daily_units * 30 == 100 and rec.daily_defects * 30 == 6
    # No new defect: day j adds 10j/3 good shipments; (100 + 10j/3 - 6) / (100 + 10j/3) > 95% first at
    # j = 7 (123.3 shipments, 95.1%); j = 6 gives exactly 95%, which is not above: 31 March.
    assert rec.date_no_new_defects == pd.Timestamp("2026-03-31")
    # At the recent pace the rate stays below until the 5 March shipments leave the 30-day window
    # (as of 18 April: 5 expected defects in 133.3 shipments, 96.25%).
    assert rec.date_at_recent_pace == pd.Timestamp("2026-04-18")
    assert rec.schedule.values.tolist() == [[dt.date(2026, 4, 18), 6, 0]]


def test_reconcile_counts_good_units_for_an_above_target(tmp_path):
    folder = vtr_account(tmp_path)
    report = tmp_path / "perf.json"
    report.write_text(json.dumps({"performanceMetrics": [{"marketplaceId": "ATVPDKIKX0DER", "validTrackingRate": {
        "reportingDateRange": {"reportingDateFrom": "2026-02-09", "reportingDateTo": "2026-03-10"},
        "shipmentCount": 100, "validTrackingCount": 94, "rate": 0.94}}]}))
    row = reconcile(AccountContext.of(folder), report, keep=False).set_index("metric").loc["valid_tracking_rate"]
    assert (row.amazon_numerator, row.amazon_denominator) == (94, 100)
    assert (row.perfkit_numerator, row.perfkit_denominator, row.reason) == (94, 100, "match")
    assert row.perfkit_rate == pytest.approx(0.94)


@pytest.mark.parametrize("latest,today,week", [
    ("2026-11-15", "2026-11-25", "2026-11-15"),  # data ends on a Sunday: that week
    ("2026-11-18", "2026-11-25", "2026-11-15"),  # mid-week: the week before
    ("2026-11-25", "2026-11-25", "2026-11-22"),  # data up to today: today is not over
    ("2026-11-22", "2026-11-23", "2026-11-22"),  # Monday's run reports the week that ended yesterday
    ("2026-11-22", "2026-11-22", "2026-11-15"),  # on Sunday itself that week is not over yet
])
def test_default_report_week(latest, today, week):
    assert last_full_week_end(dt.date.fromisoformat(latest), dt.date.fromisoformat(today)) == dt.date.fromisoformat(week)


def test_a_later_cause_supersedes_and_a_removed_one_is_gone(tmp_path):
    store = CauseStore(tmp_path / "c.sqlite")
    period = (dt.date(2026, 3, 1), dt.date(2026, 3, 10))
    first = store.save(CauseChoice("shop", "cancel_rate", "out_of_stock", *period, segment="MFN", note="first",
                                   author="a"))
    store.save(CauseChoice("shop", "cancel_rate", "out_of_stock", *period, segment="MFN", note="second", author="b"))
    other = store.save(CauseChoice("shop", "cancel_rate", "unrequested_cancel", *period, segment="MFN", author="a"))
    now = store.current("shop", "cancel_rate")
    assert sorted(zip(now["cause"], now["note"])) == [("out_of_stock", "second"), ("unrequested_cancel", "")]
    store.remove(other)
    assert store.current("shop", "cancel_rate")["cause"].tolist() == ["out_of_stock"]
    history = store.history("shop")
    assert len(history) == 3 and history.set_index("id").loc[other, "removed"] == 1
    assert history.set_index("id").loc[first, "note"] == "first"  # the history keeps what was superseded


def test_index_cells_take_the_colour_of_their_status(tmp_path):
    pol = load_policy()
    cell = lambda status, rate: {"status": status, "rate": rate, "segment": "MFN", "numerator": 1,  # noqa: E731
                                 "denominator": 10}
    outcomes = {
        "a-shop": Outcome("a-shop", True, html="a-shop.html", row={"odr:MFN": cell("breach", 0.1),
                                                                   "odr:AFN": cell("at_risk", 0.02)}),
        "b-shop": Outcome("b-shop", True, html="b-shop.html", row={"odr:MFN": cell("ok", 0.001)}),
        "c-shop": Outcome("c-shop", False, reason="c-shop/orders.csv: required file missing"),
    }
    # ODR's cells are seller-fulfilled and FBA apart (odr:MFN, odr:AFN), then cancel rate (no value here).
    page = write_index(tmp_path, dt.date(2026, 3, 8), "en", pol, {}, outcomes, "x").read_text(encoding="utf-8")
    rows = {r.split("</td>")[0]: r for r in page.split("<tr")[2:]}

    def colours(account: str) -> list[str]:
        row = next(v for k, v in rows.items() if account in k)
        return [part.split(";")[0].split('"')[0].strip() for part in row.split('style="background: ')[1:]]

    assert colours("a-shop")[:3] == [STATUS_COLOURS["breach"], STATUS_COLOURS["at_risk"], STATUS_COLOURS["no_data"]]
    assert colours("b-shop")[0] == STATUS_COLOURS["ok"]
    assert "c-shop/orders.csv: required file missing" in page


def test_fail_on_at_risk_and_breach(tmp_path):
    # An empty feedback file: ODR is counted (no defect), not "no input".
    (cancel_account(tmp_path) / "feedback.csv").write_text("order_id,feedback_date,rating\n")
    # As of 16 March the cancel window (10..16 March) holds 10 orders, none cancelled: OK by rate but
    # one cancellation would breach (headroom 0), so at risk; so is ODR for MFN and all orders (20
    # orders of 1..2 March in its window, no defect). No metric is in breach. Every one of these
    # windows lies partly outside the data (1..10 March): --fail-on ignores them unless asked.
    base = ("metrics", str(tmp_path), "--as-of", "2026-03-16", "--format", "csv")
    out = run(*base).stdout
    assert out.count(",at_risk,") == 3 and ",breach," not in out
    assert run(*base, "--fail-on", "breach").returncode == 0
    quiet = run(*base, "--fail-on", "at_risk")
    assert quiet.returncode == 0 and "ignores 3 at_risk value(s) computed on part of their window" in quiet.stderr
    loud = run(*base, "--fail-on", "at_risk", "--include-partial")
    assert loud.returncode == 1
    assert "--fail-on at_risk: acct: odr (MFN, all)" in loud.stderr
    assert "--fail-on at_risk: acct: cancel_rate (MFN)" in loud.stderr
    # As of 10 March the cancel window (4..10 March) is whole: 5 of 70, a breach.
    hit = run("metrics", str(tmp_path), "--as-of", "2026-03-10", "--fail-on", "breach")
    assert hit.returncode == 1 and "--fail-on breach: acct: cancel_rate (MFN)" in hit.stderr


@pytest.mark.slow
def test_sample_as_parquet_and_duckdb_counts_the_same(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from peers import duckdb_series

    from perfkit.analysis.portfolio import portfolio_series

    res = run("sample", str(tmp_path), "--accounts", "2", "--days", "120", "--format", "parquet",
              "--daily-orders", "40")
    assert res.returncode == 0, res.stderr
    folders = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(folders) == 2 and all((f / "orders.parquet").is_file() for f in folders)
    lo, hi = dt.date(2026, 9, 1), dt.date(2026, 11, 15)
    ours, failures = portfolio_series(tmp_path, start=lo, end=hi,
                                      metrics=["odr", "cancel_rate", "late_shipment_rate_10d"])
    assert failures == {}
    duck = duckdb_series(tmp_path, {f.name: (lo, hi) for f in folders}, threads=1)
    key = ["account_id", "metric", "segment", "as_of"]
    both = ours.merge(duck, on=key, suffixes=("", "_duck"))
    assert len(both) == len(ours) > 0
    assert (both["numerator"] == both["numerator_duck"]).all() and (both["denominator"] == both["denominator_duck"]).all()


def test_the_report_badge_says_why_too(tmp_path):
    from perfkit.report.page import AccountReport

    page = AccountReport.build(SAMPLE_ROOT, "uk-homechoice", "2026-11-15", causes_db=tmp_path / "c.sqlite").status_table()
    # HomeChoice's cancel rate misses its target on 15 November (the sample's stock-out).
    assert "title='misses Amazon&#x27;s target (&lt; 2.5%)'>Breach<" in page
