"""Account Health Rating and policy compliance read from a V2 Seller Performance payload (the public
schema's keys), kept with the report, and their history."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from perfkit.engine.context import AccountContext
from perfkit.core.errors import DataError
from perfkit.analysis.reconcile import kept_health, read_report
from perfkit.engine.registry import load_policy

from .conftest import write_account

RANGE = {"reportingDateFrom": "2026-05-19T15:00:00Z", "reportingDateTo": "2026-11-14T14:59:59Z"}


def block(count: int, status: str = "GOOD") -> dict:
    return {"reportingDateRange": dict(RANGE), "status": status, "targetValue": 0,
            "targetCondition": "LESS_THAN_OR_EQUAL_TO", "defectsCount": count}


def payload(ahr: int = 180, ip: int = 1, listing: int = 0) -> dict:
    return {"performanceMetrics": [{
        "marketplaceId": "A1VC38T7YXB528",  # JP
        "accountHealthRating": {"ahrStatus": "AT_RISK", "ahrScore": ahr, "reportingDateRange": dict(RANGE)},
        "receivedIntellectualPropertyComplaints": block(ip, "NONE" if ip else "GOOD"),
        "listingPolicyViolations": block(listing),
        "productAuthenticityCustomerComplaints": block(0),
        "warningStates": [{"warningType": "spammingSellerMessaging", "status": "BAD"}],  # the schema's form
        "unitOnTimeDeliveryRate": {"reportingDateRange": dict(RANGE), "status": "GOOD", "rate": 0.97,
                                   "targetValue": 0.9, "targetCondition": "GREATER_THAN"},
    }]}


@pytest.fixture
def account(tmp_path):
    folder = write_account(tmp_path, tz="Asia/Tokyo", marketplace="JP",
                           orders="order_id,purchase_date,fulfillment_channel,order_status\n"
                                  "A1,2026-11-01T10:00:00,MFN,Shipped\n")
    return folder


def test_ahr_and_policy_blocks_are_read_with_windows_on_the_accounts_calendar(tmp_path):
    path = tmp_path / "amazon.json"
    path.write_text(json.dumps(payload()))
    _, extras = read_report(path, "JP", load_policy(), "Asia/Tokyo")
    health = extras["health"]
    assert (health.ahr_score, health.ahr_status) == (180, "AT_RISK")
    assert health.warning_states == ("spammingSellerMessaging (BAD)",)
    assert health.unit_on_time_delivery["rate"] == 0.97
    table = health.table().set_index("key")
    # Three blocks were in the payload, in Seller Central's order.
    assert list(table.index) == ["receivedIntellectualPropertyComplaints", "productAuthenticityCustomerComplaints",
                                 "listingPolicyViolations"]
    ip = table.loc["receivedIntellectualPropertyComplaints"]
    assert (ip["defects"], ip["status"], ip["target"], ip["breach"]) == (1, "NONE", "<= 0", True)
    assert table.loc["listingPolicyViolations", "breach"] in (False,)
    # 19 May 15:00 UTC is 20 May 00:00 in Tokyo; 14 November 14:59:59 UTC is 23:59:59 there.
    assert (str(ip["date_from"]), str(ip["date_to"])) == ("2026-05-20", "2026-11-14")
    # The same instants for an account in Los Angeles fall on 19 May and 14 November.
    _, la = read_report(path, "JP", load_policy(), "America/Los_Angeles")
    assert str(la["health"].table()["date_from"].iat[0]) == "2026-05-19"


@pytest.mark.parametrize("spoil, message", [
    (lambda p: p["performanceMetrics"][0]["listingPolicyViolations"].update(defectsCount=-1),
     "listingPolicyViolations.defectsCount: -1 is not a whole number >= 0"),
    (lambda p: p["performanceMetrics"][0]["listingPolicyViolations"].update(defectsCount="two"),
     # refused by Amazon's schema (defectsCount is an integer there) before perfkit reads it
     'performanceMetrics[0].listingPolicyViolations.defectsCount is "two", Amazon\'s schema wants integer'),
    (lambda p: p["performanceMetrics"][0]["accountHealthRating"].update(ahrScore=1.5),
     "accountHealthRating.ahrScore: 1.5 is not a whole number >= 0"),
    (lambda p: p["performanceMetrics"][0]["listingPolicyViolations"]["reportingDateRange"].update(
        reportingDateTo="2099-12-01"), "listingPolicyViolations: the window lies outside any possible data"),
])
def test_a_bad_block_is_refused(tmp_path, spoil, message):
    data = payload()
    spoil(data)
    path = tmp_path / "amazon.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError) as err:
        read_report(path, "JP", load_policy(), "Asia/Tokyo")
    assert message in str(err.value)


def test_kept_reports_give_the_history(account, tmp_path):
    for day, ahr, ip in (("2026-10-14", 220, 0), ("2026-11-14", 180, 1)):
        path = tmp_path / f"{day}.json"
        data = payload(ahr, ip)
        for node in data["performanceMetrics"][0].values():
            if isinstance(node, dict) and "reportingDateRange" in node:
                node["reportingDateRange"] = {"reportingDateFrom": "2026-05-01", "reportingDateTo": day}
        path.write_text(json.dumps(data))
        res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "reconcile", str(account.parent), "--account",
                              "acct", "--amazon", str(path)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    assert "Account Health Rating: 180 (AT_RISK)" in res.stdout
    assert "Received intellectual property complaints" in res.stdout and "BREACH" in res.stdout
    history = kept_health(AccountContext.of(account))
    ahr = history[history["key"] == ""]
    assert ahr[["report", "ahr_score"]].values.tolist() == [["2026-10-14", 220], ["2026-11-14", 180]]
    ip = history[history["key"] == "receivedIntellectualPropertyComplaints"]
    assert ip[["report", "defects", "breach"]].values.tolist() == [["2026-10-14", 0, False], ["2026-11-14", 1, True]]


def test_nesting_depth_counts_brackets_outside_strings_only():
    from perfkit.analysis.amazon_json import nesting_depth

    # {"a": [ {"b": "[[[{{{"} ]}: object, list, object = 3 levels; the string's brackets do not count.
    assert nesting_depth('{"a": [{"b": "[[[{{{\\""}]}') == 3
    assert nesting_depth('"[[["') == 0


def test_missing_required_keys_are_one_warning_not_a_refusal(tmp_path):
    path = tmp_path / "amazon.json"
    path.write_text(json.dumps(payload()))
    _, extras = read_report(path, "JP", load_policy(), "Asia/Tokyo")
    missing = [w for w in extras["warnings"] if "calls required are missing" in w]
    assert len(missing) == 1 and "accountStatuses" in missing[0]


@pytest.mark.parametrize("text, status", [("GREAT", "ok"), ("WARNED", "at_risk"), ("AT_RISK", "at_risk"),
                                          ("Critical", "breach"), ("", "no_data"), ("SOMETHING_NEW", "no_data")])
def test_amazons_own_ahr_statuses_are_read(text, status):
    # The published schema's accountHealthRatingStatus enum is GREAT or WARNED: WARNED was "no data".
    from perfkit.views.health import ahr_status

    assert ahr_status(text) == status
