"""``report --lang zh`` leaves no English on its pages: every account of data/sample and a few
hostile ones (stale, advisory, partial, a breach with its Plan of Action due, kept Seller
Performance reports good and bad, loader warnings) rendered in Chinese, and the visible text
of each page, the index and the portfolio (charts' titles, axes and legends included) searched
for a run of three or more English words. What the user's data says (names, categories, buyer
text, file names, column names, ids, numbers, dates, abbreviations such as ODR) is not ours to
translate and is taken out first."""
from __future__ import annotations

import csv
import html
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .conftest import ROOT, write_account
from .test_marketplaces import RETURNS, _orders
from .test_notes import ORDERS as NOISY
from .test_zh_refusals import ORDERS as SHORT, _amazon

ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,]+[A-Za-z][A-Za-z'’-]*){2,}")
# a token holding a digit, an underscore, a dot, a slash or an @ is a name, id, number or date
DATA_TOKEN = re.compile(r"\S*[\d_./@\\:=%]\S*")
ABBREVIATION = re.compile(r"\b[A-Z][A-Z0-9-]{1,}\b")  # ODR, VTR, FBA, MFN, AHR, JSON, US, A-to-z's A
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")  # column names and values are quoted as found


class _Visible(HTMLParser):
    """The text a reader sees: data, a few attributes shown on hover, and every string in the
    pages' scripts (plotly's titles, axes, legends, hover text, annotations)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.depth, self.script, self.buf = 0, False, []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.depth, self.script, self.buf = self.depth + 1, tag == "script", []
        self.texts += [v for k, v in attrs if k in ("title", "alt", "aria-label", "placeholder") and v]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.depth -= 1
            if self.script:
                for literal in re.findall(r'"(?:[^"\\]|\\.)*"', "".join(self.buf)):
                    try:
                        text = json.loads(literal)
                    except ValueError:
                        continue
                    self.texts.append(re.sub(r"<[^>]+>", " ", html.unescape(text)))

    def handle_data(self, data):
        (self.buf if self.depth else self.texts).append(data)


def data_strings(root: Path) -> list[str]:
    """Every cell and account.json value of the accounts: the user's own words, longest first."""
    found: set[str] = set()
    for path in root.rglob("*"):
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", errors="replace", newline="") as fh:
                for row in csv.reader(fh):
                    found.update(c.strip() for c in row if c.strip())
        elif path.name == "account.json":
            found.update(str(v) for v in json.loads(path.read_text(encoding="utf-8")).values())
    return sorted((s for s in found if re.search(r"[A-Za-z]{2}", s)), key=len, reverse=True)


def visible(page: str) -> list[str]:
    parser = _Visible()
    parser.feed(page)
    return parser.texts


def english_runs(page: str, data: list[str]) -> list[str]:
    runs = []
    for text in visible(page):
        text = html.unescape(text)
        for s in data:
            if s in text:
                text = text.replace(s, " | ")
        for pattern in (QUOTED, DATA_TOKEN, ABBREVIATION):
            text = pattern.sub(" | ", text)
        runs += [m.strip() for m in ENGLISH_RUN.findall(text)]
    return runs


def test_the_sweep_finds_english_and_leaves_data_alone():
    # Two English runs of ours; the category, the buyer's words, the column and the file are data.
    page = ("<html><title>weekly account report</title><style>.x { color: red }</style><p>超标 · Cell Phone "
            "Accessories · the box was crushed · 'latest_ship_date' noisy/orders.csv 2026-03-04 ODR (60d)</p>"
            "<script>Plotly.newPlot('a', [{\"name\": \"All orders\\u0020shown\"}])</script></html>")
    assert english_runs(page, ["Cell Phone Accessories", "the box was crushed"]) == [
        "weekly account report", "All orders shown"]


def _hostile(root: Path) -> None:
    # advisory: Germany judges Valid Tracking only against a recommended target
    write_account(root, "advisory-de", marketplace="DE", tz="Europe/Berlin", orders=_orders(), returns=RETURNS)
    # partial: two orders, so every window starts before the first; kept reports good and refused
    kept = write_account(root, "partial-kept", orders=SHORT) / "amazon-performance"
    kept.mkdir()
    example = ROOT / "tests" / "fixtures" / "accountHealthReport-2020-11-18-example.json"
    (kept / "2026-03-01.json").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    (kept / "2026-02-07.json").write_text(_amazon(rate="NaN"))
    (kept / "2026-02-14.json").write_text(_amazon(mid="A1F83G8C2ARO7P"))
    (kept / "2026-02-21.json").write_text(_amazon(start="today"))
    # loader warnings of every kind the notes test knows, and files it ignores
    write_account(root, "noisy", orders=NOISY,
                  claims="order_id,claim_date,status\nA1,2026-03-06,denied\nA2,2026-03-07,pending-xyz\n",
                  feedback="order_id,feedback_date,rating\nZ9,2026-03-06,1\n",
                  **{"stranger.csv": "foo,bar\n1,2\n", "notes.docx": "not a table\n"})


def _render(root: Path, out: Path, *extra: str) -> dict[str, str]:
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out", str(out),
                          "--lang", "zh", "--quiet", *extra], capture_output=True, text=True, timeout=900)
    assert res.returncode in (0, 1), res.stderr  # 1: a breach (some accounts have one)
    return {f"{root.name}/{p.name}": p.read_text(encoding="utf-8") for p in out.rglob("*.html")}


@pytest.fixture(scope="module")
def zh_pages(tmp_path_factory) -> tuple[dict[str, str], list[str]]:
    base = tmp_path_factory.mktemp("sweep")
    sample, hostile = base / "sample", base / "hostile"
    shutil.copytree(ROOT / "data" / "sample", sample)  # stale, breaches with their POA due, kept reports
    _hostile(hostile)
    # The hostile accounts on a day of their own data (one batch judges every account on one day).
    pages = {**_render(sample, base / "out-sample"), **_render(hostile, base / "out-hostile", "--as-of", "2026-03-31")}
    return pages, data_strings(sample) + data_strings(hostile)


@pytest.mark.slow
def test_every_zh_page_is_chinese(zh_pages):
    pages, data = zh_pages
    assert {f"sample/{n}.html" for n in ("index", "portfolio", "de-shenzhen-elec", "jp-tiny-shop", "uk-homechoice",
                                         "us-healthy-fba", "us-summit-outdoor")} <= set(pages)
    assert {f"hostile/{n}.html" for n in ("index", "portfolio", "advisory-de", "partial-kept", "noisy")} <= set(pages)
    # The hostile pages are what they are meant to be: an advisory value, a partial one, refused kept reports.
    assert "未达建议目标" in pages["hostile/advisory-de.html"]
    assert "数据不完整" in pages["hostile/partial-kept.html"]
    assert "已保存的亚马逊报告未采用" in pages["hostile/partial-kept.html"]
    left = {name: sorted(set(english_runs(page, data))) for name, page in sorted(pages.items())}
    assert {name: runs for name, runs in left.items() if runs} == {}
    # Words too short for a run are ours too: ODR's chart says its window and lag in Chinese (60 and
    # 14 days in the policy), and the page's <title> is Chinese.
    shown = visible(pages["sample/us-summit-outdoor.html"])
    assert any("(60 天,滞后 14 天)" in s for s in shown) and not any(", lag " in s for s in shown)
    assert "<title>perfkit 账户绩效周报</title>" in pages["sample/us-summit-outdoor.html"]
