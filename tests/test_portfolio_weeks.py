"""The portfolio over the last weeks, from the batch's results.json (hand-built here), and its notebook."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from perfkit.engine.registry import resolve_policy
from perfkit.report.history import load_history, portfolio_html, portfolio_table

from .conftest import ROOT


def cell(status, rate, num, den, headroom, target="< 1%", segment="all"):
    return {"status": status, "rate": rate, "numerator": num, "denominator": den, "segment": segment,
            "coverage": 1.0, "target": target, "headroom": headroom}


def write_week(root, week, rows):
    folder = root / week
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({a: {"row": r, "link": f"{a}.html"} for a, r in rows.items()}),
                                         encoding="utf-8")


@pytest.fixture
def reports(tmp_path):
    root = tmp_path / "reports"
    write_week(root, "2026-11-08", {
        "a-shop": {"_name": "A <Shop>", "odr": cell("ok", 0.004, 2, 500, 2)},
        "b-shop": {"_name": "B", "odr": cell("ok", 0.002, 1, 500, 3)},
    })
    write_week(root, "2026-11-15", {
        # A: 4 defects of 500 now (2 a week ago): 2 gained in 7 days; headroom 0 -> 0 days left.
        "a-shop": {"_name": "A <Shop>", "odr": cell("at_risk", 0.008, 4, 500, 0)},
        # B: 2 of 500 (1 a week ago): 1 defect in 7 days, headroom 2 -> 2 / (1/7) = 14 days.
        "b-shop": {"_name": "B", "odr": cell("ok", 0.004, 2, 500, 2)},
        # C: in breach, first week kept: no change, no pace.
        "c-shop": {"_name": "C", "odr": cell("breach", 0.02, 10, 500, -6)},
    })
    return root


def test_worst_first_with_change_and_days_left(reports):
    table = portfolio_table(load_history(reports))
    assert list(table["account_id"]) == ["c-shop", "a-shop", "b-shop"]
    got = {r.account_id: (r.change, r.towards_target, r.days_left, r.weeks) for r in table.itertuples()}
    assert got["a-shop"][0] == pytest.approx(0.004) and got["a-shop"][1:] == (True, 0, [0.004, 0.008])
    assert got["b-shop"][0] == pytest.approx(0.002) and got["b-shop"][1:] == (True, 14, [0.002, 0.004])
    change, towards, days, weeks = got["c-shop"]
    assert pd.isna(change) and towards is None and pd.isna(days) and weeks == [0.02]


def test_portfolio_html_escapes_names_and_links_each_account(reports):
    page = portfolio_html(portfolio_table(load_history(reports)), resolve_policy(None), "en", "../")
    assert "<a href='../2026-11-15/a-shop.html'>A &lt;Shop&gt;</a>" in page
    assert "A <Shop>" not in page
    assert page.index("c-shop.html") < page.index("a-shop.html") < page.index("b-shop.html")


def test_each_account_links_to_its_page_and_to_the_explorer_on_it(reports, monkeypatch):
    from perfkit.report.history import write_portfolio_page
    page = portfolio_html(portfolio_table(load_history(reports)), resolve_policy(None), "en", "../",
                          app_url="http://localhost:8866/")
    assert ("<a href='../2026-11-15/a-shop.html'>A &lt;Shop&gt;</a> "
            "<a href='http://localhost:8866/?account=a-shop' target='_blank'>explore ↗</a>") in page
    # three accounts, three explorer links (an app URL that has a query already gets &account=)
    assert page.count("?account=") == 3
    # The weekly page takes the app's URL from $PERFKIT_APP_URL (make app's http://localhost:8866/ by default).
    monkeypatch.setenv("PERFKIT_APP_URL", "https://team.example/voila/render/explore.ipynb?theme=dark")
    written = write_portfolio_page(reports / "2026-11-15", resolve_policy(None), "en").read_text(encoding="utf-8")
    assert "href='https://team.example/voila/render/explore.ipynb?theme=dark&amp;account=c-shop'" in written
    monkeypatch.delenv("PERFKIT_APP_URL")
    written = write_portfolio_page(reports / "2026-11-15", resolve_policy(None), "en").read_text(encoding="utf-8")
    assert "href='http://localhost:8866/?account=b-shop'" in written


@pytest.mark.slow
def test_portfolio_notebook_runs_under_nbval(reports, tmp_path):
    env = {**os.environ, "PERFKIT_REPORTS": str(reports), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "notebooks/portfolio.ipynb"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:]
    assert re.search(r"\b2 passed\b", res.stdout)
