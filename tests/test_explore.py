"""The explorer's widget logic without a browser, the cause store, the POA draft, the notebooks."""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import multiprocessing
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from perfkit.poa.causes import CauseChoice, CauseStore
from perfkit.core.errors import PerfkitError
from perfkit.explore.widget import Explorer
from perfkit.engine.context import AccountContext
from perfkit.analysis.drilldown import window_units
from perfkit.loading.loader import load_account
from perfkit.poa.draft import draft_poa

from .conftest import ROOT, SAMPLE


@pytest.fixture
def explorer(tmp_path):
    ex = Explorer(SAMPLE, "us-summit-outdoor", causes_db=tmp_path / "c.sqlite", poa_dir=tmp_path / "poa")
    ex.widget()
    return ex


def defective_ids(account: str, metric: str, day, segment: str) -> list[str]:
    """The defective orders of a window, from the drill-down module directly (not the explorer)."""
    w = window_units(SAMPLE / account, metric, day, segment, defective_only=True)
    return w["order_id"].astype(str).tolist()


def test_an_account_switch_reaches_every_view_once_and_nothing_keeps_the_first(explorer):
    st = explorer.state
    calls = []
    st.on_change(lambda names: calls.append(names), {"account", "start", "end", "day", "lang", "metric", "segment",
                                                      "poa_metric", "causes_version"})
    explorer.account.value = "uk-homechoice"
    # One notification for the switch (both accounts' data end on 15 November: the dates stay).
    assert calls == [{"account"}]
    assert (st.end, st.day) == (dt.date(2026, 11, 15), dt.date(2026, 11, 15))
    assert explorer.start.value == st.start and explorer.end.value == st.end
    views = [explorer.view(v) for v in ("chart", "drill", "causes", "poa")]
    # Hidden tabs are cleared at once (their headings name the new account) and draw when shown.
    assert (views[1].table.outputs, views[2].orders.options, views[3].text.value) == ((), (), "")
    for i in (1, 2, 3):
        explorer.tabs.selected_index = i
    shown = " ".join([explorer.status_html(), views[0].hint.value, views[1].title.value, views[2].title.value,
                      views[3].title.value, views[3].text.value, views[1].table.outputs[0]["data"]["text/html"]])
    assert "uk-homechoice" in shown and "us-summit-outdoor" not in shown and "Summit" not in shown
    assert "HomeChoice" in views[3].text.value
    # The causes tab offers the new account's breaches, and its orders.
    assert ("cancel_rate", "MFN") in [v for _, v in views[2].pick.options]
    views[2].pick.value = ("cancel_rate", "MFN")
    assert [v for _, v in views[2].orders.options] == sorted(
        defective_ids("uk-homechoice", "cancel_rate", st.day, "MFN"),
        key=lambda o: [v for _, v in views[2].orders.options].index(o))
    assert len(views[2].orders.options) == len(defective_ids("uk-homechoice", "cancel_rate", st.day, "MFN")) > 0


def test_causes_start_empty_and_are_saved_under_the_current_account(explorer, tmp_path):
    explorer.account.value = "uk-homechoice"
    causes, poa = explorer.view("causes"), explorer.view("poa")
    explorer.tabs.selected_index = 2
    causes.pick.value = ("cancel_rate", "MFN")
    assert causes.orders.value == () and causes.causes.value == ()
    causes.select_all.click()
    assert len(causes.orders.value) == len(causes.orders.options)
    two = tuple(v for _, v in causes.orders.options[1:3])
    causes.orders.value = two
    causes.causes.value = ("out_of_stock",)
    causes.author.value = "li.wei"
    causes.save_button.click()
    assert "saved 1 cause(s) for 2 order(s)" in causes.message.value
    store = CauseStore(tmp_path / "c.sqlite")
    rows = store.current("uk-homechoice", "cancel_rate")
    assert [(r.cause, tuple(r.orders), r.author) for r in rows.itertuples()] == [("out_of_stock", two, "li.wei")]
    assert len(store.current("us-summit-outdoor")) == 0
    # The POA of that metric redrafts at once, naming the two orders first.
    explorer.tabs.selected_index = 3
    poa.metric.value = "cancel_rate"
    assert "no root cause has been recorded" not in poa.text.value
    traced = [line for line in poa.text.value.splitlines() if line.startswith("Orders we traced to it:")]
    assert traced == [f"Orders we traced to it: {two[0]}, {two[1]}."]
    assert "HomeChoice" in causes.recorded.value and "Out of stock" in causes.recorded.value


def test_the_day_stays_inside_a_shortened_period(explorer):
    st = explorer.state
    st.day = dt.date(2026, 11, 4)
    explorer.end.value = dt.date(2026, 11, 10)          # the day is still inside: it stays
    assert st.day == dt.date(2026, 11, 4)
    explorer.end.value = dt.date(2026, 11, 1)           # now it is not: it moves to the new end
    assert (st.end, st.day) == (dt.date(2026, 11, 1), dt.date(2026, 11, 1))
    assert "As of 2026-11-01" in explorer.status_html()


def test_a_broken_account_is_refused_in_one_line_and_the_shown_one_stays(tmp_path):
    import shutil

    root = tmp_path / "root"
    shutil.copytree(SAMPLE / "jp-tiny-shop", root / "jp-tiny-shop")
    (root / "zz-broken").mkdir()
    (root / "zz-broken" / "account.json").write_text('{"name": "Broken", "marketplace": "US", "timezone": "UTC"}')
    (root / "zz-broken" / "orders.csv").write_text("order_id,purchase_date\nA,notadate\n")
    ex = Explorer(root, causes_db=tmp_path / "c.sqlite", poa_dir=tmp_path / "poa")
    ex.widget()
    ex.account.value = "zz-broken"
    assert (ex.state.account, ex.account.value) == ("jp-tiny-shop", "jp-tiny-shop")
    assert "zz-broken" in ex.error.value and "orders.csv, row 2" in ex.error.value
    assert "still showing jp-tiny-shop" in ex.error.value and "Tiny Shop" in ex.status_html()


def test_a_returns_cause_is_tied_to_returns_and_the_poa_names_them(tmp_path):
    # Amazon only advises on Return Dissatisfaction in every marketplace (no POA): the same account
    # without a marketplace has every target enforced, so its rate is a breach with a POA.
    root = tmp_path / "data"
    shutil.copytree(SAMPLE / "de-shenzhen-elec", root / "de-shenzhen-elec")
    meta = json.loads((root / "de-shenzhen-elec" / "account.json").read_text(encoding="utf-8"))
    del meta["marketplace"]
    (root / "de-shenzhen-elec" / "account.json").write_text(json.dumps(meta), encoding="utf-8")
    ex = Explorer(root, "de-shenzhen-elec", causes_db=tmp_path / "c.sqlite", poa_dir=tmp_path / "poa")
    ex.widget()
    ex.tabs.selected_index = 2
    causes = ex.view("causes")
    causes.pick.value = ("return_dissatisfaction_rate", "all")
    w = window_units(root / "de-shenzhen-elec", "return_dissatisfaction_rate", ex.state.day, "all",
                     defective_only=True)
    assert sorted(v for _, v in causes.orders.options) == sorted(w["return_id"].astype(str))
    two = tuple(v for _, v in causes.orders.options[-2:])
    causes.orders.value, causes.causes.value = two, ("slow_response",)
    causes.save_button.click()
    ex.tabs.selected_index = 3
    ex.view("poa").metric.value = "return_dissatisfaction_rate"
    text = ex.view("poa").text.value
    section = text.split("**1. Return requests answered too slowly.**")[1].split("**2.")[0]
    traced = [line for line in section.splitlines() if line.startswith("Return requests we traced to it:")][0]
    assert sorted(traced.removeprefix("Return requests we traced to it: ").rstrip(".").split(", ")) == sorted(two)


def test_picker_without_a_choice_saves_nothing(explorer):
    explorer.tabs.selected_index = 2
    causes = explorer.view("causes")
    assert causes.save() == [] and "choose a cause" in causes.message.value


def test_poa_tab_has_its_own_metric_and_says_when_none_is_needed(explorer, tmp_path):
    poa = explorer.view("poa")
    explorer.tabs.selected_index = 3
    explorer.state.metric = "cancel_rate"          # the chart's metric does not name the POA
    poa.metric.value = "odr"                       # Summit Outdoor meets its ODR target
    assert poa.text.value.startswith("# 山峰户外 Summit Outdoor (US): Order Defect Rate\n\nNo POA needed")
    path = poa.save()
    assert path == tmp_path / "poa" / "us-summit-outdoor-odr-2026-11-15.md"
    assert path.read_text(encoding="utf-8") == poa.text.value
    poa.metric.value = "valid_tracking_rate"
    assert poa.text.value.startswith("# Plan of Action: Valid Tracking Rate")


def test_a_chart_point_opens_its_day_and_segment_in_the_drill_down(explorer):
    chart, drill = explorer.view("chart"), explorer.view("drill")
    chart.metric.value = "valid_tracking_rate"
    chart.pick("2026-11-04", "category=Tools")
    assert explorer.tabs.selected_index == 1
    assert (explorer.state.day, drill.segment.value, drill.day.value) == (
        dt.date(2026, 11, 4), "category=Tools", dt.date(2026, 11, 4))
    ids = defective_ids("us-summit-outdoor", "valid_tracking_rate", "2026-11-04", "category=Tools")
    assert f"· {len(ids)} defective of" in drill.title.value and "Tools" in drill.title.value
    assert drill.counter.value == f"showing 1–{min(50, len(ids))} of {len(ids)} defective"
    table = drill.table.outputs[0]["data"]["text/html"]
    assert "<th>Order</th>" in table and "No valid tracking" in table
    assert "&lt;NA&gt;" not in table and "anchor_date" not in table and "invalid_tracking" not in table
    # Every defective order is in the CSV link, not only the page shown.
    data = drill.download.value.split("base64,")[1].split("'")[0]
    csv = pd.read_csv(io.BytesIO(base64.b64decode(data)), dtype=str, encoding="utf-8-sig")
    assert sorted(csv["Order"]) == sorted(ids)
    if len(ids) > 50:
        drill.next.click()
        assert drill.counter.value.startswith("showing 51–")


def test_language_reaches_tabs_pickers_and_tables(explorer):
    explorer.lang.value = "zh"
    explorer.tabs.selected_index = 1
    assert explorer.tabs.titles == ("图表", "订单明细", "根本原因", "申诉计划 (POA)")
    assert explorer.account.description == "账户" and explorer.start.description == "从"
    assert dict(explorer.view("chart").metric.options)["配送前取消率"] == "cancel_rate"
    assert "订单号" in explorer.view("drill").table.outputs[0]["data"]["text/html"]
    assert "超标" in explorer.status_html() and "原因说明" in explorer.status_html()


def test_a_failing_redraw_is_one_line_in_the_explorer(explorer, monkeypatch):
    drill = explorer.view("drill")
    explorer.tabs.selected_index = 1
    monkeypatch.setattr(drill, "frame", lambda *_: (_ for _ in ()).throw(ValueError("broken")))
    explorer.state.day = dt.date(2026, 11, 1)
    assert "broken" in explorer.error.value and "Traceback" not in explorer.error.value
    explorer.state.day = dt.date(2026, 11, 2)      # the next change starts clean
    monkeypatch.undo()
    explorer.state.day = dt.date(2026, 11, 3)
    assert explorer.error.value == ""


def test_unknown_cause_is_refused(tmp_path):
    store = CauseStore(tmp_path / "c.sqlite")
    with pytest.raises(PerfkitError, match="cause 'bad_luck' is not known for odr"):
        store.save(CauseChoice("a", "odr", "bad_luck", dt.date(2026, 1, 1), dt.date(2026, 2, 1)))


def _writer(db: str, who: int, n: int) -> None:
    store = CauseStore(db)
    for i in range(n):
        store.save(CauseChoice(f"acct{who}", "odr", "logistics", dt.date(2026, 1, 1), dt.date(2026, 2, 1),
                               note=f"{who}-{i}", author=f"w{who}"))


def test_store_survives_two_concurrent_writers_and_a_reopen(tmp_path):
    db = str(tmp_path / "c.sqlite")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(db, w, 40)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    history = CauseStore(db).history()
    assert len(history) == 80
    assert sorted(history["note"]) == sorted(f"{w}-{i}" for w in (1, 2) for i in range(40))


def test_poa_names_the_accounts_real_figures_and_orders(tmp_path):
    acc = load_account(SAMPLE / "us-summit-outdoor")
    store = CauseStore(tmp_path / "c.sqlite")
    explorer = Explorer(SAMPLE, "us-summit-outdoor", causes_db=tmp_path / "c.sqlite", poa_dir=tmp_path / "poa")
    units = explorer.drill("valid_tracking_rate", dt.date(2026, 11, 15), "MFN")
    bad = units[units["defective"]]
    yun = bad[bad["carrier"] == "YunExpress"]["order_id"].tolist()
    # The analyst records the cause for the window the letter is about (as the explorer does, lag included):
    # Valid Tracking's window on 15 November is promised days 3 October .. 1 November (30 days, lag 14).
    store.save(CauseChoice("us-summit-outdoor", "valid_tracking_rate", "carrier_no_tracking", dt.date(2026, 10, 3),
                           dt.date(2026, 11, 1), segment="MFN", note="YunExpress tracking not recognised",
                           orders=yun, author="qa"))
    ctx = AccountContext.of(acc)
    text = draft_poa(ctx, ctx.metric("valid_tracking_rate"), ctx.day("2026-11-15"), store.current("us-summit-outdoor"),
                     "MFN")
    status = explorer.status().set_index(["metric", "segment"]).loc[("valid_tracking_rate", "MFN")]
    # The figures come from the metric engine for the same day, counted independently above.
    assert f"{status['rate']:.2%}" in text
    assert f"{status['numerator']} of {status['denominator']} seller-fulfilled shipments with a promised delivery date" in text
    # Valid Tracking's window on 15 November: promised days 3 October .. 1 November (30 days, lag 14).
    assert "from 2026-10-03 to 2026-11-01" in text
    # The orders the analyst tied to the cause are listed under it, with their carrier's count.
    cause = text.split("**1. Carrier without usable tracking.** ", 1)[1].split("\n**", 1)[0]
    assert cause.startswith(f"{len(yun)} shipments of the {status['denominator'] - status['numerator']} defective")
    assert f"carriers (defects of shipments): YunExpress ({len(yun)} of" in cause
    listed = cause.split("Shipments we traced to it: ", 1)[1].split(" and ", 1)[0].split(", ")
    assert len(listed) == 10 and set(listed) <= set(yun) and "YunExpress tracking not recognised" in cause
    # The other carriers' defects are not blamed on it: they go where their own data points.
    others = text.split("Carrier does not update tracking after pick-up.** ", 1)[1].split("\n**", 1)[0]
    others = others.split("\n## ", 1)[0]
    assert "YunExpress" not in others and "a tracking id the carrier never scanned" in others
    for part in ("## What happened", "## 1. Root causes", "## 2. Actions taken", "## 3. Preventive measures",
                 "## How we will keep it within target", "## Documents to attach"):
        assert part in text
    assert "Draft note" not in text  # the analyst chose the cause
    # Nothing the tool cannot know is stated as done: every action and measure is an item to confirm.
    actions = text.split("## 2. Actions taken", 1)[1].split("## How we will", 1)[0]
    items = [ln for ln in actions.splitlines() if ln.startswith("- ")]
    assert items and all(ln.startswith("- [ ] ") and "Owner: ____" in ln for ln in items)


def test_poa_cli_works_without_recorded_causes(tmp_path):
    out = tmp_path / "poa.md"
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "poa", str(SAMPLE), "--account", "jp-tiny-shop",
                          "--metric", "odr", "--causes-db", str(tmp_path / "none.sqlite"), "--out", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    text = out.read_text(encoding="utf-8")
    assert "the ones each unit's own data shows" in text and "Seller: 小店 Tiny Shop (JP) · account" in text
    # The evidence appendix is written beside the draft: the affected orders with what was said.
    evidence = (tmp_path / "poa-evidence.csv").read_text(encoding="utf-8")
    assert evidence.startswith("order_id,") and "claim_reason" in evidence.splitlines()[0]
    assert len(evidence.splitlines()) == 1 + int(text.split(" orders placed from")[0].rsplit(": ", 1)[1].split(" of ")[0])
    bad = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "poa", str(SAMPLE), "--account", "jp-tiny-shop",
                          "--metric", "refund_rate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "a Plan of Action is written for a metric with a target" in bad.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name,params", [
    ("explore.ipynb", {"account_id": "de-shenzhen-elec", "lang": "zh"}),
    ("report.ipynb", {"account_id": "uk-homechoice", "as_of": "2026-11-15"}),
])
def test_notebooks_run_on_the_sample(tmp_path, name, params):
    import papermill as pm

    params = {**params, "data_root": str(SAMPLE), "causes_db": str(tmp_path / "c.sqlite")}
    if name == "explore.ipynb":
        params["poa_dir"] = str(tmp_path / "poa")
    out = tmp_path / name
    pm.execute_notebook(str(ROOT / "notebooks" / name), str(out), parameters=params, kernel_name="python3",
                        progress_bar=False, cwd=str(ROOT))
    import nbformat

    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    if name == "explore.ipynb":  # the explorer used the database it was given
        assert (tmp_path / "c.sqlite").is_file()


def test_what_an_explorer_session_writes_is_ignored_by_git(monkeypatch):
    from perfkit.config import paths

    for name in ("PERFKIT_DATA", "PERFKIT_REPORTS", "PERFKIT_CAUSES_DB", "PERFKIT_HOME"):
        monkeypatch.delenv(name, raising=False)
    p = paths()
    written = [p.causes_db, p.causes_db.with_name(p.causes_db.name + "-journal"),
               p.reports / "poa" / "us-summit-outdoor-odr-2026-11-15.md",
               p.notebooks / "work" / "explore.ipynb", p.notebooks / "work" / "explore.ipynb.~1~",
               p.notebooks / "work" / ".ipynb_checkpoints" / "explore-checkpoint.ipynb"]
    rel = [str(f.relative_to(ROOT)) for f in written]
    res = subprocess.run(["git", "check-ignore", "--no-index", *rel], cwd=ROOT, capture_output=True, text=True)
    assert sorted(res.stdout.split()) == sorted(rel)
    tracked = subprocess.run(["git", "check-ignore", "--no-index", "notebooks/explore.ipynb"], cwd=ROOT)
    assert tracked.returncode == 1  # the notebook itself stays tracked: make lab never opens it


def test_poa_tab_follows_its_metric_keeps_edits_and_writes_the_evidence(explorer, tmp_path):
    poa = explorer.view("poa")
    explorer.tabs.selected_index = 3
    # Only metrics with an Amazon target are offered: Return rate (no target) cannot leave a stale draft.
    assert "return_rate" not in [v for _, v in poa.metric.options]
    poa.metric.value = "valid_tracking_rate"
    assert poa.text.value.startswith("# Plan of Action: Valid Tracking Rate")
    poa.text.value += "\nChecked by Li Wei."
    explorer.lang.value = "zh"                       # the language alone changes: the edits stay
    assert poa.text.value.endswith("Checked by Li Wei.") and "保留" in poa.message.value
    path = poa.save()
    assert path == tmp_path / "poa" / "us-summit-outdoor-valid_tracking_rate-2026-11-15.md"
    assert path.read_text(encoding="utf-8").endswith("Checked by Li Wei.")
    evidence = (tmp_path / "poa" / "us-summit-outdoor-valid_tracking_rate-2026-11-15-evidence.csv")
    bad = defective_ids("us-summit-outdoor", "valid_tracking_rate", explorer.state.day, "MFN")
    assert len(evidence.read_text(encoding="utf-8").splitlines()) == 1 + len(bad)
    poa.metric.value = "odr"                         # another metric: its own draft, its own file
    assert "Valid Tracking" not in poa.text.value and "No POA needed" in poa.text.value
    assert poa.save().name == "us-summit-outdoor-odr-2026-11-15.md"


def test_recorded_causes_can_be_edited_and_removed(explorer, tmp_path):
    explorer.tabs.selected_index = 2
    causes = explorer.view("causes")
    causes.pick.value = ("valid_tracking_rate", "MFN")
    first = tuple(v for _, v in causes.orders.options[:1])
    causes.orders.value, causes.causes.value, causes.note.value = first, ("carrier_no_tracking",), "first look"
    causes.save_button.click()
    store = CauseStore(tmp_path / "c.sqlite")
    (old,) = store.current("us-summit-outdoor")["id"]
    assert causes.recorded_pick.value == old
    causes.edit_button.click()                       # loaded into the form
    assert causes.causes.value == ("carrier_no_tracking",) and causes.note.value == "first look"
    assert causes.orders.value == first
    causes.note.value = "YunExpress not integrated"
    causes.save_button.click()
    rows = store.current("us-summit-outdoor")
    assert list(rows["note"]) == ["YunExpress not integrated"] and old not in set(rows["id"])
    causes.remove_button.click()
    assert len(store.current("us-summit-outdoor")) == 0 and "removed" in causes.message.value


def test_the_app_opens_the_account_its_url_names(tmp_path):
    from perfkit.explore.widget import account_from_query
    assert account_from_query("account=jp-tiny-shop&theme=dark") == "jp-tiny-shop"
    assert account_from_query("theme=dark") is None and account_from_query("account=") is None
    # The notebook's own start-up cells, run as Voila runs them: the page's query in $QUERY_STRING.
    cells = [c for c in json.loads((ROOT / "notebooks/explore.ipynb").read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    code = "\n".join("".join(c["source"]) for c in cells[:2]) + "\nprint(ex.state.account)\n"
    env = {"PATH": "/usr/bin:/bin", "QUERY_STRING": "account=jp-tiny-shop", "PERFKIT_DATA": str(SAMPLE),
           "PERFKIT_CAUSES_DB": str(tmp_path / "c.sqlite"), "PERFKIT_REPORTS": str(tmp_path / "r"),
           "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    # jp-tiny-shop is the third folder of data/sample: without the query the first would open.
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1] == "jp-tiny-shop"
    # An account that is not there: the first folder opens and the page says why, never in silence.
    code = code.replace("print(ex.state.account)", "print(ex.state.account, dict(ex.state.refused))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "QUERY_STRING": "account=gone-shop"},
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip().splitlines()[-1] == (
        f"de-shenzhen-elec {{'gone-shop': 'no account folder of that name in {SAMPLE}'}}")
