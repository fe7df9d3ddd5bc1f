"""A Chinese page says in Chinese why a kept Seller Performance report is left out, and when a
date is after this run; the English stays what ``perfkit reconcile`` and ``check`` print."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from .conftest import write_account
from .test_notes import _notes

ORDERS = """order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date
K1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-02T10:00:00Z
K2,2026-03-02T10:00:00Z,MFN,Shipped,2026-03-04,2026-03-03T10:00:00Z
"""


def _amazon(rate: object = 0.005, start: str = "2026-01-01", end: str = "2026-02-28", mid: str = "ATVPDKIKX0DER",
            ahr: int | None = None) -> str:
    entry: dict = {"marketplaceId": mid, "orderDefectRate": {"mfn": {
        "reportingDateRange": {"reportingDateFrom": start, "reportingDateTo": end}, "rate": rate, "orderCount": 200}}}
    if ahr is not None:
        entry["accountHealthRating"] = {"ahrScore": ahr}
    return json.dumps({"performanceMetrics": [entry]}).replace('"NaN"', "NaN")


def _report(root, out, lang: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out", str(out),
                           "--as-of", "2026-03-04", "--lang", lang, "--quiet"], capture_output=True, text=True,
                          timeout=600)


def _page(out, lang: str, account: str) -> str:
    week = next(p for p in out.iterdir() if p.is_dir() and p.name.endswith("-zh") == (lang == "zh"))
    return (week / f"{account}.html").read_text(encoding="utf-8")


def test_kept_reports_left_out_say_why_in_chinese(tmp_path):
    root = tmp_path / "data"
    kept = write_account(root, "kept", orders=ORDERS) / "amazon-performance"
    kept.mkdir()
    # Five kept reports, each refused for one reason: a window ending before it starts, a NaN,
    # another marketplace (UK), a date that is not a date, an AHR above Amazon's 1,000.
    (kept / "2026-01-31.json").write_text(_amazon(start="2026-03-01", end="2026-01-01"))
    (kept / "2026-02-07.json").write_text(_amazon(rate="NaN"))
    (kept / "2026-02-14.json").write_text(_amazon(mid="A1F83G8C2ARO7P"))
    (kept / "2026-02-21.json").write_text(_amazon(start="today"))
    (kept / "2026-02-28.json").write_text(_amazon(ahr=1200))
    pages = {}
    for lang in ("en", "zh"):
        res = _report(root, tmp_path / "out", lang)
        assert res.returncode == 0, res.stderr
        pages[lang] = [n for n in _notes(_page(tmp_path / "out", lang, "kept")) if ".json" in n]
    en, zh = pages["en"], pages["zh"]
    path = str(kept) + "/"
    asis = "Amazon's report as downloaded (do not edit it)"
    # English, as before the notes (the page names the file, then the reconcile refusal)
    assert en == [
        f"kept Amazon report left out: 2026-01-31.json: {path}2026-01-31.json: odr (MFN) window "
        f"2026-03-01..2026-01-01: the window ends before it starts; expected {asis}",
        f"kept Amazon report left out: 2026-02-07.json: {path}2026-02-07.json: NaN is not a number JSON allows; "
        "expected the JSON of Amazon's Seller Performance report (GET_V2_SELLER_PERFORMANCE_REPORT), as downloaded",
        f"kept Amazon report left out: 2026-02-14.json: {path}2026-02-14.json: is for marketplace UK, the account "
        f"is US: download the report of the account's marketplace; expected {asis}",
        f"kept Amazon report left out: 2026-02-21.json: {path}2026-02-21.json: odr (MFN): reporting date 'today' "
        f"is not an ISO date such as 2026-01-31T23:59Z; expected {asis}",
        f"kept Amazon report left out: 2026-02-28.json: {path}2026-02-28.json: accountHealthRating.ahrScore 1200 "
        f"is above 1000, the top of Amazon's scale; expected {asis}"]
    zasis = "亚马逊原样下载的报告(请勿编辑)"
    assert zh == [
        f"已保存的亚马逊报告未采用:2026-01-31.json:{path}2026-01-31.json:odr(MFN)窗口 2026-03-01..2026-01-01:"
        f"窗口的结束早于开始;应为{zasis}",
        f"已保存的亚马逊报告未采用:2026-02-07.json:{path}2026-02-07.json:NaN 不是 JSON 允许的数字;"
        "应为原样下载的亚马逊卖家绩效报告(GET_V2_SELLER_PERFORMANCE_REPORT)JSON",
        f"已保存的亚马逊报告未采用:2026-02-14.json:{path}2026-02-14.json:属于站点 UK,而账户是 US:"
        f"请下载该账户站点的报告;应为{zasis}",
        f"已保存的亚马逊报告未采用:2026-02-21.json:{path}2026-02-21.json:odr(MFN):报告日期 'today' 不是 ISO "
        f"日期(例如 2026-01-31T23:59Z);应为{zasis}",
        f"已保存的亚马逊报告未采用:2026-02-28.json:{path}2026-02-28.json:accountHealthRating.ahrScore 1200 "
        f"高于亚马逊评分的上限 1000;应为{zasis}"]


def test_dates_after_this_run_are_said_in_the_accounts_zone(tmp_path):
    # F1 was bought at 2099-01-01 02:00 UTC: 11:00 that day in Tokyo. F2's delivery at 2099-02-01
    # 20:00 UTC is 05:00 on 2 February in Tokyo. One row each (rows 3 and 2 of the file).
    root = tmp_path / "data"
    write_account(root, "tokyo", tz="Asia/Tokyo", marketplace="JP", orders=(
        "order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,delivered_date\n"
        "F2,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-04,2099-02-01T20:00:00Z\n"
        "F1,2099-01-01T02:00:00Z,MFN,Shipped,2099-01-04,\n"
        "F3,2026-03-02T10:00:00Z,MFN,Shipped,2026-03-05,\n"))
    assert pd.Timestamp.now(tz="UTC").year < 2099
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "check", str(root)], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    said = res.stdout + res.stderr
    assert ("tokyo/orders.csv, row 3, column 'purchase_date': dated after this run (2099-01-01 11:00:00+09:00); "
            "those rows are left out of every rate until the date is corrected") in said
    assert ("tokyo/orders.csv, row 2, column 'delivered_date': dated after this run (2099-02-02 05:00:00+09:00); "
            "read as missing until corrected") in said
