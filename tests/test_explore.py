"""The explorer's widget logic without a browser, the cause store, the POA draft, the notebooks."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import subprocess
import sys

import pytest

from perfkit.causes import CauseChoice, CauseStore
from perfkit.errors import PerfkitError
from perfkit.explore import Explorer
from perfkit.context import AccountContext
from perfkit.loaders import load_account
from perfkit.poa import draft_poa

from .conftest import ROOT, SAMPLE


@pytest.fixture
def explorer(tmp_path):
    return Explorer(SAMPLE, "us-summit-outdoor", causes_db=tmp_path / "c.sqlite", poa_dir=tmp_path / "poa")


def test_switching_account_and_metric_updates_everything(explorer):
    explorer.refresh()
    hot = explorer.hot_metrics()
    # The committed sample's Summit Outdoor has the carrier incident: Valid Tracking in breach.
    assert ("valid_tracking_rate", "MFN") in hot
    explorer.account.value = "uk-homechoice"
    assert explorer.end.value == dt.date(2026, 11, 15)
    assert ("cancel_rate", "MFN") in explorer.hot_metrics()
    explorer.metric.value = "valid_tracking_rate"
    segs = [v for _, v in explorer.segment.options]
    assert segs[0] == "MFN" and all(s.startswith("category=") for s in segs[1:])
    explorer.lang.value = "zh"
    assert "配送前取消率" in explorer.status_html() and "超标" in explorer.status_html()
    explorer.widget()
    assert (explorer.start.description, explorer.account.description) == ("从", "账户")
    assert explorer.tabs.titles == ("图表", "订单明细", "根本原因", "申诉计划 (POA)")
    assert dict(explorer.metric.options)["配送前取消率"] == "cancel_rate"


def test_drilldown_follows_metric_date_and_segment(explorer):
    explorer.metric.value = "valid_tracking_rate"
    explorer.segment.value = "category=Tools"
    units = explorer.drill()
    assert set(units["category"]) == {"Tools"}
    status = explorer.status().set_index(["metric", "segment"])
    row = status.loc[("valid_tracking_rate", "category=Tools")]
    # The drill-down counts the same units and defects as the rate on the same day.
    assert len(units) == row["denominator"]
    assert int(units["defective"].sum()) == row["denominator"] - row["numerator"]


def test_cause_picker_saves_and_reappears(explorer, tmp_path):
    picker = explorer.cause_picker("valid_tracking_rate", "MFN")
    assert len(picker.orders.options) == len(picker.orders.value) > 100  # pre-filled from the drill-down
    picker.causes.value = ("carrier_no_tracking", "tracking_late")
    picker.other.value = "ERP <b>bug</b>"
    picker.note.value = "YunExpress stopped scanning parcels from 6 October"
    picker.orders.value = picker.orders.options[:3]
    picker.author.value = "li.wei"
    picker.save_button.click()
    assert "saved 3 cause(s)" in picker.message.value
    # Reopening the notebook: a new explorer on the same database shows the same choices.
    again = Explorer(SAMPLE, "us-summit-outdoor", causes_db=tmp_path / "c.sqlite", poa_dir=tmp_path / "poa")
    picker2 = again.cause_picker("valid_tracking_rate", "MFN")
    assert set(picker2.causes.value) == {"carrier_no_tracking", "tracking_late"}
    assert picker2.other.value == "ERP <b>bug</b>"
    assert picker2.note.value == "YunExpress stopped scanning parcels from 6 October"
    assert list(picker2.orders.value) == list(picker.orders.options[:3])
    rows = again.store.current("us-summit-outdoor", "valid_tracking_rate")
    assert set(rows["author"]) == {"li.wei"} and rows["period_end"].iloc[0] == "2026-11-15"
    assert rows["period_start"].iloc[0] == "2026-10-17"


def test_picker_without_a_choice_saves_nothing(explorer):
    picker = explorer.cause_picker("cancel_rate", "MFN")
    picker.causes.value = ()
    assert picker.save() == [] and "choose a cause" in picker.message.value


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
    store.save(CauseChoice("us-summit-outdoor", "valid_tracking_rate", "carrier_no_tracking", dt.date(2026, 10, 17),
                           dt.date(2026, 11, 15), segment="MFN", note="YunExpress tracking not recognised",
                           orders=yun, author="qa"))
    ctx = AccountContext.of(acc)
    text = draft_poa(ctx, ctx.metric("valid_tracking_rate"), ctx.day("2026-11-15"), store.current("us-summit-outdoor"),
                     "MFN")
    status = explorer.status().set_index(["metric", "segment"]).loc[("valid_tracking_rate", "MFN")]
    # The figures come from the metric engine for the same day, counted independently above.
    assert f"{status['rate']:.2%}" in text
    assert f"{status['numerator']} good of {status['denominator']} orders" in text
    assert "from 2026-10-17 to 2026-11-15" in text
    # The orders the analyst tied to the cause are listed under it, with their carrier.
    cause = text.split("**1. Carrier without usable tracking.** ", 1)[1].split("**2.", 1)[0]
    assert cause.startswith(f"{len(yun)} orders between") and "carriers: YunExpress;" in cause
    listed = cause.split("Affected orders: ", 1)[1].split(" and ", 1)[0].split(", ")
    assert len(listed) == 10 and set(listed) <= set(yun) and "YunExpress tracking not recognised" in cause
    # The other carriers' defects are not blamed on it: they are listed apart for the analyst.
    assert "Not explained by the causes above" in text
    for part in ("## Acknowledgement", "## 1. Root causes", "## 2. Actions taken", "## 3. Preventive measures",
                 "## Commitment", "## Appendix: evidence"):
        assert part in text
    assert "Draft note" not in text  # the analyst chose the cause
    # Nothing the tool cannot know is stated as done: every action and measure is an item to confirm.
    actions = text.split("## 2. Actions taken", 1)[1].split("## Commitment", 1)[0]
    items = [ln for ln in actions.splitlines() if ln.startswith("- ")]
    assert items and all(ln.startswith("- [ ] ") and "Owner: ____" in ln for ln in items)


def test_poa_cli_works_without_recorded_causes(tmp_path):
    out = tmp_path / "poa.md"
    res = subprocess.run([sys.executable, "-m", "perfkit.cli", "poa", str(SAMPLE), "--account", "jp-tiny-shop",
                          "--metric", "odr", "--causes-db", str(tmp_path / "none.sqlite"), "--out", str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    text = out.read_text(encoding="utf-8")
    assert "where each order's own evidence points" in text and "小店 Tiny Shop (JP)" in text
    # The evidence appendix is written beside the draft: the affected orders with what was said.
    evidence = (tmp_path / "poa-evidence.csv").read_text(encoding="utf-8")
    assert evidence.startswith("order_id,") and "claim_reason" in evidence.splitlines()[0]
    assert len(evidence.splitlines()) == 1 + int(text.split(" orders fell short")[0].rsplit(" ", 1)[1])
    bad = subprocess.run([sys.executable, "-m", "perfkit.cli", "poa", str(SAMPLE), "--account", "jp-tiny-shop",
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
