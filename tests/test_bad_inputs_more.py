"""Hostile input, round 3 (issue #22), loading part, through the real ``perfkit`` command:
the parsed-account cache keyed by content with each entry's owner and seal checked; rows with
too few or too many fields; duplicate headers and two headers filling one column; Parquet types
(BINARY, nested, placeholder dates, midnight deadlines); JSON nested too deeply.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

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
    (entry,) = [p for p in place.iterdir() if p.is_dir() and not p.name.startswith(".")]
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


# --- 2-4. refused with one line naming the file, row or column ------------------------------------

def _parquet(folder: Path, name: str, columns: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table(columns), folder / name)


ORDER_COLUMNS = {"order_id": ["P1", "P2"], "purchase_date": ["2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z"],
                 "fulfillment_channel": ["MFN", "MFN"], "order_status": ["Shipped", "Shipped"]}

MAPPED = {"files": {"export.csv": {"table": "orders", "columns": {"purchase-date": "purchase_date"}}}}
REFUSED = {
    # name: (files to write, the line's expected fragments)
    "cut_last": (dict(orders=GOOD + "G5,2026-03-09T11:00:00Z,MFN\n"),
                 ["cut_last/orders.csv, row 6: has 3 fields where the header has 7 (fewer"]),
    "cut_middle": (dict(orders=GOOD.replace("G3,2026-03-03T10:00:00Z,AFN,Shipped,,,", "G3,2026-03-03T10:00:00Z")),
                   ["cut_middle/orders.csv, row 4: has 2 fields where the header has 7"]),
    "long_row": (dict(orders=GOOD.replace("G3,2026-03-03T10:00:00Z,AFN,Shipped,,,", "G3,2026-03-03T10:00:00Z,AFN,Shipped,,,,x")),
                 ["long_row/orders.csv, row 4: has 8 fields where the header has 7 (more"]),
    "dup_header": (dict(orders=GOOD.replace("delivered_date", "ship_confirm_date")),
                   ["dup_header/orders.csv, column 'ship_confirm_date': two columns have the header 'ship_confirm_date'"]),
    "dup_case": (dict(claims="order_id,claim_date,status,Status\nG2,2026-03-07,granted,denied\n"),
                 ["dup_case/claims.csv, column 'Status': two columns have the header 'status' and 'Status'"]),
    "two_to_one": (dict(orders=None, **{"export.csv": GOOD.replace("purchase_date,", "purchase-date,purchase_date,")
                                        .replace("Z,MFN", "Z,2026-01-01,MFN").replace("Z,AFN", "Z,2026-01-01,AFN"),
                                        "mapping.json": json.dumps(MAPPED)}),
                   ["two_to_one/export.csv, column 'purchase_date': headers 'purchase-date' and 'purchase_date' "
                    "both fill column 'purchase_date'"]),
    "deep_account": (dict(**{"account.json": "[" * 100_000 + "]" * 100_000}),
                     ["deep_account/account.json: is nested too deeply"]),
    "deep_mapping": (dict(**{"mapping.json": '{"files": ' + "[" * 100_000 + "]" * 100_000 + "}"}),
                     ["deep_mapping/mapping.json: is nested too deeply"]),
    "pq_binary": (dict(orders=None), ["pq_binary/orders.parquet, row 3, column 'order_id': BINARY values that "
                                      "are not UTF-8 text (found b'P\\xff2')"]),
    "pq_struct": (dict(orders=None), ["pq_struct/orders.parquet, column 'order_status': is a nested Parquet column (struct"]),
    "pq_list": (dict(orders=None), ["pq_list/orders.parquet, column 'fulfillment_channel': is a nested Parquet column (list"]),
}


@pytest.fixture(scope="module")
def refused_run(tmp_path_factory):
    import pyarrow as pa

    root = tmp_path_factory.mktemp("refused")
    good(root, "good-a")
    for name, (files, _) in REFUSED.items():
        good(root, name, **files)
    _parquet(root / "pq_binary", "orders.parquet",
             {**ORDER_COLUMNS, "order_id": pa.array([b"P1", b"P\xff2"], pa.binary())})
    _parquet(root / "pq_struct", "orders.parquet",
             {**ORDER_COLUMNS, "order_status": pa.array([{"code": "Shipped"}, {"code": "Shipped"}])})
    _parquet(root / "pq_list", "orders.parquet", {**ORDER_COLUMNS, "fulfillment_channel": [["MFN"], ["MFN"]]})
    alone = tmp_path_factory.mktemp("alone")
    good(alone, "good-a")
    return (metrics(root), cli("check", str(root), env=_env()), metrics(alone))


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_with_one_line_and_the_others_finish(refused_run, name):
    run, check, clean = refused_run
    assert run.returncode == 2 and check.returncode == 2
    for res, out in ((run, run.stderr), (check, check.stdout)):
        assert "Traceback" not in res.stdout + res.stderr and "unexpected" not in out
        line = next(ln for ln in out.splitlines() if ln.startswith((f"perfkit: error: {name}: ", f"{name}: FAILED: ")))
        for fragment in REFUSED[name][1]:
            assert fragment in line, (fragment, line)
    assert not rows_of(run.stdout, name)
    assert rows_of(run.stdout, "good-a") == rows_of(clean.stdout, "good-a")


# --- 4-5. Parquet read as the same data in CSV is ---------------------------------------------------

def _frame_of(text: str):
    import io

    import pandas as pd

    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def test_parquet_binary_strings_and_placeholder_dates_read_as_in_csv(tmp_path):
    import pandas as pd
    import pyarrow as pa

    root = tmp_path / "data"
    good(root, "csv")
    frame = _frame_of(GOOD)
    folder = good(root, "hive", orders=None)
    # Hive/Impala: every text column BINARY; typed dates, with an ERP placeholder in delivered_date.
    columns = {c: pa.array([v.encode() for v in frame[c]], pa.binary())
               for c in ("order_id", "fulfillment_channel", "order_status")}
    columns["purchase_date"] = pa.array(pd.to_datetime(frame["purchase_date"]).dt.tz_localize(None).astype("datetime64[us]"))
    columns["latest_ship_date"] = pa.array(pd.to_datetime(frame["latest_ship_date"]).dt.date)
    columns["ship_confirm_date"] = pa.array(pd.to_datetime(frame["ship_confirm_date"]).dt.tz_localize(None)
                                            .astype("datetime64[us]"))
    delivered = [None if not v else pd.Timestamp(v).tz_localize(None).to_pydatetime() for v in frame["delivered_date"]]
    delivered[1] = pd.Timestamp("9999-12-31").to_pydatetime()  # G2: out of pandas' nanosecond range
    columns["delivered_date"] = pa.array(delivered, pa.timestamp("us"))
    _parquet(folder, "orders.parquet", columns)
    good(root, "csv-placeholder", orders=GOOD.replace("2026-03-06T10:00:00Z", "9999-12-31"))
    res = metrics(root)
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert ("perfkit: warning: hive: hive/orders.parquet, row 3, column 'delivered_date': 9999-12-31T00:00:00 read as no date"
            in res.stderr)
    same = [{**r, "account_id": "x"} for r in rows_of(res.stdout, "hive")]
    assert same and same == [{**r, "account_id": "x"} for r in rows_of(res.stdout, "csv-placeholder")]


def test_a_midnight_parquet_deadline_is_the_whole_local_day_as_in_csv(tmp_path):
    import pandas as pd

    root = tmp_path / "data"
    # 60 MFN orders of Los Angeles, 2026-03-01 to 03-10: each ship-by day is the purchase day + 2, and
    # each order ships that very day at 15:00 local, except every sixth (i % 6 == 0: 10 orders), which
    # ships a day later. Late Shipment over 30 days: 10 late of 60.
    lines = ["order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date"]
    for i in range(60):
        day = pd.Timestamp("2026-03-01") + pd.Timedelta(days=i // 6)
        ship_by = day + pd.Timedelta(days=2)
        shipped = ship_by + pd.Timedelta(days=1 if i % 6 == 0 else 0, hours=15)
        lines.append(f"O{i},{day.date()}T09:00:00,MFN,Shipped,{ship_by.date()},{shipped.isoformat()}")
    text = "\n".join(lines) + "\n"
    good(root, "csv", orders=text, **{"account.json": json.dumps({"timezone": "America/Los_Angeles",
                                                                    "marketplace": "US"})})
    folder = good(root, "pq", orders=None, **{"account.json": json.dumps({"timezone": "America/Los_Angeles",
                                                                           "marketplace": "US"})})
    frame = _frame_of(text)
    for c in ("purchase_date", "latest_ship_date", "ship_confirm_date"):
        frame[c] = pd.to_datetime(frame[c])  # latest_ship_date: midnight, as pandas writes a date
    frame.to_parquet(folder / "orders.parquet", index=False)
    res = cli("metrics", str(root), "--format", "csv", "--as-of", "2026-03-13", env=_env())
    assert res.returncode == 0, res.stderr

    def late(account):
        return next((r["numerator"], r["denominator"]) for r in rows_of(res.stdout, account)
                    if r["metric"] == "late_shipment_rate_30d")
    assert late("csv") == ("10", "60") and late("pq") == ("10", "60")
