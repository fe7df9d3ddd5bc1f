"""Amazon's own downloads with the headers Amazon publishes, read through the CLI.

tests/fixtures/amazon-public/us-seller holds one seller's Amazon-only downloads. Each header is
verbatim from a public source (docs/data.md, "Where these headers come from"); the four cancelled
orders of the All Orders report (113-8871452-8288246, 114-5642155-9428269, 113-3281105-7707448,
111-1225255-7785053) are real rows of airbytehq/airbyte's recorded test account, with the buyer's
city and postal code left out. The other rows are ours:

  111-0000001  MFN  purchased 2022-07-20 10:00 PDT  shipped; returned (Returns report, 24 July)
  111-0000002  MFN  2022-07-21                      shipped; 1-star feedback on 7/25/22
  111-0000003  MFN  2022-07-22                      shipped; 5-star feedback on 7/26/22
  111-0000004  MFN  2022-07-23                      two items: one shipped, one Cancelled (partial)
  111-0000005  AFN  2022-07-24                      Amazon Fulfilled Shipments row; FBA customer return
  111-0000006  MFN  2022-07-26 10:00 PDT            Pending; in the Unshipped Orders report (ship by 27 July)
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "amazon-public"


def perfkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


def us_seller(root: Path) -> Path:
    shutil.copytree(FIXTURES / "us-seller", root / "us-seller")
    return root


def metrics(root: Path, *extra: str) -> tuple[pd.DataFrame, subprocess.CompletedProcess]:
    run = perfkit("metrics", str(root), "--format", "csv", "--jobs", "1", *extra)
    assert run.returncode in (0, 1), run.stderr
    return pd.read_csv(pd.io.common.StringIO(run.stdout)).set_index(["metric", "segment"]), run


def test_every_public_download_is_recognised_and_counted_by_check(tmp_path):
    run = perfkit("check", str(us_seller(tmp_path)))
    assert run.returncode == 0, run.stderr
    lines = [ln.strip() for ln in run.stdout.splitlines()]
    # 4 real cancelled orders + our 6 = 10; AFN: 111-0000005 only. First purchase 111-1225255 on
    # 15 July (22:08 UTC, 15:08 PDT), last 111-0000006 on 26 July.
    assert "orders: 10  (MFN 9, AFN 1)  2022-07-15 to 2022-07-26" in lines
    # Feedback report: 2 rows; returns: the Returns report's 1 row + the FBA Customer Returns report's 1.
    assert "inputs: feedback 2, returns 2" in lines
    assert "data day: 2022-07-26 (the last day with orders; every default as-of day)" in lines
    # The All Orders report (BY_LAST_UPDATE, as recorded) has no is-buyer-requested-cancellation column.
    missing = next(ln for ln in lines if ln.startswith("missing:"))
    assert "orders.buyer_requested_cancel" in missing and "orders.delivered_date" in missing
    # Ship-by dates only from the Unshipped snapshot: 111-0000006 of the 5 uncancelled MFN orders in
    # the 10 days to 26 July (0001, 0002, 0003, 0004, 0006).
    assert ("partial: late_shipment_rate_10d: orders.latest_ship_date on 1 of 5 units; the value is computed "
            "on part of its units and not judged") in lines
    assert not any("ignored" in ln or "not recognised" in ln for ln in lines), run.stdout


def test_amazon_only_downloads_give_only_the_breaches_their_inputs_support(tmp_path):
    rows, run = metrics(us_seller(tmp_path), "--fail-on", "breach")
    assert set(rows["as_of"]) == {"2022-07-26"}
    # Cancel rate, 7 days to 26 July (PDT): MFN orders 0001 (20th), 0002, 0003, 0004, 113-3281105 (25th,
    # 09:07 PDT), 0006 = 6; 113-8871452 and 114-5642155 (18th) are outside. Seller cancellations:
    # 113-3281105 and 0004's cancelled item = 2 (no column says a buyer asked for either).
    cancel = rows.loc[("cancel_rate", "MFN")]
    assert (cancel["numerator"], cancel["denominator"], cancel["status"]) == (2, 6, "breach")
    # No delivery dates, invoice uploads, ship confirmations or tracking for seller-fulfilled orders in
    # any of these reports: no data, never 0% or 100%.
    for metric in ("on_time_delivery_rate", "valid_tracking_rate", "late_shipment_rate_10d",
                   "late_shipment_rate_30d"):
        assert rows.loc[(metric, "MFN"), "status"] == "no_data", metric
        assert pd.isna(rows.loc[(metric, "MFN"), "rate"]), metric
    # Amazon does not compute Invoice Defect Rate in the US: no row at all.
    assert "invoice_defect_rate" not in rows.index.get_level_values("metric")
    # Return rate, 30 days: the Returns report's return of 0001 among the 9 MFN orders; the FBA Customer
    # Returns report's return of 0005, the only AFN order.
    assert tuple(rows.loc[("return_rate", "MFN"), ["numerator", "denominator"]]) == (1, 9)
    assert tuple(rows.loc[("return_rate", "AFN"), ["numerator", "denominator"]]) == (1, 1)
    # Return Dissatisfaction judges the seller's own answers: 0001's request only (Approved, in policy).
    rd = rows.loc[("return_dissatisfaction_rate", "all")]
    assert (rd["numerator"], rd["denominator"]) == (0, 1)
    assert run.returncode == 1
    hits = [ln for ln in run.stderr.splitlines() if ln.startswith("perfkit: --fail-on")]
    assert hits == ["perfkit: --fail-on breach: us-seller: cancel_rate (MFN)"]


def test_the_reports_headline_agrees_with_its_table(tmp_path):
    out = tmp_path / "reports"
    run = perfkit("report", str(us_seller(tmp_path / "data")), "--out", str(out), "--jobs", "1", "--quiet")
    assert run.returncode == 0, run.stderr
    page = next(out.glob("*/us-seller.html")).read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", "", page, flags=re.S)))
    # The report's week ends Sunday 24 July. Cancel rate, 18-24 July (PDT): 113-8871452 and 114-5642155
    # (18th, both cancelled), 0001, 0002, 0003, 0004 (0004's cancelled item) = 3 of 6, 50.00%.
    assert "1 miss their target: Pre-fulfillment Cancel Rate (Seller-fulfilled) 50.00%." in text
    assert "Pre-fulfillment Cancel Rate Seller-fulfilled 50.00%" in text and "3 defective / 6" in text
    headline = text.split("Figures as of")[0]
    not_judged = headline.split("Not judged")[1]
    assert "On-Time Delivery Rate" in not_judged and "Valid Tracking Rate" in not_judged
    assert "Invoice Defect" not in text.split("Data quality notes")[0]
    assert "safe" not in headline


# One negative feedback (on 111-0000002, purchased 21 July) dated the way each marketplace's Feedback
# report writes it (airbytehq/airbyte's MARKETPLACE_DATE_FORMAT_MAP): as of 15 August, ODR (60 days
# ending 1 August, 14 days' lag) holds the 9 MFN orders, and the feedback counts only when read as a day
# in 2022 up to 15 August. Read the wrong way, 12/8/22 is 8 December and 22/7/25 is 22 July 2025.
@pytest.mark.parametrize("marketplace, tz, day, encoding", [
    ("US", "America/Los_Angeles", "7/25/22", "cp1252"),
    ("CA", "America/Toronto", "12/8/22", "cp1252"),
    ("MX", "America/Mexico_City", "12/8/22", "cp1252"),
    ("DE", "Europe/Berlin", "12.8.22", "cp1252"),
    ("SE", "Europe/Stockholm", "2022-08-12", "cp1252"),
    ("JP", "Asia/Tokyo", "22/7/25", "cp932"),
])
def test_each_marketplaces_feedback_dates(tmp_path, marketplace, tz, day, encoding):
    folder = tmp_path / marketplace.lower()
    folder.mkdir()
    (folder / "account.json").write_text(json.dumps({"marketplace": marketplace, "timezone": tz}))
    # Amazon writes flat files in the marketplace's code page: a product name only it can encode.
    orders = (FIXTURES / "us-seller" / "All Orders.txt").read_text(encoding="utf-8")
    name = "バルミューダ トースター" if marketplace == "JP" else "Müller Leuchte"
    (folder / "All Orders.txt").write_bytes(orders.replace("Airbyte T-Shirt Black", name).encode(encoding))
    (folder / "Feedback.txt").write_bytes(("Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n"
                                           f"{day}\t1\tLate\t\t111-0000002-0000002\t\n").encode(encoding))
    rows, run = metrics(tmp_path, "--as-of", "2022-08-15")
    fb = rows.loc[("odr_negative_feedback", "MFN")]
    assert (fb["numerator"], fb["denominator"]) == (1, 9), run.stderr
    assert "after the last order" not in run.stderr and "only possible" not in run.stderr


def test_a_quote_in_an_amazon_report_is_text_not_quoting(tmp_path):
    # Amazon's flat files are tab-separated with no quoting (bhushankummar/amazon-mws pull request #43:
    # product names with quotes broke its reader). Read as CSV, the '"' opening 113-8871452's product
    # name would swallow the rows up to the next '"' (113-3281105's): two orders lost in silence.
    root = us_seller(tmp_path)
    report = root / "us-seller" / "All Orders.txt"
    lines = report.read_text(encoding="utf-8").splitlines()
    burger = "Beyond Meat Beyond Burger Plant-Based Patties 2 pk, 8 oz (Frozen)"
    lines[1] = lines[1].replace(burger, '"Deluxe 12 inch lamp')  # 113-8871452
    lines[3] = lines[3].replace(burger, 'Lamp 10" wide')  # 113-3281105
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = perfkit("check", str(root))
    assert run.returncode == 0, run.stderr
    # All 10 orders, as in the file without quotes.
    assert "orders: 10  (MFN 9, AFN 1)  2022-07-15 to 2022-07-26" in [ln.strip() for ln in run.stdout.splitlines()]
    rows, _ = metrics(root)
    # The cancel rate of the unquoted file: 2 of 6 (113-3281105 still among them).
    assert tuple(rows.loc[("cancel_rate", "MFN"), ["numerator", "denominator"]]) == (2, 6)


# The Unshipped Orders report as a US seller's download writes it (41 columns, with
# is-buyer-requested-cancellation and the verge-of-* flags; the header of osman's AmazonTxtOrderParser
# tests, a public Java project), and the buyer's request read from it.
UNSHIPPED_41 = ("order-id order-item-id purchase-date payments-date reporting-date promise-date days-past-promise "
                "buyer-email buyer-name cpf buyer-phone-number sku number-of-items product-name quantity-purchased "
                "quantity-shipped quantity-to-ship ship-service-level ship-service-name recipient-name ship-address-1 "
                "ship-address-2 ship-address-3 ship-city ship-state ship-postal-code ship-country sales-channel "
                "customized-url customized-page is-business-order purchase-order-number price-designation is-prime "
                "is-buyer-requested-cancellation buyer-requested-cancel-reason verge-of-cancellation "
                "verge-of-lateShipment signature-confirmation-recommended buyer-identification-number "
                "buyer-identification-type").split()


def test_the_buyers_cancellation_request_in_the_unshipped_report_is_not_the_sellers(tmp_path):
    root = us_seller(tmp_path)
    folder = root / "us-seller"
    row = dict.fromkeys(UNSHIPPED_41, "")
    row.update({"order-id": "111-0000006-0000006", "order-item-id": "1", "purchase-date": "2022-07-26T17:00:00+00:00",
                "payments-date": "2022-07-26T10:05:00-07:00", "reporting-date": "2022-07-26T18:00:00+00:00",
                "promise-date": "2022-07-28T06:59:59+00:00", "days-past-promise": "-1", "sku": "IA-VREM-8L92",
                "number-of-items": "1", "product-name": "Airbyte T-Shirt Black", "quantity-purchased": "1",
                "quantity-shipped": "0", "quantity-to-ship": "1", "ship-service-level": "Standard",
                "ship-country": "US", "sales-channel": "Amazon.com", "is-business-order": "false",
                "is-prime": "false", "is-buyer-requested-cancellation": "true",
                "buyer-requested-cancel-reason": "Order created by mistake", "verge-of-cancellation": "false",
                "verge-of-lateShipment": "false", "signature-confirmation-recommended": "false"})
    (folder / "Unshipped Orders.txt").write_text("\t".join(UNSHIPPED_41) + "\n" + "\t".join(row.values()) + "\n",
                                                 encoding="utf-8")
    # The All Orders report, downloaded later, has 111-0000006 Cancelled.
    orders = folder / "All Orders.txt"
    orders.write_text(orders.read_text(encoding="utf-8").replace("\tPending\tMerchant", "\tCancelled\tMerchant")
                      .replace("Unshipped\t1\tUSD", "Cancelled\t0\tUSD"), encoding="utf-8")
    rows, _ = metrics(root)
    # Cancel rate to 26 July: the same 6 orders; cancelled 113-3281105, 0004's item and now 0006, which
    # the buyer asked for: 2 seller cancellations, as before.
    assert tuple(rows.loc[("cancel_rate", "MFN"), ["numerator", "denominator"]]) == (2, 6)


def test_the_fba_returns_report_as_seller_central_describes_it(tmp_path):
    # Help item 200453320 (FBA customer returns report): the download header of Order ID is
    # amazon-order-id (the SP-API's file has order-id), and return-date is "DD-MM-YYYY" in every
    # marketplace. 01-08-2022 is 1 August, even in a US account (8 January read month-first).
    root = us_seller(tmp_path)
    header = ("return-date\tamazon-order-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\t"
              "detailed-disposition\treason\tstatus\tlicense-plate-number\tcustomer-comments")
    (root / "us-seller" / "FBA Customer Returns.txt").write_text(
        header + "\n01-08-2022\t111-0000005-0000005\tIA-VREM-8L92\tB0CJ5Q3NLP\tX0041NMBPF\tAirbyte T-Shirt Black\t1\t"
        "SMF3\tSELLABLE\tUNWANTED_ITEM\tUnit returned to inventory\tLPNRR123456789\t\n", encoding="utf-8")
    run = perfkit("check", str(root))
    assert "inputs: feedback 2, returns 2" in [ln.strip() for ln in run.stdout.splitlines()], run.stdout
    # Return rate of the one AFN order (0005): its return counts from 1 August, not before.
    for day, returned in (("2022-07-31", 0), ("2022-08-01", 1)):
        rows, _ = metrics(root, "--as-of", day)
        assert tuple(rows.loc[("return_rate", "AFN"), ["numerator", "denominator"]]) == (returned, 1), day


# The order report with ship-by and deliver-by dates, 45 columns: the header a public order dashboard
# (React, found by its text) names column by column when it imports the report.
ORDER_REPORT_45 = ("order-id order-item-id purchase-date payments-date buyer-email buyer-name payment-method-details cpf "
                   "buyer-phone-number sku number-of-items product-name quantity-purchased currency item-price item-tax "
                   "shipping-price shipping-tax ship-service-level recipient-name ship-address-1 ship-address-2 "
                   "ship-address-3 ship-city ship-state ship-postal-code ship-country ship-phone-number "
                   "item-promotion-discount item-promotion-id ship-promotion-discount ship-promotion-id "
                   "delivery-start-date delivery-end-date delivery-time-zone delivery-Instructions earliest-ship-date "
                   "latest-ship-date earliest-delivery-date latest-delivery-date is-business-order purchase-order-number "
                   "price-designation is-prime signature-confirmation-recommended").split()


def write_order_report(folder: Path) -> None:
    """The order report's rows for 0001-0004 and 0006: ship by two days after purchase, deliver by six."""
    rows = []
    for n, day in ((1, 20), (2, 21), (3, 22), (4, 23), (6, 26)):
        row = dict.fromkeys(ORDER_REPORT_45, "")
        row.update({"order-id": f"111-000000{n}-000000{n}", "order-item-id": str(n),
                    "purchase-date": f"2022-07-{day}T17:00:00+00:00", "payments-date": f"2022-07-{day}T17:05:00+00:00",
                    "sku": "IA-VREM-8L92", "number-of-items": "1", "product-name": "Airbyte T-Shirt Black",
                    "quantity-purchased": "1", "currency": "USD", "item-price": "15.00", "ship-service-level": "Standard",
                    "ship-country": "US", "earliest-ship-date": f"2022-07-{day}T07:00:00+00:00",
                    "latest-ship-date": f"2022-07-{day + 2}T06:59:59+00:00",
                    "earliest-delivery-date": f"2022-07-{day + 3}T07:00:00+00:00",
                    "latest-delivery-date": f"2022-07-{min(day + 6, 31)}T06:59:59+00:00",
                    "is-business-order": "false", "is-prime": "false", "signature-confirmation-recommended": "false"})
        rows.append("\t".join(row.values()))
    (folder / "Order Report.txt").write_text("\t".join(ORDER_REPORT_45) + "\n" + "\n".join(rows) + "\n",
                                             encoding="utf-8")


def test_ship_by_dates_without_any_seller_confirmation_give_no_late_shipment(tmp_path):
    # All Orders + the order report (ship-by dates for 0001-0004 and 0006) + the Amazon Fulfilled
    # Shipments report, whose shipment-date is FBA's only: no file says when an MFN order shipped.
    # Read as "not confirmed", 0001-0004 (shipped, ship-by passed) were 4 late of 4: a false breach.
    root = us_seller(tmp_path)
    write_order_report(root / "us-seller")
    run = perfkit("check", str(root))
    # Late Shipment's units in the 10 days to 26 July: 0001-0004 and 0006, none from a file with
    # ship confirmations (0005, the one that is, is FBA).
    assert ("partial: late_shipment_rate_10d: orders.ship_confirm_date on 0 of 5 units; the value is computed on "
            "part of its units and not judged") in [ln.strip() for ln in run.stdout.splitlines()], run.stdout
    got, run = metrics(root, "--fail-on", "breach")
    for metric in ("late_shipment_rate_10d", "late_shipment_rate_30d", "on_time_delivery_rate"):
        assert got.loc[(metric, "MFN"), "status"] == "no_data", metric
    hits = [ln for ln in run.stderr.splitlines() if ln.startswith("perfkit: --fail-on")]
    assert hits == ["perfkit: --fail-on breach: us-seller: cancel_rate (MFN)"]


def test_fba_tracking_numbers_do_not_make_seller_shipments_invalid(tmp_path):
    # As above, plus the seller's own export of ship confirmations for 0001-0004 (no tracking
    # columns). The only tracking numbers are the Amazon Fulfilled Shipments report's (FBA, 0005):
    # read as "no tracking id", 0001-0003 (promised by 10 August's window) were 0 valid of 3.
    root = us_seller(tmp_path)
    write_order_report(root / "us-seller")
    (root / "us-seller" / "erp.csv").write_text(
        "order_id,ship_confirm_date\n" + "".join(f"111-000000{n}-000000{n},2022-07-{20 + n}T18:00:00+00:00\n"
                                                 for n in (1, 2, 3, 4)), encoding="utf-8")
    (root / "us-seller" / "mapping.json").write_text(json.dumps({"files": {"erp.csv": {
        "table": "orders", "columns": {"order_id": "order_id", "ship_confirm_date": "ship_confirm_date"}}}}))
    run = perfkit("check", str(root))
    # Valid Tracking's units: 0001-0004, confirmed and with a promised delivery date; none from a file
    # with tracking ids.
    assert ("partial: valid_tracking_rate: orders.tracking_id on 0 of 4 units; the value is computed on part "
            "of its units and not judged") in [ln.strip() for ln in run.stdout.splitlines()], run.stdout
    got, _ = metrics(root, "--as-of", "2022-08-10")
    assert got.loc[("valid_tracking_rate", "MFN"), "status"] == "no_data"
    assert pd.isna(got.loc[("valid_tracking_rate", "MFN"), "rate"])
