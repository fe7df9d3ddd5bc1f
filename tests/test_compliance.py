"""Policy notices counted per category over the look-back window, by hand."""
from __future__ import annotations

import pytest

from perfkit.analysis.compliance import notice_counts
from perfkit.engine.context import AccountContext
from perfkit.engine.dates import date_to_day
from perfkit.core.errors import DataError
from perfkit.engine import registry
from perfkit.loading.loader import load_account

from .conftest import write_account

ORDERS = "order_id,purchase_date,fulfillment_channel,order_status\nA1,2026-01-05T10:00:00,MFN,Shipped\n"
NOTICES = """notice_date,category,asin,text,status
2026-01-10,receivedIntellectualPropertyComplaints,B000000001,trademark complaint,resolved
2026-03-01,listing_policy_violations,B000000002,variation merged unrelated products,open
2026-05-20,知识产权投诉,B000000003,copyright,appealed
"""


def counts(folder, day: str) -> dict[str, tuple[int, int, str]]:
    frame = notice_counts(AccountContext.of(folder), [date_to_day(day)])
    return {r.category: (r.notices, r.open, r.status) for r in frame.itertuples() if r.notices or r.status != "ok"}


def test_notices_are_counted_over_the_look_back_window(tmp_path):
    folder = write_account(tmp_path, orders=ORDERS, policy_notices=NOTICES)
    ip, listing = "receivedIntellectualPropertyComplaints", "listingPolicyViolations"
    # 1 March: the window (180 days: 3 September 2025 .. 1 March 2026) holds the January IP notice
    # (resolved: at risk, it still counts) and the listing notice of that day (open: breach).
    assert counts(folder, "2026-03-01") == {ip: (1, 0, "at_risk"), listing: (1, 1, "breach")}
    # 20 May: the Chinese-named IP notice (appealed: still open) joins the January one.
    assert counts(folder, "2026-05-20") == {ip: (2, 1, "breach"), listing: (1, 1, "breach")}
    # 8 July is the last day of the January notice's window (10 January + 179 days: 21 days of January,
    # 28 + 31 + 30 + 31 + 30 to the end of June, 8 of July); on 9 July it has left.
    assert counts(folder, "2026-07-08")[ip] == (2, 1, "breach")
    assert counts(folder, "2026-07-09")[ip] == (1, 1, "breach")
    # Before any notice every category is ok.
    assert counts(folder, "2026-01-09") == {}


def test_without_a_notices_file_there_is_no_count(tmp_path):
    folder = write_account(tmp_path, orders=ORDERS)
    frame = notice_counts(AccountContext.of(folder), [date_to_day("2026-03-01")])
    assert set(frame["status"]) == {"no_data"}
    assert "missing input policy_notices: policy-compliance counts come only from Amazon's kept reports" in \
        registry.account_notes(load_account(folder))


def test_an_unknown_category_is_refused(tmp_path):
    folder = write_account(tmp_path, orders=ORDERS, policy_notices=NOTICES.replace("listing_policy_violations",
                                                                                     "variation_abuse"))
    with pytest.raises(DataError) as err:
        load_account(folder)
    assert str(err.value).startswith("acct/policy_notices.csv, row 3, column 'category': unknown value "
                                     "(found 'variation_abuse')")


def poa(root, *args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", "poa", str(root), "--account", "acct", *args],
                          capture_output=True, text=True)


def test_policy_poa_from_the_notices_and_the_chosen_causes(tmp_path):
    import datetime as dt

    from perfkit.poa.causes import CauseChoice, CauseStore

    write_account(tmp_path, orders=ORDERS, policy_notices=NOTICES)
    db = tmp_path / "causes.sqlite"
    # No cause recorded: the category's usual causes, marked as suggestions; the notices of the window listed.
    res = poa(tmp_path, "--metric", "listingPolicyViolations", "--as-of", "2026-05-20", "--causes-db", str(db))
    assert res.returncode == 0, res.stderr
    text = res.stdout
    assert "received 1 notice(s) in this category, 1 still open or under appeal" in text
    assert "- 2026-03-01: ASIN B000000002 (open): variation merged unrelated products" in text
    assert "B000000001" not in text and "B000000003" not in text  # the IP notices belong to another category
    assert "causes below are suggestions" in text
    assert "Unrelated products merged into one variation to share reviews (ASINs B000000002)" in text
    assert text.count("Owner: ____") == 4  # two actions and two measures, each to confirm
    # The analyst's choice replaces the suggestions.
    CauseStore(db).save(CauseChoice("acct", "listingPolicyViolations", "parent_changed", dt.date(2026, 3, 1),
                                    dt.date(2026, 5, 20), note="brand swapped in February"))
    chosen = poa(tmp_path, "--metric", "listingPolicyViolations", "--as-of", "2026-05-20", "--causes-db", str(db)).stdout
    assert "suggestions" not in chosen
    assert "- Brand or product changed under an existing parent (ASINs B000000002): brand swapped in February" in chosen
    assert "Restored B000000002 under the parent" in chosen
    # The IP category on 1 March: its only notice is resolved, so no POA is needed.
    ip = poa(tmp_path, "--metric", "receivedIntellectualPropertyComplaints", "--as-of", "2026-03-01").stdout
    assert "No POA needed: as of 2026-03-01 there is no open notice in this category" in ip


def test_policy_poa_offers_no_self_incriminating_cause_and_lists_what_amazon_accepts(tmp_path):
    write_account(tmp_path, orders=ORDERS, policy_notices=NOTICES)
    # 20 May: two IP notices ("trademark complaint", "copyright"). The notice says copyright, so copied content
    # is offered; nothing says the brand was unauthorised, so that admission is not.
    ip = poa(tmp_path, "--metric", "receivedIntellectualPropertyComplaints", "--as-of", "2026-05-20",
             "--causes-db", str(tmp_path / "none.sqlite")).stdout
    assert "Images or text copied from another listing" in ip
    assert "Brand or trademark used without authorisation" not in ip
    assert "Contacted the rights owner named in the notice about B000000001, B000000003 and asked for a retraction" in ip
    docs = ip.split("## Documents to attach", 1)[1]
    assert "retraction of the complaint" in docs and "letter of authorisation" in docs
    # An authenticity complaint: "counterfeit" is the accusation, never offered as the seller's own cause.
    other = tmp_path / "b"
    write_account(other, orders=ORDERS, policy_notices="notice_date,category,asin,text,status\n"
                  "2026-01-02,productAuthenticityCustomerComplaints,B000000009,buyer says counterfeit,open\n")
    text = poa(other, "--metric", "productAuthenticityCustomerComplaints", "--as-of", "2026-01-05",
               "--causes-db", str(tmp_path / "none.sqlite")).stdout
    assert "counterfeit goods" not in text and "resold as new" not in text
    assert "No supplier invoice proving the goods are genuine (ASINs B000000009)" in text
    assert "issued in the last 365 days" in text.split("## Documents to attach", 1)[1]
