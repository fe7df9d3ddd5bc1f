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
