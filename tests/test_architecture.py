"""The house rules: one declaration per metric, no import circle, rooms of a readable size."""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from perfkit.engine import registry
from perfkit.engine.dates import NEVER
from perfkit.core.errors import PerfkitError
from perfkit.core.policy import default_policy_text
from perfkit.engine.registry import load_policy

from .conftest import ROOT, write_account

PACKAGE = ROOT / "perfkit"


# The layers from the bottom up: a module may import its own layer and those below, never above.
LAYERS = ["core", "loading", "engine", "analysis", "views", "poa", ("explore", "report", "pull"), "cli"]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in ((layer,) if isinstance(layer, str) else layer)}
RANK["config"] = 0  # where things live: reads the environment only, any layer may ask it


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> set[str]:
    """The perfkit modules a module imports, at any depth, TYPE_CHECKING blocks included (a type
    import is still an arrow a reader has to follow)."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        # the deepest perfkit module each name reaches ("from perfkit.engine import registry" is registry)
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != here:
                found.add(name)
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


GRAPH = {m: _imports(p) for m, p in MODULES.items()}


def test_every_module_lives_in_a_layer():
    loose = sorted(m for m in MODULES if m != "perfkit" and _layer(m) not in RANK)
    assert loose == [], "modules outside the layer folders (add them to a layer): " + ", ".join(loose)


def test_imports_point_down_only():
    upward = sorted(f"{m} imports {n}" for m, deps in GRAPH.items() for n in deps
                    if m != "perfkit" and n != "perfkit" and RANK[_layer(n)] > RANK[_layer(m)])
    assert upward == []
    # the package's face is imported by nobody inside it (it re-exports, it is not a layer)
    assert sorted(m for m, deps in GRAPH.items() if "perfkit" in deps) == []


def test_the_upward_check_catches_a_type_only_import(tmp_path):
    module = tmp_path / "perfkit" / "core" / "x.py"
    module.parent.mkdir(parents=True)
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from perfkit.engine.units import Units\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = _imports(module)
    finally:
        ROOT = saved
    assert found == {"perfkit.engine.units"}


def test_no_import_circle():
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("import circle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


def test_every_layer_says_what_it_holds_and_may_import():
    for layer in RANK:
        init = PACKAGE / layer / "__init__.py"
        if layer == "config":
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) > 30 and "import" in doc, f"{init}: say what the layer holds and may import"


def test_no_module_over_450_lines():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {k: v for k, v in sizes.items() if v > 450} == {}


def test_the_lists_derive_from_the_declarations():
    pol = load_policy()
    assert registry.index_metrics(pol) == ["odr", "cancel_rate", "late_shipment_rate_10d", "late_shipment_rate_30d",
                                           "valid_tracking_rate", "on_time_delivery_rate", "invoice_defect_rate",
                                           "return_dissatisfaction_rate", "return_rate"]
    # The explorer's charts: every metric with a target, maturing views drawn on their metric's chart.
    assert "odr_early" not in registry.chart_metrics(pol) and "perfect_order_percentage" not in registry.chart_metrics(pol)
    assert registry.early_view("odr", {"odr", "odr_early"}) == "odr_early"
    assert registry.reads(["cancel_rate"]) == ({"buyer_requested_cancel"}, set())
    # A missing input is explained by every metric that needs it.
    assert registry.missing_note("orders.ship_confirm_date") == (
        "Late Shipment Rate has no data; Valid Tracking Rate has no data; On-Time Delivery Rate has no data; "
        "Invoice Defect Rate has no data")


def test_the_policy_is_checked_against_the_declarations(tmp_path):
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(default_policy_text() + '\n[metrics.gift_rate]\nwindow = 7\ntarget = "info"\n', encoding="utf-8")
    with pytest.raises(PerfkitError, match="metric 'gift_rate' has no counting rule"):
        load_policy(unknown)
    segment = tmp_path / "segment.toml"
    segment.write_text(default_policy_text().replace('segments = ["MFN"]', 'segments = ["category"]', 1),
                       encoding="utf-8")
    with pytest.raises(PerfkitError, match=r"\[metrics.cancel_rate\] segment 'category' is not available"):
        load_policy(segment)


# --- a metric declared only here goes everywhere a metric goes ------------------------------------


def _buyer_cancels(days):
    """MFN orders, anchored on purchase; a defect when the buyer asked to cancel (known that day)."""
    o = days.account.orders
    p = days.orders["purchase_date"]
    asked = (o["order_status"] == "Cancelled").to_numpy(bool) & o["buyer_requested_cancel"].to_numpy(bool)
    return days.order_units(days.mfn, p, {"buyer_cancellation": np.where(asked, p, NEVER)})


POLICY_ENTRY = """
[metrics.buyer_cancel_rate]
name_en = "Buyer cancel rate"
name_zh = "买家取消率"
window = 7
target = "<"
value = "0.2"
warn = "0.1"
segments = ["MFN"]
"""


@pytest.fixture
def declared(tmp_path):
    registry.declare(registry.Metric("buyer_cancel_rate", _buyer_cancels, ("orders.buyer_requested_cancel",),
                                     reads=("buyer_requested_cancel",), family="cancel_rate", segments=("MFN",),
                                     index=True))
    policy = tmp_path / "policy.toml"
    policy.write_text(default_policy_text() + POLICY_ENTRY, encoding="utf-8")
    # 1..10 March: 4 MFN orders a day; on 9 and 10 March two of the four are cancelled at the buyer's request.
    rows = []
    for day in range(1, 11):
        for i in range(4):
            cancelled = day >= 9 and i < 2
            rows.append(f"O{day}-{i},2026-03-{day:02d}T10:00:00,MFN,{'Cancelled' if cancelled else 'Shipped'},"
                        f"{'true' if cancelled else 'false'}")
    write_account(tmp_path / "root", "shop", name="Test <shop>",
                  orders="order_id,purchase_date,fulfillment_channel,order_status,buyer_requested_cancel\n"
                         + "\n".join(rows) + "\n")
    yield tmp_path / "root", policy
    registry.forget("buyer_cancel_rate")


def test_a_metric_declared_once_appears_in_the_csv_charts_report_and_index(declared, tmp_path):
    from perfkit.cli import main as cli
    from perfkit.report.batch import Outcome, write_index
    from perfkit.views.charts import metric_charts
    from perfkit.report.page import AccountReport

    root, policy = declared
    out = tmp_path / "m.csv"
    assert cli.main(["metrics", str(root), "--policy", str(policy), "--as-of", "2026-03-10", "--format", "csv",
                     "--out", str(out)]) == 0
    line = next(x for x in out.read_text().splitlines() if ",buyer_cancel_rate," in x)
    # Window 4..10 March: 28 orders, 4 buyer cancellations: 4/28 = 14.3%, under 20% but past the 10% warning.
    # The last two columns: the window's coverage and the units' (every order has its purchase day).
    assert line.split(",")[4:] == ["7", "4", "28", str(4 / 28), "< 0.2", "at_risk", "1", "1.0", "1.0"]

    report = AccountReport.build(root, "shop", "2026-03-10", policy=str(policy))
    assert "Buyer cancel rate" in report.status_table() and "14.29%" in report.status_table()
    charts = dict(metric_charts(report.series, report.policy, as_spec=True))
    shapes = charts["buyer_cancel_rate"]["layout"]["shapes"]
    assert [s["y0"] for s in shapes if s["type"] == "line"] == [pytest.approx(20.0), pytest.approx(10.0)]

    row = report.index_row()
    assert row["buyer_cancel_rate"]["status"] == "at_risk"
    page = write_index(tmp_path, dt.date(2026, 3, 10), "en", report.policy, {"shop": "Test <shop>"},
                       {"shop": Outcome("shop", True, html="shop.html", row=row)}, "x").read_text()
    assert "Buyer cancel rate" in page and "14.29%" in page and "Test &lt;shop&gt;" in page


# The CSV of the sample accounts, pinned by checksum before the registry refactor (#10) so that
# restructuring the code can never change a number. Change it only on purpose, with the reason:
# - #10 (registry, context, loader split): unchanged (range a326c4e3..., default 91720cb5...).
# - #12 Perfect Order Percentage: its late-shipment component is Late Shipment Rate's own (cancelled
#   orders that never shipped are not late): 794 perfect_order_percentage rows of the range change,
#   no other row.
# - #12 coverage: a new last column; the first eleven columns keep the checksums above (checked:
#   `cut -d, -f1-11` of the new output gives 39ac4a95... and d779880e...).
# - #14 return rate: new return_rate rows only (`grep -v ,return_rate,` of the new output gives the
#   two checksums before it, bea2ef6e... and e07688aa...).
# - #15 no look-ahead: the sample dates its removals and claim decisions (a removal nine days after
#   the feedback, a decision twelve days after the claim; one not done by the end of the export has
#   not happened): only odr, odr_claims, odr_negative_feedback and perfect_order_percentage rows change
#   (344, 180, 184 and 99 rows of the range).
# - #20 marketplace rules and Amazon's windows: a new last column unit_coverage (1.0 on the sample: every
#   unit has its anchor); Valid Tracking placed by promised delivery date with lag 14, On-Time Delivery lag 7,
#   Invoice Defect by purchase day with lag 7 and absent in the US and JP accounts (3 rows fewer), statuses
#   "advisory" where the marketplace only recommends a target. Only rows of valid_tracking_rate,
#   on_time_delivery_rate, invoice_defect_rate and return_dissatisfaction_rate change: the other rows' first
#   twelve columns give the same checksum before and after (351bc8f0... for the range). The default day is
#   still the last order day, 2026-11-15.
# - #20 UK On-Time Delivery minimum (20 units): two rows of the range change, uk-homechoice on 2026-05-23
#   (9 units) and 2026-05-24 (18 units), status at_risk -> too_few; nothing else (diff of the two outputs).
PINNED_CSV = {
    # every day from 1 May to 16 November 2026, every metric and segment
    ("--from", "2026-05-01", "--to", "2026-11-16"): "477d59a31beef7d1d0a14f546fba6de0f5761ac9fae52f20272afa32a5d36e45",
    # the default: the last day with orders
    (): "2f5623af3b63d468ec368ec9950a746ce962cca7123d4fc601878bf5622b11aa",
}


@pytest.mark.parametrize("args", list(PINNED_CSV))
def test_sample_csv_is_unchanged(args):
    import hashlib
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "metrics", str(ROOT / "data" / "sample"),
                          "--format", "csv", *args], capture_output=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert hashlib.sha256(res.stdout).hexdigest() == PINNED_CSV[args]
