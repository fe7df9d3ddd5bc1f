"""perfkit pull against a local SP-API (tests/spapi_stub.py, built from Amazon's published Reports API
model): reports IN_PROGRESS then DONE, FATAL, throttled and failing calls, a gzip document, a
restricted report's Restricted Data Token, a token that expires mid-run, a stopped run resumed,
files it did not write left alone, credentials never shown. No test reaches the internet."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfkit.core.errors import PerfkitError
from perfkit.pull import catalogue
from perfkit.pull.agency import read_agency
from perfkit.pull.files import merge_rows
from perfkit.pull.run import plan

from . import spapi_stub
from .conftest import ROOT, write_account
from .spapi_stub import CLIENT_ID, CLIENT_SECRET, Plan, Stub

REFRESH = "Atzr|refresh-token-of-de-shop"
ORDERS_HEADER = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsku\titem-status"
FEEDBACK_HEADER = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email"
UNSHIPPED_HEADER = "order-id\torder-item-id\tpurchase-date\tpayments-date\tpromise-date\tdays-past-promise\tsku"
PERFORMANCE = (ROOT / "data/sample/de-shenzhen-elec/amazon-performance/2026-11-08.json").read_bytes()


def _days(start: str | None, end: str | None) -> list[dt.date]:
    lo = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    hi = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
    day, out = lo.date(), []
    while day <= hi.date():
        if lo <= dt.datetime.combine(day, dt.time(0, 30), dt.timezone.utc) <= hi:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def orders_document(cancelled: set[str] = frozenset()):
    """One MFN order a day at 00:30 UTC inside the requested range, id 302-YYYYMMDD."""
    def content(start, end) -> bytes:
        rows = [ORDERS_HEADER]
        for day in _days(start, end):
            oid = f"302-{day:%Y%m%d}"
            status = "Cancelled" if oid in cancelled else "Shipped"
            rows.append(f"{oid}\t\t{day}T00:30:00+00:00\t{day}T09:00:00+00:00\t{status}\tMerchant\tSKU-1\t{status}")
        return ("\n".join(rows) + "\n").encode()
    return content


def feedback_document(start, end) -> bytes:
    """One feedback, its comment in Cp1252 (é), on the first requested day."""
    day = _days(start, end)[0]
    return (f"{FEEDBACK_HEADER}\n{day:%d/%m/%y}\t1\tTrès lent\t\t302-{day:%Y%m%d}\tx@example.invalid\n").encode("cp1252")


def unshipped_document(start, end) -> bytes:
    """The order of the first day of a 10-day history, still to ship (its status is All Orders')."""
    day = _first_day(dt.datetime.now(dt.timezone.utc), 10).date()
    return (f"{UNSHIPPED_HEADER}\n302-{day:%Y%m%d}\t1\t{day}T00:30:00+00:00\t\t{day}T23:59:59+00:00\t0\tSKU-1\n").encode()


def make_stub(**kw) -> Stub:
    return Stub(refresh_tokens={REFRESH: "de-shop"}, plans={
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": Plan(["IN_QUEUE", "IN_PROGRESS", "DONE"], orders_document(), gzip=True),
        "GET_SELLER_FEEDBACK_DATA": Plan(["DONE"], feedback_document, charset="Cp1252"),
        "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE": Plan(["IN_PROGRESS", "FATAL"]),
        "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING": Plan(["DONE"], unshipped_document),
        "GET_V2_SELLER_PERFORMANCE_REPORT": Plan(["DONE"], lambda s, e: PERFORMANCE),
    }, **kw)


@pytest.fixture
def spapi():
    servers = []

    def serve(stub: Stub) -> Stub:
        server, _ = spapi_stub.start(stub)
        servers.append(server)
        return stub
    yield serve
    for s in servers:
        s.shutdown()


def write_config(tmp_path: Path, stub: Stub, reports: list[str], history_days: int = 10, mode: int = 0o600,
                 refresh: str = REFRESH, **pull) -> Path:
    settings = {"history_days": history_days, "poll_seconds": 0.01, "backoff_seconds": 0.01,
                "max_backoff_seconds": 0.05, "max_attempts": 5, "max_wait_minutes": 1, **pull}
    lines = ["[sp_api]", f'endpoint = "{stub.base}"', f'token_url = "{stub.base}/auth/o2/token"',
             f'client_id = "{CLIENT_ID}"', f'client_secret = "{CLIENT_SECRET}"', "", "[pull]"]
    lines += [f"{k} = {v}" for k, v in settings.items()]
    lines += ["", "[accounts.de-shop]", f'refresh_token = "{refresh}"', f"reports = {json.dumps(reports)}"]
    path = tmp_path / "private" / "agency.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(mode)
    return path


def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_account(root, "de-shop", marketplace="DE", tz="Europe/Berlin")
    return root


def pull(root: Path, config: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFKIT_LWA")}
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", "pull", str(root), "--config", str(config), *extra],
                          capture_output=True, text=True, env=env, timeout=120)


def _first_day(now: dt.datetime, history_days: int) -> dt.datetime:
    return (now - dt.timedelta(days=history_days)).replace(hour=0, minute=0, second=0, microsecond=0)


def test_pull_every_case_end_to_end(tmp_path, spapi):
    # createReport throttled twice, getReport failing once with 503, and each access token
    # "expires" after 4 calls: the run waits, retries and renews, and finishes.
    stub = spapi(make_stub(throttle={"createReport": 2}, fail_5xx={"getReport": 1}, expire_tokens_after=4))
    root = data_root(tmp_path)
    config = write_config(tmp_path, stub, ["orders", "feedback", "returns", "unshipped", "performance"])
    before = dt.datetime.now(dt.timezone.utc)
    res = pull(root, config)
    folder = root / "de-shop"
    assert "Traceback" not in res.stderr
    assert not [line for line in res.stderr.splitlines() if line[:4].isdigit()]  # no library log lines
    # The Returns report ends FATAL: named with Amazon's error document, and the run says a human is
    # needed; the account came through with its other reports, so the pull exits 0 (the report runs).
    assert res.returncode == 0, res.stderr
    assert "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE" in res.stderr and "FATAL" in res.stderr
    assert "The report could not be generated." in res.stderr
    assert res.stdout.strip().splitlines()[-1].startswith("pull: 1 account, ")
    assert res.stdout.strip().splitlines()[-1].endswith(" files written, 1 need a human")

    first = _first_day(before, 10)
    months = sorted({(first + dt.timedelta(days=d)).strftime("%Y-%m") for d in range((before - first).days + 1)})
    # Dated reports: one request per month of the 10 days of history; each asked for from its first
    # day (the history's for the first month) to its last second or now.
    creates = [r["spec"] for r in stub.reports.values()]  # the reports Amazon accepted
    orders = [b for b in creates if b["reportType"] == "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"]
    assert len(orders) == len(months)
    assert orders[0]["dataStartTime"].startswith(first.strftime("%Y-%m-%dT00:00:00"))
    assert all(b["marketplaceIds"] == ["A1PA6795UKMFR9"] for b in creates)  # DE
    snapshot = [b for b in creates if b["reportType"] == "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"]
    assert len(snapshot) == 1 and "dataStartTime" not in snapshot[0]
    # Five report kinds, the dated ones once per month; every refused call was made again.
    assert len(creates) == 3 * len(months) + 2
    refused = [r for r in stub.refused if r[0] == "createReport"]
    assert len(stub.operations("createReport")) == len(creates) + len(refused)
    assert refused.count(("createReport", "throttled")) == 2
    assert ("getReport", "failed") in stub.refused
    # Tokens: each "expired" answer was followed by a new LWA exchange and the same call again.
    expired = sum(1 for r in stub.refused if r[1] == "expired")
    assert expired >= 1 and len(stub.operations("token")) == 1 + expired
    # Every day of the history has its order (one a day at 00:30 UTC), each in its month's file.
    files = sorted(p.name for p in folder.glob("amazon-all-orders-*.txt"))
    assert files == [f"amazon-all-orders-{m}.txt" for m in months]
    # (up to the end the last request gave: the run's own minute, not the test's clock)
    expected_days = _days(first.strftime("%Y-%m-%dT%H:%M:%SZ"), max(b["dataEndTime"] for b in orders))
    ids = [line.split("\t")[0] for f in files for line in (folder / f).read_text(encoding="utf-8").splitlines()[1:]]
    assert sorted(ids) == [f"302-{d:%Y%m%d}" for d in expected_days]
    # The Cp1252 feedback document is kept as UTF-8 (the loader reads it back unchanged).
    fb = sorted(folder.glob("amazon-feedback-*.txt"))
    assert "Très lent" in fb[0].read_text(encoding="utf-8")
    # The restricted report's document was fetched with a Restricted Data Token for its own path.
    rdt = stub.operations("createRestrictedDataToken")
    assert len(rdt) == 1 and rdt[0]["body"]["restrictedResources"][0]["path"].startswith("/reports/2021-06-30/documents/")
    assert (folder / "amazon-unshipped.txt").is_file()
    from zoneinfo import ZoneInfo  # named by the account's own day (Berlin), not UTC's
    assert (folder / "amazon-performance" / f"{before.astimezone(ZoneInfo('Europe/Berlin')).date()}.json"
            ).read_bytes() == PERFORMANCE
    assert not list(folder.glob("amazon-returns-*"))
    # The pre-signed download is fetched without the access token.
    assert all(not c["authorised"] for c in stub.operations("download"))
    # No credential anywhere: output, the state file, any file written.
    everything = res.stdout + res.stderr + "".join(p.read_text(encoding="utf-8", errors="replace")
                                                   for p in folder.rglob("*") if p.is_file())
    for secret in (CLIENT_SECRET, REFRESH):
        assert secret not in everything
    # perfkit reads what was pulled: the All Orders files and the Unshipped report (whose one order
    # is the first day's) are the orders, one a day.
    check = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "check", str(root)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert f"orders: {len(expected_days)}  (MFN {len(expected_days)})" in check.stdout
    assert f"inputs: feedback {len(months)}" in check.stdout  # one on the first day of each month asked for


def test_second_run_merges_the_unsettled_month_and_keeps_settled_rows(tmp_path, spapi):
    stub = spapi(make_stub())
    root = data_root(tmp_path)
    config = write_config(tmp_path, stub, ["orders"], history_days=3)
    assert pull(root, config).returncode == 0
    folder = root / "de-shop"
    before = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("amazon-all-orders-*.txt")}
    first_ids = sorted(line.split("\t")[0] for t in before.values() for line in t.splitlines()[1:])
    # Amazon now reports the first order as cancelled: the second run replaces its row, adds none.
    cancelled = first_ids[0]
    stub.plans["GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"] = Plan(["DONE"], orders_document({cancelled}))
    res = pull(root, config, "--quiet")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().splitlines() == [res.stdout.strip()]  # quiet: one line for the run
    after = [line.split("\t") for p in folder.glob("amazon-all-orders-*.txt")
             for line in p.read_text(encoding="utf-8").splitlines()[1:]]
    assert sorted(r[0] for r in after) == first_ids
    assert {r[0]: r[4] for r in after}[cancelled] == "Cancelled"


def test_stopped_run_resumes_the_report_amazon_is_preparing(tmp_path, spapi):
    stub = spapi(make_stub())
    stub.plans["GET_V2_SELLER_PERFORMANCE_REPORT"] = Plan(["IN_PROGRESS", "IN_PROGRESS", "DONE"], lambda s, e: PERFORMANCE)
    root = data_root(tmp_path)
    config = write_config(tmp_path, stub, ["performance"], max_wait_minutes=0)
    res = pull(root, config)
    assert res.returncode == 0
    assert "1 still being prepared by Amazon" in res.stdout
    state = json.loads((root / "de-shop" / ".perfkit-pull.json").read_text())
    assert list(state["pending"]) == ["performance/snapshot"]
    res = pull(root, config)  # next run: polls the same report, creates none
    res = pull(root, config) if "still being prepared" in res.stdout else res
    assert len(stub.operations("createReport")) == 1
    assert len(list((root / "de-shop" / "amazon-performance").glob("*.json"))) == 1


def test_a_file_it_did_not_write_is_left_alone(tmp_path, spapi):
    stub = spapi(make_stub())
    root = data_root(tmp_path)
    config = write_config(tmp_path, stub, ["unshipped"])
    mine = root / "de-shop" / "amazon-unshipped.txt"
    mine.write_text("my own notes\n", encoding="utf-8")
    res = pull(root, config)
    assert res.returncode == 2
    assert "de-shop/amazon-unshipped.txt: exists and was not written by perfkit pull" in res.stderr
    assert mine.read_text(encoding="utf-8") == "my own notes\n"


def test_refused_credentials_are_one_line_and_never_shown(tmp_path, spapi):
    stub = spapi(make_stub())
    root = data_root(tmp_path)
    config = write_config(tmp_path, stub, ["orders"], refresh="Atzr|wrong-token-xyz")
    res = pull(root, config)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith("de-shop: FAILED: Login with Amazon refused the credentials (invalid_grant: ")
    assert len(stub.operations("token")) == 1  # LWA's refusal is final: not asked again (pull/lwa.py)
    assert "wrong-token-xyz" not in res.stdout + res.stderr and CLIENT_SECRET not in res.stdout + res.stderr
    assert stub.operations("createReport") == []


def test_unreachable_login_with_amazon_is_one_line(tmp_path, spapi):
    stub = spapi(make_stub())
    root = data_root(tmp_path)
    config = write_config(tmp_path, stub, ["orders"])
    text = config.read_text().replace(f'token_url = "{stub.base}/auth/o2/token"', 'token_url = "http://127.0.0.1:9/auth/o2/token"')
    config.write_text(text)
    res = pull(root, config)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.startswith("de-shop: FAILED: Login with Amazon could not be reached or gave no token (last: ")
    assert stub.operations("createReport") == []


def test_a_configured_account_without_a_folder_gets_one(tmp_path, spapi):
    stub = spapi(make_stub())
    root = tmp_path / "data"
    root.mkdir()
    config = write_config(tmp_path, stub, ["unshipped"])
    config.write_text(config.read_text() + 'marketplace = "DE"\n')
    res = pull(root, config)
    assert res.returncode == 0, res.stderr
    assert "de-shop: new account folder" in res.stderr
    assert json.loads((root / "de-shop" / "account.json").read_text()) == {"marketplace": "DE"}
    assert (root / "de-shop" / "amazon-unshipped.txt").is_file()


def test_config_readable_by_others_or_inside_the_data_root_is_refused(tmp_path, spapi):
    stub = spapi(make_stub())
    root = data_root(tmp_path)
    config = write_config(tmp_path, stub, ["orders"], mode=0o644)
    res = pull(root, config)
    assert res.returncode == 2
    assert res.stderr.strip() == f"perfkit: error: {config}: readable by others (mode 644); it holds credentials: run chmod 600 {config}"
    inside = root / "agency.toml"
    inside.write_text(config.read_text())
    inside.chmod(0o600)
    res = pull(root, inside)
    assert res.returncode == 2 and "inside the data root" in res.stderr
    assert stub.calls == []


def test_credentials_from_the_environment_and_their_repr(tmp_path):
    env = {"PERFKIT_LWA_CLIENT_ID": "cid", "PERFKIT_LWA_CLIENT_SECRET": "csecret",
           "PERFKIT_LWA_REFRESH_TOKEN_DE_SHOP": "rtoken"}
    agency = read_agency(None, tmp_path, env={**env, "HOME": str(tmp_path)})
    creds = agency.credentials("de-shop", "DE", env)
    assert (creds.client_id, creds.client_secret, creds.refresh_token, creds.region) == ("cid", "csecret", "rtoken", "EU")
    assert repr(creds) == "Credentials(region='EU')"
    with pytest.raises(PerfkitError, match="no LWA refresh_token .* PERFKIT_LWA_REFRESH_TOKEN_JP_SHOP"):
        agency.credentials("jp-shop", "JP", env)


def test_plan_asks_only_for_the_days_a_month_lacks():
    orders = catalogue.kinds()["orders"]      # settle_days 30
    feedback = catalogue.kinds()["feedback"]  # settle_days 7
    now = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.timezone.utc)
    state = {"months": {
        # October settled (pulled 30+ days after its end) and complete: never asked again.
        "orders": {"2026-10": {"through": "2026-10-31T23:59:59Z", "pulled_at": "2026-12-01T00:00:00Z"},
                   # November complete but pulled on Dec 1: its last 30 days are asked again.
                   "2026-11": {"through": "2026-11-30T23:59:59Z", "pulled_at": "2026-12-01T00:00:00Z"}},
        # Feedback's November pulled on Dec 2, not yet 7 days after its end: its last 7 days again.
        "feedback": {"2026-11": {"through": "2026-11-30T23:59:59Z", "pulled_at": "2026-12-02T10:00:00Z"}},
    }}
    tasks = plan([orders, feedback], state, now, 60, Path("/nonexistent"))
    got = [(t.kind.kind, t.period, t.start.isoformat(), t.end.isoformat()) for t in tasks]
    assert got == [
        # 30 days before Nov 30 23:59:59 is before November: the whole month again.
        ("orders", "2026-11", "2026-11-01T00:00:00+00:00", "2026-11-30T23:59:59+00:00"),
        ("orders", "2026-12", "2026-12-01T00:00:00+00:00", "2026-12-03T10:00:00+00:00"),
        # 60 days of history start on Oct 4; feedback's October was never pulled.
        ("feedback", "2026-10", "2026-10-04T00:00:00+00:00", "2026-10-31T23:59:59+00:00"),
        ("feedback", "2026-11", "2026-11-23T23:59:59+00:00", "2026-11-30T23:59:59+00:00"),
        ("feedback", "2026-12", "2026-12-01T00:00:00+00:00", "2026-12-03T10:00:00+00:00"),
    ]


def test_merge_replaces_rows_by_key_and_keeps_the_rest():
    old = "amazon-order-id\tsku\torder-status\nA\t1\tPending\nA\t2\tPending\nB\t1\tShipped\n"
    new = "amazon-order-id\tsku\torder-status\tnew-column\nA\t1\tShipped\tx\nC\t1\tShipped\ty\n"
    # A's two old item rows give way to the download's one row; B stays (laid out under the new header); C is new.
    assert merge_rows(old, new, ("amazon-order-id",), "f") == (
        "amazon-order-id\tsku\torder-status\tnew-column\nB\t1\tShipped\t\nA\t1\tShipped\tx\nC\t1\tShipped\ty\n")
    with pytest.raises(PerfkitError, match="no column 'order id'"):
        merge_rows("", new, ("order id",), "f")


def test_unshipped_no_data_keeps_the_snapshot_and_a_header_only_report_empties_it(tmp_path, spapi):
    stub = spapi(make_stub())
    root = data_root(tmp_path)
    config = write_config(tmp_path, stub, ["unshipped"])
    snapshot = root / "de-shop" / "amazon-unshipped.txt"
    assert pull(root, config).returncode == 0
    first = snapshot.read_text()
    assert len(first.splitlines()) == 2  # the header and the one unshipped order
    unshipped = "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING"
    # CANCELLED (Amazon's "no data to return", or a cancel) and an empty document prove nothing: kept.
    for plan_ in (Plan(["IN_PROGRESS", "CANCELLED"]), Plan(["DONE"], lambda s, e: b"")):
        stub.plans[unshipped] = plan_
        res = pull(root, config)
        assert res.returncode == 0, res.stderr
        assert snapshot.read_text() == first
        why = "Amazon returned no document (CANCELLED)" if plan_.statuses[-1] == "CANCELLED" else "Amazon's document was empty"
        assert f"  note: de-shop/amazon-unshipped.txt: {why}; the previous snapshot is kept" in res.stdout.splitlines()
    # A header and no rows: Amazon says nothing is unshipped; the snapshot says so too.
    stub.plans[unshipped] = Plan(["DONE"], lambda s, e: (UNSHIPPED_HEADER + "\n").encode())
    res = pull(root, config)
    assert res.returncode == 0, res.stderr
    assert snapshot.read_text() == UNSHIPPED_HEADER + "\n"
    assert "de-shop: 1 file written" in res.stdout


def test_plan_counts_months_in_the_accounts_time_zone():
    feedback = catalogue.kinds()["feedback"]
    now = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.timezone.utc)  # 19:00 in Tokyo, 02:00 in Los Angeles
    def got(tz):
        return [(t.period, t.start.isoformat(), t.end.isoformat())
                for t in plan([feedback], {"months": {}}, now, 60, Path("/nonexistent"), tz)]
    # 60 days before Dec 3 (local) is Oct 4; each month from local midnight to its last local second.
    assert got("Asia/Tokyo") == [
        ("2026-10", "2026-10-04T00:00:00+09:00", "2026-10-31T23:59:59+09:00"),
        ("2026-11", "2026-11-01T00:00:00+09:00", "2026-11-30T23:59:59+09:00"),
        ("2026-12", "2026-12-01T00:00:00+09:00", "2026-12-03T19:00:00+09:00"),
    ]
    # Los Angeles leaves daylight saving on Nov 1 2026 at 02:00: November starts at -07:00, ends at -08:00.
    assert got("America/Los_Angeles") == [
        ("2026-10", "2026-10-04T00:00:00-07:00", "2026-10-31T23:59:59-07:00"),
        ("2026-11", "2026-11-01T00:00:00-07:00", "2026-11-30T23:59:59-08:00"),
        ("2026-12", "2026-12-01T00:00:00-08:00", "2026-12-03T02:00:00-08:00"),
    ]


def test_pull_sends_amazon_the_jp_accounts_own_days_with_their_offset(tmp_path, spapi):
    from zoneinfo import ZoneInfo
    stub = spapi(make_stub())
    root = tmp_path / "data"
    write_account(root, "de-shop", marketplace="JP", tz="Asia/Tokyo")
    config = write_config(tmp_path, stub, ["feedback"], history_days=40)
    before = dt.datetime.now(ZoneInfo("Asia/Tokyo"))
    res = pull(root, config)
    after = dt.datetime.now(ZoneInfo("Asia/Tokyo"))
    assert res.returncode == 0, res.stderr
    specs = [r["spec"] for r in stub.reports.values()]
    assert all(s["marketplaceIds"] == ["A1VC38T7YXB528"] for s in specs)  # JP
    first = (before - dt.timedelta(days=40)).date()
    # 40 days of Tokyo history: two months at least, three if it starts in the month before last.
    expected_months = (before.year * 12 + before.month) - (first.year * 12 + first.month) + 1
    assert len(specs) == expected_months
    starts = [s["dataStartTime"] for s in specs]
    ends = [s["dataEndTime"] for s in specs]
    # The first from Tokyo's midnight, each later month from its 1st at Tokyo's midnight (+09:00, not Z).
    assert starts[0] == f"{first.isoformat()}T00:00:00+09:00"
    assert all(s.endswith("-01T00:00:00+09:00") for s in starts[1:])
    # Every month but the current one ends on its last second in Tokyo; the current one ends now.
    assert all(e.endswith("T23:59:59+09:00") for e in ends[:-1])
    last_end = dt.datetime.fromisoformat(ends[-1])
    assert ends[-1].endswith("+09:00") and before.replace(second=0, microsecond=0) <= last_end <= after  # the run keeps whole minutes


def test_seller_performance_file_is_named_by_the_accounts_local_day(tmp_path, spapi):
    # 2026-12-03 20:00 UTC is 2026-12-04 05:00 in Tokyo: the account's pages say the 4th, so
    # the file is 2026-12-04.json (the UTC date, the 3rd, was the old name), and a second run
    # that day finds it and asks Amazon for nothing.
    from perfkit.pull.run import pull_account

    stub = spapi(make_stub())
    root = tmp_path / "data"
    write_account(root, "de-shop", marketplace="JP", tz="Asia/Tokyo")
    config = write_config(tmp_path, stub, ["performance"])
    agency = read_agency(config, root)
    now = dt.datetime(2026, 12, 3, 20, 0, tzinfo=dt.timezone.utc)
    result = pull_account(root / "de-shop", agency, now, sleep=lambda s: None)
    assert not result.needs_human, (result.error, result.failed)
    assert result.written == ["amazon-performance/2026-12-04.json"]
    assert sorted(p.name for p in (root / "de-shop" / "amazon-performance").iterdir()) == ["2026-12-04.json"]
    assert (root / "de-shop" / "amazon-performance" / "2026-12-04.json").read_bytes() == PERFORMANCE
    asked = len(stub.operations("createReport"))
    assert asked == 1
    again = pull_account(root / "de-shop", agency, now + dt.timedelta(hours=2), sleep=lambda s: None)
    assert again.written == [] and len(stub.operations("createReport")) == asked
