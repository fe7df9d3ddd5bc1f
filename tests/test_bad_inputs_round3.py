"""The bad-input matrix, round 3 (issue #22's semantic part), through the real ``perfkit`` command:
invisible characters in order ids, conflicting item rows, one day/month order per date column,
events before their order, unknown claim statuses and the --jobs bound. Each case is an exact
expectation on a hand-built account (the counts are in the comments).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.test_bad_inputs import AS_OF, cli, good, rows_of
from tests.test_bad_outputs import one_line_error


# --- --jobs is bounded ----------------------------------------------------------------------------

CORES = os.cpu_count() or 1


@pytest.mark.parametrize("command, value, fragment", [
    ("metrics", "0", f"--jobs 0: give a number from 1 to {4 * CORES} processes"),
    ("metrics", "-3", f"--jobs -3: give a number from 1 to {4 * CORES} processes"),
    ("metrics", str(4 * CORES + 1), f"--jobs {4 * CORES + 1}: give a number from 1 to {4 * CORES}"),
    ("report", "100000", f"--jobs 100000: give a number from 1 to {4 * CORES}"),
    ("pull", "0", "--jobs 0: give a number from 1 to 32 accounts pulled at once"),
    ("pull", "1000", "--jobs 1000: give a number from 1 to 32 accounts pulled at once"),
])
def test_jobs_out_of_bounds_is_one_line(tmp_path, command, value, fragment):
    good(tmp_path / "data", "good-a")
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", command, str(tmp_path / "data"), "--jobs", value],
                         capture_output=True, text=True, timeout=60)
    one_line_error(res, fragment)


def test_jobs_at_the_bound_runs(tmp_path):
    good(tmp_path / "data", "good-a")
    res = cli("metrics", str(tmp_path / "data"), "--as-of", AS_OF, "--format", "csv", "--jobs", str(4 * CORES))
    assert res.returncode == 0, res.stderr
    assert rows_of(res.stdout, "good-a")


def metrics_csv(root, *extra: str) -> subprocess.CompletedProcess:
    res = cli("metrics", str(root), "--as-of", AS_OF, "--format", "csv", *extra)
    assert res.returncode == 0, res.stderr
    return res


# --- invisible characters in order ids ------------------------------------------------------------

A, B, C, D = "111-0000001-0000001", "111-0000002-0000002", "111-0000003-0000003", "111-0000004-0000004"
AMAZON_ORDERS = f"""\
order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date,delivered_date
{A},2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-02T10:00:00Z,2026-03-05T10:00:00Z
{B},2026-03-02T10:00:00Z,MFN,Shipped,2026-03-04,2026-03-03T10:00:00Z,2026-03-06T10:00:00Z
{C},2026-03-03T10:00:00Z,AFN,Shipped,,,
{D},2026-03-09T10:00:00Z,MFN,Cancelled,2026-03-11,,
"""


def amazon_events(a: str = A, b: str = B) -> dict[str, str]:
    return {"feedback": f"order_id,feedback_date,rating,comments\n{a},2026-03-06,1,broke\n",
            "claims": f"order_id,claim_date,status,reason\n{b},2026-03-07,granted,late\n",
            "chargebacks": "order_id,chargeback_date,kind\n",
            "returns": f"return_id,order_id,request_date,response_date,decision\nR1,{b},2026-03-08T10:00:00Z,"
                       "2026-03-08T12:00:00Z,authorized\n"}


def test_invisible_characters_in_order_ids_are_taken_out_and_said(tmp_path):
    clean, dirty = tmp_path / "clean", tmp_path / "dirty"
    good(clean, "acct", orders=AMAZON_ORDERS, **amazon_events())
    # orders row 3 ends in a zero-width space, row 4 starts with a BOM; the feedback id holds a DEL
    # and a no-break space, the claim's id has full-width digits and a Unicode minus sign. (A NUL in a
    # CSV makes it a binary file, refused as such; in Parquet it is taken out like these.)
    orders = AMAZON_ORDERS.replace(B, B + "\u200b").replace(C, "\ufeff" + C)
    good(dirty, "acct", orders=orders, **amazon_events(a="111-0000001\x7f-\u00a00000001", b="１１１\u22120000002-0000002"))
    assert metrics_csv(dirty).stdout == metrics_csv(clean).stdout  # every event still finds its order
    check = cli("check", str(dirty))
    assert check.returncode == 0, check.stderr
    assert ("acct/orders.csv, rows 3, 4 (2 in all), column 'order_id': 2 ids held characters no id has (U+200B zero width "
            "space, U+FEFF zero width no-break space), taken out so they match the other files") in check.stdout
    assert "acct/feedback.csv, row 2, column 'order_id': 1 ids held characters no id has (U+007F control, " \
           "U+00A0 no-break space)" in check.stdout
    for name in ("claims", "returns"):  # both name order B
        assert (f"acct/{name}.csv, row 2, column 'order_id': 1 ids held characters no id has (inner spaces, "
                "full-width digits or other dashes)") in check.stdout
    assert "acct/chargebacks.csv" not in check.stdout  # no rows, nothing said


def test_an_id_of_the_sellers_own_keeps_its_inner_spaces(tmp_path):
    orders = "order_id,purchase_date,fulfillment_channel,order_status\nERP 7\u200d,2026-03-01,MFN,Shipped\n" \
             "ERP 8,2026-03-09,MFN,Shipped\n"
    good(tmp_path, "acct", orders=orders, feedback="order_id,feedback_date,rating\nERP 7,2026-03-02,1\n",
         claims=None, chargebacks=None, returns=None)
    check = cli("check", str(tmp_path))
    assert "acct/orders.csv, row 2, column 'order_id': 1 ids held characters no id has (U+200D zero width " \
           "joiner)" in check.stdout, check.stdout
    assert "'ERP 7\\u200d' read as 'ERP 7'" in check.stdout
    assert "name order ids not in the orders" not in check.stdout + check.stderr  # the feedback found ERP 7


# --- conflicting item rows of one order -------------------------------------------------------------

HEAD = ("order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date,delivered_date,"
        "tracking_valid,carrier\n")
ITEMS = [
    # G1's two items: shipped on the 2nd (on time) and the 4th (a day after the ship-by date, late).
    "G1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-02T10:00:00Z,2026-03-05T10:00:00Z,true,UPS\n",
    "G1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-04T10:00:00Z,2026-03-06T10:00:00Z,false,USPS\n",
    # G2's items disagree on the ship-by date: the 3rd (the confirmation on the 3rd is on time) or the 2nd (late).
    "G2,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-03T10:00:00Z,2026-03-06T10:00:00Z,true,UPS\n",
    "G2,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-02,2026-03-03T10:00:00Z,2026-03-06T10:00:00Z,true,UPS\n",
    "G3,2026-03-08T10:00:00Z,MFN,Shipped,2026-03-09,2026-03-09T12:00:00Z,,true,UPS\n",  # on time
]


def _late_shipment(stdout: str) -> dict:
    rows = [r for r in rows_of(stdout, "acct") if r["metric"] == "late_shipment_rate_10d" and r["segment"] == "MFN"]
    return rows[0]


def test_conflicting_item_rows_follow_a_rule_not_the_row_order(tmp_path):
    forward, backward = tmp_path / "f", tmp_path / "b"
    good(forward, "acct", orders=HEAD + "".join(ITEMS))
    good(backward, "acct", orders=HEAD + "".join([ITEMS[1], ITEMS[0], ITEMS[3], ITEMS[2], ITEMS[4]]))
    ahead, behind = metrics_csv(forward), metrics_csv(backward)
    assert ahead.stdout == behind.stdout  # byte for byte, whichever row comes first
    late = _late_shipment(ahead.stdout)
    # 3 MFN orders shipped; G1 (last item on the 4th, ship-by the 3rd) and G2 (earliest ship-by the 2nd,
    # confirmed the 3rd) are late: 2 of 3.
    assert (late["numerator"], late["denominator"]) == ("2", "3"), late
    check = cli("check", str(forward)).stdout
    assert ("acct/orders.csv, rows 2, 3 (2 in all), column 'ship_confirm_date': item rows of 1 orders disagree "
            "(order G1: ") in check and "the latest confirmation is used" in check
    assert ("acct/orders.csv, rows 4, 5 (2 in all), column 'latest_ship_date': item rows of 1 orders disagree "
            "(order G2: ") in check and "the earliest ship-by date is used" in check
    assert "column 'tracking_valid': item rows of 1 orders disagree" in check
    assert "the order's tracking is invalid if any row says so" in check
    assert "column 'carrier': item rows of 1 orders disagree (order G1: UPS, USPS)" in check


# --- claim statuses: other spellings of the known ones, and unknown ones named -----------------------

ORDERS5 = "order_id,purchase_date,fulfillment_channel,order_status\n" + "".join(
    f"G{i},2026-01-{10 + i:02d}T10:00:00Z,MFN,Shipped\n" for i in range(1, 6)) + "G9,2026-03-09T10:00:00Z,MFN,Shipped\n"


def _claims_rate(tmp_path, name: str, statuses: list[str]) -> tuple[dict, str]:
    claims = "order_id,claim_date,status\n" + "".join(f"G{i},2026-01-{20 + i},{s}\n" for i, s in enumerate(statuses, 1))
    good(tmp_path / name, "acct", orders=ORDERS5, claims=claims, feedback=None, returns=None, chargebacks=None)
    res = cli("metrics", str(tmp_path / name), "--as-of", "2026-03-09", "--format", "csv")
    assert res.returncode == 0, res.stderr
    row = [r for r in rows_of(res.stdout, "acct") if r["metric"] == "odr_claims" and r["segment"] == "MFN"][0]
    return row, res.stderr


def test_chinese_and_seller_central_spellings_of_claim_statuses_are_the_known_ones(tmp_path):
    english, _ = _claims_rate(tmp_path, "en", ["granted", "denied", "withdrawn", "pending", "closed"])
    spelled, said = _claims_rate(tmp_path, "zh", ["已批准", "已拒绝", "已撤回", "待处理", "decided in seller's favor"])
    # English: granted, pending and closed count (denied and withdrawn do not): 3 of 5 orders.
    # The other spelling: 已批准 and 待处理 count; 已拒绝 and "decided in seller's favor" are denied, 已撤回 withdrawn: 2.
    assert (english["numerator"], english["denominator"]) == ("3", "5"), english
    assert (spelled["numerator"], spelled["denominator"]) == ("2", "5"), spelled
    assert "unknown claim status" not in said


def test_an_unknown_claim_status_is_named_with_how_it_counts(tmp_path):
    row, said = _claims_rate(tmp_path, "odd", ["granted", "escalated", "escalated", "denied", "refunded"])
    # granted, the two "escalated" and "refunded" count (unknown statuses count as the policy says): 4 of 5.
    assert (row["numerator"], row["denominator"]) == ("4", "5"), row
    assert ("acct/claims.csv, rows 3, 4, 6 (3 in all), column 'status': unknown claim status 'escalated', "
            "'refunded'; counted against the seller like a granted claim") in said, said


# --- events before their order ------------------------------------------------------------------------

def test_events_before_their_order_are_said_and_counted_as_given(tmp_path):
    orders = ("order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date,delivered_date\n"
              "G1,2026-03-05T10:00:00Z,MFN,Shipped,2026-03-04,2026-03-05T12:00:00Z,2026-03-06T10:00:00Z\n"  # ship-by first
              "G2,2026-03-02T10:00:00Z,MFN,Shipped,2026-03-04,2026-03-03T10:00:00Z,2026-03-02T12:00:00Z\n"  # delivered first
              "G3,2026-03-09T10:00:00Z,MFN,Shipped,2026-03-11,,\n")
    good(tmp_path, "acct", orders=orders,
         feedback="order_id,feedback_date,rating\nG3,2026-03-01,1\nG1,2026-03-06,5\n",  # row 2: before G3's purchase
         claims="order_id,claim_date,status\nG1,2026-03-06,granted\nG2,2026-03-01,granted\n",  # row 3: before G2's
         chargebacks=None, returns=None)
    res = cli("check", str(tmp_path))
    assert res.returncode == 0, res.stderr
    given = "counted as given (each date where it falls): check the export's time zone or the dates"
    for line in ("acct/orders.csv, row 2, column 'latest_ship_date': earlier than the purchase date (order G1)",
                 "acct/orders.csv, row 3, column 'delivered_date': earlier than the ship confirmation (order G2)",
                 "acct/feedback.csv, row 2, column 'feedback_date': earlier than its order's purchase date (order G3)",
                 "acct/claims.csv, row 3, column 'claim_date': earlier than its order's purchase date (order G2)"):
        assert f"{line}; {given}" in res.stdout, (line, res.stdout)
    assert res.stdout.count("earlier than") == 4  # G1's feedback and claim are after its purchase: nothing said
    # Counted as given: G1 shipped on the 5th after its ship-by (the 4th): 1 late of the 2 MFN orders due by the 9th.
    late = [r for r in rows_of(metrics_csv(tmp_path).stdout, "acct")
            if r["metric"] == "late_shipment_rate_10d" and r["segment"] == "MFN"][0]
    assert (late["numerator"], late["denominator"]) == ("1", "2"), late


# --- one day/month order per date column --------------------------------------------------------------

def _feedback_report(*dates: str) -> str:
    """An Amazon Feedback report (tab-separated, short local dates) with one row per date, on G1."""
    return "Date\tRating\tComments\tOrder ID\n" + "".join(f"{d}\t5\tfine\tG1\n" for d in dates)


def test_a_date_column_holding_both_day_month_orders_is_refused_naming_the_rows(tmp_path):
    # Row 2 can only be month-first (13 is no month), row 4 only day-first; row 3 could be either.
    good(tmp_path, "acct", feedback=None, **{"feedback.txt": _feedback_report("03/13/26", "03/06/26", "13/03/26")})
    res = cli("check", str(tmp_path))
    assert res.returncode == 2 and "Traceback" not in res.stdout + res.stderr
    assert ("acct/feedback.txt, rows 2, 4 (2 in all), column 'feedback_date': one column holds dates in both "
            "day/month orders: row 4 day-first (13/03/26), row 2 month-first (03/13/26)") in res.stdout, res.stdout


def test_a_value_that_proves_the_order_decides_the_whole_column(tmp_path):
    import perfkit as pk

    # A US account (month-first), but 13/03/26 exists only day-first: 07/03/26 is then 7 March, not 3 July.
    good(tmp_path, "acct", feedback=None, **{"feedback.txt": _feedback_report("07/03/26", "13/03/26")})
    res = cli("check", str(tmp_path))
    assert res.returncode == 0, res.stdout
    assert ("acct/feedback.txt, column 'feedback_date': dates such as '13/03/26' are only possible day-first, so "
            "the whole column is read that way (the marketplace writes month-first)") in res.stdout
    days = pk.load_account(tmp_path / "acct").feedback["feedback_date"].dt.strftime("%Y-%m-%d").tolist()
    assert days == ["2026-03-07", "2026-03-13"]


def test_a_column_nothing_disambiguates_follows_the_marketplace(tmp_path):
    import perfkit as pk

    good(tmp_path, "acct", feedback=None, **{"feedback.txt": _feedback_report("03/07/26", "03/08/26")})
    assert "only possible" not in cli("check", str(tmp_path)).stdout
    days = pk.load_account(tmp_path / "acct").feedback["feedback_date"].dt.strftime("%Y-%m-%d").tolist()
    assert days == ["2026-03-07", "2026-03-08"]  # US: month-first


# --- the wrong kind of failure: the issue's list, for the commands tests/test_bad_outputs.py leaves out ---

@pytest.mark.parametrize("args, fragment", [
    (["report", "{data}", "--as-of", "2026-W42-4"], "--as-of '2026-W42-4' is not a date; write it as YYYY-MM-DD"),
    (["poa", "{data}", "--account", "good-a", "--metric", "odr", "--as-of", "2026-W42-4"],
     "--as-of '2026-W42-4' is not a date"),
    (["report", "{data}", "--scheduler", "garbage://x"], "--scheduler 'garbage://x': not a Dask scheduler address"),
    (["metrics", "{data}", "--out", "{data}/good-a"], "is a folder; give a file name"),
    (["metrics", "{data}", "--out", "/dev/full"], "--out /dev/full: is a device or a pipe, not a regular file"),
    (["poa", "{data}", "--account", "good-a", "--metric", "odr", "--out", "/dev/null"], "is a device or a pipe"),
])
def test_each_mistake_of_the_issue_is_one_line_and_exit_2(tmp_path, args, fragment):
    good(tmp_path / "data", "good-a")
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", *[a.format(data=tmp_path / "data") for a in args]],
                         capture_output=True, text=True, timeout=60)
    one_line_error(res, fragment)


def test_a_nul_in_a_parquet_order_id_is_taken_out(tmp_path):
    import pandas as pd

    good(tmp_path, "acct", orders=None, feedback="order_id,feedback_date,rating\nG1,2026-03-06,1\n",
         claims=None, chargebacks=None, returns=None)
    pd.DataFrame({"order_id": ["G1\x00", "G2"], "purchase_date": ["2026-03-01T10:00:00Z", "2026-03-09T10:00:00Z"],
                  "fulfillment_channel": ["MFN", "MFN"], "order_status": ["Shipped", "Shipped"]}).to_parquet(
        tmp_path / "acct" / "orders.parquet")
    res = cli("check", str(tmp_path))
    assert res.returncode == 0, res.stdout
    assert "acct/orders.parquet, row 2, column 'order_id': 1 ids held characters no id has (U+0000 control)" \
        in res.stdout, res.stdout
    assert "name order ids not in the orders" not in res.stdout + res.stderr  # the feedback found G1
