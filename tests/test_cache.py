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


def _entry_key(folder: Path) -> tuple[Path, str]:
    """The key a default-policy load gives this folder (the policy's loading rules are part of it)."""
    from perfkit.core.policy import read_policy
    from perfkit.loading.loader import loading_rules

    return parsed.key(folder, None, None, loading_rules(read_policy()))


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
    assert list(cache.glob("acct-*/*/orders.arrow"))


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
    hashed on every load; the remembered value is the SHA-256 of the bytes, and a rewrite that
    restores size and mtime still changes ctime, so it is hashed again."""
    import hashlib
    import json

    monkeypatch.setenv("PERFKIT_CACHE", str(tmp_path / "cache"))
    folder = write_account(tmp_path / "data", "acct", orders="order_id,purchase_date,fulfillment_channel,"
                           "order_status\nA,2026-03-01,MFN,Shipped\n")
    place, first = parsed.key(folder, None, None)
    memo = json.loads((place / parsed.MEMO).read_text(encoding="utf-8"))
    orders = (folder / "orders.csv").resolve()
    assert memo[str(orders)][1] == hashlib.sha256(orders.read_bytes()).hexdigest()
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


def test_a_new_entry_is_sealed_from_its_bytes_and_a_warm_load_reads_nothing_twice(tmp_path, monkeypatch):
    """The cold load hashes each table as it writes it (no read-back) and remembers those hashes
    under the entry's final names, so the warm load checks the seal by stat alone; the seal is
    the SHA-256 of the bytes on disk, so a damaged table is still caught."""
    import hashlib
    import json

    monkeypatch.setenv("PERFKIT_CACHE", str(tmp_path / "cache"))
    folder = write_account(tmp_path / "data", "acct", orders="order_id,purchase_date,fulfillment_channel,"
                           "order_status\nA,2026-03-01,MFN,Shipped\n")
    cold = load_account(folder, cache=True)
    place, digest = _entry_key(folder)
    entry = place / digest
    seal = json.loads((entry / parsed.SEAL).read_text(encoding="utf-8"))["files"]
    # 6 tables and meta.json, each sealed with the hash of the bytes written
    assert sorted(seal) == sorted([f"{t}.arrow" for t in parsed.TABLES] + ["meta.json"]) and len(seal) == 7
    assert all(seal[n] == hashlib.sha256((entry / n).read_bytes()).hexdigest() for n in seal)
    memo = json.loads((place / parsed.MEMO).read_text(encoding="utf-8"))
    assert all(str(entry.resolve() / n) in memo for n in seal)
    parsed._memo().clear()  # a new process: only the remembered hashes file is known

    def no_hashing():
        raise AssertionError("hashed a file again")
    monkeypatch.setattr(parsed, "_hasher", no_hashing)
    _no_parsing(monkeypatch)
    warm = load_account(folder, cache=True)
    pd.testing.assert_frame_equal(warm.orders, cold.orders)


def test_absent_columns_are_not_stored_and_come_back_the_same(tmp_path, monkeypatch):
    """A four-column orders file: the 18 other orders columns the loader fills are not written
    (those that hold nothing: 13 of them; the flags with a default, the loader's own columns and
    the four read are), and the warm account equals the parsed one column by column, dtypes too."""
    import pyarrow.feather as feather

    monkeypatch.setenv("PERFKIT_CACHE", str(tmp_path / "cache"))
    folder = write_account(tmp_path / "data", "acct", orders="order_id,purchase_date,fulfillment_channel,"
                           "order_status\nA,2026-03-01,MFN,Shipped\nB,2026-03-02,AFN,Shipped\n")
    parsed_ = load_account(folder, cache=False)
    load_account(folder, cache=True)
    place, digest = _entry_key(folder)
    stored = feather.read_table(place / digest / "orders.arrow").column_names
    gone = [c for c in parsed_.orders.columns if c not in stored]
    assert gone == ["buyer_cancel_reason", "cancelled_at", "latest_ship_date", "ship_confirm_date", "carrier",
                    "tracking_id", "tracking_valid", "latest_delivery_date", "delivered_date", "category",
                    "invoice_upload_date", "refund_date", "product_name"]
    _no_parsing(monkeypatch)
    warm = load_account(folder, cache=True)
    for table in parsed.TABLES:
        pd.testing.assert_frame_equal(warm.table(table), parsed_.table(table), check_categorical=False)
        assert list(warm.table(table).dtypes.astype(str)) == list(parsed_.table(table).dtypes.astype(str))


def test_the_version_in_the_key_is_the_installed_one():
    # The key reads perfkit.__version__ (cheap) for the installed version: they must not drift apart.
    from importlib.metadata import version

    assert parsed._version() == version("perfkit")
