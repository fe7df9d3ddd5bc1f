"""The bad-input matrix, round 3 (issue #22's semantic part), through the real ``perfkit`` command:
invisible characters in order ids, conflicting item rows, one day/month order per date column,
events before their order, unknown claim statuses and the --jobs bound. Each case is an exact
expectation on a hand-built account (the counts are in the comments).
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.test_bad_inputs import AS_OF, cli, good, rows_of
from tests.test_bad_outputs import one_line_error


# --- --jobs is bounded ----------------------------------------------------------------------------

CORES = os.cpu_count() or 1


@pytest.mark.parametrize("command, value, fragment", [
    ("metrics", "0", f"--jobs 0: give a number from 1 to {4 * CORES} processes"),
    ("metrics", "-3", f"--jobs -3: give a number from 1 to {4 * CORES} processes"),
    ("metrics", str(4 * CORES + 1), f"--jobs {4 * CORES + 1}: give a number from 1 to {4 * CORES}"),
    ("report", "100000", f"--jobs 100000: give a number from 1 to {4 * CORES}"),
    ("pull", "0", "--jobs 0: give a number from 1 to 32 accounts pulled at once"),
    ("pull", "1000", "--jobs 1000: give a number from 1 to 32 accounts pulled at once"),
])
def test_jobs_out_of_bounds_is_one_line(tmp_path, command, value, fragment):
    good(tmp_path / "data", "good-a")
    res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", command, str(tmp_path / "data"), "--jobs", value],
                         capture_output=True, text=True, timeout=60)
    one_line_error(res, fragment)


def test_jobs_at_the_bound_runs(tmp_path):
    good(tmp_path / "data", "good-a")
    res = cli("metrics", str(tmp_path / "data"), "--as-of", AS_OF, "--format", "csv", "--jobs", str(4 * CORES))
    assert res.returncode == 0, res.stderr
    assert rows_of(res.stdout, "good-a")
