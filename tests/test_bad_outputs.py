"""The bad-input matrix, outputs and options: nothing a command writes destroys what it reads, a
rerun into the same file works, and every mistake a user or their disk can make is one line and
exit 2 (never a traceback, never exit 3). Data-loss cases compare every byte of the data after.
"""
from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.test_bad_inputs import AS_OF, GOOD, cli, good


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (symlinks as their target text), to compare byte for byte."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            out[str(p.relative_to(root))] = b"-> " + os.readlink(p).encode()
        elif p.is_file():
            out[str(p.relative_to(root))] = p.read_bytes()
    return out


def one_line_error(res: subprocess.CompletedProcess, fragment: str, alone: bool = True) -> None:
    """Exit 2 and one error line holding ``fragment``; ``alone``: nothing else printed (a check
    before any work), else after the run's warnings."""
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "Traceback" not in res.stdout + res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("perfkit: error: ")]
    assert len(errors) == 1 and fragment in errors[0], res.stderr
    if alone:
        assert res.stderr == errors[0] + "\n"


# --- --out: a rerun replaces its own file; never an input -----------------------------------

@pytest.fixture
def root(tmp_path):
    good(tmp_path / "data", "good-a")
    return tmp_path


def test_a_rerun_into_the_same_out_file_replaces_it(root):
    data, out = root / "data", root / "daily.csv"
    first = cli("metrics", str(data), "--format", "csv", "--as-of", AS_OF, "--out", str(out))
    assert first.returncode == 0, first.stderr
    out.write_text("yesterday's file\n")
    again = cli("metrics", str(data), "--format", "csv", "--as-of", AS_OF, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert out.read_text() == cli("metrics", str(data), "--format", "csv", "--as-of", AS_OF).stdout
    for _ in range(2):  # poa and reconcile too, twice each
        poa = cli("poa", str(data), "--account", "good-a", "--metric", "odr", "--as-of", "2026-03-25",
                  "--out", str(root / "poa.md"), "--causes-db", str(root / "c.sqlite"))
        assert poa.returncode == 0, poa.stderr
        amazon = root / "amazon.json"
        amazon.write_text('{"performanceMetrics": [{"marketplaceId": "ATVPDKIKX0DER", "orderDefectRate": {"mfn": '
                          '{"reportingDateRange": {"reportingDateFrom": "2026-01-10", "reportingDateTo": "2026-03-10"}, '
                          '"rate": 0.5, "orderCount": 4}}}]}')
        rec = cli("reconcile", str(data), "--account", "good-a", "--amazon", str(amazon), "--no-keep",
                  "--format", "csv", "--out", str(root / "rec.csv"))
        assert rec.returncode == 0, rec.stderr
    # good-a's orders cover only part of ODR's 60-day window (lag 14) on 25 March, so the POA says no letter is
    # due (and writes no evidence CSV); the rerun still replaces the file it wrote the day before.
    assert (root / "poa.md").read_text().count("No POA needed") == 1 and not (root / "poa-evidence.csv").exists()
    assert (root / "rec.csv").read_text().startswith("metric,")


def test_out_through_a_symlink_writes_its_target(root):
    target = root / "kept" / "metrics.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    (root / "link.csv").symlink_to(target)
    res = cli("metrics", str(root / "data"), "--format", "csv", "--as-of", AS_OF, "--out", str(root / "link.csv"))
    assert res.returncode == 0, res.stderr
    assert (root / "link.csv").is_symlink() and os.readlink(root / "link.csv") == str(target)
    assert target.read_text().startswith("account_id,as_of,metric")
    (root / "loop").symlink_to(root / "loop")
    one_line_error(cli("metrics", str(root / "data"), "--out", str(root / "loop")), "cannot be followed")


@pytest.mark.parametrize("where, fragment", [
    ("data/good-a/orders.csv", "is inside the data folder"),
    ("data/good-a/new.csv", "is inside the data folder"),
    ("data", "is a folder; give a file name"),
    ("policy.toml", "which this run reads; choose another file"),
    ("c.sqlite", "which this run reads; choose another file"),
    ("data-link/good-a/claims.csv", "is inside the data folder"),  # the data root reached through a link
])
def test_out_on_the_data_or_an_input_is_refused_and_nothing_changes(root, where, fragment):
    from tests.test_bad_inputs import POLICY

    (root / "policy.toml").write_text(POLICY)
    (root / "c.sqlite").write_bytes(b"analysts' root causes")
    (root / "data-link").symlink_to(root / "data")
    before = snapshot(root)
    env = {**os.environ, "PERFKIT_CAUSES_DB": str(root / "c.sqlite")}  # metrics knows the database from here
    for cmd in (["metrics", str(root / "data"), "--policy", str(root / "policy.toml")],
                ["poa", str(root / "data"), "--account", "good-a", "--metric", "odr", "--causes-db",
                 str(root / "c.sqlite"), "--policy", str(root / "policy.toml")]):
        one_line_error(cli(*cmd, "--out", str(root / where), env=env), fragment)
    assert snapshot(root) == before


def test_poa_evidence_beside_out_is_checked_too(root):
    # poa --out x.md also writes x-evidence.csv: here that is the account's orders file's sibling... a folder.
    (root / "draft-evidence.csv").mkdir()
    one_line_error(cli("poa", str(root / "data"), "--account", "good-a", "--metric", "odr",
                       "--out", str(root / "draft.md")), "evidence file")


def test_report_out_and_the_cache_inside_the_data_are_refused(root):
    before = snapshot(root)
    one_line_error(cli("report", str(root / "data"), "--out", str(root / "data" / "reports")),
                   "is inside the data folder")
    env = {**os.environ, "PERFKIT_REPORTS": "/dev/null"}
    one_line_error(cli("report", str(root / "data"), env=env), "PERFKIT_REPORTS /dev/null: is a device or a pipe")
    env = {**os.environ, "PERFKIT_CACHE": str(root / "data" / ".cache")}
    for cmd in ("check", "metrics"):
        one_line_error(cli(cmd, str(root / "data"), env=env), "PERFKIT_CACHE")
    assert snapshot(root) == before
    assert cli("check", str(root / "data"), "--no-cache", env=env).returncode == 0  # no cache, no clash


def _limited(kib: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, kib * 1024))
    return limit


def test_a_file_size_limit_is_one_line_and_keeps_the_old_file(root):
    out = root / "metrics.csv"
    out.write_text("the last good run\n")
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(root / "data"), "--format", "csv",
                          "--from", "2026-03-01", "--to", "2026-03-09", "--out", str(out)], capture_output=True,
                         text=True, preexec_fn=_limited(4))  # about 20 KiB of CSV: over the limit
    one_line_error(res, f"{out}: cannot be written (File too large); the previous file, if any, is unchanged",
                   alone=False)
    assert out.read_text() == "the last good run\n"
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []  # no temporary file left
    report = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(root / "data"), "--out",
                             str(root / "reports"), "--quiet"], capture_output=True, text=True,
                            preexec_fn=_limited(64))
    assert report.returncode == 2 and "Traceback" not in report.stderr
    assert "cannot be written (File too large)" in report.stderr


# --- perfkit sample never replaces an account -------------------------------------------------

def test_sample_never_overwrites_an_account_folder(tmp_path):
    mine = tmp_path / "data" / "us-summit-outdoor"  # the first sample account's name
    mine.mkdir(parents=True)
    (mine / "orders.csv").write_text(GOOD)
    before = snapshot(tmp_path)
    for extra in ([], ["--replace"]):
        one_line_error(cli("sample", str(tmp_path / "data"), "--accounts", "1", "--days", "30", *extra),
                       "us-summit-outdoor already exist (not written by perfkit sample, so never replaced)")
    assert snapshot(tmp_path) == before


def test_sample_regenerates_its_own_folders_only_when_asked(tmp_path):
    args = ["sample", str(tmp_path), "--accounts", "2", "--days", "30"]
    assert cli(*args).returncode == 0
    before = snapshot(tmp_path)
    one_line_error(cli(*args, "--seed", "8"), "add --replace to regenerate them")
    assert snapshot(tmp_path) == before
    again = cli(*args, "--format", "parquet", "--replace")
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (tmp_path / "us-summit-outdoor").glob("orders.*")) == ["orders.parquet"]


@pytest.mark.parametrize("args, fragment", [
    (["--days", "-5"], "--days -5: give a number from 1 to 3650"),
    (["--days", "0"], "--days 0: give a number from 1 to 3650"),
    (["--accounts", "100000"], "--accounts 100000: give a number from 1 to 500"),
    (["--accounts", "0"], "--accounts 0: give a number from 1 to 500"),
    (["--daily-orders", "1e9"], "--daily-orders 1000000000.0: give a number from 0.01 to 10000"),
    (["--seed", "-1"], "--seed -1: give a number from 0 to"),
    (["--end", "2026-W42-4"], "--end '2026-W42-4' is not a date"),
])
def test_sample_arguments_are_bounded(tmp_path, args, fragment):
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "sample", str(tmp_path / "s"), *args],
                         capture_output=True, text=True, timeout=30)
    one_line_error(res, fragment)
    assert not (tmp_path / "s").exists()


def test_sample_into_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("keep me")
    one_line_error(cli("sample", str(tmp_path / "f")), "is a file, not a folder")
    assert (tmp_path / "f").read_text() == "keep me"


# --- options that passed their check and failed later -----------------------------------------

@pytest.mark.parametrize("args, fragment", [
    (["--as-of", "2026-W42-4"], "--as-of '2026-W42-4' is not a date; write it as YYYY-MM-DD"),
    (["--as-of", "20260309"], "--as-of '20260309' is not a date"),
    (["--from", "2026-03-01", "--to", "2026-W10"], "--to '2026-W10' is not a date"),
    (["--scheduler", "garbage://x"], "--scheduler 'garbage://x': not a Dask scheduler address"),
    (["--scheduler", "tcp://host"], "--scheduler 'tcp://host': not a Dask scheduler address"),
    (["--scheduler", "tcp://host:99999"], "not a Dask scheduler address"),
])
def test_an_option_is_checked_before_any_account(root, args, fragment):
    one_line_error(cli("metrics", str(root / "data"), *args), fragment)


def test_a_scheduler_address_that_is_not_dask_is_named_quickly(root):
    # A listener that accepts and says nothing (a web server waiting for its request).
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    held = []
    threading.Thread(target=lambda: held.append(server.accept()), daemon=True).start()
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(root / "data"), "--scheduler",
                          f"tcp://127.0.0.1:{port}"], capture_output=True, text=True, timeout=40)
    one_line_error(res, f"127.0.0.1:{port} accepted the connection but said nothing in 5 s")
    server.close()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.close()  # nobody listens there now
    res = cli("metrics", str(root / "data"), "--scheduler", f"tcp://127.0.0.1:{port}")
    one_line_error(res, "Connection refused")


def test_fail_on_prints_every_breach_when_an_account_failed(tmp_path):
    good(tmp_path, "good-a")
    good(tmp_path, "broken", orders=GOOD.replace("2026-03-02T10:00:00Z,MFN", "9999-12-31,MFN"))
    args = ["metrics", str(tmp_path), "--as-of", "2026-03-25", "--fail-on", "breach", "--include-partial",
            "--format", "csv"]
    res = cli(*args)
    alone = cli(*args, "--account", "good-a")
    assert alone.returncode == 1 and res.returncode == 2
    # good-a's MFN orders in ODR's window are G1 (1-star feedback), G2 (a granted claim) and G4: 2 of 3.
    # Valid tracking is placed by the promised delivery date, which this file does not have: no_data, no hit.
    hits = [ln for ln in res.stderr.splitlines() if ln.startswith("perfkit: --fail-on")]
    assert hits == ["perfkit: --fail-on breach: good-a: odr (MFN, all)"]
    assert hits == [ln for ln in alone.stderr.splitlines() if ln.startswith("perfkit: --fail-on")]
    assert "perfkit: error: broken: broken/orders.csv, row 3" in res.stderr


# --- terminal escapes in the data are shown, never obeyed -------------------------------------

def test_escape_sequences_in_the_data_never_reach_the_terminal(tmp_path):
    evil = "Toys\x1b[2J\x1b]8;;http://x.example/\x07\u202e"
    # A promised delivery date places both in Valid Tracking's window on 31 March (promised 16 Feb .. 17 Mar),
    # which is split by category: the category's name reaches the table.
    orders = ("order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date,category,"
              "latest_delivery_date\n"
              f"G1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-02T10:00:00Z,\"{evil}\",2026-03-06\n"
              "G2\x1b[31m,2026-03-02T10:00:00Z,MFN,Shipped,2026-03-04,2026-02-03T10:00:00Z,Toys,2026-03-06\n")
    folder = good(tmp_path, "good-a", orders=orders, feedback=None, claims=None, returns=None, chargebacks=None)
    (folder / "account.json").write_text('{"name": "Shop\\u001b[8m", "marketplace": "US", "timezone": "UTC"}')
    runs = [cli("check", str(tmp_path)), cli("metrics", str(tmp_path), "--as-of", "2026-03-31"),
            cli("metrics", str(tmp_path), "--as-of", "2026-03-31", "--format", "csv"),
            cli("metrics", str(tmp_path), "--as-of", "2026-03-31", "--format", "json")]
    for res in runs:
        assert res.returncode == 0, res.stderr
        text = res.stdout + res.stderr
        assert not any(c in text for c in "\x1b\x07\u202e"), text
    check, table, csv_run, json_run = runs
    assert "good-a: Shop\\x1b[8m (US, UTC)" in check.stdout
    # The id's ESC is a control character no order id has: taken out (and said), so the warning on G2 (shipped
    # before it was bought) names "G2[31m".
    assert "column 'order_id': 1 ids held characters no id has (U+001B control)" in check.stdout
    assert "(order G2[31m)" in check.stdout
    assert "category=Toys\\x1b[2J" in table.stdout
    assert "category=Toys\\x1b[2J\\x1b]8;;http://x.example/\\x07\\u202e" in csv_run.stdout
    assert '"segment": "category=Toys\\\\x1b[2J' in json_run.stdout
