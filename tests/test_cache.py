"""The parsed-account cache: a hit skips parsing, a changed file is never served stale, off when asked."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from perfkit import account_series, load_account
from perfkit.loading import cache as parsed

from .conftest import SAMPLE, write_account


def _no_parsing(monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("parsed a file although the cache holds it")

    monkeypatch.setattr("perfkit.loading.loader._parse_account", refuse)


def test_a_hit_gives_the_same_account_without_parsing(monkeypatch, tmp_path):
    import shutil

    folder = tmp_path / "us-summit-outdoor"
    shutil.copytree(SAMPLE / "us-summit-outdoor", folder)
    fresh = load_account(folder, cache=False)
    load_account(folder)  # fills the cache
    _no_parsing(monkeypatch)
    cached = load_account(folder)
    for table in parsed.TABLES:
        pd.testing.assert_frame_equal(cached.table(table), fresh.table(table), check_dtype=False,
                                      check_categorical=False)
    assert (cached.name, cached.timezone, cached.missing, cached.warnings) == (
        fresh.name, fresh.timezone, fresh.missing, fresh.warnings)
    pd.testing.assert_frame_equal(account_series(cached, start="2026-10-01", end="2026-11-15", early=True),
                                  account_series(fresh, start="2026-10-01", end="2026-11-15", early=True))


def test_a_changed_file_is_a_miss(tmp_path):
    orders = "order_id,purchase_date,fulfillment_channel,order_status\nA,2026-03-01,MFN,Shipped\n"
    folder = write_account(tmp_path, orders=orders)
    assert load_account(folder).orders["order_status"].tolist() == ["Shipped"]
    # Same size, written at once: only the content differs.
    (folder / "orders.csv").write_text(orders.replace("Shipped", "Pending"), encoding="utf-8")
    assert load_account(folder).orders["order_status"].tolist() == ["Pending"]
    # A new file counts too.
    (folder / "feedback.csv").write_text("order_id,feedback_date,rating\nA,2026-03-02,1\n", encoding="utf-8")
    assert len(load_account(folder).feedback) == 1
    # An old file touched to a new time with other content.
    (folder / "orders.csv").write_text(orders.replace("Shipped", "Unshipped"), encoding="utf-8")
    os.utime(folder / "orders.csv", ns=(10**18, 10**18))
    assert load_account(folder).orders["order_status"].tolist() == ["Unshipped"]


def test_no_cache_writes_nothing(tmp_path):
    root = tmp_path / "data"
    write_account(root, orders="order_id,purchase_date,fulfillment_channel,order_status\nA,2026-03-01,MFN,Shipped\n")
    cache = tmp_path / "cache"
    env = {**os.environ, "PERFKIT_CACHE": str(cache)}
    off = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(root), "--no-cache"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert off.returncode == 0, off.stderr
    assert not cache.exists()
    on = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(root)], env=env,
                        capture_output=True, text=True, timeout=120)
    assert on.returncode == 0 and on.stdout == off.stdout
    assert list(cache.glob("acct-*/*/orders.parquet"))


def test_pruned_and_whole_loads_are_kept_apart(tmp_path):
    folder = write_account(tmp_path, orders="order_id,purchase_date,fulfillment_channel,order_status,carrier\n"
                                           "A,2026-03-01,MFN,Shipped,DHL\n")
    # A pruned load (CSV too) reads only what was asked; the whole load after it is not served from it.
    assert load_account(folder, columns=["buyer_requested_cancel"]).orders["carrier"].isna().all()
    assert load_account(folder).orders["carrier"].tolist() == ["DHL"]
    assert load_account(folder, columns=["carrier"]).orders["carrier"].tolist() == ["DHL"]


def test_a_new_column_in_perfkit_never_meets_an_old_cached_table(tmp_path, monkeypatch):
    from perfkit.loading import cache
    from perfkit.loading.schema import Column

    folder = write_account(tmp_path, orders="order_id,purchase_date,fulfillment_channel,order_status\n"
                                           "A,2026-03-01,MFN,Shipped\n")
    before = cache.key(folder, None, None)
    orders = dict(cache.TABLES["orders"])
    orders["new_flag"] = Column("new_flag", "bool", False, False)
    monkeypatch.setitem(cache.TABLES, "orders", orders)
    assert cache.key(folder, None, None) != before


def test_remembered_hashes_are_the_files_own_and_a_rewrite_is_hashed_again(tmp_path, monkeypatch):
    """Hashes are remembered by stat (device, inode, size, mtime, ctime) so a big export is not
    hashed on every load; the remembered value is the BLAKE2b of the bytes, and a rewrite that
    restores size and mtime still changes ctime, so it is hashed again."""
    import hashlib
    import json

    monkeypatch.setenv("PERFKIT_CACHE", str(tmp_path / "cache"))
    folder = write_account(tmp_path / "data", "acct", orders="order_id,purchase_date,fulfillment_channel,"
                           "order_status\nA,2026-03-01,MFN,Shipped\n")
    place, first = parsed.key(folder, None, None)
    memo = json.loads((place / parsed.MEMO).read_text(encoding="utf-8"))
    orders = (folder / "orders.csv").resolve()
    assert memo[str(orders)][1] == hashlib.blake2b(orders.read_bytes(), digest_size=16).hexdigest()
    st = orders.stat()
    text = orders.read_text(encoding="utf-8")
    orders.write_text(text.replace("Shipped", "Shippex", 1), encoding="utf-8")  # same size
    os.utime(orders, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert parsed.key(folder, None, None)[1] != first


def test_a_warm_load_writes_no_hashes_and_removed_files_are_forgotten(tmp_path, monkeypatch):
    """A load whose files were all hashed before rewrites nothing; a file gone is dropped."""
    import json

    monkeypatch.setenv("PERFKIT_CACHE", str(tmp_path / "cache"))
    folder = write_account(tmp_path / "data", "acct", orders="order_id,purchase_date,fulfillment_channel,"
                           "order_status\nA,2026-03-01,MFN,Shipped\n",
                           feedback="order_id,feedback_date,rating\nA,2026-03-02,1\n")
    place, _ = parsed.key(folder, None, None)
    memo = place / parsed.MEMO
    written = memo.stat().st_mtime_ns
    parsed.key(folder, None, None)
    assert memo.stat().st_mtime_ns == written  # nothing new was hashed
    (folder / "feedback.csv").unlink()
    (folder / "orders.csv").write_text("order_id,purchase_date,fulfillment_channel,order_status\n"
                                       "B,2026-03-01,MFN,Shipped\n", encoding="utf-8")
    parsed.key(folder, None, None)
    kept = json.loads(memo.read_text(encoding="utf-8"))
    assert sorted(Path(k).name for k in kept) == ["account.json", "orders.csv"]
