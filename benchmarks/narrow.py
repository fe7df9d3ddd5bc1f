"""The narrow CSV export: ODR from only the columns it needs, perfkit cold and warm against DuckDB.

An agency exporting for ODR keeps the All Orders report's order id, purchase date, fulfilment
channel and order status, and the defect event files (feedback, claims, chargebacks). This part writes the
benchmark's Parquet dataset that way, as CSV, once, and times perfkit cold (parses the files and
fills the parsed-account cache), perfkit warm (the cache filled) and DuckDB SQL reading the same
CSV files, interleaved in one run, and checks that the numbers are equal.
"""
from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

# order_status too: perfkit requires it of every orders file (Amazon's All Orders report always has it).
ORDER_COLUMNS = ["order_id", "purchase_date", "fulfillment_channel", "order_status"]
EVENT_FILES = ("feedback", "claims", "chargebacks")


def as_narrow(root: Path) -> Path:
    """The Parquet dataset as a narrow CSV export (made once per dataset)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    out = root.with_name(root.name + "_narrow")
    made = (root / ".made").read_text() + " " + ",".join(ORDER_COLUMNS)
    if (out / ".made").is_file() and (out / ".made").read_text() == made:
        return out
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        (out / d.name).mkdir(parents=True)
        pacsv.write_csv(pq.read_table(d / "orders.parquet", columns=ORDER_COLUMNS), out / d.name / "orders.csv")
        for name in EVENT_FILES:
            pacsv.write_csv(pq.read_table(d / f"{name}.parquet"), out / d.name / f"{name}.csv")
        shutil.copy(d / "account.json", out / d.name / "account.json")
    (out / ".made").write_text(made)
    print(f"  wrote {out.name} (narrow CSV) in {time.perf_counter() - t0:.1f}s", flush=True)
    return out


def equal_numbers(ours: Path, peer: Path) -> bool:
    """Every (account, metric, segment, day) DuckDB has, with the same numerator and denominator;
    perfkit's extra rows only segments without units (an FBA-only shop's MFN, all zero)."""
    import pandas as pd

    x, y = pd.read_parquet(ours), pd.read_parquet(peer)
    merged = x.merge(y, on=["account_id", "metric", "segment", "as_of"], how="outer", suffixes=("", "_duck"),
                     indicator=True)
    both = merged[merged["_merge"] == "both"]
    return bool((both["numerator"] == both["numerator_duck"]).all()
                and (both["denominator"] == both["denominator_duck"]).all()
                and (merged["_merge"] != "right_only").all()
                and (merged.loc[merged["_merge"] == "left_only", "denominator"] == 0).all())


def narrow_csv(parquet_root: Path, data: Path, run_child: Callable[..., dict], repeats: int) -> list[str]:
    """Cold, warm and DuckDB, interleaved ``repeats`` times; the median of each and every pair's ratio."""
    root = as_narrow(parquet_root)
    mb = sum(f.stat().st_size for f in root.rglob("*.csv")) / 1e6
    orders = sum(sum(1 for _ in open(f, "rb")) - 1 for f in root.glob("*/orders.csv"))
    cache = data / "narrow_cache"
    a, b = data / "narrow_ours.parquet", data / "narrow_duck.parquet"
    runs: dict[str, list[dict]] = {"cold": [], "warm": [], "duckdb": []}
    saved = {k: os.environ.get(k) for k in ("PERFKIT_NO_CACHE", "PERFKIT_CACHE")}
    os.environ.pop("PERFKIT_NO_CACHE", None)
    os.environ["PERFKIT_CACHE"] = str(cache)
    try:
        for _ in range(repeats):
            shutil.rmtree(cache, ignore_errors=True)
            runs["cold"].append(run_child("engine", str(root), "narrow", str(a)))
            runs["warm"].append(run_child("engine", str(root), "narrow", str(a)))
            runs["duckdb"].append(run_child("engine", str(root), "duckdb-narrow", str(b)))
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    med = {k: sorted(v, key=lambda r: r["seconds"])[len(v) // 2] for k, v in runs.items()}
    cold, warm, duck = med["cold"], med["warm"], med["duckdb"]

    def ratios(side: str, what: str = "seconds") -> str:
        return " ".join(f"{o[what] / p[what]:.2f}" for o, p in zip(runs[side], runs["duckdb"]))

    def cpu(side: str) -> float:  # the median pair's CPU seconds (the whole process tree, imports included)
        return statistics.median(r["cpu"] for r in runs[side])

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"CSV, narrow export: {orders:,} orders (order id, purchase date, channel, status) and the defect event files "
        f"({mb:,.0f} MB), ODR, median of {repeats} runs, load average at the end {load}",
        f"  perfkit, cold (parses, fills cache): {cold['seconds']:6.1f} s  peak {cold['peak_mb']:6.0f} MB",
        f"  perfkit, warm (parsed cache)     : {warm['seconds']:7.1f} s  peak {warm['peak_mb']:6.0f} MB",
        f"  DuckDB SQL on the same CSV       : {duck['seconds']:7.1f} s  peak {duck['peak_mb']:6.0f} MB",
        f"  ratio cold/DuckDB                : {cold['seconds'] / duck['seconds']:7.2f}   (target <= 1.0; runs {ratios('cold')})",
        f"  ratio warm/DuckDB                : {warm['seconds'] / duck['seconds']:7.2f}   (target <= 0.5; runs {ratios('warm')})",
        f"  CPU seconds, cold / warm / DuckDB: {cpu('cold'):6.1f} / {cpu('warm'):.1f} / {cpu('duckdb'):.1f}   "
        f"(ratios cold {ratios('cold', 'cpu')}; warm {ratios('warm', 'cpu')})",
        f"  numbers equal to DuckDB's        : {'yes' if equal_numbers(a, b) else 'NO'}",
    ]
