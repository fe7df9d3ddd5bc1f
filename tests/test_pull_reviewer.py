"""perfkit pull against cases a reviewer's own stub of the published models could serve, found by
reading Amazon's Reports API model (reports_2021-06-30.json), its Marketplace IDs page and Login
with Amazon's token endpoint, and not covered before: a token endpoint that never answers, a revoked
refresh token (LWA's invalid_grant), a token answer with no token, a short ``expires_in``, fields
the model does not define in every answer, a processingStatus outside the model's enum, a
UTF-8 document with a byte-order mark, CRLF lines and a declared Shift_JIS one, every
marketplace on Amazon's list (BE, IE, TR, SA, EG and ZA were missing), two accounts of one seller
(one refresh token, two marketplaces), a group-readable config. All through the CLI, against
tests/spapi_stub.py on 127.0.0.1."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from perfkit.pull import catalogue

from . import spapi_stub
from .spapi_stub import Plan
from .test_pull import ORDERS_HEADER, _days, orders_document
from .test_pull_hostile import (FEEDBACK, ORDERS, TOKENS, account_block, expected_ids, no_secret_anywhere, order_ids,
                                pulled_feedback, run_pull, setup, stub_for)

# Amazon's Marketplace IDs page (developer-docs.amazon.com/sp-api/docs/marketplace-ids), region by region.
AMAZON_IDS = {
    "NA": {"CA": "A2EUQ1WTGCTBG2", "US": "ATVPDKIKX0DER", "MX": "A1AM78C64UM0Y8", "BR": "A2Q3Y263D00KWC"},
    "EU": {"IE": "A28R8C7NBKEWEA", "ES": "A1RKKUPIHCS9HS", "UK": "A1F83G8C2ARO7P", "FR": "A13V1IB3VIYZZH",
           "BE": "AMEN7PMS3EDWL", "NL": "A1805IZSGTT6HS", "DE": "A1PA6795UKMFR9", "IT": "APJ6JRA9NG5V4",
           "SE": "A2NODRKZP88ZB9", "ZA": "AE08WJ6YKNBMC", "PL": "A1C3SOZRARQ6R3", "EG": "ARBP9OOSHTCHU",
           "TR": "A33AVAJ2PDY3EV", "SA": "A17E79C6D8DWNP", "AE": "A2VIGQ35RCS4UG", "IN": "A21TJRUUN4KGV"},
    "FE": {"SG": "A19VAU5U5O7RUS", "AU": "A39IBJ37TRP1C6", "JP": "A1VC38T7YXB528"},
}


@pytest.fixture
def spapi():
    servers = []

    def serve(stub):
        servers.append(spapi_stub.start(stub)[0])
        return stub
    yield serve
    for s in servers:
        s.shutdown()


def config_for(tmp_path: Path, stub, accounts: dict[str, tuple[str, str]], **pull) -> tuple[Path, Path]:
    """A data root and a private config: ``accounts`` maps id -> (marketplace, refresh token); every
    account, in UTC, pulls the orders report only, over 2 days (1 or 2 months)."""
    return setup(tmp_path, stub, {aid: (market, ["orders"]) for aid, (market, _) in accounts.items()},
                 tokens={aid: token for aid, (_, token) in accounts.items()}, tz="UTC", **{"history_days": 2, **pull})


def test_a_token_endpoint_that_never_answers_fails_the_account_in_bounded_time(tmp_path, spapi):
    # LWA takes the connection and says nothing for 30 s, three times; the read timeout is 1 s.
    # Before, the SDK's requests.post had no timeout: the run waited out every silence (a Monday
    # cron job that hangs for as long as the endpoint does, with no line in the log).
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())}, stall={"token": 3}, stall_seconds=30))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])}, timeout_seconds=1)
    started = time.monotonic()
    res = run_pull(root, config)
    assert time.monotonic() - started < 25, "the pull waited for the silent token endpoint"
    assert res.returncode == 2 and "Traceback" not in res.stderr
    first = res.stderr.splitlines()[0]
    assert first.startswith("us-shop: FAILED: Login with Amazon could not be reached or gave no token (last: ")
    assert "timed out" in first and first.endswith("); check the token_url and this machine's network; "
                                                   "the next run tries again")
    assert len(stub.operations("token")) == 3 and stub.operations("createReport") == []
    no_secret_anywhere(res, root)


def test_a_revoked_refresh_token_is_named_as_lwa_says_and_asked_once(tmp_path, spapi):
    # LWA answers a revoked refresh token 400 {"error": "invalid_grant"}; the SDK called that
    # "server_error" (as it does every HTTP refusal) and it was asked for three times.
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    config.write_text(config.read_text().replace(TOKENS["us-shop"], "Atzr|revoked-token-0123456789"))
    res = run_pull(root, config)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.splitlines()[0] == (
        "us-shop: FAILED: Login with Amazon refused the credentials (invalid_grant: The request has an invalid grant "
        "parameter : refresh_token); the refresh token was revoked or is wrong: ask the seller to authorise the app "
        "again (Seller Central > Apps and Services > Manage Your Apps) and put the new refresh token in the config file")
    assert len(stub.operations("token")) == 1  # LWA gives the same answer to the same token: not asked again
    assert "revoked-token-0123456789" not in res.stdout + res.stderr
    # A wrong client secret is LWA's invalid_client: the app's id and secret are named, not the seller's token.
    stub.script["token"] = [(401, {"error": "invalid_client", "error_description": "Client authentication failed"}, {})]
    config.write_text(config.read_text().replace("Atzr|revoked-token-0123456789", TOKENS["us-shop"]))
    res = run_pull(root, config)
    assert res.returncode == 2
    assert res.stderr.splitlines()[0] == (
        "us-shop: FAILED: Login with Amazon refused the credentials (invalid_client: Client authentication failed); "
        "check the app's client id and secret ([sp_api] in the config file, or PERFKIT_LWA_CLIENT_ID/SECRET)")


def test_a_token_answer_without_a_token_is_one_line_and_a_throttled_login_is_waited_out(tmp_path, spapi):
    # A 200 with no access_token (a captive portal's page, a proxy's {}), three times: one line
    # quoting it, not "unexpected KeyError". Before, the SDK's KeyError went up as a bug.
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())},
                          script={"token": [(200, {"token_type": "bearer"}, {})] * 3}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    res = run_pull(root, config)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "unexpected" not in res.stderr
    assert res.stderr.splitlines()[0] == (
        "us-shop: FAILED: Login with Amazon could not be reached or gave no token (last: 200 without an access_token; "
        "it sent: {\"token_type\": \"bearer\"}); check the token_url and this machine's network; the next run tries again")
    # LWA throttled (429) then failing (503) once each, then a token: the pull goes on and completes.
    stub.script["token"] = [(429, {"error": "rate_limited"}, {}), (503, b"<html>busy</html>", {"Content-Type": "text/html"})]
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    assert len(stub.operations("token")) == 3 + 3 and order_ids(root / "us-shop") == expected_ids(stub)


def test_a_short_lived_token_is_renewed_before_it_runs_out(tmp_path, spapi):
    # LWA's expires_in of 1 s (a stub may give any): every call still carries a token LWA issued,
    # and the document arrives. The SDK kept a token 30 s less than its lifetime: a negative time.
    stub = spapi(stub_for(plans={ORDERS: Plan(["IN_PROGRESS", "DONE"], orders_document())}, token_lifetime=1))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    api = [c for c in stub.calls if c["operation"] in ("createReport", "getReport", "getReportDocument")]
    assert api and all(c["token"] in stub.tokens for c in api)
    assert order_ids(root / "us-shop") == expected_ids(stub)


def test_fields_the_model_does_not_define_are_ignored_everywhere(tmp_path, spapi):
    # Every JSON answer (token, createReport, getReport, getReportDocument, Restricted Data Token)
    # carries fields a later model might add: the pull is the same as without them.
    stub = spapi(stub_for(plans={ORDERS: Plan(["IN_QUEUE", "IN_PROGRESS", "DONE"], orders_document(), gzip=True),
                                 "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING": Plan(["DONE"], lambda s, e: b"order-id\tsku\n302-1\tA\n")},
                          extra_fields=True))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders", "unshipped"])})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    assert order_ids(root / "us-shop") == expected_ids(stub)
    assert (root / "us-shop" / "amazon-unshipped.txt").read_text(encoding="utf-8") == "order-id\tsku\n302-1\tA\n"
    assert stub.operations("createRestrictedDataToken")  # the restricted report's path was taken too
    no_secret_anywhere(res, root)


def test_a_status_outside_the_model_is_one_line_and_the_other_reports_go_on(tmp_path, spapi):
    # "DONE_NO_DATA" was MWS's word (and the 2020 Reports API's); the 2021-06-30 model's enum is
    # CANCELLED, DONE, FATAL, IN_PROGRESS, IN_QUEUE only.
    stub = spapi(stub_for(plans={FEEDBACK: Plan(["DONE_NO_DATA"]), ORDERS: Plan(["DONE"], orders_document())}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["feedback", "orders"])})
    res = run_pull(root, config)
    # The one account came through (its orders are kept): `perfkit pull && perfkit report` goes on.
    # Before, one failed report type made every account "need a human" and the pull exit 2.
    assert res.returncode == 0 and "Traceback" not in res.stderr
    failed = [line for line in account_block(res.stderr, "us-shop") if line.startswith("  failed: ")]
    months = sorted(r["spec"]["dataStartTime"][:7] for r in stub.reports.values() if r["spec"]["reportType"] == FEEDBACK)
    assert len(failed) == len(months) >= 1
    for month, line in zip(months, failed):
        assert line.startswith(f"  failed: {FEEDBACK} ({month}): getReport ") and line.endswith("; the next run tries again")
        assert ("Amazon's answer does not follow the Reports API model (Invalid value for processingStatus "
                "(DONE_NO_DATA), must be one of ['CANCELLED', 'DONE', 'FATAL', 'IN_PROGRESS', 'IN_QUEUE'])") in line
    files = len(list((root / "us-shop").glob("*.txt")))
    assert res.stdout.splitlines()[-1] == f"pull: 1 account, {files} file{'s' if files != 1 else ''} written, 1 need a human"
    assert order_ids(root / "us-shop") == expected_ids(stub)


def test_an_app_without_the_restricted_role_still_reports_every_account(tmp_path, spapi):
    # Every account's Unshipped document needs a Restricted Data Token, which Amazon refuses to an
    # app without the Direct-to-Consumer Shipping role (403 before and after a new token): each
    # account says so, and the pull exits 0, so `perfkit pull && perfkit report` still reports.
    denied = (403, {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}, {})
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document()),
                                 "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING": Plan(["DONE"], lambda s, e: b"order-id\n")},
                          script={"createRestrictedDataToken": [denied] * 4}))
    root, config = setup(tmp_path, stub, {"de-shop": ("DE", ["orders", "unshipped"]),
                                          "uk-shop": ("UK", ["orders", "unshipped"])})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    for aid in ("de-shop", "uk-shop"):
        block = account_block(res.stderr, aid)
        assert len(block) == 2 and block[1].startswith("  failed: GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING (snapshot): ")
        assert "Manage Your Apps" in block[1] and order_ids(root / aid) == sorted(
            f"302-{d:%Y%m%d}" for r in stub.reports.values() if r["spec"]["reportType"] == ORDERS
            and r["spec"]["marketplaceIds"] == [{"de-shop": "A1PA6795UKMFR9", "uk-shop": "A1F83G8C2ARO7P"}[aid]]
            for d in _days(r["spec"]["dataStartTime"], r["spec"]["dataEndTime"]))
    assert res.stdout.splitlines()[-1].endswith(", 2 need a human")


def test_bom_crlf_and_declared_shift_jis_documents(tmp_path, spapi):
    # UTF-8 with a byte-order mark and CRLF lines: the BOM would glue itself to the first column's
    # name ("\ufeffamazon-order-id") and the rows' key would not be found.
    def bom(start, end) -> bytes:
        return b"\xef\xbb\xbf" + orders_document()(start, end).replace(b"\n", b"\r\n")
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], bom, charset="UTF-8")}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    for _ in range(2):  # the second run merges the unsettled month into the first run's file
        res = run_pull(root, config)
        assert res.returncode == 0, res.stderr
    files = list((root / "us-shop").glob("amazon-all-orders-*.txt"))
    assert files and all(f.read_text(encoding="utf-8").startswith(ORDERS_HEADER + "\n") for f in files)
    assert order_ids(root / "us-shop") == expected_ids(stub)
    # JP: Content-Type "text/plain; charset=Shift_JIS", the bytes Windows-31J (～ is 0x8160 there).
    header = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email"
    stub.plans[FEEDBACK] = Plan(["DONE"], lambda s, e: f"{header}\n{_days(s, e)[0]:%y/%m/%d}\t1\t遅い～\t\t302-1\t"
                                "x@example.invalid\n".encode("cp932"), charset="Shift_JIS")
    kept = pulled_feedback(tmp_path / "jp", stub, "jp-shop", "JP")
    assert kept and all("\t遅い～\t" in k for k in kept)


def test_every_marketplace_on_amazons_list_gets_its_id_and_region(tmp_path, spapi):
    # Amazon's Marketplace IDs page: 23 marketplaces in three regions. Six of them (BE, IE, TR,
    # SA, EG, ZA) had a region in amazon.toml but no id: their pull failed before asking.
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())}))
    markets = {code: region for region, ids in AMAZON_IDS.items() for code in ids}
    assert len(markets) == 23
    tokens = {f"shop-{code.lower()}": f"Atzr|refresh-{code.lower()}-0123456789" for code in markets}
    stub.refresh_tokens.update({t: aid for aid, t in tokens.items()})
    root, config = config_for(tmp_path, stub, {aid: (aid[5:].upper(), t) for aid, t in tokens.items()}, history_days=0)
    res = run_pull(root, config)
    assert res.returncode == 0 and "FAILED" not in res.stderr and "failed:" not in res.stderr, res.stderr
    sent = {}
    for call in stub.operations("createReport"):
        sent.setdefault(tuple(call["body"]["marketplaceIds"]), 0)
        sent[tuple(call["body"]["marketplaceIds"])] += 1
    assert set(sent) == {(mid,) for ids in AMAZON_IDS.values() for mid in ids.values()}
    # And the endpoint of each region, as Amazon's SP-API endpoints page gives them.
    for code, region in markets.items():
        assert catalogue.region_of(code) == region
    assert {r: catalogue.endpoint(r) for r in ("NA", "EU", "FE")} == {
        "NA": "https://sellingpartnerapi-na.amazon.com", "EU": "https://sellingpartnerapi-eu.amazon.com",
        "FE": "https://sellingpartnerapi-fe.amazon.com"}


def test_two_accounts_of_one_seller_each_get_their_own_marketplace(tmp_path, spapi):
    # One seller selling in Germany and France: one refresh token, two account folders. Each
    # report asks for its own marketplace and lands in its own folder; the files are not mixed.
    token = "Atzr|refresh-eu-seller-0123456789"
    stub = spapi(stub_for(plans={ORDERS: Plan(["IN_PROGRESS", "DONE"], orders_document())}))
    stub.refresh_tokens[token] = "eu-seller"
    root, config = config_for(tmp_path, stub, {"de-shop": ("DE", token), "fr-shop": ("FR", token)})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    by_market: dict[str, list] = {}
    for r in stub.reports.values():
        by_market.setdefault(r["spec"]["marketplaceIds"][0], []).append(r)
    assert set(by_market) == {"A1PA6795UKMFR9", "A13V1IB3VIYZZH"}
    assert len(by_market["A1PA6795UKMFR9"]) == len(by_market["A13V1IB3VIYZZH"]) >= 1
    state = {aid: json.loads((root / aid / ".perfkit-pull.json").read_text()) for aid in ("de-shop", "fr-shop")}
    assert state["de-shop"]["months"] and state["de-shop"]["months"] == state["fr-shop"]["months"]
    assert order_ids(root / "de-shop") == order_ids(root / "fr-shop") != []
    assert token not in res.stdout + res.stderr


@pytest.mark.parametrize("mode, what", [(0o640, "readable"), (0o604, "readable"), (0o660, "readable and writable"),
                                        (0o620, "writable"), (0o602, "writable"), (0o610, "accessible")])
def test_a_config_any_group_or_other_may_read_or_write_is_refused(tmp_path, spapi, mode, what):
    stub = spapi(stub_for())
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    config.chmod(mode)
    res = run_pull(root, config)
    assert res.returncode == 2
    assert res.stderr.strip() == (f"perfkit: error: {config}: {what} by others (mode {mode:o}); it holds credentials: "
                                  f"run chmod 600 {config}")
    assert stub.calls == []


def test_a_report_type_refused_every_month_is_one_line_naming_the_months(tmp_path, spapi):
    # Amazon's 400 for a report type it does not offer in that marketplace comes back for each
    # month asked for (70 days: 3 or 4 calendar months); the cron log says it once, with the months.
    refused = (400, {"errors": [{"code": "InvalidInput", "message": "Report type GET_SELLER_FEEDBACK_DATA is not "
                                 "available for marketplace A2Q3Y263D00KWC."}]}, {})
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())}, script={f"createReport:{FEEDBACK}": [refused] * 6}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["feedback", "orders"])}, history_days=70)
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    months = [c["body"]["dataStartTime"][:7] for c in stub.operations("createReport") if c["body"]["reportType"] == FEEDBACK]
    assert len(months) in (3, 4) and months == sorted(set(months))  # each month asked for once, oldest first
    block = account_block(res.stderr, "us-shop")
    assert block[1:] == [f"  failed: createReport {FEEDBACK} ({', '.join(months)}) for us-shop: Amazon answered 400 "
                         "InvalidInput: Report type GET_SELLER_FEEDBACK_DATA is not available for marketplace "
                         "A2Q3Y263D00KWC.; Amazon refused the request as made: not retried; check the account's "
                         "marketplace in account.json and that Amazon offers this report there"]
    assert order_ids(root / "us-shop") == expected_ids(stub)
