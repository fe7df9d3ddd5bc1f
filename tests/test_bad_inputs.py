"""The bad-input matrix: every case is a clear error or a warning naming the file, rows and column,
no traceback is printed, and in a root of several accounts the good ones are all there.

Cases of one class share one ``perfkit`` run over a root holding every bad account of that class
beside two good ones (each case still has its own test and its own expected line).
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_account

GOOD = """\
order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date,delivered_date
G1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-02T10:00:00Z,2026-03-05T10:00:00Z
G2,2026-03-02T10:00:00Z,MFN,Shipped,2026-03-04,2026-03-03T10:00:00Z,2026-03-06T10:00:00Z
G3,2026-03-03T10:00:00Z,AFN,Shipped,,,
G4,2026-03-09T10:00:00Z,MFN,Cancelled,2026-03-11,,
"""
EVENTS = {
    "feedback": "order_id,feedback_date,rating,comments\nG1,2026-03-06,1,broke\n",
    "claims": "order_id,claim_date,status,reason\nG2,2026-03-07,granted,late\n",
    "chargebacks": "order_id,chargeback_date,kind\n",
    "returns": "return_id,order_id,request_date,response_date,decision\nR1,G2,2026-03-08T10:00:00Z,2026-03-08T12:00:00Z,authorized\n",
}
AS_OF = "2026-03-09"  # the good accounts' last day of data


def good(root: Path, name: str, **override: str) -> Path:
    tables = {"orders": GOOD, **EVENTS, **override}
    return write_account(root, name, **{k: v for k, v in tables.items() if v is not None})


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", *args], capture_output=True, text=True, env=env)


def rows_of(stdout: str, account: str) -> list[dict]:
    return [r for r in csv.DictReader(io.StringIO(stdout)) if r["account_id"] == account]


# --- errors: the account fails with one line, the others finish ---------------------------------

ERRORS = {
    # name: (how the account is spoiled, the line's expected fragments)
    "date_9999": (dict(orders=GOOD.replace("2026-03-02T10:00:00Z,MFN", "9999-12-31,MFN")),
                  ["date_9999/orders.csv, row 3, column 'purchase_date': date out of range (found '9999-12-31')"]),
    "date_0001": (dict(feedback="order_id,feedback_date,rating\nG1,0001-01-01,1\n"),
                  ["date_0001/feedback.csv, row 2, column 'feedback_date': date out of range (found '0001-01-01')"]),
    "word_date": (dict(claims="order_id,claim_date,status\nG2,today,granted\n"),
                  ["word_date/claims.csv, row 2, column 'claim_date': not a whole date", "(found 'today')"]),
    "year_only": (dict(orders=GOOD.replace("2026-03-09T10:00:00Z", "2026")),
                  ["year_only/orders.csv, row 5, column 'purchase_date': not a whole date", "(found '2026')"]),
    "year_month": (dict(returns="return_id,order_id,request_date\nR1,G2,2026-11\n"),
                   ["year_month/returns.csv, row 2, column 'request_date': not a whole date", "(found '2026-11')"]),
    "excel_serial": (dict(orders=GOOD.replace("2026-03-03T10:00:00Z,AFN", "46084,AFN")),
                     ["excel_serial/orders.csv, row 4, column 'purchase_date': not a whole date", "(found '46084')"]),
    "conflict": (dict(orders=GOOD + "G1,2026-03-01T10:00:00Z,MFN,Cancelled,2026-03-03,,\n"),
                 ["conflict/orders.csv, rows 2, 6 (2 in all), column 'order_status': rows of order G1 disagree",
                  "row 2: Shipped", "row 6: Cancelled"]),
    "mapping_typo": (dict(orders=None, **{"export.csv": GOOD.replace("ship_confirm_date", "shipped_at"),
                                          "mapping.json": json.dumps({"files": {"export.csv": {
                                              "table": "orders", "columns": {"shippedat": "ship_confirm_date"}}}})}),
                     ["mapping_typo/export.csv, column 'shippedat': mapping.json names header 'shippedat', "
                      "which the file does not have", "shipped_at"]),
    "mapping_list": (dict(**{"mapping.json": json.dumps({"files": {"x.csv": {"table": "orders",
                                                                              "columns": ["a", "b"]}}})}),
                     ["mapping_list/mapping.json entry 'x.csv': \"columns\" must be an object of text to text"]),
    "mapping_zone": (dict(**{"mapping.json": json.dumps({"files": {"x.csv": {"table": "orders",
                                                                              "timezone": "Beijing"}}})}),
                     ["mapping_zone/mapping.json entry 'x.csv': unknown time zone 'Beijing'"]),
    "binary": (dict(feedback=None), ["binary/feedback.csv: is not a text table (it contains binary data"]),
    "bad_json": (dict(**{"account.json": "{"}), ["bad_json/account.json: is not valid JSON"]),
    "bad_market": (dict(**{"account.json": '{"marketplace": "USA"}'}),
                   ["bad_market/account.json, column 'marketplace': unknown marketplace (found 'USA')"]),
}


@pytest.fixture(scope="module")
def error_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("errors")
    good(root, "good-a")
    good(root, "good-b")
    for name, (override, _) in ERRORS.items():
        good(root, name, **override)
    (root / "binary" / "feedback.csv").write_bytes(b"\x00" * 100_000)
    alone = tmp_path_factory.mktemp("alone")
    good(alone, "good-a")
    clean = cli("metrics", str(alone), "--format", "csv", "--as-of", AS_OF)
    return (cli("metrics", str(root), "--format", "csv", "--as-of", AS_OF), cli("check", str(root)),
            clean, root)


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_account_is_one_line_and_the_others_finish(error_run, name):
    metrics, check, clean, _ = error_run
    assert metrics.returncode == 2 and check.returncode == 2
    for res, out in ((metrics, metrics.stderr), (check, check.stdout)):
        assert "Traceback" not in res.stdout + res.stderr
        line = next(ln for ln in out.splitlines() if ln.startswith((f"perfkit: error: {name}: ", f"{name}: FAILED: ")))
        for fragment in ERRORS[name][1]:
            assert fragment in line, (fragment, line)
    # The good accounts' rows are all there, the same as when they run alone.
    expected = rows_of(clean.stdout, "good-a")
    assert len(expected) > 20
    assert rows_of(metrics.stdout, "good-a") == expected
    assert [{**r, "account_id": "good-a"} for r in rows_of(metrics.stdout, "good-b")] == expected
    assert not rows_of(metrics.stdout, name)


def test_a_failure_perfkit_did_not_foresee_is_still_one_line(error_run, tmp_path):
    """Any exception of one account (here injected into the loader) is that account's failure."""
    root = tmp_path
    good(root, "good-a")
    good(root, "boom")
    inject = ("import sys, perfkit.analysis.portfolio as p\n"
              "real = p.load_account\n"
              "def load(folder, **kw):\n"
              "    if str(folder).endswith('boom'): raise ZeroDivisionError('division by zero')\n"
              "    return real(folder, **kw)\n"
              "p.load_account = load\n"
              "from perfkit.cli.main import main\n"
              "sys.exit(main(sys.argv[1:]))\n")
    res = subprocess.run([sys.executable, "-c", inject, "metrics", str(root), "--format", "csv", "--as-of", AS_OF,
                          "--jobs", "1"], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert ("perfkit: error: boom: unexpected ZeroDivisionError: division by zero (perfkit could not handle this "
            "input; rerun with --debug") in res.stderr
    assert rows_of(res.stdout, "good-a") == rows_of(error_run[2].stdout, "good-a")
    debug = subprocess.run([sys.executable, "-c", inject, "metrics", str(root), "--as-of", AS_OF, "--jobs", "1",
                            "--debug"], capture_output=True, text=True)
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert 'File "<string>", line 4, in load' in debug.stderr  # the frame that raised


def test_the_python_api_isolates_any_exception(monkeypatch, tmp_path):
    import perfkit.analysis.portfolio as portfolio

    good(tmp_path, "good-a")
    good(tmp_path, "boom")
    real = portfolio.load_account

    def load(folder, **kw):
        if str(folder).endswith("boom"):
            raise KeyError("carrier")
        return real(folder, **kw)

    monkeypatch.setattr(portfolio, "load_account", load)
    series, failures = portfolio.portfolio_series(tmp_path, as_of=[AS_OF])
    assert set(series["account_id"]) == {"good-a"}
    assert failures["boom"].startswith("unexpected KeyError: 'carrier'")


# --- warnings: the account is read, and what was odd is said with its rows -----------------------

WARNINGS = {
    "future_order": (dict(orders=GOOD + "G9,2099-01-01T00:00:00Z,MFN,Shipped,,,\n"),
                     "future_order/orders.csv, row 6, column 'purchase_date': dated after this run"),
    "future_feedback": (dict(feedback=EVENTS["feedback"] + "G2,2099-06-14,1,x\n"),
                        "future_feedback/feedback.csv, row 3, column 'feedback_date': dated after this run"),
    "shipped_early": (dict(orders=GOOD.replace("2026-03-02T10:00:00Z,2026-03-05", "2026-02-20T10:00:00Z,2026-03-05")),
                      "shipped_early/orders.csv, row 2, column 'ship_confirm_date': earlier than the purchase date"),
    "placeholder": (dict(orders=GOOD.replace("2026-03-06T10:00:00Z", "9999-12-31")),
                    "placeholder/orders.csv, row 3, column 'delivered_date': 9999-12-31 read as no date"),
}


@pytest.fixture(scope="module")
def warning_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("warnings")
    good(root, "good-a")
    for name, (override, _) in WARNINGS.items():
        good(root, name, **override)
    good(root, "no-claims", claims=None)
    good(root, "no-claims-2", claims=None)
    (root / "_old").mkdir()
    return cli("metrics", str(root), "--format", "csv"), root


@pytest.mark.parametrize("name", list(WARNINGS))
def test_odd_input_is_a_warning_naming_file_rows_and_column(warning_run, name):
    res, _ = warning_run
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert f"perfkit: warning: {name}: {WARNINGS[name][1]}" in res.stderr
    rows = rows_of(res.stdout, name)
    assert rows and {r["as_of"] for r in rows} == {AS_OF}  # a date in 2099 never moves the as-of day


def test_future_rows_are_left_out_and_placeholders_are_no_date(warning_run):
    from perfkit.loading.loader import load_account

    res, root = warning_run
    # The rows dated 2099 are left out: every value is the good account's.
    expected = rows_of(res.stdout, "good-a")
    for name in ("future_order", "future_feedback"):
        assert [{**r, "account_id": "good-a"} for r in rows_of(res.stdout, name)] == expected
    delivered = load_account(root / "placeholder", cache=False).orders.set_index("order_id")["delivered_date"]
    assert delivered.isna().tolist() == [False, True, True, True]  # G2's 9999-12-31; G3, G4 were empty


def test_a_missing_input_is_no_data_said_once_for_all_accounts(warning_run):
    _, root = warning_run
    # As of 25 March ODR's window (10 January .. 11 March) holds the three MFN orders.
    res = cli("metrics", str(root), "--account", "good-a", "--account", "no-claims", "--account", "no-claims-2",
              "--as-of", "2026-03-25", "--format", "csv")
    claims = [r for r in rows_of(res.stdout, "no-claims") if r["metric"] == "odr_claims" and r["segment"] == "MFN"]
    assert [(r["numerator"], r["denominator"], r["rate"], r["status"], r["headroom"]) for r in claims] == [
        ("0", "3", "", "no_data", "")]
    ours = [r for r in rows_of(res.stdout, "good-a") if r["metric"] == "odr_claims" and r["segment"] == "MFN"]
    assert [(r["numerator"], r["denominator"], r["status"]) for r in ours] == [("1", "3", "info")]
    lines = [ln for ln in res.stderr.splitlines() if "missing input claims" in ln]
    assert len(lines) == 1 and "the A-to-z claim rate has no data (2 accounts: no-claims, no-claims-2;" in lines[0]


def test_a_skipped_folder_is_named(warning_run):
    assert "perfkit: warning: _old: folder skipped" in warning_run[0].stderr


def test_as_of_after_the_data_is_a_warning(warning_run):
    _, root = warning_run
    res = cli("metrics", str(root), "--account", "good-a", "--as-of", "2026-04-30", "--format", "csv")
    assert res.returncode == 0
    assert ("perfkit: warning: good-a: as-of 2026-04-30 is after the last day of data (2026-03-09)") in res.stderr


def test_report_dates_without_a_marketplace_are_asked_for(tmp_path):
    good(tmp_path, "no-market", feedback=None, **{"feedback.txt": "Date\tRating\tComments\tOrder ID\n03/04/2026\t1\tbad\tG1\n"})
    (tmp_path / "no-market" / "account.json").write_text('{"timezone": "UTC"}')
    res = cli("check", str(tmp_path))
    assert res.returncode == 2 and "Traceback" not in res.stdout + res.stderr
    assert ("no-market: FAILED: no-market/feedback.txt, row 2, column 'feedback_date': the day/month order of "
            "these dates depends on the marketplace") in res.stdout
    assert "\"marketplace\" (such as \"US\" or \"DE\") in the account's account.json" in res.stdout
    (tmp_path / "no-market" / "account.json").write_text('{"timezone": "UTC", "marketplace": "DE"}')
    assert cli("check", str(tmp_path)).returncode == 0


def test_a_file_can_state_its_own_time_zone(tmp_path):
    from perfkit.loading.loader import load_account

    # A Chinese ERP writes Beijing time: 03:00 on 2 March in Shanghai is 11:00 on 1 March in Los Angeles.
    export = "单号,下单时间,渠道,状态\nC1,2026-03-02 03:00:00,MFN,Shipped\n"
    spec = {"table": "orders", "columns": {"单号": "order_id", "下单时间": "purchase_date", "渠道": "fulfillment_channel",
                                           "状态": "order_status"}}
    folder = write_account(tmp_path, "erp", tz="America/Los_Angeles", **{"erp.csv": export})
    (folder / "mapping.json").write_text(json.dumps({"files": {"erp.csv": spec}}, ensure_ascii=False),
                                         encoding="utf-16")  # any encoding the data files may use
    # Without the setting the times follow the account's zone: 03:00 in Los Angeles (PST) is 11:00 UTC.
    assert str(load_account(folder, cache=False).orders["purchase_date"].iat[0]) == "2026-03-02 11:00:00+00:00"
    spec["timezone"] = "Asia/Shanghai"
    (folder / "mapping.json").write_text(json.dumps({"files": {"erp.csv": spec}}, ensure_ascii=False), encoding="utf-8")
    assert str(load_account(folder, cache=False).orders["purchase_date"].iat[0]) == "2026-03-01 19:00:00+00:00"


def test_a_semicolon_csv_reads_like_a_comma_one(tmp_path):
    from perfkit.loading.loader import load_account

    comma = good(tmp_path, "comma")
    semi = good(tmp_path, "semi", orders=GOOD.replace(",", ";"))
    a, b = (load_account(f, cache=False).orders.drop(columns=["_file"]) for f in (comma, semi))
    assert a.equals(b)


def test_an_unreadable_file_is_one_line(tmp_path, monkeypatch):
    import builtins

    from perfkit.loading.loader import load_account
    from perfkit.core.errors import DataError

    folder = good(tmp_path, "locked")
    real = builtins.open

    def guarded(path, *args, **kwargs):  # what a file without read permission gives (tests run as root)
        if str(path).endswith("claims.csv"):
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    with pytest.raises(DataError) as err:
        load_account(folder, cache=False)
    assert str(err.value) == ("locked/claims.csv: cannot be read (Permission denied); expected a file perfkit's user "
                              "may read (check its permissions)")


def test_a_huge_file_of_zero_bytes_fails_early(tmp_path):
    import resource

    folder = good(tmp_path, "zeros")
    with open(folder / "returns.csv", "wb") as fh:
        fh.truncate(1 << 30)  # 1 GB of zero bytes (sparse: no disk used)
    code = ("import resource, sys; from perfkit.cli.main import main; rc = main(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code, "check", str(tmp_path), "--no-cache"], capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2
    assert "zeros/returns.csv: is not a text table (it contains binary data such as zero bytes)" in res.stdout
    assert int(res.stderr.strip().splitlines()[-1]) < 400_000  # KiB: nowhere near the file's size
    del resource


# --- arguments and settings files: one line, exit 2, before any work ----------------------------

POLICY = """
[metrics.odr]
name_en = "Order Defect Rate"
window = 60
lag = 14
target = "<"
value = "0.01"
warn = "0.0075"
segments = ["MFN", "AFN", "all"]
"""


@pytest.mark.parametrize("args, message", [
    (["--as-of", "2026-13-01"], "--as-of '2026-13-01' is not a date; write it as YYYY-MM-DD"),
    (["--as-of", "last week"], "--as-of 'last week' is not a date"),
    (["--from", "2026-03-09", "--to", "2026-03-01"], "--from 2026-03-09 is after --to 2026-03-01; swap them"),
    (["--as-of", "2026-03-09", "--from", "2026-03-01"], "--as-of cannot be combined with --from/--to"),
    (["--jobs", "0"], "--jobs 0: give a number from 1 to"),
    (["--out", "{tmp}"], "is a folder; give a file name"),
    (["--out", "{tmp}/afile/x.csv"], "afile is a file, not a folder"),
    (["--policy", "{tmp}/window.toml"], "[metrics.odr] window: True must be a whole number from 1 to 3650"),
    (["--policy", "{tmp}/rate.toml"], "[metrics.odr] value: '5' is not a rate between 0 and 1"),
    (["--policy", "{tmp}/list.toml"], "[counting] claim_statuses_not_counted: 'denied' must be a list of text"),
    (["--policy", "{tmp}/segment.toml"], "[metrics.odr] segment 'EU' is not available for this metric"),
    (["--policy", "{tmp}/target.toml"], "[metrics.odr] target '5' must be one of <, >, info"),
])
def test_a_bad_option_is_one_line_and_exit_2(tmp_path, args, message):
    good(tmp_path / "root", "good-a")
    (tmp_path / "afile").write_text("")
    for name, (old, new) in {"window": ("window = 60", "window = true"), "rate": ('value = "0.01"', 'value = "5"'),
                             "segment": ('["MFN", "AFN", "all"]', '["MFN", "EU"]'),
                             "target": ('target = "<"', 'target = "5"'),
                             "list": ("[metrics.odr]", '[counting]\nclaim_statuses_not_counted = "denied"\n\n'
                                                       "[metrics.odr]")}.items():
        (tmp_path / f"{name}.toml").write_text(POLICY.replace(old, new))
    res = cli("metrics", str(tmp_path / "root"), *[a.format(tmp=tmp_path) for a in args])
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("perfkit: error: ")
    assert message in res.stderr


def test_report_out_must_be_a_folder(tmp_path):
    good(tmp_path / "root", "good-a")
    (tmp_path / "afile").write_text("")
    res = cli("report", str(tmp_path / "root"), "--out", str(tmp_path / "afile"))
    assert res.returncode == 2 and res.stderr == f"perfkit: error: --out {tmp_path / 'afile'}: is a file; give a folder\n"


def test_a_policy_in_gb18030_is_read(tmp_path):
    good(tmp_path / "root", "good-a")
    (tmp_path / "p.toml").write_bytes(POLICY.replace("name_en", 'name_zh = "订单缺陷率"\nname_en').encode("gb18030"))
    res = cli("metrics", str(tmp_path / "root"), "--policy", str(tmp_path / "p.toml"), "--format", "csv")
    assert res.returncode == 0, res.stderr
    assert {r["metric"] for r in csv.DictReader(io.StringIO(res.stdout))} == {"odr"}


# --- Amazon's report: checked before it is kept; a bad kept one never breaks a later report -------

def _amazon(rate: object = 0.005, start: str = "2026-01-01", end: str = "2026-02-28") -> str:
    return json.dumps({"performanceMetrics": [{"marketplaceId": "ATVPDKIKX0DER", "orderDefectRate": {"mfn": {
        "reportingDateRange": {"reportingDateFrom": start, "reportingDateTo": end},
        "rate": rate, "orderCount": 200}}}]}).replace('"NaN"', "NaN")


@pytest.mark.parametrize("payload, message", [
    (_amazon(rate="NaN"), "NaN is not a number JSON allows"),  # now refused while parsing, before any reading
    (_amazon(start="2026-03-01", end="2026-01-01"), "the window ends before it starts"),
    (_amazon(start="1999-01-01", end="2099-01-01"), "the window lies outside any possible data"),
    (_amazon(rate=250), "rate 2.5 is not a share between 0 and 1"),
])
def test_a_bad_amazon_report_is_refused_and_not_kept(tmp_path, payload, message):
    folder = good(tmp_path, "good-a")
    (tmp_path / "amazon.json").write_text(payload)
    res = cli("reconcile", str(tmp_path), "--account", "good-a", "--amazon", str(tmp_path / "amazon.json"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert message in res.stderr and "amazon.json" in res.stderr
    assert not (folder / "amazon-performance").exists()


def test_a_kept_report_gone_bad_never_breaks_the_charts(tmp_path):
    from perfkit.engine.context import AccountContext
    from perfkit.analysis.reconcile import official_points

    folder = good(tmp_path, "good-a")
    (folder / "amazon-performance").mkdir()
    (folder / "amazon-performance" / "2026-02-28.json").write_text(_amazon(rate=float("inf")).replace("Infinity", "1e999"))
    (folder / "amazon-performance" / "2026-01-31.json").write_text(_amazon(start="2025-12-03", end="2026-01-31"))
    points = official_points(AccountContext.of(folder))
    assert points["source"].tolist() == ["2026-01-31.json"]
    assert points.attrs["skipped"][0].startswith("2026-02-28.json: ")


# --- the root-cause database ------------------------------------------------------------------

def _save_one(path: str, cause: str, barrier) -> None:
    from perfkit.poa.causes import CauseChoice, CauseStore

    barrier.wait()  # both processes open the new database at the same moment
    CauseStore(path).save(CauseChoice("acct", "odr", cause, "2026-03-01", "2026-03-09"))


def test_two_processes_opening_a_new_causes_database_keep_both_choices(tmp_path):
    import multiprocessing

    from perfkit.poa.causes import CauseStore

    ctx = multiprocessing.get_context("spawn")
    for attempt in range(6):  # the race needs both at the same instant: try it several times
        path = str(tmp_path / f"causes-{attempt}.sqlite")
        barrier = ctx.Barrier(2)
        procs = [ctx.Process(target=_save_one, args=(path, cause, barrier)) for cause in ("logistics", "product_quality")]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0]
        assert sorted(CauseStore(path).history()["cause"]) == ["logistics", "product_quality"]


def test_a_corrupt_causes_database_is_one_line(tmp_path):
    good(tmp_path / "root", "good-a")
    db = tmp_path / "causes.sqlite"
    db.write_bytes(b"this is not a database, it was overwritten by a spreadsheet" * 100)
    for args in (["poa", str(tmp_path / "root"), "--account", "good-a", "--metric", "odr"],
                 ["report", str(tmp_path / "root"), "--out", str(tmp_path / "out")]):
        res = cli(*args, "--causes-db", str(db))
        assert res.returncode == 2 and res.stdout == "" and "Traceback" not in res.stderr
        assert res.stderr == (f"perfkit: error: {db}: cannot be used as the root-cause database (file is not a "
                              "database); move the file aside (perfkit starts a new one) or pass another with "
                              "--causes-db\n")


def test_an_all_empty_parquet_column_reads_as_missing_values(tmp_path):
    import pandas as pd

    from perfkit.loading.loader import load_account

    folder = tmp_path / "pq"
    folder.mkdir()
    pd.DataFrame({"order_id": ["A1", "A2"], "purchase_date": pd.to_datetime(["2026-03-01", "2026-03-02"]),
                  "fulfillment_channel": ["MFN", "AFN"], "order_status": ["Shipped", "Shipped"],
                  "carrier": [None, None]}).to_parquet(folder / "orders.parquet")  # carrier: Arrow's null type
    acc = load_account(folder, cache=False)
    assert acc.orders["carrier"].isna().all() and len(acc.orders) == 2


# --- Amazon's report, read as Amazon writes it (its published schema) ---------------------------

EXAMPLE = Path(__file__).parent / "fixtures" / "accountHealthReport-2020-11-18-example.json"


def _ahr_report(**entry: object) -> dict:
    """A schema-valid US report with one policy block ending 2026-02-28, plus ``entry``'s keys."""
    return {"accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "NORMAL"}],
            "performanceMetrics": [{"marketplaceId": "ATVPDKIKX0DER",
                                    "listingPolicyViolations": {
                                        "reportingDateRange": {"reportingDateFrom": "2025-09-01T00:00Z",
                                                               "reportingDateTo": "2026-02-28T23:59Z"},
                                        "defectsCount": 2, "status": "BAD", "targetValue": 0,
                                        "targetCondition": "EQUALS"}, **entry}]}


def _reconcile(root: Path, report: Path) -> subprocess.CompletedProcess:
    return cli("reconcile", str(root), "--account", "good-a", "--amazon", str(report))


def test_amazons_published_example_loads_with_warnings_where_it_disagrees_with_itself(tmp_path):
    folder = good(tmp_path, "good-a")
    res = _reconcile(tmp_path, EXAMPLE)
    assert res.returncode == 0, res.stderr
    # Its own figures: 847987 on-time of 808046 tracked shipments, 896462 valid of 878443 shipments,
    # a documentRequest range from 2020-11-21 to 2020-11-19, and "SUSPENDED" outside its status enum.
    assert "counts 847987 of 808046 units" in res.stderr
    assert "counts 896462 of 878443 units" in res.stderr
    assert "documentRequests: the window ends before it starts (2020-11-21..2020-11-19)" in res.stderr
    assert "'SUSPENDED' is not one of" in res.stderr
    assert "Traceback" not in res.stderr
    out = res.stdout
    assert "Account status (Amazon): AT_RISK" in out  # accountStatuses of ATVPDKIKX0DER
    assert "Warning states: spammingSellerMessaging (BAD)" in out
    assert "Unit on-time delivery rate (Amazon): 146/165 units 88.48% (GOOD)" in out
    assert "Document requests" in out and "WARNED" in out
    # validTrackingCount is the count of VALID shipments: Amazon's rate 0.9529 is shown as it wrote it
    vtr = next(line for line in out.splitlines() if line.strip().startswith("valid_tracking_rate"))
    assert "896462/878443  95.29%" in vtr
    # kept under the latest end of its windows (2020-11-19, the AHR and policy blocks)
    assert sorted(p.name for p in (folder / "amazon-performance").iterdir()) == ["2020-11-19.json"]
    assert (folder / "amazon-performance" / "2020-11-19.json").read_bytes() == EXAMPLE.read_bytes()


def _range_as_text(r: dict) -> None:
    r["performanceMetrics"][0]["listingPolicyViolations"]["reportingDateRange"] = "2025-09-01..2026-02-28"


@pytest.mark.parametrize("payload, message", [
    (_ahr_report(), None),  # the baseline is accepted: each case below breaks one thing
    (json.loads(json.dumps(_ahr_report())) | {"performanceMetrics": [{}]},
     "holds no metric, policy block or Account Health Rating"),
    (_ahr_report(orderDefectRate={"mfn": [{"rate": 0.1}]}), "orderDefectRate.mfn is [{\"rate\": 0.1}], Amazon's schema wants object"),
    (_ahr_report(accountHealthRating={"ahrStatus": "GREAT", "ahrScore": 99999, "reportingDateRange": {
        "reportingDateFrom": "2025-09-01T00:00Z", "reportingDateTo": "2026-02-28T23:59Z"}}),
     "ahrScore 99999 is above 1000"),
    (_ahr_report(otherPolicyViolations={"reportingDateRange": {"reportingDateFrom": "2025-09-01T00:00Z",
                                                               "reportingDateTo": "today"},
                                        "defectsCount": 0, "status": "GOOD", "targetValue": 0, "targetCondition": "EQUALS"}),
     "reporting date 'today' is not an ISO date"),
    (_ahr_report(otherPolicyViolations={"reportingDateRange": {"reportingDateFrom": "2099-01-01T00:00Z",
                                                               "reportingDateTo": "2099-06-30T23:59Z"},
                                        "defectsCount": 0, "status": "GOOD", "targetValue": 0, "targetCondition": "EQUALS"}),
     "otherPolicyViolations: the window lies outside any possible data"),
    (_ahr_report(marketplaceId="A1PA6795UKMFR9"), "is for marketplace DE, the account is US"),
])
def test_a_malformed_seller_performance_report_is_refused_and_nothing_is_kept(tmp_path, payload, message):
    folder = good(tmp_path, "good-a")
    report = tmp_path / "amazon.json"
    report.write_text(json.dumps(payload))
    res = _reconcile(tmp_path, report)
    assert "Traceback" not in res.stderr
    if message is None:
        assert res.returncode == 0, res.stderr
        return
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "amazon.json" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (folder / "amazon-performance").exists()


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "nested more than 64 levels deep"),
    ('{"performanceMetrics": [{"listingPolicyViolations": {"defectsCount": 1' + "0" * 400 + "}}]}", "has 401 digits"),
    ('{"performanceMetrics": [{"listingPolicyViolations": {"defectsCount": 1e999}}]}', "is out of range"),
    (json.dumps(_ahr_report()).replace('"reportingDateRange": {"reportingDateFrom": "2025-09-01T00:00Z", '
                                       '"reportingDateTo": "2026-02-28T23:59Z"}',
                                       '"reportingDateRange": "2025-09-01..2026-02-28"'),
     "reportingDateRange is \"2025-09-01..2026-02-28\", Amazon's schema wants object"),
])
def test_hostile_json_is_one_line_exit_2_and_nothing_is_kept(tmp_path, text, message):
    folder = good(tmp_path, "good-a")
    report = tmp_path / "amazon.json"
    report.write_text(text)
    res = _reconcile(tmp_path, report)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-500:]
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (folder / "amazon-performance").exists()


def test_a_second_report_ending_the_same_day_is_kept_beside_the_first_never_over_it(tmp_path):
    folder = good(tmp_path, "good-a")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps(_ahr_report()))
    # Same windows, another count (2 -> 5): a different report ending 2026-02-28 too.
    second.write_text(json.dumps(_ahr_report()).replace('"defectsCount": 2', '"defectsCount": 5'))
    kept = folder / "amazon-performance"
    assert _reconcile(tmp_path, first).returncode == 0
    before = (kept / "2026-02-28.json").read_bytes()
    res = _reconcile(tmp_path, second)
    assert res.returncode == 0, res.stderr
    assert "kept as" in res.stdout and "2026-02-28-2.json" in res.stdout
    assert (kept / "2026-02-28.json").read_bytes() == before == first.read_bytes()
    assert (kept / "2026-02-28-2.json").read_bytes() == second.read_bytes()
    # The same report again is not kept twice.
    assert _reconcile(tmp_path, first).returncode == 0
    assert sorted(p.name for p in kept.iterdir()) == ["2026-02-28-2.json", "2026-02-28.json"]


def _cancel_report(start: str, end: str, orders: int, cancels: int) -> str:
    return json.dumps({"accountStatuses": [{"marketplaceId": "ATVPDKIKX0DER", "status": "NORMAL"}],
                       "performanceMetrics": [{"marketplaceId": "ATVPDKIKX0DER", "preFulfillmentCancellationRate": {
                           "reportingDateRange": {"reportingDateFrom": start, "reportingDateTo": end},
                           "orderCount": orders, "cancellationCount": cancels, "status": "GOOD",
                           "rate": cancels / orders, "targetValue": 0.025, "targetCondition": "LESS_THAN"}}]})


@pytest.mark.parametrize("start, end, reason", [
    # GOOD's MFN orders bought 1..9 March: G1, G2, G4 (3, counted by hand); Amazon says 5.
    ("2026-03-01", "2026-03-09", "perfkit counts 2 fewer units than Amazon (3 against 5)"),
    # A January window: the export (1..9 March) does not reach it at all.
    ("2026-01-01", "2026-01-07", "the export's orders (2026-03-01..2026-03-09) lie wholly outside Amazon's window"),
    # Amazon's window starts a day before the export's first order.
    ("2026-02-28", "2026-03-06", "the export's orders start 2026-03-01, after Amazon's window does"),
])
def test_reconcile_reasons_say_which_side_has_more_and_whether_the_export_covers_the_window(tmp_path, start, end,
                                                                                             reason):
    good(tmp_path, "good-a")
    (tmp_path / "amazon.json").write_text(_cancel_report(start, end, 5, 1))
    res = cli("reconcile", str(tmp_path), "--account", "good-a", "--amazon", str(tmp_path / "amazon.json"),
              "--format", "json", "--no-keep")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["metric"] for r in rows] == ["cancel_rate"]
    assert reason in rows[0]["reason"]


def test_report_text_reaches_the_terminal_without_control_characters_and_long_fractions_are_read(tmp_path):
    good(tmp_path, "good-a")
    report = _ahr_report(warningStates=[{"warningType": "spam\u001b[2J\u001b]0;owned\u0007", "status": "BAD"}])
    report["performanceMetrics"][0]["listingPolicyViolations"]["status"] = "BAD\u001b[31m"
    # a target written with 20 digits (0.0000000000000000001) is a fraction, not a huge count: read
    text = json.dumps(report).replace('"targetValue": 0,', '"targetValue": 0.0000000000000000001,', 1)
    (tmp_path / "amazon.json").write_text(text)
    res = _reconcile(tmp_path, tmp_path / "amazon.json")
    assert res.returncode == 0, res.stderr
    assert "\u001b" not in res.stdout + res.stderr and "\u0007" not in res.stdout
    assert "Warning states: spam[2J]0;owned (BAD)" in res.stdout
