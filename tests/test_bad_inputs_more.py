"""Hostile input, round 3 (issue #22), loading part, through the real ``perfkit`` command:
the parsed-account cache keyed by content with each entry's owner and seal checked.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tests.test_bad_inputs import AS_OF, GOOD, cli, good, rows_of


def _env(cache: Path | None = None) -> dict:
    env = {**os.environ, "PERFKIT_NO_CACHE": "1"}
    if cache is not None:
        env.update(PERFKIT_CACHE=str(cache), PERFKIT_NO_CACHE="0")
    return env


def metrics(root: Path, cache: Path | None = None, *extra: str):
    return cli("metrics", str(root), "--format", "csv", "--as-of", AS_OF, *extra, env=_env(cache))


def late_10d(stdout: str, account: str) -> tuple[str, str]:
    row = next(r for r in rows_of(stdout, account) if r["metric"] == "late_shipment_rate_10d")
    return row["numerator"], row["denominator"]


# G1 shipped two days after its ship-by day: the same number of bytes as GOOD.
LATE_G1 = GOOD.replace("2026-03-02T10:00:00Z,2026-03-05", "2026-03-04T10:00:00Z,2026-03-05")
assert len(LATE_G1) == len(GOOD) and LATE_G1 != GOOD


# --- 1. the parsed-account cache ---------------------------------------------------------------

def test_an_edit_keeping_size_and_time_stamp_is_not_served_stale(tmp_path):
    root, cache = tmp_path / "data", tmp_path / "cache"
    folder = good(root, "acct")
    first = metrics(root, cache)
    # G1 and G2 are the MFN orders shipped by their ship-by day (G4 is cancelled): 0 late of 2.
    assert first.returncode == 0 and late_10d(first.stdout, "acct") == ("0", "2")
    orders = folder / "orders.csv"
    st = orders.stat()
    orders.write_text(LATE_G1, encoding="utf-8")  # as cp -p, rsync -a or unzip leave it
    os.utime(orders, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (orders.stat().st_size, orders.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    second = metrics(root, cache)
    assert second.returncode == 0 and late_10d(second.stdout, "acct") == ("1", "2")  # G1 late now
    assert second.stdout == metrics(root).stdout  # the same as without a cache


def _entry(cache: Path, account: str) -> Path:
    (place,) = [p for p in cache.iterdir() if p.name.startswith(f"{account}-")]
    (entry,) = [p for p in place.iterdir() if not p.name.startswith(".")]
    return entry


def test_another_accounts_entry_copied_in_is_not_served(tmp_path):
    root, cache = tmp_path / "data", tmp_path / "cache"
    good(root, "acct-a")
    good(root, "acct-b", orders=LATE_G1)
    first = metrics(root, cache)
    assert late_10d(first.stdout, "acct-a") == ("0", "2") and late_10d(first.stdout, "acct-b") == ("1", "2")
    a, b = _entry(cache, "acct-a"), _entry(cache, "acct-b")
    shutil.rmtree(b)
    shutil.copytree(a, b)  # A's tables and seal under B's key
    second = metrics(root, cache)
    assert second.returncode == 0 and late_10d(second.stdout, "acct-b") == ("1", "2")  # B's own numbers
    assert second.stdout == first.stdout
    assert json.loads((b / "meta.json").read_text(encoding="utf-8"))["account_id"] == "acct-b"  # rebuilt


def test_an_edited_meta_json_is_not_served(tmp_path):
    root, cache = tmp_path / "data", tmp_path / "cache"
    good(root, "acct")
    first = metrics(root, cache)
    meta_path = _entry(cache, "acct") / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["account_id"], meta["marketplace"] = "evil", "DE"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    second = metrics(root, cache)
    assert second.returncode == 0 and "Traceback" not in second.stderr
    assert second.stdout == first.stdout and not rows_of(second.stdout, "evil")
    assert json.loads(meta_path.read_text(encoding="utf-8"))["account_id"] == "acct"  # the entry was rebuilt
