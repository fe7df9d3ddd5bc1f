"""perfkit pull against what a real Selling Partner API can answer (the published Reports API
2021-06-30 model's 400/401/403/404/429/500/503, its CANCELLED status, pre-signed URLs that expire
after 5 minutes, GZIP documents, Cp1252 and Windows-31J text, reports slower than the wait, a run
killed mid-way). Every failure is one line naming the account, the report and what to do; the
other accounts go on; no credential is ever printed or written. All at tests/spapi_stub.py on
127.0.0.1."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import spapi_stub
from .conftest import write_account
from .spapi_stub import CLIENT_ID, CLIENT_SECRET, Plan, Stub
from .test_pull import ORDERS_HEADER, _days, orders_document

ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
FEEDBACK = "GET_SELLER_FEEDBACK_DATA"
RETURNS = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
TOKENS = {"de-shop": "Atzr|refresh-de-0123456789", "uk-shop": "Atzr|refresh-uk-0123456789",
          "us-shop": "Atzr|refresh-us-0123456789", "jp-shop": "Atzr|refresh-jp-0123456789"}
SECRETS = (CLIENT_SECRET, *TOKENS.values())


@pytest.fixture
def spapi():
    servers = []

    def serve(stub: Stub) -> Stub:
        servers.append(spapi_stub.start(stub)[0])
        return stub
    yield serve
    for s in servers:
        s.shutdown()


def _error(code: str, message: str, details: str = "") -> dict:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def order_ids(folder: Path) -> list[str]:
    """Every order id in the All Orders files a pull kept in ``folder``."""
    return sorted(line.split("\t")[0] for p in folder.glob("amazon-all-orders-*.txt")
                  for line in p.read_text(encoding="utf-8").splitlines()[1:])


def expected_ids(stub: Stub, report_type: str = ORDERS) -> list[str]:
    """The ids of the one-order-a-day document for every range the stub was asked for (once each)."""
    from .test_pull import _days

    return sorted({f"302-{d:%Y%m%d}" for r in stub.reports.values() if r["spec"]["reportType"] == report_type
                   for d in _days(r["spec"]["dataStartTime"], r["spec"]["dataEndTime"])})


def kept_feedback(folder: Path) -> list[str]:
    """The Feedback files a pull kept in ``folder``, as text."""
    return [p.read_text(encoding="utf-8") for p in folder.glob("amazon-feedback-*.txt")]


def pulled_feedback(where: Path, stub: Stub, account: str, marketplace: str) -> list[str]:
    """Pull one account's Feedback report into a new data root at ``where``: the files kept, as text."""
    root, config = setup(where, stub, {account: (marketplace, ["feedback"])})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    return kept_feedback(root / account)


def setup(tmp_path: Path, stub: Stub, accounts: dict[str, tuple[str, list[str]]], tokens: dict[str, str] | None = None,
          tz: str | None = None, **pull) -> tuple[Path, Path]:
    """A data root with each account's folder (marketplace, its zone, or ``tz``) and a private config
    pulling ``reports`` for each: ``accounts`` maps id -> (marketplace, reports); refresh tokens
    from ``tokens``, else :data:`TOKENS`."""
    zones = {"DE": "Europe/Berlin", "UK": "Europe/London", "US": "America/Los_Angeles", "JP": "Asia/Tokyo"}
    root = tmp_path / "data"
    settings = {"history_days": 3, "poll_seconds": 0.01, "backoff_seconds": 0.01, "max_backoff_seconds": 0.05,
                "max_attempts": 5, "max_wait_minutes": 1, **pull}
    lines = ["[sp_api]", f'endpoint = "{stub.base}"', f'token_url = "{stub.base}/auth/o2/token"',
             f'client_id = "{CLIENT_ID}"', f'client_secret = "{CLIENT_SECRET}"', "", "[pull]"]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    for aid, (market, reports) in accounts.items():
        write_account(root, aid, marketplace=market, tz=tz or zones[market])
        lines += ["", f"[accounts.{aid}]", f'refresh_token = "{(tokens or TOKENS)[aid]}"', f"reports = {json.dumps(reports)}"]
    config = tmp_path / "private" / "agency.toml"
    config.parent.mkdir(exist_ok=True)
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config.chmod(0o600)
    return root, config


def stub_for(**kw) -> Stub:
    return Stub(refresh_tokens={v: k for k, v in TOKENS.items()}, **kw)


def run_pull(root: Path, config: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFKIT_LWA")}
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", "pull", str(root), "--config", str(config), *extra],
                          capture_output=True, text=True, env=env, timeout=120)


def no_secret_anywhere(res: subprocess.CompletedProcess, root: Path) -> None:
    written = "".join(p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*") if p.is_file())
    for secret in SECRETS:
        assert secret not in res.stdout + res.stderr + written


def account_block(text: str, aid: str) -> list[str]:
    """The account's line and its indented note/failed lines."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{aid}: "))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return lines[start:end]


def test_a_pull_where_no_account_came_through_exits_2(tmp_path, spapi):
    """Two accounts, both refused (400 on every feedback request): nothing to report from, so the
    pull fails the run (and `perfkit pull && perfkit report` stops); one refused among good ones
    exits 0 (the test below)."""
    stub = spapi(stub_for(plans={}, script={
        f"createReport:{FEEDBACK}": [(400, _error("InvalidInput", "Invalid input: dataStartTime."), {})] * 8}))
    root, config = setup(tmp_path, stub, {"de-shop": ("DE", ["feedback"]), "uk-shop": ("UK", ["feedback"])})
    res = run_pull(root, config)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stdout.splitlines()[-1] == "pull: 2 accounts, 0 files written, 2 need a human"


def test_refused_requests_are_one_line_each_and_the_other_accounts_are_pulled(tmp_path, spapi):
    stub = spapi(stub_for(
        plans={ORDERS: Plan(["DONE"], orders_document())},
        script={
            # de-shop's feedback: Amazon calls the request invalid (every month of it).
            f"createReport:{FEEDBACK}": [(400, _error("InvalidInput", "Invalid input: dataStartTime."), {})] * 4,
            # uk-shop's returns: the app is not authorised for it (403 before and after a new token).
            f"createReport:{RETURNS}": [(403, _error("Unauthorized", "Access to requested resource is denied.",
                                                     "The access token you provided is revoked."), {})] * 8,
        }))
    root, config = setup(tmp_path, stub, {"de-shop": ("DE", ["feedback"]), "uk-shop": ("UK", ["returns"]),
                                          "us-shop": ("US", ["orders"])})
    res = run_pull(root, config)
    assert res.returncode == 0 and "Traceback" not in res.stderr  # us-shop came through: the report after `&&` still runs
    de = account_block(res.stderr, "de-shop")
    assert de[0] == "de-shop: 0 files written" and len(de) > 1
    assert all(line.startswith(f"  failed: createReport {FEEDBACK} (") for line in de[1:])
    assert de[1].endswith(": Amazon answered 400 InvalidInput: Invalid input: dataStartTime.; Amazon refused "
                          "the request as made: not retried; check the account's marketplace in account.json "
                          "and that Amazon offers this report there")
    uk = account_block(res.stderr, "uk-shop")
    assert uk[1].endswith(": Amazon answered 403 Unauthorized: Access to requested resource is denied. (The access "
                          "token you provided is revoked.); ask the seller to authorise the app again in Seller "
                          "Central (Apps and Services > Manage Your Apps), with the role this report needs")
    # One new token per refused call, then the call once more: 2 calls per month asked for (the
    # months' refusals, alike, are one line naming them).
    months = sorted({c["body"]["dataStartTime"][:7] for c in stub.operations("createReport") if c["body"]["reportType"] == RETURNS})
    assert len(uk) == 2 and f"({', '.join(months)})" in uk[1]
    assert sum(1 for c in stub.operations("createReport") if c["body"]["reportType"] == RETURNS) == 2 * len(months)
    # The third account is pulled as if the others were fine.
    assert any(line.startswith("us-shop: 1 file") or line.startswith("us-shop: 2 files") for line in res.stdout.splitlines())
    assert list((root / "us-shop").glob("amazon-all-orders-*.txt"))
    assert res.stdout.splitlines()[-1].startswith("pull: 3 accounts, ") and res.stdout.endswith("2 need a human\n")
    no_secret_anywhere(res, root)


def test_transient_answers_are_waited_out(tmp_path, spapi):
    # 429 without x-amzn-RateLimit-Limit twice, 500 then 503 on getReport, each access token
    # "expired" (401, as the model also allows) after 3 calls, the first pre-signed URL expired
    # (S3's 403), the document GZIP: the run waits, renews, asks for a new URL, and finishes.
    stub = spapi(stub_for(plans={ORDERS: Plan(["IN_PROGRESS", "DONE"], orders_document(), gzip=True)},
                          throttle={"createReport": 2}, throttle_rate=None, expired_status=401,
                          expire_tokens_after=3, expired_downloads=1,
                          script={"getReport": [(500, _error("InternalFailure", "We encountered an internal error."), {}),
                                                (503, _error("ServiceUnavailable", "Service temporarily unavailable."), {})]}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    assert stub.refused.count(("createReport", "throttled")) == 2
    assert ("getReport", "scripted 500") in stub.refused and ("getReport", "scripted 503") in stub.refused
    assert ("getReport", "expired") in stub.refused or ("getReportDocument", "expired") in stub.refused
    # The expired URL: getReportDocument asked once more for the same document, the new URL downloaded.
    downloads = stub.operations("download")
    docs = [c["document_id"] for c in stub.operations("getReportDocument")]
    assert len(downloads) == len(set(docs)) + 1 and len(docs) >= len(set(docs)) + 1
    folder = root / "us-shop"
    ids = sorted(line.split("\t")[0] for p in folder.glob("amazon-all-orders-*.txt")
                 for line in p.read_text(encoding="utf-8").splitlines()[1:])
    ends = [r["spec"]["dataEndTime"] for r in stub.reports.values()]
    starts = [r["spec"]["dataStartTime"] for r in stub.reports.values()]
    assert ids == sorted(f"302-{d:%Y%m%d}" for s, e in zip(starts, ends) for d in _days(s, e))
    no_secret_anywhere(res, root)


def test_cancelled_empty_and_header_only_dated_reports(tmp_path, spapi):
    # Amazon CANCELLED the All Orders report ("no data to return", or a cancel): said, no file.
    stub = spapi(stub_for(plans={ORDERS: Plan(["IN_QUEUE", "CANCELLED"])}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    notes = [line for line in account_block(res.stdout, "us-shop") if line.startswith("  note: ")]
    assert notes and all(n.startswith(f"  note: {ORDERS} (") and n.endswith(
        "): Amazon returned no document (CANCELLED: no data for those days, or cancelled); nothing written") for n in notes)
    assert not list((root / "us-shop").glob("amazon-all-orders-*"))
    # An account with no orders whose document is empty (0 bytes): said, no file, no crash.
    stub.plans[ORDERS] = Plan(["DONE"], lambda s, e: b"")
    res = run_pull(root, config, "--account", "us-shop")
    assert res.returncode == 0, res.stderr
    assert any(line.endswith("): Amazon's document was empty; nothing written") for line in res.stdout.splitlines())
    # A header and no rows: a file with the header, read by perfkit as zero orders.
    stub.plans[ORDERS] = Plan(["DONE"], lambda s, e: (ORDERS_HEADER + "\n").encode())
    (root / "us-shop" / ".perfkit-pull.json").unlink()  # as a first run
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    files = list((root / "us-shop").glob("amazon-all-orders-*.txt"))
    assert files and all(f.read_text(encoding="utf-8") == ORDERS_HEADER + "\n" for f in files)
    no_secret_anywhere(res, root)


def test_documents_in_cp1252_and_windows_31j_are_kept_as_utf8(tmp_path, spapi):
    header = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email"

    def feedback(text: str, encoding: str):
        return lambda s, e: f"{header}\n{_days(s, e)[0]:%d/%m/%y}\t1\t{text}\t\t302-1\tx@example.invalid\n".encode(encoding)
    stub = spapi(stub_for(plans={FEEDBACK: Plan(["DONE"], feedback("配送が遅い、梱包も悪い", "cp932"), charset="windows-31j")}))
    root, config = setup(tmp_path, stub, {"jp-shop": ("JP", ["feedback"])})
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    kept = kept_feedback(root / "jp-shop")
    assert kept and all("配送が遅い、梱包も悪い" in k for k in kept)
    # Cp932 bytes with no charset, or an empty "charset=": the JP marketplace's candidates read them.
    for n, charset in enumerate((None, "")):
        stub.plans[FEEDBACK] = Plan(["DONE"], feedback(f"返品の対応が遅い{n}", "cp932"), charset=charset)
        (root / "jp-shop" / ".perfkit-pull.json").unlink()
        for p in (root / "jp-shop").glob("amazon-feedback-*.txt"):
            p.unlink()
        res = run_pull(root, config)
        assert res.returncode == 0, res.stderr
        kept = kept_feedback(root / "jp-shop")
        assert kept and all(f"返品の対応が遅い{n}" in k for k in kept)
    # EU: a German comment in Cp1252, as Amazon declares EU documents.
    stub.plans[FEEDBACK] = Plan(["DONE"], feedback("Größe falsch, Rücksendung", "cp1252"), charset="Cp1252")
    kept = pulled_feedback(tmp_path / "eu", stub, "de-shop", "DE")
    assert kept and all("Größe falsch, Rücksendung" in k for k in kept)


def test_a_report_slower_than_the_wait_is_named_and_the_next_run_resumes_it(tmp_path, spapi):
    stub = spapi(stub_for(plans={ORDERS: Plan(["IN_PROGRESS"] * 3 + ["DONE"], orders_document())}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])}, history_days=1, max_wait_minutes=0)
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    line = account_block(res.stdout, "us-shop")[0]
    months = sorted({r["spec"]["dataStartTime"][:7] for r in stub.reports.values()})
    assert line == (f"us-shop: 0 files written, {len(months)} still being prepared by Amazon after the 0-minute wait "
                    f"({', '.join(f'orders/{m}' for m in months)}): the next run resumes them; "
                    "raise max_wait_minutes in [pull] to wait longer")
    created = len(stub.operations("createReport"))
    for _ in range(4):  # each run polls the same reports once more; none is asked for again
        res = run_pull(root, config)
        if "still being prepared" not in res.stdout:
            break
    assert len(stub.operations("createReport")) == created and list((root / "us-shop").glob("amazon-all-orders-*.txt"))


def test_a_killed_run_resumes_and_a_report_amazon_forgot_is_asked_again(tmp_path, spapi):
    stub = spapi(stub_for(plans={ORDERS: Plan(["IN_PROGRESS"], orders_document())}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])}, history_days=1, max_wait_minutes=5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFKIT_LWA")}
    proc = subprocess.Popen([sys.executable, "-m", "perfkit.cli.main", "pull", str(root), "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while not stub.operations("getReport") and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # the machine goes down while Amazon prepares the report
    proc.wait(timeout=30)
    state = json.loads((root / "us-shop" / ".perfkit-pull.json").read_text())
    pending = {v["report_id"] for v in state["pending"].values()}
    assert pending and pending <= set(stub.reports)
    # Next run: Amazon has finished, but has forgotten one of the reports (404 NotFound: a report
    # id kept from long ago): that one is asked for again at once, the others read, none duplicated.
    forgotten = min(pending)
    stub.reports.pop(forgotten)
    stub.plans[ORDERS] = Plan(["DONE"], orders_document())
    created = len(stub.operations("createReport"))
    res = run_pull(root, config)
    assert res.returncode == 0, res.stderr
    assert len(stub.operations("createReport")) == created + 1
    assert {c["report_id"] for c in stub.operations("getReport")} >= pending
    assert any(line.startswith("  note: orders/") and f"Amazon no longer knows report {forgotten}" in line
               for line in res.stdout.splitlines())
    assert json.loads((root / "us-shop" / ".perfkit-pull.json").read_text())["pending"] == {}
    ids = sorted(line.split("\t")[0] for p in (root / "us-shop").glob("amazon-all-orders-*.txt")
                 for line in p.read_text(encoding="utf-8").splitlines()[1:])
    assert ids and len(ids) == len(set(ids))
    no_secret_anywhere(res, root)


def test_an_expired_restricted_data_token_is_replaced_and_echoed_secrets_are_hidden(tmp_path, spapi):
    unshipped = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
    header = "order-id\torder-item-id\tpurchase-date\tpayments-date\tpromise-date\tdays-past-promise\tsku"
    echoed = f"Bad request from client_secret={CLIENT_SECRET} refresh={TOKENS['de-shop']} access=Atza|IwEBIabc123XYZ"
    stub = spapi(stub_for(
        plans={unshipped: Plan(["DONE"], lambda s, e: (header + "\n").encode())},
        script={
            # The Unshipped document's Restricted Data Token refused once, as an expired one is.
            f"getReportDocument:{unshipped}": [(403, _error("Unauthorized", "Access to requested resource is denied.",
                                                            "The access token you provided has expired."), {})],
            # A server that quotes the credentials back in its error message.
            f"createReport:{FEEDBACK}": [(400, _error("InvalidInput", echoed), {})] * 4}))
    root, config = setup(tmp_path, stub, {"de-shop": ("DE", ["unshipped", "feedback"])})
    res = run_pull(root, config)
    # Unshipped kept, Feedback refused: the account came through (exit 0) and needs a human.
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert res.stdout.splitlines()[-1] == "pull: 1 account, 1 file written, 1 need a human"
    # A new RDT for the same document, then the document: the snapshot is written.
    rdts = stub.operations("createRestrictedDataToken")
    assert len(rdts) == 2 and rdts[0]["body"] == rdts[1]["body"]
    assert (root / "de-shop" / "amazon-unshipped.txt").read_text(encoding="utf-8") == header + "\n"
    failed = [line for line in account_block(res.stderr, "de-shop") if line.startswith("  failed: ")]
    assert failed and all("Bad request from client_secret=… refresh=… access=…" in f for f in failed)
    assert "IwEBIabc123XYZ" not in res.stdout + res.stderr
    no_secret_anywhere(res, root)


def test_a_document_url_that_is_not_http_is_never_opened(tmp_path, spapi):
    # A server (or a man in the middle) handing out file:// would have urllib read this machine's disk.
    secret_file = tmp_path / "private" / "not-for-amazon.txt"
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], orders_document())}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders"])})
    secret_file.write_text("local secret\n", encoding="utf-8")
    stub.document_url = secret_file.as_uri()
    res = run_pull(root, config)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    failed = [line for line in account_block(res.stderr, "us-shop") if line.startswith("  failed: ")]
    assert failed and all(f.startswith(f"  failed: {ORDERS} (") and f.endswith(
        "Amazon's document URL starts file://, not https://; not downloaded (check the endpoint in the config file)")
        for f in failed)
    assert not list((root / "us-shop").glob("amazon-all-orders-*"))
    assert "local secret" not in res.stdout + res.stderr


def test_a_429_waits_as_its_rate_limit_header_says_and_by_backoff_without_one(spapi):
    import datetime as dt

    from perfkit.pull.agency import Credentials
    from perfkit.pull.client import ReportsClient

    settings = {"backoff_seconds": 0.01, "max_backoff_seconds": 10, "max_attempts": 3, "timeout_seconds": 10}
    start = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    for rate, floor in (("0.5", 2.0), (None, 0.0)):  # 0.5 calls a second: 2 s apart; no header: backoff only
        stub = spapi(stub_for(throttle={"createReport": 1}, throttle_rate=rate))
        slept: list[float] = []
        client = ReportsClient(Credentials(CLIENT_ID, CLIENT_SECRET, TOKENS["us-shop"]), stub.base,
                               f"{stub.base}/auth/o2/token", settings, sleep=slept.append)
        assert client.create(ORDERS, "ATVPDKIKX0DER", start, start + dt.timedelta(days=1))
        assert len(slept) == 1
        # the first backoff is 0.01 s; a stated rate raises it to 1/rate; up to 10% jitter on top
        low = max(floor, 0.01)
        assert low <= slept[0] <= low * 1.1


def test_a_document_over_max_document_mb_is_refused_unpacked_or_not(tmp_path, spapi):
    # A decompression bomb: the orders document gzip-compressed (a few kB on the wire) unpacks to
    # 1.95 MB of padding rows; the feedback document, sent plain, is 0.2 MB. The config's cap is
    # 0.1 MB (104857 bytes): both refused, nothing written.
    padding = (ORDERS_HEADER + "\n" + "302-0\t\t\t\t\t\t\t\n" * 150_000).encode()  # 150000 rows of 13 bytes
    assert len(padding) == len(ORDERS_HEADER) + 1 + 1_950_000
    feedback = ("Date\tRating\tComments\tYour Response\tOrder ID\tRater Email\n" + "x" * 200_000 + "\n").encode()
    stub = spapi(stub_for(plans={ORDERS: Plan(["DONE"], lambda s, e: padding, gzip=True),
                                 FEEDBACK: Plan(["DONE"], lambda s, e: feedback)}))
    root, config = setup(tmp_path, stub, {"us-shop": ("US", ["orders", "feedback"])}, max_document_mb=0.1)
    res = run_pull(root, config)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    docs = {c["document_id"]: c for c in stub.operations("getReportDocument")}
    assert len(gzip_sizes := [len(stub.documents[d][0]) for d in docs if stub.documents[d][2] == ORDERS]) >= 1
    assert all(size < 104857 for size in gzip_sizes)  # what came over the wire was under the cap
    failed = [line for line in account_block(res.stderr, "us-shop") if line.startswith("  failed: ")]
    orders = [f for f in failed if f.startswith(f"  failed: {ORDERS} (")]
    fb = [f for f in failed if f.startswith(f"  failed: {FEEDBACK} (")]
    assert orders and fb and len(orders) + len(fb) == len(failed)
    tail = ("([pull] max_document_mb = 0.1); not kept: if the report really is that big, raise max_document_mb "
            "in the config file's [pull]")
    # One line each: the report and its month, the account, the document, the setting.
    assert all(f.startswith(f"  failed: {ORDERS} (20") and "): us-shop's report document amzn1." in f
               and f.endswith(f": more than 0.1 MB once unpacked {tail}") for f in orders)
    assert all("): us-shop's report document " in f and f.endswith(f": more than 0.1 MB {tail}") for f in fb)
    assert not list((root / "us-shop").glob("amazon-all-orders-*")) and not list((root / "us-shop").glob("amazon-feedback-*"))


def test_gunzip_stops_at_its_limit_reads_every_member_and_refuses_a_cut_stream():
    import gzip
    import zlib

    from perfkit.pull.client import gunzip
    text = b"302-1\tShipped\n" * 100_000  # 14 bytes a row: 1 400 000 bytes
    packed = gzip.compress(text)
    assert gunzip(packed, 1_400_000) == text  # exactly the limit: kept
    assert gunzip(packed, 1_399_999) is None  # one byte over: refused
    assert gunzip(packed + gzip.compress(b"tail\n"), 2_000_000) == text + b"tail\n"  # two members, as gzip.decompress
    with pytest.raises(EOFError):
        gunzip(packed[:-8], 2_000_000)  # the trailer cut off
    with pytest.raises(zlib.error):
        gunzip(b"\x1f\x8b" + b"\x00" * 20, 2_000_000)
