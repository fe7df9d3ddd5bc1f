"""The Monday cron log: ``perfkit pull --quiet`` then ``perfkit report --quiet`` into one file, as
docs/agency.md's cron line writes it, on five accounts: two fine, one in breach, one stale, one
broken. The log holds each command's one line and one line per account that needs a human, never
a loading warning (the accounts' orders files have four columns: a dozen missing inputs each)."""
from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from . import spapi_stub
from .spapi_stub import CLIENT_ID, CLIENT_SECRET, Plan, Stub

FEEDBACK_HEADER = "Date\tRating\tComments\tYour Response\tOrder ID\tRater Email"


def write_shop(root: Path, aid: str, last: dt.date, negative_every: int = 0) -> Path:
    """100 days ending on ``last``, 4 MFN orders a day (400), and a 1-star feedback on every
    ``negative_every``-th order two days after it: every 10th is 10% ODR, ten times the 1% target."""
    folder = root / aid
    folder.mkdir(parents=True)
    (folder / "account.json").write_text(json.dumps({"marketplace": "US", "timezone": "UTC"}), encoding="utf-8")
    orders, feedback = ["order_id,purchase_date,fulfillment_channel,order_status"], ["order_id,feedback_date,rating"]
    for n in range(400):
        day = last - dt.timedelta(days=99 - n // 4)
        oid = f"111-{day:%Y%m%d}-{n % 4:07d}"
        orders.append(f"{oid},{day}T10:00:00,MFN,Shipped")
        if negative_every and (n + 1) % negative_every == 0:
            feedback.append(f"{oid},{day + dt.timedelta(days=2)}T10:00:00,1")
    (folder / "orders.csv").write_text("\n".join(orders) + "\n", encoding="utf-8")
    (folder / "feedback.csv").write_text("\n".join(feedback) + "\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_the_cron_log_is_one_line_per_run_and_per_account_that_needs_a_human(tmp_path):
    today = dt.date.today()
    root = tmp_path / "data"
    for aid in ("a-fine", "b-fine"):
        write_shop(root, aid, today)
    write_shop(root, "c-breach", today, negative_every=10)
    write_shop(root, "d-stale", today - dt.timedelta(days=40))  # 40 days old: the stale limit is 3
    broken = write_shop(root, "e-broken", today)
    with open(broken / "orders.csv", "a", encoding="utf-8") as fh:  # row 402: 5 fields under a 4-field header
        fh.write("111-20260101-0000009,2026-01-01T10:00:00,MFN,Shipped,extra\n")

    # Amazon knows four of the five sellers (e-broken's refresh token is refused); each Feedback
    # report is Amazon's header with no rows, so the pull adds no data.
    tokens = {f"Atzr|{aid}": aid for aid in ("a-fine", "b-fine", "c-breach", "d-stale")}
    stub = Stub(refresh_tokens=tokens, plans={
        "GET_SELLER_FEEDBACK_DATA": Plan(["IN_PROGRESS", "DONE"], lambda s, e: (FEEDBACK_HEADER + "\n").encode())})
    server, _ = spapi_stub.start(stub)
    try:
        config = tmp_path / "private" / "agency.toml"
        config.parent.mkdir()
        lines = ["[sp_api]", f'endpoint = "{stub.base}"', f'token_url = "{stub.base}/auth/o2/token"',
                 f'client_id = "{CLIENT_ID}"', f'client_secret = "{CLIENT_SECRET}"', "",
                 "[pull]", "history_days = 10", "poll_seconds = 0.01", "backoff_seconds = 0.01",
                 "max_backoff_seconds = 0.05", "max_attempts = 3", "max_wait_minutes = 1"]
        for aid in ("a-fine", "b-fine", "c-breach", "d-stale", "e-broken"):
            lines += ["", f"[accounts.{aid}]", f'refresh_token = "Atzr|{aid}"', 'reports = ["feedback"]']
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        config.chmod(0o600)
        log = tmp_path / "monday.log"
        perfkit = f"{shlex.quote(sys.executable)} -m perfkit.cli.main"
        # docs/agency.md's cron line: ";" so that a pull naming an account still leaves the others to report.
        script = (f"{perfkit} pull {root} --config {config} --quiet >> {log} 2>&1; "
                  f"{perfkit} report {root} --config {config} --out {tmp_path / 'reports'} --jobs 2 --quiet "
                  f"--causes-db {tmp_path / 'none.sqlite'} >> {log} 2>&1")
        # cron's environment: no PYTHONUNBUFFERED, so the order of the lines is perfkit's own doing.
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PERFKIT_LWA", "PERFKIT_CONFIG")) and k != "PYTHONUNBUFFERED"}
        res = subprocess.run(["sh", "-c", script], env=env, timeout=600)
    finally:
        server.shutdown()
    assert res.returncode == 2  # the report's failed account
    got = log.read_text(encoding="utf-8").splitlines()
    # The days the pull asks for (10 of history, in UTC): one Feedback file per calendar month.
    first = today - dt.timedelta(days=10)
    months = (today.year * 12 + today.month) - (first.year * 12 + first.month) + 1
    yesterday = today - dt.timedelta(days=1)  # the report's week ends on the last Sunday before today
    week = tmp_path / "reports" / str(yesterday - dt.timedelta(days=(yesterday.weekday() + 1) % 7))
    assert len(got) == 6, "\n".join(got)  # counted: pull 2 (e-broken, the run), report 4 (c-breach, d-stale, e-broken, the run)
    assert got[0].startswith("e-broken: FAILED: Login with Amazon refused the credentials")
    assert got[1] == f"pull: 5 accounts, {4 * months} files written, 1 need a human"
    # the accounts in order of their ids, the failed one on stderr among them
    assert got[2] == f"c-breach: {week / 'c-breach.html'} (breach)"
    stale_day = today - dt.timedelta(days=40)
    assert got[3] == f"d-stale: {week / 'd-stale.html'} (stale data: last day {stale_day})"
    assert got[4].startswith("e-broken: FAILED: e-broken/orders.csv, row 402: has 5 fields where the header has 4")
    assert got[5] == f"index: {week / 'index.html'}  (4 rendered, 1 failed)"
    assert "Atzr|" not in "\n".join(got) and CLIENT_SECRET not in "\n".join(got)
