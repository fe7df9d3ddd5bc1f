"""The report kernel's start-up cost (issue 24 item 4): what a per-account page pays beyond the floor."""
from __future__ import annotations

import subprocess
import sys

SNIPPET = """
import sys
from perfkit.analysis.amazon_json import import_jsonschema
js = import_jsonschema()
errors = list(js.Draft7Validator({"type": "object"}).iter_errors([]))
print(len(errors), "rfc3987_syntax" in sys.modules)
"""


def test_jsonschema_is_imported_without_the_iri_grammar():
    # rfc3987_syntax compiles a lark grammar at import (seconds in every report kernel); we never
    # pass a format_checker, so it is kept out, and jsonschema still validates: one type error for [].
    res = subprocess.run([sys.executable, "-c", SNIPPET], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["1", "False"]


FORMAT_SNIPPET = """
import sys
from perfkit.analysis.amazon_json import _FORMAT_PACKAGES, import_jsonschema
js = import_jsonschema()
print(sorted(n for n in (*_FORMAT_PACKAGES, "arrow") if n in sys.modules))
print(len(list(js.Draft7Validator({"type": "string", "format": "date"}).iter_errors("not a date"))))
import idna, isoduration  # blocked only while jsonschema was imported
print(idna.__name__, isoduration.__name__)
"""


def test_jsonschema_is_imported_without_its_format_packages():
    # isoduration (which imports arrow), rfc3986_validator, idna, ... serve format checks we never
    # ask for: kept out of the kernel (~35 ms). "format" stays an annotation, as before (0 errors
    # for a string that is no date), and each package can still be imported afterwards.
    res = subprocess.run([sys.executable, "-c", FORMAT_SNIPPET], capture_output=True, text=True, check=True)
    assert res.stdout.splitlines() == ["[]", "0", "idna isoduration"]


# --- a page's charts without plotly in the kernel (issue 24 item 4) ---------------------------

import json  # noqa: E402

import pytest  # noqa: E402

from perfkit.views.figures import CONFIG, figure_html  # noqa: E402

from .conftest import SAMPLE  # noqa: E402


def _plotly_html(spec: dict, div_id: str) -> str:
    import plotly.io as pio

    return pio.to_html(spec, full_html=False, include_plotlyjs=False, config=CONFIG, validate=False, div_id=div_id)


@pytest.mark.parametrize("spec", [
    # hostile and non-ASCII text in names and titles, a gap, a pixel height, a template width
    {"data": [{"type": "scatter", "x": ["2026-11-01", "2026-11-02"], "y": [None, 3.5],
               "name": "</script><img src=x onerror=alert(1)> & 发货"}],
     "layout": {"title": {"text": "a<b"}, "height": 360, "template": {"layout": {"width": 500}}}},
    # NaN is left to plotly's encoder (it writes null), so the page still matches plotly's
    {"data": [{"type": "bar", "x": [1, 2], "y": [float("nan"), 1.0]}], "layout": {}},
])
def test_figure_div_is_the_one_plotly_writes(spec):
    assert figure_html(spec, "pk-test") == _plotly_html(spec, "pk-test")
    assert "</script><img" not in figure_html(spec, "pk-test").split("<script>")[1]


def test_report_charts_are_plotlys_markup_and_template():
    # Every chart of a sample account's page, as plotly.io would write it, byte for byte.
    import plotly.io as pio

    from perfkit.report.page import AccountReport
    from perfkit.views.charts import _template

    assert json.dumps(_template()) == json.dumps(pio.templates["plotly_white"].to_plotly_json())
    report = AccountReport.build(SAMPLE, "uk-homechoice", "2026-11-15", "zh")
    charts = report.charts()
    assert len(charts) >= 8  # one per metric the account has
    for i, (_, spec) in enumerate(charts):
        assert figure_html(spec, f"c{i}") == _plotly_html(spec, f"c{i}")


KERNEL_PATH = """
import sys
from perfkit.report.page import AccountReport
from perfkit.views.figures import figure_html
r = AccountReport.build(sys.argv[1], "us-summit-outdoor", "2026-11-15", "en")
pieces = [r.headline(), r.status_table(), r.health_section()[0], r.recovery_section(), r.drivers_section()[0], r.quality_section()]
pieces += [figure_html(f) for _, f in r.charts()]
print(len(pieces), "plotly.io" in sys.modules, "plotly.basedatatypes" in sys.modules)
"""


def test_report_page_is_built_without_importing_plotly():
    # plotly.io and its figure classes cost a report kernel about 0.15 s per account.
    res = subprocess.run([sys.executable, "-c", KERNEL_PATH, str(SAMPLE)], capture_output=True, text=True,
                         check=True)
    assert res.stdout.split()[1:] == ["False", "False"]


def _cache_copy(tmp_path, monkeypatch):
    """A copy of one small sample account and an empty cache folder of its own."""
    import shutil

    from perfkit.config import paths

    root = tmp_path / "data"
    shutil.copytree(paths().data / "jp-tiny-shop", root / "jp-tiny-shop")
    monkeypatch.setenv("PERFKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PERFKIT_NO_CACHE", raising=False)
    return root


def test_prefetch_leaves_the_entry_the_kernels_load_reads(tmp_path, monkeypatch):
    # The worker parses while the kernel starts; the kernel's own call (AccountContext.of with the
    # default policy) must then be a cache hit, not a second parse.
    import perfkit.loading.loader as loader
    from perfkit.engine.context import AccountContext
    from perfkit.report.batch import prefetch_account

    root = _cache_copy(tmp_path, monkeypatch)
    thread = prefetch_account(root / "jp-tiny-shop", None)
    assert thread is not None
    thread.join(timeout=120)
    assert len(list((tmp_path / "cache").rglob("*.arrow"))) >= 1  # at least the orders table
    parses = []
    real = loader._parse_account
    monkeypatch.setattr(loader, "_parse_account", lambda *a, **k: parses.append(a) or real(*a, **k))
    ctx = AccountContext.of(root / "jp-tiny-shop")
    assert parses == [] and len(ctx.account.orders) > 0


def test_prefetch_does_nothing_with_the_cache_off_and_swallows_a_broken_account(tmp_path, monkeypatch):
    from perfkit.report.batch import prefetch_account

    root = _cache_copy(tmp_path, monkeypatch)
    monkeypatch.setenv("PERFKIT_NO_CACHE", "1")
    assert prefetch_account(root / "jp-tiny-shop", None) is None  # the kernel parses it, once
    assert not (tmp_path / "cache").exists()
    monkeypatch.delenv("PERFKIT_NO_CACHE")
    import threading

    import pytest

    from perfkit.core.errors import PerfkitError
    from perfkit.loading.loader import load_account

    (root / "jp-tiny-shop" / "orders.csv").write_text("not,an,orders,file\n1,2,3,4\n", encoding="utf-8")
    with pytest.raises(PerfkitError):  # the kernel's own load fails, and says why, as before
        load_account(root / "jp-tiny-shop", cache=False)
    escaped = []
    monkeypatch.setattr(threading, "excepthook", escaped.append)
    thread = prefetch_account(root / "jp-tiny-shop", None)
    thread.join(timeout=120)
    assert not thread.is_alive() and escaped == []  # nothing raised or printed by the worker
