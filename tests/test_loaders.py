"""The input contract, rule by rule, each on a tiny hand-made file."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfkit.core.errors import DataError, PerfkitError
from perfkit.engine import registry
from perfkit.loading.loader import load_account, load_accounts

from .conftest import write_account

BASIC = """\
order_id,purchase_date,fulfillment_channel,order_status
A1,2026-03-01T10:00:00,MFN,Shipped
A2,2026-03-02T12:00:00Z,AFN,Shipped
"""


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def test_canonical_folder_loads_with_identity(tmp_path):
    folder = write_account(tmp_path, "shop-1", tz="America/Los_Angeles", name="山峰户外", marketplace="US",
                           orders=BASIC)
    acc = load_account(folder)
    assert (acc.account_id, acc.name, acc.marketplace, acc.timezone) == ("shop-1", "山峰户外", "US",
                                                                          "America/Los_Angeles")
    assert acc.orders["order_id"].tolist() == ["A1", "A2"]
    # Local 10:00 in Los Angeles on 1 March (PST, UTC-8) is 18:00 UTC; "Z" is already UTC.
    assert acc.orders["purchase_date"].tolist() == [ts("2026-03-01T18:00:00Z"), ts("2026-03-02T12:00:00Z")]


def test_missing_account_json_means_utc_and_folder_name(tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "orders.csv").write_text(BASIC, encoding="utf-8")
    acc = load_account(folder)
    assert (acc.timezone, acc.name) == ("UTC", "plain")
    assert acc.orders["purchase_date"].iat[0] == ts("2026-03-01T10:00:00Z")


def test_datetime_rules_offsets_bare_dates_and_deadlines(tmp_path):
    folder = write_account(tmp_path, tz="Asia/Shanghai", orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date
        A1,2026-03-01,MFN,Shipped,2026-03-03,2026-03-01T23:30:00+00:00
        A2,2026-03-01T08:00:00-05:00,MFN,Shipped,2026-03-03T12:00:00,2026-03-02T09:15
        """)
    o = load_account(folder).orders
    # A bare purchase date is the start of the local day: 00:00 in Shanghai is 16:00 UTC the day before.
    assert o["purchase_date"].iat[0] == ts("2026-02-28T16:00:00Z")
    # A bare deadline is the end of the local day: 23:59:59 Shanghai = 15:59:59 UTC.
    assert o["latest_ship_date"].iat[0] == ts("2026-03-03T15:59:59Z")
    assert o["latest_ship_date"].iat[1] == ts("2026-03-03T04:00:00Z")
    assert o["ship_confirm_date"].iat[0] == ts("2026-03-01T23:30:00Z")
    assert o["purchase_date"].iat[1] == ts("2026-03-01T13:00:00Z")
    assert o["ship_confirm_date"].iat[1] == ts("2026-03-02T01:15:00Z")


def test_bool_spellings_and_empty_means_false(tmp_path):
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,buyer_requested_cancel,is_business_order
        A1,2026-03-01,MFN,Cancelled,TRUE,yes
        A2,2026-03-01,MFN,Cancelled,0,N
        A3,2026-03-01,MFN,Cancelled,Y,1
        A4,2026-03-01,MFN,Cancelled,,no
        A5,2026-03-01,MFN,Cancelled,False,
        """)
    o = load_account(folder).orders
    assert o["buyer_requested_cancel"].tolist() == [True, False, True, False, False]
    assert o["is_business_order"].tolist() == [True, False, True, False, False]


def test_tracking_valid_defaults_to_having_a_tracking_id(tmp_path):
    from perfkit.engine.context import AccountContext

    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,tracking_id,tracking_valid
        A1,2026-03-01,MFN,Shipped,1Z999,
        A2,2026-03-01,MFN,Shipped,,
        A3,2026-03-01,MFN,Shipped,1Z998,false
        """)
    # The loader keeps what the file says (empty where it says nothing); the engine's rule fills the gaps.
    assert load_account(folder).orders["tracking_valid"].isna().tolist() == [True, True, False]
    assert AccountContext.of(folder).days.tracking_valid.tolist() == [True, False, False]


def test_channel_and_status_spellings(tmp_path):
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status
        A1,2026-03-01,Merchant,Canceled
        A2,2026-03-01,Amazon,shipped
        A3,2026-03-01,mfn,Unshipped
        A4,2026-03-01,AFN,Pending
        """)
    o = load_account(folder).orders
    assert o["fulfillment_channel"].astype(str).tolist() == ["MFN", "AFN", "MFN", "AFN"]
    assert o["order_status"].astype(str).tolist() == ["Cancelled", "Shipped", "Unshipped", "Pending"]


def test_repeated_item_rows_are_one_order_with_a_warning(tmp_path):
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,category
        A1,2026-03-01,MFN,Shipped,Toys
        A1,2026-03-01,MFN,Shipped,
        A2,2026-03-01,MFN,Shipped,Garden
        A1,2026-03-01,MFN,Shipped,Toys
        """)
    acc = load_account(folder)
    assert acc.orders["order_id"].tolist() == ["A1", "A2"]
    assert acc.orders["category"].tolist() == ["Toys", "Garden"]
    assert any("3 rows repeat 1 order ids" in w for w in acc.warnings)


def test_events_point_at_their_merged_order(tmp_path):
    # A1 repeats (rows 1 and 3), so the merged orders are A1, A2, A3 and each event names one of them.
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status
        A1,2026-03-01,MFN,Shipped
        A2,2026-03-02,MFN,Shipped
        A1,2026-03-01,MFN,Shipped
        A3,2026-03-03,AFN,Shipped
        """, feedback="""\
        order_id,feedback_date,rating
        A3,2026-03-10,1
        ZZ,2026-03-10,1
        A1,2026-03-11,2
        A3,2026-03-12,5
        """)
    acc = load_account(folder)
    assert acc.orders["order_id"].tolist() == ["A1", "A2", "A3"]
    assert acc.feedback["order_id"].tolist() == ["A3", "A1", "A3"]
    assert acc.feedback["_order"].tolist() == [2, 0, 2]
    assert any("1 rows name order ids not in the orders (e.g. ZZ)" in w for w in acc.warnings)


@pytest.mark.parametrize("sep,suffix", [("\t", ".tsv"), ("\t", ".txt")])
def test_tab_separated_files_load(tmp_path, sep, suffix):
    folder = write_account(tmp_path, **{f"orders{suffix}": BASIC.replace(",", sep)})
    assert load_account(folder).orders["order_id"].tolist() == ["A1", "A2"]


def test_parquet_loads_the_same_columns(tmp_path):
    csv_acc = load_account(write_account(tmp_path / "a", orders=BASIC, tz="Europe/Berlin"))
    folder = write_account(tmp_path / "b", tz="Europe/Berlin")
    pd.read_csv(folder.parent.parent / "a" / "acct" / "orders.csv", dtype=str).to_parquet(folder / "orders.parquet")
    pq_acc = load_account(folder)
    cols = ["order_id", "purchase_date", "fulfillment_channel", "order_status"]
    pd.testing.assert_frame_equal(csv_acc.orders[cols], pq_acc.orders[cols])


def test_parquet_with_typed_timestamps(tmp_path):
    folder = write_account(tmp_path, tz="America/New_York")
    pd.DataFrame({
        "order_id": ["A1", "A2"],
        "purchase_date": pd.to_datetime(["2026-03-01 10:00", "2026-03-01 11:00"]),  # naive = local
        "fulfillment_channel": ["MFN", "AFN"],
        "order_status": ["Shipped", "Shipped"],
        "refund_date": pd.to_datetime(["2026-03-05 10:00", None]).tz_localize("UTC"),
    }).to_parquet(folder / "orders.parquet")
    o = load_account(folder).orders
    assert o["purchase_date"].iat[0] == ts("2026-03-01T15:00:00Z")
    assert o["refund_date"].iat[0] == ts("2026-03-05T10:00:00Z")
    assert pd.isna(o["refund_date"].iat[1])


def test_parquet_text_columns_with_few_values_follow_every_rule(tmp_path):
    # Parquet stores these columns dictionary-encoded; they must still be mapped and checked.
    folder = write_account(tmp_path)
    pd.DataFrame({
        "order_id": ["A1", "A2", "A3", "A4"],
        "purchase_date": ["2026-03-01"] * 4,
        "fulfillment_channel": ["Merchant", " fba", "MFN", "Amazon"],
        "order_status": ["Shipped", "cancelled", "Shipped", "Pending"],
        "buyer_requested_cancel": ["", "yes", "no", ""],
        "category": [" Toys", "Toys", "", None],
        "carrier": ["UPS", "UPS", "", "DHL"],
    }).to_parquet(folder / "orders.parquet")
    pd.DataFrame({"order_id": ["A1"], "claim_date": ["2026-03-04"], "status": [" Denied"]}).to_parquet(
        folder / "claims.parquet")
    acc = load_account(folder)
    o = acc.orders
    assert o["fulfillment_channel"].astype(str).tolist() == ["MFN", "AFN", "MFN", "AFN"]
    assert o["order_status"].astype(str).tolist() == ["Shipped", "Cancelled", "Shipped", "Pending"]
    assert o["buyer_requested_cancel"].tolist() == [False, True, False, False]
    assert o["category"].tolist()[:2] == ["Toys", "Toys"] and o["category"].isna().tolist()[2:] == [True, True]
    assert o["carrier"].isna().tolist() == [False, False, True, False]
    assert acc.claims["status"].tolist() == ["denied"]
    pd.DataFrame({"order_id": ["A1"], "purchase_date": ["2026-03-01"], "fulfillment_channel": ["Seller"],
                  "order_status": ["Shipped"]}).to_parquet(folder / "orders.parquet")
    with pytest.raises(DataError, match=r"acct/orders.parquet, row 2, column 'fulfillment_channel': unknown value"):
        load_account(folder)
    pd.DataFrame({"order_id": ["A1"], "purchase_date": ["2026-03-01"], "fulfillment_channel": ["MFN"],
                  "order_status": [" "]}).to_parquet(folder / "orders.parquet")
    with pytest.raises(DataError, match=r"row 2, column 'order_status': required value is empty"):
        load_account(folder)


def test_utf8_bom_gb18030_and_utf16_load_chinese_text(tmp_path):
    text = "order_id,purchase_date,fulfillment_channel,order_status,category\nA1,2026-03-01,MFN,Shipped,厨房用品\n"
    for enc, sep, fname in (("utf-8-sig", ",", "orders.csv"), ("gb18030", ",", "orders.csv"),
                            ("utf-16", "\t", "orders.txt")):
        folder = write_account(tmp_path / enc)
        (folder / fname).write_bytes(text.replace(",", sep).encode(enc))
        assert load_account(folder).orders["category"].tolist() == ["厨房用品"], enc


def test_png_renamed_to_orders_csv_is_a_clear_error(tmp_path):
    folder = write_account(tmp_path)
    (folder / "orders.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DataError) as err:
        load_account(folder)
    assert "acct/orders.csv" in str(err.value) and "not a text table" in str(err.value)


def test_undecodable_text_names_the_encoding_problem(tmp_path):
    folder = write_account(tmp_path)
    # 0x81 is in no encoding a US account's file may be in (not Windows-1252, and not GB18030
    # before a space); \xff\xfe\xfa\x80 alone would be Windows-1252's "ÿþú€".
    body = BASIC.encode() + b"A3,2026-03-01,MFN,Shipped\x81 \n"
    (folder / "orders.csv").write_bytes(body)
    offset = body.index(b"\x81")
    with pytest.raises(DataError, match=rf"acct/orders.csv: cannot be read as text: byte 0x81 at offset {offset} "
                       r"is not UTF-8, and the file is neither Windows-1252 .* nor GB18030 .*, the encodings tried for a US "
                       r"account; expected the file's encoding named in the account's mapping.json"):
        load_account(folder)


# --- errors: each names the file, the rows, the column, what was found and what is expected ---


def error_for(tmp_path, **tables) -> str:
    folder = write_account(tmp_path, **tables)
    with pytest.raises(PerfkitError) as err:
        load_account(folder)
    return str(err.value)


def test_missing_orders_file(tmp_path):
    msg = error_for(tmp_path, feedback="order_id,feedback_date,rating\n")
    assert msg.startswith("acct/orders.csv: required file missing")


def test_missing_required_column(tmp_path):
    msg = error_for(tmp_path, orders="order_id,purchase_date,order_status\nA1,2026-03-01,Shipped\n")
    assert "acct/orders.csv" in msg and "column 'fulfillment_channel'" in msg and "required column missing" in msg


def test_unparsable_date_names_rows_column_and_value(tmp_path):
    msg = error_for(tmp_path, orders=BASIC + "A3,03/14/2026 noon,MFN,Shipped\nA4,2026-03-32,MFN,Shipped\n")
    assert msg.startswith("acct/orders.csv, rows 4, 5 (2 in all), column 'purchase_date': cannot read as a date")
    assert "'03/14/2026 noon', '2026-03-32'" in msg and "expected an ISO 8601" in msg


def test_unknown_channel(tmp_path):
    msg = error_for(tmp_path, orders=BASIC + "A3,2026-03-01,Seller,Shipped\n")
    assert msg.startswith("acct/orders.csv, row 4, column 'fulfillment_channel': unknown value (found 'Seller')")
    assert "expected MFN or AFN" in msg


def test_unknown_status(tmp_path):
    msg = error_for(tmp_path, orders=BASIC + "A3,2026-03-01,MFN,Lost\n")
    assert msg.startswith("acct/orders.csv, row 4, column 'order_status': unknown value (found 'Lost')")


def test_bad_bool(tmp_path):
    msg = error_for(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,is_business_order
        A1,2026-03-01,MFN,Shipped,maybe
        """)
    assert msg.startswith("acct/orders.csv, row 2, column 'is_business_order': unknown value (found 'maybe')")


def test_rating_outside_1_to_5(tmp_path):
    msg = error_for(tmp_path, orders=BASIC, feedback="""\
        order_id,feedback_date,rating
        A1,2026-03-05,5
        A2,2026-03-05,6
        A1,2026-03-06,0
        """)
    assert msg.startswith("acct/feedback.csv, rows 3, 4 (2 in all), column 'rating': rating out of range")
    assert "expected a whole number from 1 to 5" in msg


def test_duplicate_return_id(tmp_path):
    msg = error_for(tmp_path, orders=BASIC, returns="""\
        return_id,order_id,request_date
        R1,A1,2026-03-05
        R1,A2,2026-03-06
        """)
    assert msg.startswith("acct/returns.csv, rows 2, 3 (2 in all), column 'return_id': duplicate return id")


def test_empty_required_value(tmp_path):
    msg = error_for(tmp_path, orders=BASIC + ",2026-03-01,MFN,Shipped\n")
    assert msg.startswith("acct/orders.csv, row 4, column 'order_id': required value is empty")


@pytest.mark.parametrize("table,text,column", [
    ("orders", BASIC + "A3, ,MFN,Shipped\n", "purchase_date"),
    ("orders", BASIC + "A3,2026-03-01,,Shipped\n", "fulfillment_channel"),
    ("orders", BASIC + "A3,2026-03-01,MFN,  \n", "order_status"),
    ("feedback", "order_id,feedback_date,rating\nA1,2026-03-05,5\nA2,2026-03-06,\n", "rating"),
    ("feedback", "order_id,feedback_date,rating\nA1,2026-03-05,5\nA2,,4\n", "feedback_date"),
])
def test_each_required_column_refuses_a_blank(tmp_path, table, text, column):
    tables = {"orders": BASIC, table: text}
    row = 4 if table == "orders" else 3
    msg = error_for(tmp_path, **tables)
    assert msg.startswith(f"acct/{table}.csv, row {row}, column '{column}': required value is empty"), msg


@pytest.mark.parametrize("bad", ["my shop", "..", "a" * 65, "shop.1"])
def test_unsafe_account_id_is_refused(tmp_path, bad):
    folder = tmp_path / "sub" / bad
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.csv").write_text(BASIC)
    with pytest.raises(PerfkitError, match="is not a safe name"):
        load_account(folder)


def test_unsafe_account_option_is_refused(tmp_path):
    write_account(tmp_path, "good", orders=BASIC)
    res = run_cli("metrics", str(tmp_path), "--account", "../good")
    assert res.returncode == 2 and "account id '../good' is not a safe name" in res.stderr


def test_bad_timezone(tmp_path):
    folder = write_account(tmp_path, tz="Mars/Olympus", orders=BASIC)
    with pytest.raises(DataError, match=r"acct/account.json, column 'timezone': unknown time zone \(found 'Mars/Olympus'\)"):
        load_account(folder)


def test_ragged_csv_is_a_clear_error(tmp_path):
    msg = error_for(tmp_path, orders=BASIC + "A3,2026-03-01,MFN,Shipped,extra,fields\n")
    # BASIC's header has 4 fields; the added row, row 4 of the file, has 6.
    assert msg.startswith("acct/orders.csv, row 4: has 6 fields where the header has 4 (more")


# --- warnings: harmless oddities are counted and shown ---


def test_events_for_unknown_orders_are_reported_and_left_out(tmp_path):
    folder = write_account(tmp_path, orders=BASIC, claims="""\
        order_id,claim_date,status
        A1,2026-03-10,granted
        ZZ9,2026-03-10,granted
        ZZ8,2026-03-11,pending
        """)
    acc = load_account(folder)
    assert acc.claims["order_id"].tolist() == ["A1"]
    assert any("claims: 2 rows name order ids not in the orders (e.g. ZZ9, ZZ8)" in w for w in acc.warnings)


def test_missing_optional_inputs_are_listed(tmp_path):
    acc = load_account(write_account(tmp_path, orders=BASIC))
    assert {"feedback", "claims", "chargebacks", "returns", "orders.latest_ship_date"} <= set(acc.missing)
    assert any(w.startswith("missing input feedback") for w in registry.account_notes(acc))
    assert len(acc.feedback) == 0 and "rating" in acc.feedback.columns


def test_claim_status_any_case_and_unknown_kept(tmp_path):
    acc = load_account(write_account(tmp_path, orders=BASIC, claims="""\
        order_id,claim_date,status,reason
        A1,2026-03-10,GRANTED,<b>never came</b>
        A2,2026-03-10,Escalated,
        """))
    assert acc.claims["status"].tolist() == ["granted", "escalated"]
    assert acc.claims["reason"].iat[0] == "<b>never came</b>"


def test_chargeback_kind_defaults_to_service(tmp_path):
    acc = load_account(write_account(tmp_path, orders=BASIC, chargebacks="""\
        order_id,chargeback_date,kind
        A1,2026-03-10,
        A2,2026-03-10,fraud
        """))
    assert acc.chargebacks["kind"].tolist() == ["service", "fraud"]


# --- Amazon's own reports and mapped exports ---

ALL_ORDERS = (
    "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\t"
    "sales-channel\tproduct-name\tsku\tquantity\tis-business-order\n"
    "111-0000001-0000001\t\t2026-03-01T10:00:00+00:00\t2026-03-02T10:00:00+00:00\tShipped\tMerchant\tAmazon.com\tLamp\tL1\t1\tfalse\n"
    "111-0000001-0000001\t\t2026-03-01T10:00:00+00:00\t2026-03-02T10:00:00+00:00\tShipped\tMerchant\tAmazon.com\tBulb\tB1\t2\tfalse\n"
    "111-0000002-0000002\t\t2026-03-01T11:00:00+00:00\t2026-03-02T10:00:00+00:00\tShipped - Delivered to Buyer\tAmazon\tAmazon.com\tDesk\tD1\t1\ttrue\n"
)
SHIP_DATES = (
    "order-id\torder-item-id\tpurchase-date\tpayments-date\tlatest-ship-date\tlatest-delivery-date\tsku\n"
    "111-0000001-0000001\t1\t2026-03-01T10:00:00+00:00\t2026-03-01T10:05:00+00:00\t2026-03-03T07:59:59+00:00\t2026-03-09T07:59:59+00:00\tL1\n"
)
FEEDBACK_REPORT = (
    "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n"
    "3/15/26\t1\tBroken <script>alert(1)</script>\t\t111-0000001-0000001\tx@example.com\n"
    "3/16/26\t5\tGreat\t\t111-0000002-0000002\ty@example.com\n"
)
RETURNS_REPORT = (
    "Order ID,Order date,Return request date,Return request status,Amazon RMA ID,Return reason\n"
    "111-0000001-0000001,2026-03-01,2026-03-12,Approved,DRMA1,Defective\n"
)


def test_amazon_reports_combine_by_order_id(tmp_path):
    folder = write_account(tmp_path, marketplace="US", tz="America/Los_Angeles", **{
        "All Orders Report 2026-03.txt": ALL_ORDERS,
        "ship-dates.txt": SHIP_DATES,
        "Feedback.txt": FEEDBACK_REPORT,
        "returns-2026.csv": RETURNS_REPORT,
    })
    acc = load_account(folder)
    o = acc.orders.set_index("order_id")
    assert list(o.index) == ["111-0000001-0000001", "111-0000002-0000002"]
    assert o["fulfillment_channel"].astype(str).tolist() == ["MFN", "AFN"]
    assert o["order_status"].astype(str).tolist() == ["Shipped", "Shipped"]
    assert o["is_business_order"].tolist() == [False, True]
    assert o.loc["111-0000001-0000001", "latest_ship_date"] == ts("2026-03-03T07:59:59Z")
    # US feedback dates are month first: 3/15/26 is 15 March 2026, local midnight in Los Angeles.
    assert acc.feedback["feedback_date"].tolist() == [ts("2026-03-15T07:00:00Z"), ts("2026-03-16T07:00:00Z")]
    assert acc.feedback["rating"].tolist() == [1, 5]
    assert acc.returns[["return_id", "decision"]].values.tolist() == [["DRMA1", "authorized"]]
    assert any("merged by order id" in w for w in acc.warnings)


def test_feedback_report_day_first_outside_north_america(tmp_path):
    acc = load_account(write_account(tmp_path, marketplace="UK", tz="Europe/London", orders=BASIC.replace(
        "A1", "111-0000001-0000001"), **{"Feedback.txt": FEEDBACK_REPORT.replace("3/15/26", "15/03/26")
                                        .replace("3/16/26", "16/03/26")}))
    assert acc.feedback["feedback_date"].iat[0] == ts("2026-03-15T00:00:00Z")


def test_mapping_file_loads_an_erp_export_with_chinese_headers(tmp_path):
    folder = write_account(tmp_path, tz="Asia/Shanghai", orders=BASIC)
    (folder / "erp导出.csv").write_bytes(
        "订单号,发货时间,物流商,运单号,渠道\nA1,2026-03-02 09:30:00,云途,YT123,自发货\n".encode("gb18030"))
    (folder / "mapping.json").write_text(json.dumps({"files": {"erp导出.csv": {
        "table": "orders",
        "columns": {"订单号": "order_id", "发货时间": "ship_confirm_date", "物流商": "carrier",
                    "运单号": "tracking_id", "渠道": "fulfillment_channel"},
        "values": {"fulfillment_channel": {"自发货": "MFN", "亚马逊配送": "AFN"}},
    }}}, ensure_ascii=False), encoding="utf-8")
    o = load_account(folder).orders.set_index("order_id")
    assert o.loc["A1", "carrier"] == "云途" and o.loc["A1", "tracking_id"] == "YT123"
    assert o.loc["A1", "ship_confirm_date"] == ts("2026-03-02T01:30:00Z")


def test_mapping_for_an_absent_file_is_a_warning(tmp_path):
    folder = write_account(tmp_path, orders=BASIC)
    (folder / "mapping.json").write_text(json.dumps({"files": {"shipments.csv": {"table": "orders"}}}))
    acc = load_account(folder)
    assert any("mapping.json names 'shipments.csv', which is not in the folder" in w for w in acc.warnings)


def test_mapping_to_unknown_column_is_refused(tmp_path):
    folder = write_account(tmp_path, orders=BASIC)
    (folder / "mapping.json").write_text(json.dumps({"files": {"x.csv": {"table": "orders",
                                                                         "columns": {"a": "shipping_cost"}}}}))
    with pytest.raises(DataError, match=r"mapping.json: entry 'x.csv' maps to unknown columns \['shipping_cost'\]"):
        load_account(folder)


def test_unknown_extra_file_is_a_warning(tmp_path):
    acc = load_account(write_account(tmp_path, orders=BASIC, **{"notes.csv": "a,b\n1,2\n"}))
    assert any("acct/notes.csv: ignored" in w for w in acc.warnings)


# --- portfolio and CLI ---


def test_load_accounts_collects_failures_and_keeps_the_rest(tmp_path):
    write_account(tmp_path, "good", orders=BASIC)
    write_account(tmp_path, "bad", orders=BASIC + "A3,2026-03-01,XYZ,Shipped\n")
    p = load_accounts(tmp_path)
    assert list(p.accounts) == ["good"]
    assert p.failures["bad"].startswith("bad/orders.csv, row 4, column 'fulfillment_channel'")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", *args], capture_output=True, text=True)


def test_cli_check_prints_summary_and_one_line_errors(tmp_path):
    write_account(tmp_path, "good", orders=BASIC, feedback="order_id,feedback_date,rating\nA1,2026-03-09,2\n")
    write_account(tmp_path, "bad", orders=BASIC.replace("2026-03-02T12:00:00Z", "2026-02-30T12:00:00Z"))
    res = run_cli("check", str(tmp_path))
    assert res.returncode == 2
    assert "Traceback" not in res.stdout + res.stderr
    assert "good: good (US, UTC)" in res.stdout
    # The orders span 1..2 March; the feedback of 9 March is after the account's data day (#20).
    assert "orders: 2  (" in res.stdout and "2026-03-01 to 2026-03-02" in res.stdout
    assert "  after the data: events continue to 2026-03-09, after the last order" in res.stdout
    assert "bad: FAILED: bad/orders.csv, row 3, column 'purchase_date': cannot read as a date" in res.stdout


def test_cli_missing_root_is_one_line(tmp_path):
    res = run_cli("metrics", str(tmp_path / "nowhere"))
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "no such data folder" in res.stderr


# --- the committed sample ---


def test_sample_data_is_what_the_generator_makes(tmp_path):
    from perfkit.loading.sample import generate

    from .conftest import SAMPLE

    generate(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file())
    assert made == committed
    for rel in made:
        assert (tmp_path / rel).read_bytes() == (SAMPLE / rel).read_bytes(), rel


def test_sample_portfolio_is_realistic():
    from .conftest import SAMPLE

    p = load_accounts(SAMPLE)
    assert not p.failures and len(p.accounts) >= 4
    total = sum(f.stat().st_size for f in SAMPLE.rglob("*") if f.is_file())
    assert total < 10 * 1024 * 1024
    names = [a.name for a in p.accounts.values()]
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names)
    assert any(any(ch.isascii() and ch.isalpha() for ch in n) for n in names)
    for acc in p.accounts.values():
        span = acc.orders["purchase_date"].max() - acc.orders["purchase_date"].min()
        assert span >= pd.Timedelta(days=182), acc.account_id
        assert (acc.path / "account.json").is_file()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=" \t\r\nab订\u3000\u00a0\x1c\x85", max_size=6)), max_size=12))
def test_text_is_trimmed_like_python(values):
    # The loader skips trimming when no value can start or end with white space; the result
    # must still be Python's own strip, with blanks missing.
    from perfkit.loading.converting import to_text

    expect = [None if v is None or not v.strip() else v.strip() for v in values]
    got = to_text(pd.Series(values, dtype="str"), lower=False)
    assert [None if pd.isna(v) else v for v in got] == expect


@pytest.mark.parametrize("text,suffix,encoding", [
    ('order_id,comments\n0012,"a, b"\n0013,"two\nlines"\n0014,\n', ".csv", "utf-8"),
    ("order_id\tcomments\n0012\t\"quoted\" text\n", ".tsv", "utf-8"),
    ("\ufefforder_id,comments\nA,北京\n", ".csv", "utf-8"),
    ("order_id,comments\nA,北京 \"好\"\n", ".csv", "gb18030"),
])
def test_arrow_reader_reads_text_like_pandas(tmp_path, text, suffix, encoding):
    from perfkit.loading.reading import read_table_file

    path = tmp_path / f"t{suffix}"
    path.write_bytes(text.encode(encoding))
    got = read_table_file(path)
    want = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep="\t" if suffix == ".tsv" else ",", dtype=str,
                       keep_default_na=False, na_values=[])
    assert list(got.columns) == list(want.columns)
    assert got.astype(object).fillna("<NA>").values.tolist() == want.astype(object).fillna("<NA>").values.tolist()


# Header lists as Amazon publishes them (tab-separated downloads), trimmed to a row or two each.
UNSHIPPED_REPORT = (
    "order-id\torder-item-id\tpurchase-date\tpayments-date\treporting-date\tpromise-date\tdays-past-promise\t"
    "buyer-email\tbuyer-name\tbuyer-phone-number\tsku\tproduct-name\tquantity-purchased\tquantity-shipped\t"
    "quantity-to-ship\tship-service-level\trecipient-name\tship-address-1\tship-address-2\tship-address-3\t"
    "ship-city\tship-state\tship-postal-code\tship-country\tis-business-order\tpurchase-order-number\t"
    "price-designation\n"
    "111-0000003-0000003\t1\t2026-03-02T10:00:00+00:00\t2026-03-02T10:05:00+00:00\t2026-03-02T11:00:00+00:00\t"
    "2026-03-04T07:59:59+00:00\t0\tb@example.com\tB\t\tSKU1\tTent\t1\t0\t1\tStandard\tB\ta\t\t\tc\ts\t1\tUS\t"
    "false\t\t\n"
)
AMAZON_SHIPMENTS_REPORT = (
    "amazon-order-id\tmerchant-order-id\tshipment-id\tshipment-item-id\tamazon-order-item-id\t"
    "merchant-order-item-id\tpurchase-date\tpayments-date\tshipment-date\treporting-date\tbuyer-email\tbuyer-name\t"
    "buyer-phone-number\tsku\tproduct-name\tquantity-shipped\tcurrency\titem-price\titem-tax\tshipping-price\t"
    "shipping-tax\tgift-wrap-price\tgift-wrap-tax\tship-service-level\trecipient-name\tship-address-1\t"
    "ship-address-2\tship-address-3\tship-city\tship-state\tship-postal-code\tship-country\tship-phone-number\t"
    "bill-address-1\tbill-address-2\tbill-address-3\tbill-city\tbill-state\tbill-postal-code\tbill-country\t"
    "item-promotion-discount\tship-promotion-discount\tcarrier\ttracking-number\testimated-arrival-date\t"
    "fulfillment-center-id\tfulfillment-channel\tsales-channel\n"
    "111-0000004-0000004\t\tS1\tSI1\tOI1\t\t2026-03-02T12:00:00+00:00\t2026-03-02T12:01:00+00:00\t"
    "2026-03-03T09:30:00+00:00\t2026-03-03T10:00:00+00:00\tc@example.com\tC\t\tSKU2\tLamp\t1\tUSD\t10\t0\t0\t0\t0\t0\t"
    "Standard\tC\ta\t\t\tc\ts\t1\tUS\t\t\t\t\t\t\t\t\t0\t0\tAMZN_US\tTBA000111\t2026-03-06T20:00:00+00:00\tPHX3\t"
    "Amazon\tAmazon.com\n"
)


def test_unshipped_and_amazon_shipments_reports_are_recognised(tmp_path):
    folder = write_account(tmp_path, marketplace="US", tz="America/Los_Angeles", **{
        "unshipped.txt": UNSHIPPED_REPORT, "fba-shipments.txt": AMAZON_SHIPMENTS_REPORT,
        "orders.csv": "order_id,purchase_date,fulfillment_channel,order_status\n"
                      "111-0000003-0000003,2026-03-02T10:00:00Z,MFN,Unshipped\n"
                      "111-0000004-0000004,2026-03-02T12:00:00Z,AFN,Shipped\n"})
    acc = load_account(folder, cache=False)
    assert sorted(s.split(" (")[1].rstrip(")") for s in acc.sources if "txt" in s) == [
        "Amazon Fulfilled Shipments report", "Amazon Unshipped Orders report"]
    o = acc.orders.set_index("order_id")
    # The unshipped report gives the ship-by instant; the shipments report Amazon's shipment, carrier, tracking.
    assert o.loc["111-0000003-0000003", "latest_ship_date"] == ts("2026-03-04T07:59:59Z")
    assert o.loc["111-0000004-0000004", "ship_confirm_date"] == ts("2026-03-03T09:30:00Z")
    assert (o.loc["111-0000004-0000004", "carrier"], o.loc["111-0000004-0000004", "tracking_id"]) == (
        "AMZN_US", "TBA000111")
    assert str(o.loc["111-0000004-0000004", "fulfillment_channel"]) == "AFN"


def test_iso_dates_the_same_whether_screened_or_not():
    # Four Berlin values: a bare deadline, one in the spring gap, one in the autumn hour that
    # happens twice, an empty cell. With every date in range they take the numpy path; a fifth,
    # 9999-12-31 (an ERP placeholder, read as no date), sends the column through the screening.
    from perfkit.loading.converting import _to_datetime
    from perfkit.loading.schema import TABLES

    col = TABLES["orders"]["latest_ship_date"]  # a deadline: a bare date is the end of the local day
    values = ["2026-03-29", "2026-03-29 02:30:00", "2026-10-25 02:30:00", ""]

    def parse(vals: list[str]) -> list:
        series = pd.Series(vals, dtype="string")
        return _to_datetime(series, "Europe/Berlin", col, "orders.csv", pd.DataFrame({"x": series}), None, []).tolist()

    fast, screened = parse(values), parse(values + ["9999-12-31"])
    utc = [pd.Timestamp(t, tz="UTC") for t in
           ("2026-03-29 21:59:59",  # 23:59:59 CEST (+2)
            "2026-03-29 01:00:00",  # 02:30 does not exist: forward to 03:00 CEST
            "2026-10-25 00:30:00")]  # 02:30 happens twice: the first, CEST
    assert fast[:3] == utc and pd.isna(fast[3])
    assert screened[:3] == utc and pd.isna(screened[3]) and pd.isna(screened[4])
