"""Loading's notes come from one catalogue (core/notes.py) with English and Chinese text: ``report
--lang zh`` shows every one in Chinese, the English stays what ``perfkit check`` prints."""
from __future__ import annotations

import ast
import html
import json
import re
import string
import subprocess
import sys

from perfkit.core.notes import CATALOGUE, Note, from_json, render, rows, to_json

from .conftest import ROOT, write_account

CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_note_has_chinese_with_the_same_fields():
    for key, entry in CATALOGUE.items():
        # Chinese words, or at least Chinese punctuation (a note that only joins two others)
        assert entry.get("zh") and entry["zh"] != entry["en"], key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_no_loading_warning_is_a_raw_string():
    # Every warning the loading layer (and the encoding guess in core) appends is a Note: read the
    # code, so that a new producer written as an f-string fails here, not on a Chinese page.
    raw = []
    for path in sorted((ROOT / "perfkit" / "loading").glob("*.py")) + [ROOT / "perfkit" / "core" / "encodings.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in ("warnings", "notes")):
                arg = node.args[0]
                if not (isinstance(arg, ast.Call) and getattr(arg.func, "id", None) == "Note"):
                    raw.append(f"{path.name}:{node.lineno}")
            if (isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name)
                    and node.target.id in ("warnings", "notes")):
                elt = getattr(node.value, "elt", None)
                if not (isinstance(elt, ast.Call) and getattr(elt.func, "id", None) == "Note"):
                    raw.append(f"{path.name}:{node.lineno}")
    assert raw == []


def test_a_note_is_its_english_line_and_keeps_its_parts():
    # 7 rows: the first five are named, then the count, as describe_rows has always written them.
    n = Note("item_rows_disagree", files="a/orders.csv", **rows([2, 3, 4, 5, 6, 7, 8]), column="carrier", n=3,
             order="A1", shown="DHL, UPS", rule=Note("item_rule.carrier"))
    assert n == ("a/orders.csv, rows 2, 3, 4, 5, 6 (7 in all), column 'carrier': item rows of 3 orders disagree "
                 "(order A1: DHL, UPS); the first carrier in sorted order is used")
    assert render(n, "zh") == ("a/orders.csv,第 2、3、4、5、6 行(共 7 行),列 'carrier':3 个订单的商品行不一致"
                               "(订单 A1:DHL, UPS);采用排序后的第一个承运商")
    back = from_json(to_json(n))
    assert isinstance(back, Note) and back == n and render(back, "zh") == render(n, "zh")
    assert Note("decided_undated", n=1, statuses_or=["denied", "withdrawn"]).startswith(
        "claims: 1 denied or withdrawn claims without status_date")
    assert render("a plain line", "zh") == "a plain line"


ORDERS = """\
order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date,delivered_date,carrier
A1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-02T10:00:00Z,2026-03-05T10:00:00Z,UPS
A1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-03,2026-03-02T10:00:00Z,2026-03-05T10:00:00Z,DHL
A2,2026-03-02T10:00:00Z,MFN,Shipped,2026-03-04,2026-02-20T10:00:00Z,2026-03-06T10:00:00Z,UPS
A3,2026-03-03T10:00:00Z,MFN,Shipped,2026-03-05,2026-03-04T10:00:00Z,9999-12-31,UPS
A4,2026-03-04T10:00:00Z,MFN,Shipped,2026-03-06,2026-03-05T10:00:00Z,2099-01-01T00:00:00Z,UPS
"""


def _notes(page: str) -> list[str]:
    found = re.search(r"<ul class=[\"']pk-notes[\"']>(.*?)</ul>", page, re.S)
    assert found, "no notes section"
    return [html.unescape(li) for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def test_zh_report_shows_loading_warnings_in_chinese(tmp_path):
    root = tmp_path / "data"
    write_account(root, "noisy", orders=ORDERS,
                  claims="order_id,claim_date,status\nA1,2026-03-06,denied\nA2,2026-03-07,pending-xyz\n",
                  feedback="order_id,feedback_date,rating\nZ9,2026-03-06,1\n",
                  **{"stranger.csv": "foo,bar\n1,2\n", "notes.docx": "not a table\n"})
    pages = {}
    for lang in ("en", "zh"):
        res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out",
                              str(tmp_path / "out"), "--as-of", "2026-03-04", "--lang", lang, "--quiet"],
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        week = next(p for p in (tmp_path / "out").iterdir() if p.is_dir() and p.name.endswith("-zh") == (lang == "zh"))
        pages[lang] = _notes((week / "noisy.html").read_text(encoding="utf-8"))
    en, zh = pages["en"], pages["zh"]
    # English, as check prints them: rows 2-3 are one order (A1) with two carriers; row 4 (A2)
    # shipped on 20 Feb, before its purchase; row 5 has the 9999 placeholder; row 6 a 2099 delivery.
    assert "noisy/orders.csv: 2 rows repeat 1 order ids (one row per item); merged into one order each" in en
    assert ("noisy/orders.csv, rows 2, 3 (2 in all), column 'carrier': item rows of 1 orders disagree (order A1: "
            "UPS, DHL); the first carrier in sorted order is used") in en
    assert "noisy/notes.docx: ignored (not .csv, .tsv, .txt or .parquet)" in en
    # The same notes in Chinese, written by hand; names, rows, columns and values as found.
    assert "noisy/orders.csv:2 行重复了 1 个订单号(每个商品一行);已各合并为一个订单" in zh
    assert ("noisy/orders.csv,第 2、3 行(共 2 行),列 'carrier':1 个订单的商品行不一致(订单 A1:UPS, DHL);"
            "采用排序后的第一个承运商") in zh
    assert ("noisy/orders.csv,第 4 行,列 'ship_confirm_date':早于购买日期(订单 A2);按原样计入(各日期按其所在日计):"
            "请检查导出文件的时区或日期") in zh
    assert "noisy/orders.csv,第 5 行,列 'delivered_date':9999-12-31 按无日期读取(ERP 的占位值)" in zh
    assert "feedback:1 行的订单号不在订单中(例如 Z9);不计入任何比率" in zh
    assert "noisy/notes.docx:已忽略(不是 .csv、.tsv、.txt 或 .parquet)" in zh
    assert any(n.startswith("noisy/orders.csv,第 6 行,列 'delivered_date':日期晚于本次运行(2099-01-01") for n in zh)
    assert any(n.startswith("claims:1 条状态为 denied 或 withdrawn 的索赔没有 status_date") for n in zh)
    assert any(n.startswith("noisy/claims.csv,第 3 行,列 'status':未知的索赔状态 'pending-xyz';与已批准的索赔一样计入卖家")
               for n in zh)
    assert any(n.startswith("noisy/stranger.csv:已忽略,既不是 perfkit 的表,也不是已知的亚马逊报告") for n in zh)
    # Every note of the page, and none left in English.
    assert len(zh) == len(en) >= 10
    assert [n for n in zh if not CJK.search(n)] == [] and not set(en) & set(zh)


def test_explorer_in_chinese_shows_loading_warnings_in_chinese(tmp_path):
    from perfkit.explore.widget import Explorer

    root = tmp_path / "data"
    write_account(root, "noisy", orders=ORDERS, feedback="order_id,feedback_date,rating\nZ9,2026-03-06,1\n")
    ex = Explorer(root, None, causes_db=tmp_path / "c.sqlite", poa_dir=tmp_path / "poa")
    ex.widget()
    assert "feedback: 1 rows name order ids not in the orders (e.g. Z9); left out of every rate" in ex.notes.text.value
    ex.lang.value = "zh"
    shown = html.unescape(ex.notes.text.value)
    assert "feedback:1 行的订单号不在订单中(例如 Z9);不计入任何比率" in shown
    assert "noisy/orders.csv:2 行重复了 1 个订单号(每个商品一行);已各合并为一个订单" in shown
    assert "rows name order ids" not in shown and "merged into one order" not in shown
    assert "缺少:claims, chargebacks, returns" in shown and "missing:" not in shown


def test_item_row_times_are_said_in_the_accounts_zone(tmp_path):
    # T1's two item rows were confirmed at 10:00 and 16:00 UTC: 19:00 on 2 March and 01:00 on
    # 3 March in Tokyo, as the seller's own exports write them.
    root = tmp_path / "data"
    write_account(root, "tokyo", tz="Asia/Tokyo", marketplace="JP", orders=(
        "order_id,purchase_date,fulfillment_channel,order_status,latest_ship_date,ship_confirm_date\n"
        "T1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-04,2026-03-02T10:00:00Z\n"
        "T1,2026-03-01T10:00:00Z,MFN,Shipped,2026-03-04,2026-03-02T16:00:00Z\n"))
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "check", str(root)], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert ("tokyo/orders.csv, rows 2, 3 (2 in all), column 'ship_confirm_date': item rows of 1 orders disagree "
            "(order T1: 2026-03-02 19:00:00+09:00, 2026-03-03 01:00:00+09:00); the latest confirmation is used "
            "(the order shipped with its last item)") in res.stdout + res.stderr


def test_a_cached_account_keeps_its_notes_renderable_in_chinese(tmp_path, monkeypatch):
    from perfkit.core.policy import read_policy
    from perfkit.loading import cache
    from perfkit.loading.loader import load_account, loading_rules

    monkeypatch.setenv("PERFKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PERFKIT_NO_CACHE", "0")
    folder = write_account(tmp_path / "data", "noisy", orders=ORDERS)
    parsed = load_account(folder)
    place, digest = cache.key(folder, None, None, loading_rules(read_policy()))
    meta = json.loads((place / digest / "meta.json").read_text(encoding="utf-8"))  # the second load's entry
    assert {"key": "rows_repeat", "params": {"file": "noisy/orders.csv", "n_rows": 2, "n_orders": 1}} in meta["warnings"]
    monkeypatch.setattr("perfkit.loading.loader._parse_account", None)  # served from the entry, or it fails
    served = load_account(folder)
    assert served.warnings == parsed.warnings and all(isinstance(w, Note) for w in served.warnings)
    assert [render(w, "zh") for w in served.warnings] == [render(w, "zh") for w in parsed.warnings]
    assert "noisy/orders.csv:2 行重复了 1 个订单号(每个商品一行);已各合并为一个订单" in [render(w, "zh") for w in served.warnings]
