"""Issue #20: each marketplace's rules, the account's own data day, and no false breach from an
input the data does not have. Every expected number is counted by hand in the comment above it."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from perfkit.engine.context import AccountContext
from perfkit.engine.metrics import account_series

from .conftest import write_account

AS_OF = "2026-03-31"  # a Tuesday


def _orders() -> str:
    """32 MFN shipments S0..S31 bought 10 March, confirmed 11 March, promised for 15 March, 10
    business orders B0..B9 bought and confirmed Friday 20 March (promised 25 March), and FBA filler."""
    rows = ["order_id,purchase_date,fulfillment_channel,order_status,ship_confirm_date,carrier,tracking_id,"
            "latest_delivery_date,delivered_date,is_business_order,invoice_upload_date"]
    for i in range(32):
        # S0: tracking id "N/A" (a placeholder); S1: carrier "Other": both without valid tracking.
        carrier = "Other" if i == 1 else "YunExpress"  # a carrier without a published format: ids not checked
        tracking = "N/A" if i == 0 else f"1Z{i:04d}"
        # S2 is delivered 17 March, after its promised 15 March: the one late delivery.
        delivered = "2026-03-17T12:00:00" if i == 2 else "2026-03-14T12:00:00"
        rows.append(f"S{i},2026-03-10T09:00:00,MFN,Shipped,2026-03-11T09:00:00,{carrier},{tracking},2026-03-15,"
                    f"{delivered},false,")
    for i in range(10):
        # B0 never gets an invoice; B1..B9 get theirs on Saturday 21 March, before Monday's deadline.
        invoice = "" if i == 0 else "2026-03-21T10:00:00"
        rows.append(f"B{i},2026-03-20T09:00:00,MFN,Shipped,2026-03-20T15:00:00,YunExpress,YTB{i:03d},2026-03-25,"
                    f"2026-03-24T12:00:00,true,{invoice}")
    # One FBA order a day, 1 February to 31 March, so that the data covers every window of 31 March
    # (FBA orders are in none of these four metrics).
    for day in pd.date_range("2026-02-01", AS_OF):
        rows.append(f"F{day:%m%d},{day:%Y-%m-%d}T08:00:00,AFN,Shipped,,,,,,false,")
    return "\n".join(rows) + "\n"


# Five return requests on 20 March, four answered within the hour and R4 never: 1 of 5 = 20%.
RETURNS = ("return_id,order_id,request_date,response_date,decision\n"
           + "".join(f"R{i},S{10 + i},2026-03-20T09:00:00,2026-03-20T10:00:00,authorized\n" for i in range(4))
           + "R4,S14,2026-03-20T09:00:00,,\n")


def statuses(tmp_path, marketplace: str | None) -> dict[str, tuple]:
    folder = write_account(tmp_path, f"shop-{marketplace or 'none'}", marketplace=marketplace, orders=_orders(),
                           returns=RETURNS)
    s = account_series(folder, [AS_OF], metrics=["valid_tracking_rate", "on_time_delivery_rate",
                                                 "invoice_defect_rate", "return_dissatisfaction_rate"])
    return {r.metric: (r.numerator, r.denominator, r.status, None if pd.isna(r.headroom) else int(r.headroom))
            for r in s.itertuples() if r.segment in ("MFN", "all")}


# As of 31 March:
# - Valid Tracking (30 days of promised dates, lag 14: 16 Feb..17 March): S0..S31, S0 and S1 invalid:
#   30 good of 32 = 93.75%, not above 95%; 31 good are needed (more than 30.4): headroom -1.
# - On-Time Delivery (14 days, lag 7: 11..24 March): the 30 shipments with valid tracking, S2 late:
#   29 of 30 = 96.67%: above 90%, below the recommended 97%. Enforced at 90%: 28 good needed, headroom 1.
# - Invoice Defect (orders of 18..24 March): B0..B9, B0 without invoice: 1 of 10 = 10%, not below 5%;
#   0 defects allowed (ceil(0.05 * 10) - 1 = 0): headroom -1.
# - Return Dissatisfaction (requests of 2..31 March): 1 of 5 = 20%, not below 10%; headroom 0 - 1 = -1.
VTR = (30, 32)
OTD = (29, 30)
IDR = (1, 10)
RDR = (1, 5)


@pytest.mark.parametrize("marketplace, expected", [
    # US: tracking and delivery enforced; no invoice rate; returns advisory.
    ("US", {"valid_tracking_rate": (*VTR, "breach", -1), "on_time_delivery_rate": (*OTD, "ok", 1),
            "return_dissatisfaction_rate": (*RDR, "advisory", -1)}),
    # DE: invoices enforced; tracking advisory (95%), delivery advisory against 97% (29 of 30 is not above).
    ("DE", {"valid_tracking_rate": (*VTR, "advisory", -1), "on_time_delivery_rate": (*OTD, "advisory", -1),
            "invoice_defect_rate": (*IDR, "breach", -1), "return_dissatisfaction_rate": (*RDR, "advisory", -1)}),
    # UK: invoices advisory; delivery enforced at 90% (Amazon.co.uk since 16 September 2025, see docs/metrics.md).
    ("UK", {"valid_tracking_rate": (*VTR, "advisory", -1), "on_time_delivery_rate": (*OTD, "ok", 1),
            "invoice_defect_rate": (*IDR, "advisory", -1), "return_dissatisfaction_rate": (*RDR, "advisory", -1)}),
    # JP: no invoice rate; everything else advisory.
    ("JP", {"valid_tracking_rate": (*VTR, "advisory", -1), "on_time_delivery_rate": (*OTD, "advisory", -1),
            "return_dissatisfaction_rate": (*RDR, "advisory", -1)}),
    # No marketplace: every metric as the policy writes it, all enforced.
    (None, {"valid_tracking_rate": (*VTR, "breach", -1), "on_time_delivery_rate": (*OTD, "ok", 1),
            "invoice_defect_rate": (*IDR, "breach", -1), "return_dissatisfaction_rate": (*RDR, "breach", -1)}),
])
def test_the_same_orders_in_four_marketplaces(tmp_path, marketplace, expected):
    assert statuses(tmp_path, marketplace) == expected


def test_an_advisory_value_never_fails_the_run_and_a_us_account_has_no_invoice_rows(tmp_path):
    write_account(tmp_path, "de-shop", marketplace="DE", orders=_orders(), returns=RETURNS)
    write_account(tmp_path, "jp-shop", marketplace="JP", orders=_orders(), returns=RETURNS)
    run = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(tmp_path), "--as-of", AS_OF,
                          "--format", "csv", "--fail-on", "breach", "--jobs", "1"], capture_output=True, text=True,
                         timeout=300)
    # DE's Invoice Defect Rate is its only breach among these four; JP has none (its are advisory).
    assert run.returncode == 1, run.stderr
    hits = [ln for ln in run.stderr.splitlines() if ln.startswith("perfkit: --fail-on")]
    assert [h for h in hits if "invoice" in h or "jp-shop" in h] == [
        "perfkit: --fail-on breach: de-shop: invoice_defect_rate (MFN)"]
    rows = pd.read_csv(pd.io.common.StringIO(run.stdout))
    assert not ((rows["account_id"] == "jp-shop") & (rows["metric"] == "invoice_defect_rate")).any()
    jp = rows[(rows["account_id"] == "jp-shop") & (rows["segment"].isin(["MFN", "all"]))].set_index("metric")
    assert jp.loc["valid_tracking_rate", "status"] == "advisory" and jp.loc["on_time_delivery_rate", "status"] == "advisory"


def test_a_metric_amazon_does_not_compute_is_refused_for_a_poa(tmp_path):
    write_account(tmp_path, "us-shop", marketplace="US", orders=_orders())
    run = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "poa", str(tmp_path), "--account", "us-shop",
                          "--metric", "invoice_defect_rate", "--as-of", AS_OF], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 2
    assert "invoice_defect_rate: Amazon does not compute it in marketplace US" in run.stderr
    assert "Traceback" not in run.stderr


def test_placeholders_and_carrier_other_are_no_tracking(tmp_path):
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,carrier,tracking_id,tracking_valid
        A1,2026-03-01,MFN,Shipped,UPS,N/A,
        A2,2026-03-01,MFN,Shipped,UPS,-,
        A3,2026-03-01,MFN,Shipped,UPS,0,
        A4,2026-03-01,MFN,Shipped,UPS, None ,
        A5,2026-03-01,MFN,Shipped,UPS,null,
        A6,2026-03-01,MFN,Shipped,UPS,tbd,
        A7,2026-03-01,MFN,Shipped,UPS,na,
        A8,2026-03-01,MFN,Shipped,Other,YT999,
        A9,2026-03-01,MFN,Shipped,,YT998,
        B1,2026-03-01,MFN,Shipped,YunExpress,YT997,
        B2,2026-03-01,MFN,Shipped,other,YT996,true
        B3,2026-03-01,MFN,Shipped,YunExpress,YT995,false
        """)
    # A1..A7 placeholders, A8 carrier Other, A9 no carrier although the file has the column: invalid.
    # B1 a real id with a real carrier: valid. B2 and B3: the file's own tracking_valid decides.
    valid = AccountContext.of(folder).days.tracking_valid.tolist()
    assert valid == [False] * 9 + [True, True, False]


def test_the_placeholder_list_is_policy(tmp_path):
    from perfkit.core.policy import default_policy_text

    # A policy that calls only "pending" a placeholder: N/A becomes a tracking id, "Pending" does not.
    text = default_policy_text().replace('placeholders = ["", "n/a", "na", "-", "0", "none", "null", "tbd"]',
                                         'placeholders = ["", "pending"]')
    assert 'placeholders = ["", "pending"]' in text
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,tracking_id
        A1,2026-03-01,MFN,Shipped,N/A
        A2,2026-03-01,MFN,Shipped,Pending
        """)
    assert AccountContext.of(folder, tmp_path / "policy.toml").days.tracking_valid.tolist() == [True, False]


# --- the account's own data day -------------------------------------------------------------------


def test_the_default_day_is_the_last_order_day_not_a_late_chargeback(tmp_path):
    # Two MFN orders a day, 1 January to 1 March 2026 (60 days, 120 orders). Two 1-star feedbacks on
    # orders of 5 January; a chargeback on 1 May, two months after the last order.
    orders = ["order_id,purchase_date,fulfillment_channel,order_status"]
    for day in pd.date_range("2026-01-01", "2026-03-01"):
        orders += [f"O{day:%m%d}{k},{day:%Y-%m-%d}T10:00:00,MFN,Shipped" for k in "ab"]
    write_account(tmp_path, "late-cb", orders="\n".join(orders) + "\n",
                  feedback="order_id,feedback_date,rating\nO0105a,2026-01-20,1\nO0105b,2026-01-21,2\n",
                  chargebacks="order_id,chargeback_date\nO0110a,2026-05-01\n")
    run = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(tmp_path), "--format", "csv",
                          "--jobs", "1"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = pd.read_csv(pd.io.common.StringIO(run.stdout))
    assert set(rows["as_of"]) == {"2026-03-01"}
    # ODR on 1 March: orders of 18 Dec..15 Feb (lag 14), i.e. 1 January..15 February = 46 days, 92
    # orders, 2 with negative feedback: 2.17%, a breach (on 1 May the window would hold 26 orders of
    # 17 February..1 March and no defect: "ok", hiding it).
    odr = rows[(rows["metric"] == "odr") & (rows["segment"] == "MFN")].iloc[0]
    assert (odr["numerator"], odr["denominator"], odr["status"]) == (2, 92, "breach")
    check = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "check", str(tmp_path)],
                           capture_output=True, text=True, timeout=300)
    assert "  data day: 2026-03-01 (the last day with orders; every default as-of day)" in check.stdout
    assert "  after the data: events continue to 2026-05-01, after the last order" in check.stdout


def test_check_says_the_marketplace_is_unknown_and_an_account_is_stale(tmp_path):
    write_account(tmp_path, "fresh", marketplace=None, orders="order_id,purchase_date,fulfillment_channel,order_status\n"
                                                           "A1,2026-03-31T10:00:00,MFN,Shipped\n")
    write_account(tmp_path, "old", orders="order_id,purchase_date,fulfillment_channel,order_status\n"
                                          "A1,2026-03-01T10:00:00,MFN,Shipped\n")
    out = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "check", str(tmp_path)],
                         capture_output=True, text=True, timeout=300).stdout
    fresh, old = out.split("old: ")
    assert "marketplace: unknown (no marketplace in account.json): every target is judged as enforced" in fresh
    # 1 March is 30 days (4 whole weeks) before the newest account's last order, 31 March.
    assert "  stale: the last order is 4 weeks before the newest account's (2026-03-31)" in old
    assert "stale" not in fresh


@pytest.mark.parametrize("weeks, stale", [(5, False), (4, True)])
def test_the_stale_limit_is_policy(tmp_path, weeks, stale):
    from perfkit.core.policy import default_policy_text

    # The same two accounts: "old" stops 30 days (4 whole weeks) before "fresh". A policy with
    # stale_weeks = 5 says nothing; with 4 it says stale.
    text = default_policy_text().replace("stale_weeks = 2", f"stale_weeks = {weeks}")
    assert f"stale_weeks = {weeks}" in text
    (tmp_path / "policy.toml").write_text(text, encoding="utf-8")
    root = tmp_path / "data"
    root.mkdir()
    write_account(root, "fresh", orders="order_id,purchase_date,fulfillment_channel,order_status\n"
                                        "A1,2026-03-31T10:00:00,MFN,Shipped\n")
    write_account(root, "old", orders="order_id,purchase_date,fulfillment_channel,order_status\n"
                                      "A1,2026-03-01T10:00:00,MFN,Shipped\n")
    run = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "check", str(root), "--policy",
                          str(tmp_path / "policy.toml")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    line = "  stale: the last order is 4 weeks before the newest account's (2026-03-31)"
    assert (line in run.stdout) is stale


# --- Amazon's own downloads ---------------------------------------------------------------------

ALL_ORDERS = ("amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\t"
              "fulfillment-channel\tsales-channel\tproduct-name\tsku\titem-status\tquantity\tis-business-order\t"
              "is-buyer-requested-cancellation\tbuyer-requested-cancel-reason\n")
UNSHIPPED = ("order-id\torder-item-id\tpurchase-date\tpayments-date\tpromise-date\tdays-past-promise\t"
             "product-name\tis-business-order\tis-buyer-requested-cancellation\tbuyer-requested-cancel-reason\n")


def amazon_only(tmp_path):
    """A seller-fulfilled DE account from Amazon's All Orders and Unshipped Orders reports only:
    O01..O20 shipped, one a day 1..20 March; U1 (19 March) and U2 (20 March) unshipped, with their
    ship-by (promise) date 20 March 10:00 UTC in the Unshipped snapshot; C1 (18 March) cancelled at
    the buyer's request, C2 (19 March) cancelled by the seller. O05 and O06 are business orders."""
    rows = []
    for d in range(1, 21):
        business = "true" if d in (5, 6) else "false"
        rows.append(f"O{d:02d}\t\t2026-03-{d:02d}T10:00:00+00:00\t\tShipped\tMerchant\tAmazon.de\tLamp\tL1\tShipped\t1\t"
                    f"{business}\tfalse\t")
    rows += ["U1\t\t2026-03-19T10:00:00+00:00\t\tUnshipped\tMerchant\tAmazon.de\tLamp\tL1\tUnshipped\t1\tfalse\tfalse\t",
             "U2\t\t2026-03-20T08:00:00+00:00\t\tUnshipped\tMerchant\tAmazon.de\tLamp\tL1\tUnshipped\t1\tfalse\tfalse\t",
             "C1\t\t2026-03-18T10:00:00+00:00\t\tCancelled\tMerchant\tAmazon.de\tLamp\tL1\tCancelled\t1\tfalse\ttrue\t"
             "Order created by mistake",
             "C2\t\t2026-03-19T10:00:00+00:00\t\tCancelled\tMerchant\tAmazon.de\tLamp\tL1\tCancelled\t1\tfalse\tfalse\t"]
    snapshot = ["U1\t1\t2026-03-19T10:00:00+00:00\t2026-03-19T10:00:00+00:00\t2026-03-20T10:00:00+00:00\t0\tLamp\t"
                "false\tfalse\t",
                "U2\t1\t2026-03-20T08:00:00+00:00\t2026-03-20T08:00:00+00:00\t2026-03-20T10:00:00+00:00\t0\tLamp\t"
                "false\tfalse\t"]
    return write_account(tmp_path, "de-amazon", marketplace="DE", tz="Europe/Berlin",
                         **{"All-Orders.txt": ALL_ORDERS + "\n".join(rows) + "\n",
                            "Unshipped.txt": UNSHIPPED + "\n".join(snapshot) + "\n"})


def test_amazon_only_downloads_show_no_breach_their_inputs_cannot_support(tmp_path):
    amazon_only(tmp_path)
    run = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(tmp_path), "--format", "csv",
                          "--fail-on", "breach", "--jobs", "1"], capture_output=True, text=True, timeout=300)
    rows = pd.read_csv(pd.io.common.StringIO(run.stdout)).set_index(["metric", "segment"])
    assert set(rows["as_of"]) == {"2026-03-20"}
    # No delivery dates, no ship confirmations, no invoice uploads in Amazon's order reports: no data.
    for metric in ("on_time_delivery_rate", "invoice_defect_rate", "valid_tracking_rate"):
        assert rows.loc[(metric, "MFN"), "status"] == "no_data", metric
        assert pd.isna(rows.loc[(metric, "MFN"), "rate"])
    # Cancel rate (7 days: 14..20 March): O14..O20, U1, U2, C1, C2 = 11 orders; C1 was the buyer's
    # request, so 1 seller cancellation (C2): 9.09%, a real breach.
    cancel = rows.loc[("cancel_rate", "MFN")]
    assert (cancel["numerator"], cancel["denominator"], cancel["status"]) == (1, 11, "breach")
    # Late shipment: no ship confirmations either (every order would look late): no data.
    assert rows.loc[("late_shipment_rate_10d", "MFN"), "status"] == "no_data"
    # --fail-on breach: the cancel rate only.
    assert run.returncode == 1, run.stderr
    hits = [ln for ln in run.stderr.splitlines() if ln.startswith("perfkit: --fail-on")]
    assert hits == ["perfkit: --fail-on breach: de-amazon: cancel_rate (MFN)"]


def test_a_ship_by_date_on_part_of_the_orders_is_not_judged(tmp_path):
    # 12 MFN orders, one a day 9..20 March, each confirmed the next day at 10:00 (O20: not yet); only
    # O19 and O20 have a ship-by date (20 March 09:00). As of 20 March (10 days of ship-by dates:
    # 11..20 March) both are past it unconfirmed (O19 is confirmed on 21 March): 2 late of 2.
    rows = ["order_id,purchase_date,fulfillment_channel,order_status,ship_confirm_date,latest_ship_date"]
    for d in range(9, 21):
        confirm = f"2026-03-{d + 1:02d}T10:00:00" if d < 20 else ""
        ship_by = "2026-03-20T09:00:00" if d >= 19 else ""
        rows.append(f"O{d},2026-03-{d:02d}T08:00:00,MFN,{'Shipped' if confirm else 'Unshipped'},{confirm},{ship_by}")
    write_account(tmp_path, "part", orders="\n".join(rows) + "\n")
    base = [sys.executable, "-m", "perfkit.cli.main", "metrics", str(tmp_path), "--as-of", "2026-03-20", "--jobs", "1"]
    run = subprocess.run(base + ["--format", "csv", "--fail-on", "breach"], capture_output=True, text=True, timeout=300)
    rows = pd.read_csv(pd.io.common.StringIO(run.stdout)).set_index(["metric", "segment"])
    late = rows.loc[("late_shipment_rate_10d", "MFN")]
    assert (late["numerator"], late["denominator"], late["status"]) == (2, 2, "breach")
    # The other ten orders were bought 9..18 March; the window of bought days placed by purchase
    # (11..20 March) holds O11..O18, 8 of them: 2 of 10 units covered.
    assert late["unit_coverage"] == pytest.approx(2 / 10)
    assert run.returncode == 0, run.stderr  # not judged: computed on part of its units
    assert "--fail-on ignores 2 breach value(s)" in run.stderr  # the 10- and 30-day rates
    again = subprocess.run(base + ["--format", "csv", "--fail-on", "breach", "--include-partial"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 1
    table = subprocess.run(base, capture_output=True, text=True, timeout=300).stdout
    line = next(ln for ln in table.splitlines() if "late_shipment_rate_10d" in ln)
    assert "partial" in line and "breach" not in line and line.rstrip().endswith("20%")
    check = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "check", str(tmp_path)],
                           capture_output=True, text=True, timeout=300).stdout
    # The whole account: 12 orders not cancelled, 2 with a ship-by date.
    assert ("  partial: late_shipment_rate_10d: orders.latest_ship_date on 2 of 12 units; the value is computed "
            "on part of its units and not judged") in check


def test_a_delivery_date_from_only_some_files_makes_on_time_delivery_partial(tmp_path):
    import json

    out, tmp_path = tmp_path, tmp_path / "data"  # the POA is written outside the data folder
    tmp_path.mkdir()

    # Ten MFN orders bought 1 March, confirmed 2 March, promised for 5 March. orders.csv has a
    # delivered_date column: O1 on 4 March and O2 on 5 March (on time), O3 on 7 March (late), O4
    # empty (not delivered: late, and judged, since its file can say). erp.csv (mapping.json) has no
    # such column: O5..O10 cannot be judged, and neither can its two FBA orders (1 Feb, 20 Mar) be,
    # but they are not seller-fulfilled shipments at all. The FBA orders make the data span the
    # window (promised 27 Feb..13 Mar as of 20 Mar), so only the units are partial.
    head = "order_id,purchase_date,fulfillment_channel,order_status,ship_confirm_date,latest_delivery_date,tracking_id"
    delivered = {1: "2026-03-04T12:00:00", 2: "2026-03-05T12:00:00", 3: "2026-03-07T12:00:00", 4: ""}
    order = "O{i},2026-03-01T08:00:00,MFN,Shipped,2026-03-02T10:00:00,2026-03-05T20:00:00,TRK{i}"
    own = [head + ",delivered_date"] + [order.format(i=i) + f",{delivered[i]}" for i in range(1, 5)]
    erp = [head] + [order.format(i=i) for i in range(5, 11)]
    erp += ["F1,2026-02-01T08:00:00,AFN,Shipped,,,", "F2,2026-03-20T08:00:00,AFN,Shipped,,,"]
    write_account(tmp_path, "acct", orders="\n".join(own) + "\n",
                  **{"erp.csv": "\n".join(erp) + "\n",
                     "mapping.json": json.dumps({"files": {"erp.csv": {"table": "orders"}}})})
    cli = [sys.executable, "-m", "perfkit.cli.main"]
    run = subprocess.run(cli + ["metrics", str(tmp_path), "--format", "csv", "--jobs", "1", "--fail-on", "breach"],
                         capture_output=True, text=True, timeout=300)
    rows = pd.read_csv(pd.io.common.StringIO(run.stdout)).set_index(["metric", "segment"])
    otd = rows.loc[("on_time_delivery_rate", "MFN")]
    # 2 on time of the 4 judged (not 2 of 10: the six the file cannot judge are not late); 4/10 covered.
    assert (otd["as_of"], otd["numerator"], otd["denominator"], otd["status"]) == ("2026-03-20", 2, 4, "breach")
    assert (otd["coverage"], otd["unit_coverage"]) == (1.0, pytest.approx(4 / 10))
    assert run.returncode == 0, run.stderr  # partial: --fail-on does not count it
    assert "--fail-on ignores 1 breach value(s)" in run.stderr
    again = subprocess.run(cli + ["metrics", str(tmp_path), "--format", "csv", "--jobs", "1", "--fail-on", "breach",
                                  "--include-partial"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 1
    check = subprocess.run(cli + ["check", str(tmp_path)], capture_output=True, text=True, timeout=300).stdout
    assert ("  partial: on_time_delivery_rate: orders.delivered_date on 4 of 10 units; the value is computed "
            "on part of its units and not judged") in check
    poa = subprocess.run(cli + ["poa", str(tmp_path), "--account", "acct", "--metric", "on_time_delivery_rate",
                                "--out", str(out / "poa.md")], capture_output=True, text=True, timeout=300)
    assert poa.returncode == 0, poa.stderr
    assert "No POA needed: as of 2026-03-20 the On-Time Delivery Rate of Seller-fulfilled shipments is computed on " \
           "40% of its shipments" in (out / "poa.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("shipments, status", [(19, "too_few"), (20, "breach")])
def test_uk_on_time_delivery_is_judged_from_20_units(tmp_path, shipments, status):
    # UK: N MFN shipments bought 1 March, confirmed 2 March, promised 5 March; the first 10 arrive on
    # 7 March (late), the rest on 4 March. As of 20 March (promised 27 Feb..13 Mar) the window holds
    # all N: 19 is below Amazon.co.uk's 20-unit minimum (not judged), 20 is judged (10 of 20 on time,
    # 50%, a breach). Two FBA orders (1 Feb, 20 Mar) make the data span the window.
    rows = ["order_id,purchase_date,fulfillment_channel,order_status,ship_confirm_date,latest_delivery_date,"
            "tracking_id,delivered_date"]
    rows += [f"O{i},2026-03-01T08:00:00,MFN,Shipped,2026-03-02T10:00:00,2026-03-05T20:00:00,TRK{i},"
             f"{'2026-03-07' if i <= 10 else '2026-03-04'}T12:00:00" for i in range(1, shipments + 1)]
    rows += ["F1,2026-02-01T08:00:00,AFN,Shipped,,,,", "F2,2026-03-20T08:00:00,AFN,Shipped,,,,"]
    write_account(tmp_path, "uk", marketplace="UK", orders="\n".join(rows) + "\n")
    run = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(tmp_path), "--format", "csv",
                          "--jobs", "1", "--fail-on", "breach"], capture_output=True, text=True, timeout=300)
    rows = pd.read_csv(pd.io.common.StringIO(run.stdout)).set_index(["metric", "segment"])
    otd = rows.loc[("on_time_delivery_rate", "MFN")]
    assert (otd["as_of"], otd["numerator"], otd["denominator"], otd["status"], otd["coverage"]) == (
        "2026-03-20", shipments - 10, shipments, status, 1.0)
    assert run.returncode == (1 if status == "breach" else 0), run.stderr


def test_a_tracking_id_is_checked_against_its_carriers_published_format(tmp_path):
    folder = write_account(tmp_path, orders="""\
        order_id,purchase_date,fulfillment_channel,order_status,carrier,tracking_id
        A1,2026-03-01,MFN,Shipped,UPS,1Z999AA10123456784
        A2,2026-03-01,MFN,Shipped,UPS,1Z999AA10123456785
        A3,2026-03-01,MFN,Shipped,ups,LX123456785CN
        A4,2026-03-01,MFN,Shipped,USPS,LX123456785CN
        A5,2026-03-01,MFN,Shipped,USPS,12345
        A6,2026-03-01,MFN,Shipped,YunExpress,YT12345
        """)
    # A1: UPS's format with its check digit; A2: the same with a wrong check digit; A3: a postal (S10)
    # id given as UPS; A4: that postal id given as USPS (which delivers S10 mail); A5: no USPS format;
    # A6: YunExpress publishes no format perfkit knows: not checked.
    assert AccountContext.of(folder).days.tracking_valid.tolist() == [True, False, False, True, False, True]


def test_a_claim_amazon_funded_or_protected_does_not_count(tmp_path):
    # 10 orders on 1 March; granted claims on O0 (protected by Buy Shipping) and O1 (not). As of
    # 20 April, ODR's window (60 days to 6 April) holds the 10 orders; only O1 counts: 1 of 10.
    orders = "order_id,purchase_date,fulfillment_channel,order_status\n" + "".join(
        f"O{i},2026-03-01T10:00:00,MFN,Shipped\n" for i in range(10))
    folder = write_account(tmp_path, orders=orders, claims="order_id,claim_date,status,protected\n"
                                                           "O0,2026-03-10,granted,true\nO1,2026-03-10,granted,\n")
    s = account_series(folder, ["2026-04-20"], metrics=["odr_claims"]).set_index("segment")
    assert (s.loc["MFN", "numerator"], s.loc["MFN", "denominator"]) == (1, 10)


# --- the report's headline ---------------------------------------------------------------------


def test_the_headline_counts_a_metric_once_lists_advisory_apart_and_never_says_safe_on_no_data(tmp_path):
    from perfkit.report.page import AccountReport

    write_account(tmp_path, "de-shop", name="DE shop", marketplace="DE", orders=_orders(), returns=RETURNS)
    write_account(tmp_path, "jp-shop", name="JP shop", marketplace="JP", orders=_orders(), returns=RETURNS)
    de = AccountReport.build(tmp_path, "de-shop", AS_OF).headline()
    # The statuses of test_the_same_orders_in_four_marketplaces: one breach (Invoice Defect), three
    # advisory values; ODR (no feedback, claims or chargebacks), cancel rate (no seller-fulfilled order
    # in 25..31 March) and late shipment (no ship-by dates) could not be judged.
    assert "DE shop needs action this week: 1 miss their target: Invoice Defect Rate (Seller-fulfilled) 10.00%." in de
    assert ("Below Amazon&#x27;s recommended target, no action from Amazon (3): Valid Tracking Rate (Seller-fulfilled) "
            "93.75%, On-Time Delivery Rate (Seller-fulfilled) 96.67%, Return Dissatisfaction Rate (All orders) 20.00%.") in de
    assert ("Not judged (4): Order Defect Rate (Seller-fulfilled, FBA), Pre-fulfillment Cancel Rate (Seller-fulfilled), "
            "Late Shipment Rate (10 days) (Seller-fulfilled), Late Shipment Rate (30 days) (Seller-fulfilled).") in de
    jp = AccountReport.build(tmp_path, "jp-shop", AS_OF).headline()
    # JP: nothing enforced misses its target, but most rates could not be judged: never "safe".
    assert "JP shop meets every target that could be judged this week." in jp and "safe" not in jp
    assert "the account&#x27;s orders stop on 2026-03-31" in jp
