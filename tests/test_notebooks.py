"""Both notebooks run cell by cell under nbval, as a user opens them: on data/sample/, with a
reports folder, causes database and cache of the test's own (nothing in the checkout changes)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_both_notebooks_run_under_nbval(tmp_path):
    env = {**os.environ, "PERFKIT_DATA": str(ROOT / "data" / "sample"), "PERFKIT_REPORTS": str(tmp_path / "reports"),
           "PERFKIT_CAUSES_DB": str(tmp_path / "causes.sqlite"), "PERFKIT_CACHE": str(tmp_path / "cache"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    before = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "notebooks/explore.ipynb", "notebooks/report.ipynb"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    # nbval collects one item per code cell: every one of both notebooks ran and passed
    cells = sum(1 for nb in ("explore", "report")
                for c in json.loads((ROOT / "notebooks" / f"{nb}.ipynb").read_text())["cells"]
                if c["cell_type"] == "code")
    assert re.search(rf"\b{cells} passed\b", res.stdout), res.stdout[-2000:]
    assert "failed" not in res.stdout.splitlines()[-1]
    after = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    assert after == before  # the notebooks stay committed without outputs
