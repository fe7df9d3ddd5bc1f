"""Concurrent and interrupted runs lose nothing: two reports into one week, SIGTERM mid-run."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from perfkit.core.atomic import remove_stale_temps
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow
AS_OF = "2026-11-15"


def report(root: Path, out: Path, *accounts: str, env: dict | None = None) -> subprocess.Popen:
    picks = [a for name in accounts for a in ("--account", name)]
    return subprocess.Popen([sys.executable, "-m", "perfkit.cli.main", "report", str(root), "--out", str(out), "--as-of",
                             AS_OF, "--jobs", "2", "--quiet", *picks], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def marked(mark: str) -> list[int]:
    """Processes (and their descendants, which inherit the environment) carrying ``mark``."""
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"PERFKIT_TEST_RUN={mark}".encode() in env.read_bytes():
                found.append(int(env.parent.name))
        except OSError:
            continue
    return found


def test_two_runs_into_one_week_both_complete(tmp_path):
    out = tmp_path / "reports"
    one = report(SAMPLE, out, "jp-tiny-shop", "uk-homechoice")
    two = report(SAMPLE, out, "us-summit-outdoor")
    results = [p.communicate(timeout=600) for p in (one, two)]
    assert one.returncode == two.returncode == 0, results
    week = out / AS_OF
    rows = json.loads((week / "rows.json").read_text(encoding="utf-8"))
    assert sorted(r["account_id"] for r in rows) == ["jp-tiny-shop", "uk-homechoice", "us-summit-outdoor"]
    index = (week / "index.html").read_text(encoding="utf-8")
    for name in ("jp-tiny-shop", "uk-homechoice", "us-summit-outdoor"):
        assert f'href="{name}.html"' in index and (week / f"{name}.html").is_file()
    assert not list(week.glob(".*.tmp*"))


def test_sigterm_stops_the_run_and_its_workers(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(SAMPLE, root)
    out = tmp_path / "reports"
    mark = uuid.uuid4().hex
    run = report(root, out, env={**os.environ, "PERFKIT_TEST_RUN": mark})
    week = out / AS_OF
    deadline = time.time() + 120
    while not list(week.glob(".*.tmp.ipynb")) and time.time() < deadline:  # a notebook is running
        time.sleep(0.2)
    assert list(week.glob(".*.tmp.ipynb")), "no notebook started"
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and err.strip().splitlines()[-1] == "perfkit: error: interrupted"
    assert "Traceback" not in err
    deadline = time.time() + 20
    while marked(mark) and time.time() < deadline:  # kernels notice their parent is gone
        time.sleep(0.5)
    assert marked(mark) == []
    assert not list(week.glob(".*.tmp*"))  # every worker cleaned up before it exited
    for page in week.glob("*.html"):
        assert page.read_text(encoding="utf-8").rstrip().endswith("</html>")
    for nb in week.glob("*.ipynb"):
        json.loads(nb.read_text(encoding="utf-8"))
    # No account was started after the stop: nothing appears later.
    before = sorted(p.name for p in week.iterdir())
    time.sleep(3)
    assert sorted(p.name for p in week.iterdir()) == before


def test_a_run_removes_only_the_temp_files_of_processes_that_are_gone(tmp_path):
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / f".acct.html.pid{alive.pid}.x1.tmp"
        dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                                  text=True).stdout.strip()
        dead = tmp_path / f".acct.html.pid{dead_pid}.x2.tmp"
        old_style = tmp_path / ".acct.html.abc.tmp"
        for f in (live, dead, old_style):
            f.write_text("half")
        remove_stale_temps(tmp_path)
        assert live.exists() and not dead.exists() and not old_style.exists()
    finally:
        alive.kill()
