"""End to end: `perfkit report` on the sample data, pages opened offline in headless Chromium.

One batch run (module fixture) covers the sample accounts plus a broken account and hostile
text planted in the inputs and the root-cause database.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from perfkit.poa.causes import CauseChoice, CauseStore

from .browser import open_pages
from .conftest import SAMPLE

pytestmark = pytest.mark.slow  # every test here runs the papermill batch

HOSTILE = "<script>alert(1)</script>"
AS_OF = "2026-11-15"


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    for name in ("jp-tiny-shop", "uk-homechoice", "us-summit-outdoor"):
        shutil.copytree(SAMPLE / name, root / name)
    # Hostile buyer text on a negative feedback of the tiny shop, whose ODR is in breach.
    fb = root / "jp-tiny-shop" / "feedback.csv"
    lines = fb.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    idx = header.index("comments")
    rating = header.index("rating")
    for i, line in enumerate(lines[1:], start=1):
        cells = line.split(",")
        if cells[rating] in ("1", "2") and cells[0]:
            cells[idx] = f'"{HOSTILE} & <b>bold</b>"'
            lines[i] = ",".join(cells)
    fb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # A broken account: an unknown channel value.
    broken = root / "zz-broken"
    broken.mkdir()
    (broken / "orders.csv").write_text("order_id,purchase_date,fulfillment_channel,order_status\n"
                                       "A1,2026-11-01,Mars,Shipped\n", encoding="utf-8")
    db = tmp_path_factory.mktemp("db") / "causes.sqlite"
    CauseStore(db).save(CauseChoice("jp-tiny-shop", "odr", "other", dt.date(2026, 9, 1), dt.date(2026, 10, 31),
                                    segment="MFN", free_text=f"carrier {HOSTILE}", note=f"note {HOSTILE}",
                                    orders=["<img src=x onerror=alert(2)>"], author="qa"))
    out = tmp_path_factory.mktemp("reports")
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out", str(out), "--jobs", "2",
                          "--as-of", AS_OF, "--causes-db", str(db), "--quiet"],
                         capture_output=True, text=True, timeout=900)
    return res, out / AS_OF


def test_batch_finishes_with_the_broken_account_listed(batch):
    res, folder = batch
    assert res.returncode == 2, res.stderr
    assert "zz-broken: FAILED: zz-broken/orders.csv, row 2, column 'fulfillment_channel': unknown value" in res.stderr
    for name in ("jp-tiny-shop", "uk-homechoice", "us-summit-outdoor"):
        assert (folder / f"{name}.html").is_file() and (folder / f"{name}.ipynb").is_file()
    assert not (folder / "zz-broken.html").exists()
    assert not list(folder.glob(".*tmp*")), "temporary files left behind"
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert "Failed: zz-broken/orders.csv, row 2, column &#39;fulfillment_channel&#39;: unknown value" in index
    assert 'href="us-summit-outdoor.html"' in index


def test_a_missing_value_is_an_empty_cell_never_pandas_marker(batch):
    # us-summit-outdoor's latest late shipment in the evidence table has no carrier: it showed "<NA>".
    _, folder = batch
    for name in ("jp-tiny-shop", "uk-homechoice", "us-summit-outdoor"):
        page = (folder / f"{name}.html").read_text(encoding="utf-8")
        cells = re.findall(r"<td>([^<]*)</td>", page)
        assert cells and not {"&lt;NA&gt;", "NaT", "nan", "None"} & set(cells), name


@pytest.mark.browser
def test_pages_render_offline_without_errors_or_code(batch):
    _, folder = batch
    pages = sorted(folder.glob("*.html"))
    assert len(pages) == 5  # three accounts, the index and the portfolio over the weeks (new in issue 24)
    checks = open_pages(pages)
    for path, c in checks.items():
        assert c.page_errors == [], (path.name, c.page_errors)
        assert c.blocked_requests == [], (path.name, c.blocked_requests)
        assert c.dialogs == [], (path.name, c.dialogs)
        assert c.plot_divs == c.main_svgs, path.name
        for forbidden in ("Traceback", "import ", "AccountReport", "display(", "Error:", "Warning:"):
            assert forbidden not in c.text, (path.name, forbidden)
        if path.name not in ("index.html", "portfolio.html"):  # the two tables of the whole portfolio
            assert c.plot_divs >= 6, path.name
    summit = checks[folder / "us-summit-outdoor.html"].text
    assert "needs action this week" in summit and "Valid Tracking Rate" in summit


@pytest.mark.browser
def test_hostile_text_is_shown_as_text(batch):
    _, folder = batch
    check = open_pages([folder / "jp-tiny-shop.html"])[folder / "jp-tiny-shop.html"]
    assert check.dialogs == []
    assert HOSTILE in check.text  # the buyer's words, visible as typed
    assert f"carrier {HOSTILE}" in check.text and f"note {HOSTILE}" in check.text
    assert "<img src=x onerror=alert(2)>" in check.text
    raw = (folder / "jp-tiny-shop.html").read_text(encoding="utf-8")
    assert HOSTILE not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "<b>bold</b>" not in raw


@pytest.mark.browser
def test_self_contained_page_stands_alone(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(SAMPLE / "jp-tiny-shop", root / "jp-tiny-shop")
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out", str(tmp_path / "out"),
                          "--as-of", AS_OF, "--self-contained", "--lang", "zh", "--quiet"],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    folder = tmp_path / "out" / f"{AS_OF}-zh"  # the Chinese pages beside the English ones, never over them
    assert not (tmp_path / "out" / AS_OF).exists()
    assert not (folder / "plotly.min.js").exists()
    page = folder / "jp-tiny-shop.html"
    moved = tmp_path / "elsewhere.html"  # e-mailed on its own
    shutil.copy(page, moved)
    c = open_pages([moved])[moved]
    assert c.page_errors == [] and c.blocked_requests == [] and c.plot_divs == c.main_svgs >= 6
    assert "订单缺陷率" in c.text and "账户健康概览" in c.text


def test_killed_run_leaves_a_whole_page(tmp_path):
    """Runs killed mid-way, and one killed just after it wrote its page: no page is ever half
    written, and the page on disk is the one the last killed run wrote (its own account name)."""
    root = tmp_path / "data"
    shutil.copytree(SAMPLE / "jp-tiny-shop", root / "jp-tiny-shop")
    meta_file = root / "jp-tiny-shop" / "account.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    page = tmp_path / "out" / AS_OF / "jp-tiny-shop.html"
    for run_no, delay in enumerate((2, 4, None)):  # None: kill as soon as this run's page is there
        meta_file.write_text(json.dumps({**meta, "name": f"Tiny Shop run {run_no}"}), encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out", str(tmp_path / "out"),
                                 "--as-of", AS_OF, "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        if delay is None:
            deadline = time.monotonic() + 300
            while not (page.is_file() and f"Tiny Shop run {run_no}" in page.read_text(encoding="utf-8")):
                assert time.monotonic() < deadline and proc.poll() is None, "the run ended before it was killed"
                time.sleep(0.05)
        else:
            time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if page.is_file():
            text = page.read_text(encoding="utf-8")
            assert text.rstrip().endswith("</html>")
            assert {int(n) for n in re.findall(r"Tiny Shop run (\d)", text)} <= set(range(run_no + 1))
    assert "Tiny Shop run 2" in page.read_text(encoding="utf-8")


def test_rerun_replaces_the_week_cleanly(batch, tmp_path):
    _, folder = batch
    (folder / ".uk-homechoice.999.tmp.ipynb").write_text("half a notebook")  # left by a killed run
    before = (folder / "uk-homechoice.html").stat().st_mtime_ns
    root = tmp_path / "data"
    shutil.copytree(SAMPLE / "uk-homechoice", root / "uk-homechoice")
    out = folder.parent
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out", str(out),
                          "--as-of", AS_OF, "--quiet"], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert (folder / "uk-homechoice.html").stat().st_mtime_ns > before
    assert not list(folder.glob(".*tmp*"))
    # The index still lists the week's other accounts (and the failure) next to the rerun one.
    index = (folder / "index.html").read_text(encoding="utf-8")
    for name in ("jp-tiny-shop", "uk-homechoice", "us-summit-outdoor"):
        assert f'href="{name}.html"' in index
    assert "zz-broken/orders.csv" in index


@pytest.mark.browser
def test_policy_breach_and_ahr_reach_the_page_and_the_index(batch):
    """The tiny shop has an open IP complaint and an appealed variation violation (its notices) and two
    kept Amazon reports (AHR 240 GOOD, then 180 AT_RISK): a policy breach, shown where decisions are made."""
    _, folder = batch
    checks = open_pages([folder / "index.html", folder / "jp-tiny-shop.html"])
    index = checks[folder / "index.html"].text
    assert "AHR" in index and "Policy compliance" in index
    raw = (folder / "index.html").read_text(encoding="utf-8")
    tiny = raw[raw.index('href="jp-tiny-shop.html"'):].split("</tr>", 1)[0]
    # Open notices / notices in the window, on the breach colour; the latest AHR on the at-risk colour.
    assert 'style="background: #c0392b" title="Breach · Open / Policy compliance">2 / 3<' in tiny
    assert 'style="background: #b7791f" title="Account Health Rating">180 AT_RISK<' in tiny
    page = checks[folder / "jp-tiny-shop.html"].text
    assert "Account health and policy compliance" in page
    assert "Account Health Rating: 180 (AT_RISK)" in page and "2026-10-09: 240 GOOD" in page
    assert "Received intellectual property complaints" in page and "Listing policy violations" in page


def test_zh_report_shows_the_missing_input_notes_in_chinese(tmp_path):
    from .conftest import write_account

    # One account with orders only: returns (among others) is missing. The zh page says so in
    # Chinese, in the words labels.INPUT_NOTES_ZH gives; the English page as check says it.
    root = tmp_path / "data"
    write_account(root, "tiny", orders="order_id,purchase_date,fulfillment_channel,order_status\n"
                                       "A1,2026-03-01T10:00:00,MFN,Shipped\nA2,2026-03-02T10:00:00,MFN,Shipped\n")
    pages = {}
    for lang in ("en", "zh"):
        res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out",
                              str(tmp_path / "out"), "--lang", lang, "--quiet"], capture_output=True, text=True,
                             timeout=600)
        assert res.returncode == 0, res.stderr
        week = "2026-03-01" + ("-zh" if lang == "zh" else "")  # the folder of the week holding 2 March
        pages[lang] = (tmp_path / "out" / week / "tiny.html").read_text(encoding="utf-8")
    assert "缺少输入 returns:退货不满意率没有数据;退货率没有数据" in pages["zh"]
    assert "missing input" not in pages["zh"] and "Return Dissatisfaction Rate has no data" not in pages["zh"]
    assert "missing input returns: Return Dissatisfaction Rate has no data; the return rate has no data" in pages["en"]


def test_every_missing_input_note_has_chinese():
    from perfkit.engine import registry
    from perfkit.views.labels import INPUT_NOTES_ZH

    assert [n for n in registry.declared_notes() if n not in INPUT_NOTES_ZH] == []
