"""The explorer's browser timings: JupyterLab (`make lab`) in Debian's Chromium on a 1 M-order
account, with the all-charts panel open, each figure beside a peer.

    make bench-browser                       # not part of `make bench` (needs Chromium; ~3 min)
    python benchmarks/browser.py --runs 3

Each timing runs from the browser action (a click, a choice, a date typed) until the kernel is
idle for good (its busy/idle messages, read from its websocket) and every panel figure on screen
has drawn the new figure (the figures' data-visible and data-revision); the median of
``--runs`` runs is printed beside the spread, with the kernel's and the drawing's parts apart.

Peer: Seller Central's own page cannot be measured here, so the peer is a plain plotly figure
of the same series: a cell that shows each of the panel's charts as ``go.Figure(...).show()``
(the same figure specs, the same account's series already computed), timed the same way.

Account switches and date changes are on data already loaded (the first load of an account is
`run.py`'s "first open"); the 1 M-order account is made by `perfkit sample` under
benchmarks/_data/, like run.py's explore part.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import explore_root  # noqa: E402 - benchmarks/ is a folder of scripts, not a package

PEER_CELL = """\
# Peer (benchmark only): the panel's charts as plain plotly figures of the same series
import plotly.graph_objects as go
from perfkit.analysis.reconcile import official_points
from perfkit.engine import registry
from perfkit.views.charts import rate_chart_spec
present = set(ex.state.series()["metric"])
for m in [m for m in registry.chart_metrics(ex.policy) if m in present]:
    go.Figure(rate_chart_spec(ex.state.series(), m, ex.policy, ex.state.lang,
                              official=official_points(ex.state.ctx()), height=260)).show()
"""

# Installed before the page loads: the kernel's busy and idle messages, as they arrive on its
# websocket. (JupyterLab's status bar is a React view that may batch a quick Busy-then-Idle into
# one render, so a fast change could leave no Busy to see there.)
WATCH = """(() => {
  window.__kernel = {busy: [], idle: []};
  const text = new TextDecoder();
  const Base = window.WebSocket;
  window.WebSocket = class extends Base {
    constructor(...args) {
      super(...args);
      if (!String(args[0]).includes('/api/kernels/')) return;
      this.addEventListener('message', e => {
        const raw = typeof e.data === 'string' ? e.data : e.data instanceof ArrayBuffer ? text.decode(e.data) : '';
        const m = /"execution_state"\\s*:\\s*"(busy|idle)"/.exec(raw);
        if (m) window.__kernel[m[1]].push(performance.now());
      });
    }
  };
})()"""

SETTLED = """([t0, selector, count, needle, rev0]) => {
  // The time from t0 until the kernel went idle for good (no status change for 400 ms) with the
  // charts drawn (and ``needle`` in the panel's text); else null. Under ``selector``: ``count``
  // plain plotly charts (the peer); or, for the panel (count 0), every panel figure on screen
  // redrawn since the mark (its data-revision above ``rev0``): the panel draws only what is seen.
  const k = window.__kernel, now = performance.now();
  const busy = k.busy.filter(t => t >= t0), idle = k.idle.filter(t => t >= t0);
  let drawn;
  if (count > 0) {
    // Only plots made since the mark: the previous run's stay on screen until the new output comes.
    const plots = [...document.querySelectorAll(selector + ' .js-plotly-plot')].filter(p => !p.dataset.old);
    drawn = plots.length >= count && plots.every(p => p.querySelector('.scatterlayer .trace'));
  } else {
    // The figures the panel itself counts as on screen (data-visible, see explore/panel.py).
    const seen = [...document.querySelectorAll(selector + ' .perfkit-panel-figure')].filter(
      e => e.offsetParent && e.dataset.visible === '1');
    drawn = seen.length > 0 && seen.every(e => Number(e.dataset.revision || 0) > rev0
                                            && e.querySelector('.scatterlayer .trace'));
  }
  drawn = drawn && (!needle || document.querySelector('.perfkit-charts-panel').innerText.includes(needle));
  if (!drawn) { window.__drawn = null; return null; }
  if (window.__drawn == null) window.__drawn = now;
  if (!busy.length || !idle.length || Math.max(...idle) < Math.max(...busy)) return null;
  if (now - Math.max(...busy, ...idle) < 400) return null;
  const kernel = idle[idle.length - 1] - t0, drawn_at = window.__drawn - t0;
  return {total: Math.max(kernel, drawn_at), kernel, drawn: drawn_at};
}"""


WHY = """([selector, needle, rev0]) => {
  // What the page shows when a timing did not settle: each panel figure and the kernel's status.
  const panel = document.querySelector('.perfkit-charts-panel');
  const k = window.__kernel;
  return {rev0, status: document.querySelector('#jp-main-statusbar')?.innerText.replace(/\\s+/g, ' '),
          busy: k.busy.slice(-3), idle: k.idle.slice(-3), t0: window.__t0,
          needle: !needle || !!panel?.innerText.includes(needle),
          figures: [...document.querySelectorAll(selector + ' .perfkit-panel-figure')].map(e => {
            const r = e.getBoundingClientRect();
            return {rev: e.dataset.revision, visible: e.dataset.visible, shown: !!e.offsetParent, top: Math.round(r.top),
                    bottom: Math.round(r.bottom), trace: !!e.querySelector('.scatterlayer .trace')}; })};
}"""


class Timing(NamedTuple):
    """Seconds from the browser action until both had happened (total), until the kernel went
    idle for the last time (kernel), and until the charts were drawn (drawn): where the time goes."""
    total: float
    kernel: float
    drawn: float


def settle(page, selector: str, count: int = 0, needle: str = "", timeout: int = 120000) -> Timing:
    """The time from the last :func:`mark` until the kernel is idle and the charts are drawn
    (``count`` 0: the panel's figures on screen). After ``timeout`` ms it fails, saying what the
    page showed (a timing that never settles is a failure, never a hang)."""
    t0, rev0 = page.evaluate("[window.__t0, window.__rev0]")
    try:
        got = page.wait_for_function(SETTLED, arg=[t0, selector, count, needle, rev0], timeout=timeout,
                                     polling=50).json_value()
    except Exception as exc:  # noqa: BLE001 - playwright's TimeoutError: say what was on the page
        seen = page.evaluate(WHY, [selector, needle, rev0])
        raise SystemExit(f"browser benchmark: not settled after {timeout / 1000:g} s under {selector!r} "
                         f"(needle {needle!r}): {json.dumps(seen)}") from exc
    return Timing(got["total"] / 1000, got["kernel"] / 1000, got["drawn"] / 1000)


def mark(page) -> None:
    page.evaluate("window.__t0 = performance.now(); window.__drawn = null; window.__rev0 = Math.max(0, ..."
                  "[...document.querySelectorAll('.perfkit-panel-figure')].map(e => Number(e.dataset.revision || 0)))")


def working_copy_with_peer(work: Path) -> None:
    """The explorer's working copy with the peer's cell at the end."""
    path = work / "explore.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": PEER_CELL.splitlines(keepends=True)})
    path.write_text(json.dumps(nb), encoding="utf-8")


PEER = ".jp-Cell[data-bench-peer]"
SCROLL_DOWN = """() => {
  // Scroll the notebook to its end (a cell far below the screen may not be in the page yet).
  for (let e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell'); e; e = e.parentElement)
    if (e.scrollHeight > e.clientHeight + 1) e.scrollTop = e.scrollHeight;
}"""


def peer_cell(page):
    """The peer's cell, found by its text (the last cell of the page may be another while the
    notebook is long), marked ``data-bench-peer`` for :data:`PEER`."""
    page.evaluate(SCROLL_DOWN)
    cell = page.locator(".jp-Notebook .jp-Cell", has_text=PEER_CELL.splitlines()[0]).last
    cell.wait_for(state="attached", timeout=60000)
    cell.scroll_into_view_if_needed()
    cell.evaluate("e => { e.dataset.benchPeer = '1'; }")
    return cell


def run_peer(page) -> Timing:
    """Run the peer's cell and time it the same way, until its new plots are drawn."""
    cell = peer_cell(page)
    cell.locator(".jp-InputPrompt").first.click()   # selects the cell (command mode), no editing
    page.wait_for_function(f"() => document.querySelector('{PEER}').classList.contains('jp-mod-active')",
                           timeout=10000)
    page.evaluate(f"document.querySelectorAll('{PEER} .js-plotly-plot').forEach(p => {{ p.dataset.old = '1'; }})")
    mark(page)
    page.keyboard.press("Control+Enter")
    return settle(page, PEER, page.evaluate("window.__n"))


def to_panel(page) -> None:
    """Scroll back to the panel (a picker at the top was used): the figures seen are timed."""
    page.locator(".perfkit-charts-panel .jupyter-widget-Collapse-header").first.evaluate(
        "e => e.scrollIntoView({block: 'start'})")


def choose_account(page, account_id: str) -> None:
    """Choose the account whose label ends with its id (the generated accounts share a name)."""
    labels = page.eval_on_selector(".perfkit-account select", "s => [...s.options].map(o => o.textContent)")
    page.select_option(".perfkit-account select", label=next(x for x in labels if x.endswith(f"({account_id})")))
    to_panel(page)


def measure(runs: int) -> tuple[dict[str, list[Timing]], int]:
    from tests.servers import browser_page, serve
    from tests.test_explorer_browser import run_all

    root = explore_root()
    big, small = sorted(p.name for p in root.iterdir() if p.is_dir())
    out: dict[str, list[Timing]] = {k: [] for k in ("open", "reopen", "switch", "date", "peer")}
    with tempfile.TemporaryDirectory() as tmp, serve("lab", Path(tmp), root) as server, \
            browser_page(Path(tmp) / "shots") as s:
        page = s.page
        working_copy_with_peer(server.work)
        page.add_init_script(WATCH)
        page.goto(server.url)
        page.wait_for_selector("#jp-main-statusbar", timeout=120000)
        mark(page)
        run_all(s)
        page.wait_for_selector(".perfkit-chart .js-plotly-plot", state="attached", timeout=600000)
        peer_cell(page)
        settle(page, PEER, 1, timeout=600000)  # every cell ran (the peer's, the last, too)
        n = page.locator(f"{PEER} .js-plotly-plot").count()
        page.evaluate(f"window.__n = {n}")
        panel = ".perfkit-charts-panel"
        header = page.locator(f"{panel} .jupyter-widget-Collapse-header").first
        header.evaluate("e => e.scrollIntoView({block: 'start'})")  # the panel fills the screen once open
        mark(page)
        header.click()                                          # first opening: the figures are made
        out["open"].append(settle(page, panel))
        # Account switches with the panel open (each account loaded once before: warm data).
        for target in (small, big):  # each account loaded once: the switches below are on warm data
            mark(page)
            choose_account(page, target)
            settle(page, panel, 0, target)
        for _ in range(runs):
            for target in (small, big):
                mark(page)
                choose_account(page, target)
                out["switch"].append(settle(page, panel, 0, target))
        # Date changes with the panel open, on the 1 M-order account.
        first = page.locator(".perfkit-start input").input_value()
        later = str(dt.date.fromisoformat(first) + dt.timedelta(days=60))
        for _ in range(runs):
            for value in (later, first):
                mark(page)
                page.locator(".perfkit-start input").fill(value)
                page.locator(".perfkit-start input").dispatch_event("change")
                to_panel(page)
                out["date"].append(settle(page, panel))
        # Folding and opening again (the figures exist: updated in place).
        for _ in range(runs):
            header.click()
            page.wait_for_timeout(500)
            mark(page)
            header.click()
            out["reopen"].append(settle(page, panel))
        for _ in range(runs):
            out["peer"].append(run_peer(page))
        s.shot("end")
    return out, n


def line(label: str, values: list[Timing], peer: float, target: float | None) -> str:
    total = [v.total for v in values]
    med = statistics.median(total)
    goal = (f"target < {target:g} s: {'met' if med < target else 'NOT MET'}") if target else ""
    return (f"  {label:<34}: {med:5.2f} s median of {len(total)} ({min(total):.2f}-{max(total):.2f})"
            f"  kernel idle {statistics.median(v.kernel for v in values):5.2f} s"
            f"  drawn {statistics.median(v.drawn for v in values):5.2f} s"
            f"  peer {peer:5.2f} s  ratio {med / peer:4.2f}x  {goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    r, n = measure(args.runs)
    peers = [v.total for v in r["peer"]]
    peer = statistics.median(peers)
    print(f"explorer in Chromium (JupyterLab), 1 M-order account, all-charts panel open ({n} charts)")
    print(line("open the panel (first time)", r["open"], peer, 3))
    print(line("open the panel again", r["reopen"], peer, 3))
    print(line("switch account, panel open", r["switch"], peer, 1))
    print(line("change the From date, panel open", r["date"], peer, 2))
    print(f"  peer: the same {n} charts as plain go.Figure(...).show(), median of {len(peers)} runs: "
          f"{peer:.2f} s ({min(peers):.2f}-{max(peers):.2f})")


if __name__ == "__main__":
    main()
