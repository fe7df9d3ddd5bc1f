"""The explorer as an analyst uses it: ``make lab`` (and ``make app``) on a free port, Debian's
Chromium driven by Playwright, Run All, then: switch the account, click a chart point, record a
cause for two orders, read the POA, switch the language. A screenshot of each step is kept in the
test's temporary folder; any JavaScript error, traceback or explorer error line fails the test.
"""
from __future__ import annotations

import hashlib
import json
import subprocess

import pandas as pd
import pytest

from perfkit.poa.causes import CauseStore, cause_label
from perfkit.explore.saving import REOPEN
from perfkit.engine.context import AccountContext
from perfkit.engine.dates import first_data_day
from perfkit.analysis.drilldown import window_units
from perfkit.views.labels import t
from perfkit.engine.metrics import account_series
from perfkit.engine.registry import load_policy

from .conftest import ROOT, SAMPLE, orders_csv, write_account
from .servers import browser_page, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST, SECOND = "de-shenzhen-elec", "us-summit-outdoor"   # the explorer opens on the first good folder
METRIC, SEGMENT = "valid_tracking_rate", "MFN"
BROKEN = "aa-broken"   # sorts before every sample account and cannot be loaded


def data_root(tmp_path):
    """The sample accounts (linked) and, sorting first, a folder with an impossible purchase date."""
    root = tmp_path / "data"
    root.mkdir()
    for folder in sorted(p for p in SAMPLE.iterdir() if p.is_dir()):
        (root / folder.name).symlink_to(folder, target_is_directory=True)
    write_account(root, BROKEN, orders=orders_csv(["B1,2026-02-30T10:00:00,MFN,Shipped"]))
    return root


def refused_first(session) -> None:
    """The broken folder is one line saying why; the explorer opened on the first good account."""
    wait_text(session, ".perfkit-refused", f"{BROKEN}: not opened")
    line = session.page.locator(".perfkit-refused").inner_text()
    assert "orders.csv, row 2" in line and "Traceback" not in line and len(line.strip().splitlines()) == 1
    wait_text(session, ".perfkit-status", f"({FIRST})")


GLYPHS = """([selector, chars]) => {
  // Each character drawn in the element's own font on a canvas: characters with a glyph give
  // distinct pictures; missing ones all give the same box (that of a private-use character).
  const family = getComputedStyle(document.querySelector(selector)).fontFamily;
  const c = document.createElement('canvas'); c.width = c.height = 48;
  const g = c.getContext('2d');
  const picture = ch => { g.clearRect(0, 0, 48, 48); g.font = `32px ${family}`; g.fillStyle = '#000';
                          g.fillText(ch, 4, 38); return g.getImageData(0, 0, 48, 48).data.join(''); };
  const box = picture('\uE000');
  const pictures = [...chars].map(picture);
  return {distinct: new Set(pictures).size, boxes: pictures.filter(p => p === box).length,
          blank: pictures.filter(p => !/[1-9]/.test(p)).length};
}"""


def chinese_renders(session, selector: str, text: str) -> None:
    """The Chinese ``text`` in ``selector`` is drawn as characters, not as boxes."""
    chars = "".join(dict.fromkeys(ch for ch in text if "\u4e00" <= ch <= "\u9fff"))
    got = session.page.evaluate(GLYPHS, [selector, chars])
    assert got == {"distinct": len(chars), "boxes": 0, "blank": 0}, (chars, got)
    # The check can fail: private-use characters have no glyph in any font and come out as one box.
    assert session.page.evaluate(GLYPHS, [selector, "\ue001\ue002"])["distinct"] == 1


def name_of(account_id: str) -> str:
    return json.loads((SAMPLE / account_id / "account.json").read_text(encoding="utf-8"))["name"]


def git_state() -> tuple[str, str]:
    """What git sees of the checkout: status lines and a digest of the tracked changes."""
    status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    diff = subprocess.run(["git", "diff", "HEAD"], cwd=ROOT, capture_output=True).stdout
    return status, hashlib.sha256(diff).hexdigest()


def worst_day() -> tuple[str, int, int]:
    """The second account's worst whole-window day of Valid Tracking (Seller-fulfilled), from the
    engine directly: (day, defective, units)."""
    ctx = AccountContext.of(SAMPLE / SECOND, load_policy())
    s = account_series(ctx, start=first_data_day(ctx.account), end=ctx.last_day, metrics=[METRIC])
    # a click must move the drill-down off its default day (the last order day), so the worst day before it
    s = s[(s["segment"] == SEGMENT) & (s["coverage"] >= 1) & (s["denominator"] > 0)
          & (s["as_of"] != ctx.last_day.date())]
    row = s.loc[s["rate"].idxmin()]
    return str(row["as_of"]), int(row["denominator"] - row["numerator"]), int(row["denominator"])


# --- what the page shows -----------------------------------------------------------------------

PAGE_TEXT = """() => {
  // Everything the explorer shows except the account picker's own list of accounts: text, the
  // values in text boxes and the labels of list boxes, hidden tabs included.
  const root = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook') || document.body;
  const clone = root.cloneNode(true);
  clone.querySelectorAll('.perfkit-account select').forEach(e => e.remove());
  const values = [...root.querySelectorAll('textarea, input')].map(e => e.value);
  return clone.textContent + '\\n' + values.join('\\n');
}"""

POINT = """([day, segment]) => {
  // Where the point of ``segment``'s line on ``day`` is drawn, in page pixels.
  const gd = document.querySelector('.perfkit-chart .js-plotly-plot');
  gd.scrollIntoView({block: 'center'});
  const trace = gd.data.find(d => d.legendgroup === segment);
  const i = trace.x.indexOf(day);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.d2p(day), y: box.top + ya._offset + ya.d2p(trace.y[i]), y_value: trace.y[i]};
}"""


def text(session) -> str:
    return session.page.evaluate(PAGE_TEXT)


def wait_text(session, selector: str, needle: str, timeout: int = 60000) -> None:
    """Wait until every element matching ``selector`` contains ``needle``."""
    try:
        session.page.wait_for_function(
            """([sel, needle]) => { const els = [...document.querySelectorAll(sel)];
                 return els.length > 0 && els.every(e => e.textContent.includes(needle)
                                                        || [...e.querySelectorAll('textarea')].some(a => a.value.includes(needle))); }""",
            arg=[selector, needle], timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - say what was there instead
        found = session.page.eval_on_selector_all(selector, "els => els.map(e => e.textContent.slice(0, 300))")
        pytest.fail(f"{selector} never showed {needle!r}; it shows {found}: {exc}")


def select(session, selector: str, starts_with: str | list[str]) -> None:
    """Choose, in the list box ``selector``, the options whose label starts with the given text(s)."""
    wanted = [starts_with] if isinstance(starts_with, str) else starts_with
    labels = session.page.eval_on_selector(selector, "s => [...s.options].map(o => o.textContent)")
    # ipywidgets writes the labels' spaces as no-break spaces
    chosen = [label for w in wanted for label in labels if label.replace("\xa0", " ").startswith(w)]
    assert len(chosen) == len(wanted), (wanted, labels[:10])
    session.page.select_option(selector, label=chosen)


def tab(session, title: str) -> None:
    session.page.locator(".perfkit-tabs .lm-TabBar-tab", has_text=title).first.click()
    session.page.wait_for_timeout(300)


def no_failures(session) -> None:
    page = session.page
    outputs = "\n".join(page.locator(".jp-OutputArea-output").all_text_contents())
    assert "Traceback" not in outputs
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_text_contents() == []
    assert [e for e in page.locator(".perfkit-error").all_text_contents() if e.strip()] == []
    # Every console error fails, plotly's "Error setting state" included (a figure updated in a removed view).
    assert session.errors == [], "\n".join(session.errors)
    assert session.blocked == [], "\n".join(session.blocked)


def open_every_chart(session) -> None:
    """Open the fold under the widget that draws every rate (it is folded at first). A figure is
    drawn while on screen: the first is waited for, then the last once scrolled to."""
    page = session.page
    page.locator(".perfkit-charts-panel .jupyter-widget-Collapse-header").first.click()
    figures = ".perfkit-charts-panel .perfkit-panel-figure"
    page.wait_for_function(f"() => document.querySelectorAll('{figures}').length >= 5", timeout=120000)
    page.locator(figures).first.scroll_into_view_if_needed()
    # The figure says it is on screen (data-visible) and which figure it drew (data-revision, set
    # once Plotly.react is done): the signal the browser benchmark waits for.
    drawn = "e => e.dataset.visible === '1' && Number(e.dataset.revision) > 0 && e.querySelector('.js-plotly-plot .scatterlayer .trace')"
    page.wait_for_function(f"() => [...document.querySelectorAll('{figures}')].some({drawn})", timeout=60000)
    last = page.locator(f"{figures}:not([style*='display: none'])").last
    last.scroll_into_view_if_needed()
    page.wait_for_function(f"() => ({drawn})([...document.querySelectorAll('{figures}')].filter(e => e.offsetParent).pop())",
                           timeout=60000)
    # ... and a figure scrolled away says it is not on screen (it is not redrawn there).
    page.wait_for_function(f"() => document.querySelector('{figures}').dataset.visible === '0'", timeout=10000)


def click_point(session, day: str) -> None:
    where = session.page.evaluate(POINT, [day, SEGMENT])
    assert where["y_value"] is not None
    session.page.mouse.move(where["x"], where["y"])
    session.page.wait_for_timeout(400)  # plotly picks the hovered point, then the click names it
    session.page.mouse.click(where["x"], where["y"])


def run_all(session) -> None:
    """Run > Run All Cells, once the kernel is idle (a click before that is lost: try again)."""
    page = session.page
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120000)
    page.wait_for_function("() => document.body.innerText.includes('| Idle')", timeout=120000)
    for _ in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator("li[data-command='runmenu:run-all']").click()
        try:
            page.wait_for_function("() => [...document.querySelectorAll('.jp-InputArea-prompt')]"
                                   ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))", timeout=20000)
            return
        except Exception:  # noqa: BLE001 - the click came too early; the loop tries again
            page.keyboard.press("Escape")
    pytest.fail("Run All Cells never started a cell")


# --- the analyst's session in JupyterLab --------------------------------------------------------


def test_analyst_session_in_jupyterlab(tmp_path):
    before = git_state()
    day, bad, units = worst_day()
    # Two specific defective orders of that day's window (the 3rd and 7th newest).
    w = window_units(SAMPLE / SECOND, METRIC, day, SEGMENT, defective_only=True)
    ids = w.sort_values("anchor_date", ascending=False, kind="stable")["order_id"].astype(str).tolist()
    assert len(ids) == bad
    two = [ids[2], ids[6]]
    with serve("lab", tmp_path, data_root(tmp_path)) as server, browser_page(tmp_path / "shots") as s:
        page = s.page
        page.goto(server.url)
        run_all(s)
        page.wait_for_selector(".perfkit-chart .js-plotly-plot", state="attached", timeout=180000)
        refused_first(s)
        open_every_chart(s)
        s.shot("ran-all")
        no_failures(s)

        # 1. Switch the account: no tab, no output still names the first account.
        select(s, ".perfkit-account select", name_of(SECOND))
        for sel in (".perfkit-status", ".perfkit-charts-panel", ".perfkit-chart", ".perfkit-drill-title",
                    ".perfkit-causes-title", ".perfkit-poa-title"):
            wait_text(s, sel, SECOND)
        shown = text(s)
        assert FIRST not in shown and name_of(FIRST) not in shown
        # Each tab, once opened, shows the second account's figures (a hidden tab draws when shown).
        for title, sel, needle in (("Drill-down", ".perfkit-drill-counter", "showing"),
                                   ("Root causes", ".perfkit-cause-metric", "·"),
                                   ("Plan of Action", ".perfkit-poa-text", name_of(SECOND)), ("Charts", None, None)):
            tab(s, title)
            if sel:
                wait_text(s, sel, needle)
            s.shot(f"switched-{title}")
        shown = text(s)
        assert FIRST not in shown and name_of(FIRST) not in shown

        # 2. Pick the metric, then a day by clicking its point: the drill-down opens on it.
        select(s, ".perfkit-chart select", "Valid Tracking Rate")
        page.wait_for_function("() => document.querySelector('.perfkit-chart .js-plotly-plot .gtitle')"
                               "?.textContent.includes('Valid Tracking')", timeout=60000)
        s.shot("chart")
        click_point(s, day)
        wait_text(s, ".perfkit-drill-title", day)
        s.shot("clicked")
        wait_text(s, ".perfkit-tabs .lm-TabBar-tab.lm-mod-current", "Drill-down", timeout=10000)
        drill = page.locator(".perfkit-drill-title").inner_text()
        assert "Valid Tracking Rate" in drill and "Seller-fulfilled" in drill and f"{bad} defective of {units}" in drill
        assert page.locator(".perfkit-drill-day input").input_value() == day
        assert page.locator(".perfkit-drill-counter").inner_text() == f"showing 1–{min(50, bad)} of {bad} defective"
        table = page.locator(".perfkit-drill-table").inner_text()
        assert "Order" in table and "Counted on" in table and "No valid tracking" in table
        assert "<NA>" not in table and "anchor_date" not in table and "invalid_tracking" not in table
        with page.expect_download() as got:
            page.locator(".perfkit-drill-csv a").click()
        csv = pd.read_csv(got.value.path(), encoding="utf-8-sig", dtype=str)
        assert sorted(csv["Order"]) == sorted(ids)
        if bad > 50:
            page.locator("button.perfkit-drill-next").click()
            wait_text(s, ".perfkit-drill-counter", f"showing 51–{min(100, bad)} of {bad}")

        # 3. Root causes: nothing preselected; select all works; a cause for two specific orders.
        tab(s, "Root causes")
        select(s, ".perfkit-cause-metric select", "Valid Tracking Rate · Seller-fulfilled")
        orders = ".perfkit-cause-orders select"
        page.wait_for_function(f"() => document.querySelector('{orders}').options.length === {bad}", timeout=30000)
        assert page.eval_on_selector(orders, "s => s.selectedOptions.length") == 0
        page.locator("button.perfkit-select-all").click()
        page.wait_for_function(f"() => document.querySelector('{orders}').selectedOptions.length === {bad}")
        cause = cause_label(METRIC, "carrier_no_tracking")
        select(s, ".perfkit-cause-list select", cause)
        select(s, orders, two)
        page.locator(".perfkit-author input").fill("Analyst in a test")
        page.wait_for_timeout(300)
        page.locator("button.perfkit-cause-save").click()
        wait_text(s, ".perfkit-cause-message", "saved 1 cause(s) for 2 order(s)")
        s.shot("cause-saved")
        store = CauseStore(tmp_path / "causes.sqlite")
        saved = store.current(SECOND, METRIC)
        assert [(r.segment, r.cause, sorted(r.orders), r.author) for r in saved.itertuples()] == [
            (SEGMENT, "carrier_no_tracking", sorted(two), "Analyst in a test")]
        assert len(store.current(FIRST)) == 0

        # 4. The POA redrafts at once from that cause, names the two orders; saved under its own metric.
        tab(s, "Plan of Action")
        select(s, ".perfkit-poa-metric select", "Valid Tracking Rate")
        wait_text(s, ".perfkit-poa-text", two[0])
        poa = page.locator(".perfkit-poa-text textarea").input_value()
        assert two[1] in poa and cause in poa and name_of(SECOND) in poa and name_of(FIRST) not in poa
        assert "no root cause has been recorded" not in poa
        page.locator("button.perfkit-poa-save").click()
        wait_text(s, ".perfkit-poa-message", "saved")
        s.shot("poa")
        saved_poa = tmp_path / "reports" / "poa" / f"{SECOND}-{METRIC}-{day}.md"
        assert saved_poa.read_text(encoding="utf-8") == poa

        # 5. Switch the language: tabs, status, drill-down and causes follow.
        page.locator(".perfkit-lang button", has_text="中文").click()
        wait_text(s, ".perfkit-tabs .lm-TabBar", "图表")
        wait_text(s, ".perfkit-status", "有效追踪率")
        tab(s, "订单明细")
        wait_text(s, ".perfkit-drill-table", "订单号")
        assert t("why", "zh") in page.locator(".perfkit-status").first.text_content()
        chinese_renders(s, ".perfkit-status", page.locator(".perfkit-status").first.text_content())
        chinese_renders(s, ".perfkit-drill-table", page.locator(".perfkit-drill-table").inner_text())
        s.shot("chinese")

        # 6. Save the notebook: only the working copy changes, never a tracked file.
        page.locator(".jp-Notebook").first.click()
        page.keyboard.press("Control+s")
        page.wait_for_timeout(1500)
        no_failures(s)
        work = json.loads((server.work / "explore.ipynb").read_text(encoding="utf-8"))
        assert any(c.get("outputs") for c in work["cells"])  # the outputs are kept, in the copy
        # ... except the widgets' (they would say "model not found" when the copy is opened again):
        # each is a line saying how to open the explorer again.
        data = [o.get("data", {}) for c in work["cells"] for o in c.get("outputs", [])]
        assert not any("application/vnd.jupyter.widget-view+json" in d for d in data)
        # (nbformat writes text as a list of lines)
        assert sum("".join(d.get("text/plain", "")) == REOPEN for d in data) == 3  # widget, status, charts panel
        assert git_state() == before


def test_voila_serves_the_explorer_without_code(tmp_path):
    before = git_state()
    day, bad, units = worst_day()
    with serve("app", tmp_path, data_root(tmp_path)) as server, browser_page(tmp_path / "shots") as s:
        page = s.page
        page.goto(server.url)
        page.wait_for_selector(".perfkit-chart .js-plotly-plot", state="attached", timeout=180000)
        refused_first(s)
        open_every_chart(s)
        s.shot("opened")
        body = page.inner_text("body")
        # No code for management: no editor, no source line.
        assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
        assert "ex = Explorer(" not in body and "ex.widget()" not in body
        select(s, ".perfkit-account select", name_of(SECOND))
        for sel in (".perfkit-status", ".perfkit-charts-panel", ".perfkit-drill-title", ".perfkit-poa-title"):
            wait_text(s, sel, SECOND)
        assert FIRST not in text(s)
        select(s, ".perfkit-chart select", "Valid Tracking Rate")
        page.wait_for_function("() => document.querySelector('.perfkit-chart .js-plotly-plot .gtitle')"
                               "?.textContent.includes('Valid Tracking')", timeout=60000)
        click_point(s, day)
        wait_text(s, ".perfkit-drill-title", f"{bad} defective of {units}")
        s.shot("clicked")
        page.locator(".perfkit-lang button", has_text="中文").click()
        wait_text(s, ".perfkit-status", "有效追踪率")
        chinese_renders(s, ".perfkit-status", page.locator(".perfkit-status").first.text_content())
        s.shot("chinese")
        assert "Traceback" not in page.inner_text("body")
        no_failures(s)
    assert git_state() == before
