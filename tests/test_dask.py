"""Per-account work on a Dask distributed cluster gives the local engine's numbers."""
from __future__ import annotations

import subprocess
import sys

# The dask extra is part of `make test`: a missing install fails here instead of skipping.
import dask.distributed as distributed
import pandas as pd
import pytest

from perfkit.core.errors import PerfkitError
from perfkit.analysis.portfolio import portfolio_series

from .conftest import SAMPLE

pytestmark = pytest.mark.slow  # clusters and worker processes


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as c:
        yield c


def test_cluster_equals_local_engine(cluster):
    kwargs = {"start": "2026-10-01", "end": "2026-11-15"}
    local, local_fail = portfolio_series(SAMPLE, **kwargs)
    remote, remote_fail = portfolio_series(SAMPLE, scheduler=cluster.scheduler_address, **kwargs)
    assert local_fail == remote_fail == {}
    key = ["account_id", "as_of", "metric", "segment"]
    pd.testing.assert_frame_equal(local.sort_values(key).reset_index(drop=True),
                                  remote.sort_values(key).reset_index(drop=True))
    assert remote["account_id"].nunique() == 5


def test_cli_scheduler_option(cluster):
    args = [sys.executable, "-m", "perfkit.cli.main", "metrics", str(SAMPLE), "--format", "csv", "--as-of", "2026-11-15"]
    local = subprocess.run(args, capture_output=True, text=True)
    remote = subprocess.run(args + ["--scheduler", cluster.scheduler_address], capture_output=True, text=True)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert sorted(local.stdout.splitlines()) == sorted(remote.stdout.splitlines())


def test_unreachable_scheduler_is_one_line():
    with pytest.raises(PerfkitError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        portfolio_series(SAMPLE, scheduler="tcp://127.0.0.1:9", as_of=["2026-11-15"])


def test_local_processes_equal_serial():
    serial, _ = portfolio_series(SAMPLE, as_of=["2026-11-01", "2026-11-15"])
    parallel, _ = portfolio_series(SAMPLE, as_of=["2026-11-01", "2026-11-15"], jobs=2)
    pd.testing.assert_frame_equal(serial, parallel)
    pruned, _ = portfolio_series(SAMPLE, as_of=["2026-11-15"], metrics=["cancel_rate", "odr"], prune=True)
    full = serial[(serial["as_of"] == pd.Timestamp("2026-11-15").date()) & serial["metric"].isin(["cancel_rate", "odr"])]
    key = ["account_id", "metric", "segment"]
    pd.testing.assert_frame_equal(pruned.sort_values(key).reset_index(drop=True),
                                  full.sort_values(key).reset_index(drop=True))


def test_workers_fork_only_in_a_single_threaded_process():
    import threading

    from perfkit.core.cluster import _start_method

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _start_method() == "spawn"  # another thread could hold a lock: never fork
    finally:
        stop.set()
        other.join()
    fresh = subprocess.run([sys.executable, "-c", "from perfkit.core.cluster import _start_method; print(_start_method())"],
                           capture_output=True, text=True)
    assert fresh.stdout.strip() == ("fork" if sys.platform.startswith("linux") else "spawn")


def test_cli_jobs_equal_serial():
    # In a fresh single-threaded process the workers are forked: same numbers as one process.
    args = [sys.executable, "-m", "perfkit.cli.main", "metrics", str(SAMPLE), "--format", "csv", "--from", "2026-10-01",
            "--to", "2026-11-15"]
    one = subprocess.run(args, capture_output=True, text=True)
    two = subprocess.run(args + ["--jobs", "2"], capture_output=True, text=True)
    assert one.returncode == two.returncode == 0, two.stderr
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) > 1000


def test_report_renders_on_the_cluster(cluster, tmp_path):
    # perfkit report --scheduler: the notebook runs on a Dask worker, the index in this process.
    from perfkit.report.batch import run_batch

    folder, outcomes = run_batch(SAMPLE, accounts=["jp-tiny-shop"], out=tmp_path, scheduler=cluster.scheduler_address,
                                 causes_db=tmp_path / "causes.sqlite", progress=False)
    assert outcomes["jp-tiny-shop"].ok, outcomes["jp-tiny-shop"].reason
    page = (folder / "jp-tiny-shop.html").read_text(encoding="utf-8")
    assert "plotly" in page and "Traceback" not in page
    assert 'href="jp-tiny-shop.html"' in (folder / "index.html").read_text(encoding="utf-8")
