"""perfkit pull over a connection that drops (issue #24): a document cut off mid-body, a call
whose connection closes without an answer, are retried with the backoff a 5xx gets; when they
keep failing, one line naming the account, the report and its month, exit 2, the other accounts
pulled. And answers that are not Amazon's model (a proxy's HTML page, JSON missing reportId or
processingStatus): one line quoting what came (truncated, credentials masked), never a
traceback. All through the CLI at tests/spapi_stub.py on 127.0.0.1."""
from __future__ import annotations

import json

from .spapi_stub import CLIENT_SECRET, Plan
from .test_pull import _days, orders_document
from .test_pull_hostile import (FEEDBACK, ORDERS, RETURNS, TOKENS, account_block, expected_ids, no_secret_anywhere,
                                order_ids, run_pull, setup, spapi, stub_for)

__all__ = ["spapi"]  # the fixture, imported for pytest

FEEDBACK_HEADER = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email"
DROPPED = "ProtocolError: ('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"


def feedback_document(start: str | None, end: str | None) -> bytes:
    return "".join([FEEDBACK_HEADER + "\n"] + [f"{d:%d/%m/%y}\t5\tgood\t\t302-{d:%Y%m%d}\tx@example.invalid\n"
                                               for d in _days(start, end)]).encode()


def test_a_cut_document_and_dropped_calls_are_retried_and_the_pull_completes(tmp_path, spapi):
    # Once each: createReport and getReport closed without an answer, the document sent with a
    # Content-Length twice what came before the connection closed (http.client says nothing of it).
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())},
                          drop={"createReport": 1, "getReport": 1}, cut_downloads={"": 1}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr and "failed:" not in res.stdout + res.stderr
    # 3 retries: the createReport, the getReport and the download, each once; a file per document
    # (how many months the pull asks for depends on today's date: one file is "1 file").
    n = len({c["document_id"] for c in stub.operations("getReportDocument")})
    assert account_block(res.stdout, "us-shop")[0] == (
        f"us-shop: {n} file{'s' if n != 1 else ''} written, 3 throttled or failed calls retried")
    assert stub.refused.count(("createReport", "dropped")) == 1 and stub.refused.count(("getReport", "dropped")) == 1
    assert stub.refused.count(("download", "cut")) == 1
    # Every order of every month asked for is in the files: the cut half was not kept.
    assert order_ids(root / "us-shop") == expected_ids(stub) and expected_ids(stub)
    # The URL was minutes from expiring? No: the retry reuses it, one getReportDocument per document.
    docs = [c["document_id"] for c in stub.operations("getReportDocument")]
    assert len(docs) == len(set(docs)) and len(stub.operations("download")) == len(docs) + 1
    # A URL that may have expired (document_url_seconds = 0: any URL) is asked for anew before the retry.
    stub2 = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())}, cut_downloads={"": 1}))
    root2, config2 = setup(tmp_path / "fresh", stub2, {"us-shop": ("US", ["orders"])}, document_url_seconds=0)
    res = run_pull(root2, config2)
    assert res.returncode == 0, res.stderr
    docs = [c["document_id"] for c in stub2.operations("getReportDocument")]
    assert len(docs) == len(set(docs)) + 1 == len(stub2.operations("download"))
    assert order_ids(root2 / "us-shop") == expected_ids(stub2)
    no_secret_anywhere(res, root2)


def test_a_connection_that_keeps_dropping_is_one_line_per_report_and_the_other_accounts_are_pulled(tmp_path, spapi):
    # us-shop's feedback document is cut in half at every download; de-shop's returns reports are
    # never answered (createReport's connection closed each time); uk-shop's orders are fine.
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document()), FEEDBACK: Plan(["DONE"], feedback_document)},
                          cut_downloads={FEEDBACK: 999}, drop={f"createReport:{RETURNS}": 999}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["feedback"]), "de-shop": ("DE", ["returns"]),
                                          "uk-shop": ("UK", ["orders"])})
    res = run_pull(root, config)
    assert res.returncode == 0 and "Traceback" not in res.stderr  # uk-shop came through
    us = account_block(res.stderr, "us-shop")
    feedback = {rid: r for rid, r in stub.reports.items() if r["spec"]["reportType"] == FEEDBACK}
    # 5 downloads of each document, 4 waits between them
    assert us[0] == f"us-shop: 0 files written, {4 * len(feedback)} throttled or failed calls retried"
    expected = []
    for rid, report in sorted(feedback.items()):
        size = len(stub.documents[f"amzn1.tortuga.4.{rid}"][0])
        sent = size // 2  # what the stub sends of a cut document
        month = report["spec"]["dataStartTime"][:7]
        expected.append(f"  failed: {FEEDBACK} ({month}): us-shop's report document amzn1.tortuga.4.{rid}: the download "
                        f"failed 5 times (last: IncompleteRead: the connection closed {size - sent} bytes short, after "
                        f"{sent}); the next run downloads it again")
    assert sorted(us[1:]) == sorted(expected) and expected
    # max_attempts = 5 (setup's config): 5 downloads of each document, no more.
    per_doc = [c["document_id"] for c in stub.operations("download")]
    assert all(per_doc.count(f"amzn1.tortuga.4.{rid}") == 5 for rid in feedback)
    de = account_block(res.stderr, "de-shop")
    assert de[0].startswith("de-shop: 0 files written, ") and len(de) > 1
    # each month's refusal alike: one line naming the months
    months = sorted({c["body"]["dataStartTime"][:7] for c in stub.operations("createReport") if c["body"]["reportType"] == RETURNS})
    assert de[1:] == [f"  failed: createReport {RETURNS} ({', '.join(months)}) for de-shop: gave up after 5 attempts "
                      f"(last: {DROPPED}); the next run resumes"]
    assert sum(1 for c in stub.operations("createReport") if c["body"]["reportType"] == RETURNS) == 5 * len(months)
    # 4 waits between the 5 calls of each month: none after the last one, which only fails
    assert de[0] == f"de-shop: 0 files written, {4 * len(months)} throttled or failed calls retried"
    # uk-shop is pulled as if nothing happened.
    uk_reports = [r for r in stub.reports.values() if r["spec"]["reportType"] == ORDERS]
    ids = sorted({f"302-{d:%Y%m%d}" for r in uk_reports for d in _days(r["spec"]["dataStartTime"], r["spec"]["dataEndTime"])})
    assert order_ids(root / "uk-shop") == ids and ids
    assert res.stdout.endswith("2 need a human\n")
    # The cut reports stay pending: the next run downloads them without asking Amazon for new ones.
    state = json.loads((root / "us-shop" / ".perfkit-pull.json").read_text())
    assert {v["report_id"] for v in state["pending"].values()} == set(feedback)
    no_secret_anywhere(res, root)


def test_answers_that_are_not_amazons_model_are_one_line_quoting_them(tmp_path, spapi):
    # de-shop: a proxy's 502 HTML page at every createReport, quoting a token and the client secret,
    # with a terminal escape and 300 characters of padding. us-shop: 202 JSON without reportId.
    # uk-shop: getReport's 200 without processingStatus. jp-shop: a 200 HTML page from getReport.
    page = (f"<html>\x1b[31m<h1>502 Bad Gateway</h1>\n<p>upstream said Atza|IwEBIleak42 {CLIENT_SECRET}</p>"
            + "x" * 300 + "</html>").encode()
    html = {"Content-Type": "text/html"}
    no_status = {"reportId": "1", "reportType": FEEDBACK, "createdTime": "2026-12-01T00:00:00Z",
                 "marketplaceIds": ["A1F83G8C2ARO7P"]}
    stub = spapi(stub_for(
        plans={FEEDBACK: Plan(["DONE"], feedback_document), ORDERS: Plan(["DONE"], orders_document())},
        script={f"createReport:{RETURNS}": [(502, page, html)] * 20,
                f"createReport:{ORDERS}": [(202, {"id": "50001"}, {})] * 4,
                f"getReport:{FEEDBACK}": [(200, no_status, {})] * 8,
                "getReport:GET_V2_SELLER_PERFORMANCE_REPORT": [(200, b"<html><body>Service Unavailable</body></html>", html)]}))
    root, config = setup(tmp_path, stub, {"de-shop": ("DE", ["returns"]), "us-shop": ("US", ["orders"]),
                                          "uk-shop": ("UK", ["feedback"]), "jp-shop": ("JP", ["performance"])})
    res = run_pull(root, config)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "KeyError" not in res.stderr
    # The page as one line, escape gone, cut at 200 characters, the token and the secret masked.
    shown = ("<html>[31m<h1>502 Bad Gateway</h1> <p>upstream said … …</p>" + "x" * 200)[:200] + "…"
    de = account_block(res.stderr, "de-shop")
    assert len(de) > 1 and all(
        line.startswith(f"  failed: createReport {RETURNS} (20") and line.endswith(
            f") for de-shop: gave up after 5 attempts (last: 502 Bad Gateway; it sent: {shown}); the next run resumes")
        for line in de[1:])
    us = account_block(res.stderr, "us-shop")
    assert len(us) > 1 and all(
        line.startswith(f"  failed: createReport {ORDERS} (20") and line.endswith(
            ") for us-shop: Amazon's answer does not follow the Reports API model (Invalid value for reportId, must not "
            "be `None`); it sent: {\"id\": \"50001\"}; the next run tries again") for line in us[1:])
    # Not retried: an answer of the wrong shape comes again if asked again at once.
    # (the months' refusals, alike, are one line naming them)
    months = [c["body"]["dataStartTime"][:7] for c in stub.operations("createReport") if c["body"]["reportType"] == ORDERS]
    assert len(months) == len(set(months)) and len(us) == 2 and f"({', '.join(months)})" in us[1]
    uk = account_block(res.stderr, "uk-shop")
    assert len(uk) > 1 and all(
        line.startswith(f"  failed: {FEEDBACK} (20") and "): getReport 5" in line and line.endswith(
            " for uk-shop: Amazon's answer does not follow the Reports API model (Invalid value for processingStatus, "
            f"must not be `None`); it sent: {json.dumps(no_status)}; the next run tries again") for line in uk[1:])
    jp = account_block(res.stderr, "jp-shop")
    assert len(jp) == 2 and jp[1].startswith("  failed: GET_V2_SELLER_PERFORMANCE_REPORT (snapshot): getReport 5") \
        and jp[1].endswith(" for jp-shop: Amazon's answer does not follow the Reports API model (Invalid value for "
                           "reportId, must not be `None`); it sent: <html><body>Service Unavailable</body></html>; "
                           "the next run tries again")
    assert "IwEBIleak42" not in res.stdout + res.stderr
    assert TOKENS["de-shop"] not in res.stderr
    no_secret_anywhere(res, root)


def test_a_read_that_times_out_is_retried(tmp_path, spapi):
    # timeout_seconds = 0.5; the stub goes silent for 2 s: once before answering getReport (urllib3's
    # ReadTimeoutError), once after half the document (a socket timeout mid-body). Both retried.
    # (The SDK ignored a timeout that is not an int: getReport waited the 2 s and took the answer.)
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())}, stall={"getReport": 1, "download": 1}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])}, history_days=1, timeout_seconds=0.5)
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    assert stub.refused.count(("getReport", "stalled")) == 1 and stub.refused.count(("download", "stalled")) == 1
    assert order_ids(root / "us-shop") == expected_ids(stub) and expected_ids(stub)
    assert "failed:" not in res.stdout + res.stderr
    assert account_block(res.stdout, "us-shop")[0].endswith(" written, 2 throttled or failed calls retried")
