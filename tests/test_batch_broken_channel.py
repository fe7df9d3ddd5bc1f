"""The reviewer's Monday, smaller: a batch of sample accounts whose data ends yesterday, reported
with ``--quiet`` and three channels (a closed port, a webhook answering 500, a working one), its
stdout and stderr in one file as the cron line of docs/agency.md writes them. The run exits as the
reports do (0), each broken channel is one warning line naming it, the working channel gets one
message naming every breach the index shows, every page is written, and the log holds one line
per account in breach, the index's line and the two warnings: nothing else. (The 50-account
version, 50 accounts of a year, took 108 s here: too slow for the suite; it gave the same.)"""
from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading

import pytest

from perfkit.views.status import STATUS_COLOURS

from .receivers import json_server

ACCOUNTS = 4


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_batch_with_a_broken_channel_is_quiet_complete_and_alerts_once(tmp_path):
    today = dt.date.today()
    data, out, log = tmp_path / "data", tmp_path / "reports", tmp_path / "monday.log"
    made = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "sample", str(data), "--accounts", str(ACCOUNTS),
                           "--days", "60", "--end", today.isoformat(), "--quiet"], capture_output=True, text=True,
                          timeout=300)
    assert made.returncode == 0, made.stderr
    servers = {status: json_server(status) for status in (200, 500)}
    for server, _ in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()
    closed, failing = _closed_port(), servers[500][0].server_address[1]
    working, got = servers[200][0].server_address[1], servers[200][1]
    try:
        with open(log, "w", encoding="utf-8") as fh:  # `>> logs/monday.log 2>&1`
            res = subprocess.run([sys.executable, "-m", "perfkit.cli.main", "report", str(data), "--out", str(out),
                                  "--quiet", "--jobs", "2", "--notify", f"json://127.0.0.1:{closed}/hook?token=s3cr3t",
                                  "--notify", f"json://127.0.0.1:{failing}/hook", "--notify",
                                  f"json://127.0.0.1:{working}/hook"], stdout=fh, stderr=subprocess.STDOUT, timeout=600)
    finally:
        for server, _ in servers.values():
            server.shutdown()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert res.returncode == 0, "\n".join(lines)  # every account rendered: a channel down changes nothing
    [week] = [p for p in out.iterdir() if p.is_dir()]
    folders = sorted(p.name for p in data.iterdir() if p.is_dir())
    assert len(folders) == ACCOUNTS
    # Every page: one per account, the index and the portfolio.
    assert sorted(p.name for p in week.glob("*.html")) == sorted([f"{a}.html" for a in folders] + ["index.html",
                                                                                                   "portfolio.html"])
    # The accounts in breach, as the index's own rows say (a cell coloured breach).
    rows = json.loads((week / "rows.json").read_text(encoding="utf-8"))
    breach_colour = STATUS_COLOURS["breach"]
    in_breach = {r["account_id"]: sum(c["colour"] == breach_colour for c in r["cells"]) for r in rows}
    in_breach = {a: n for a, n in in_breach.items() if n}
    assert in_breach, "the sample accounts were meant to include some in breach"
    # The log: one line per account in breach, the index's line, one warning per broken channel.
    expected = [f"{a}: {week / (a + '.html')} (breach)" for a in sorted(in_breach)]
    expected.append(f"index: {week / 'index.html'}  ({ACCOUNTS} rendered, 0 failed)")
    assert lines[:-2] == expected, "\n".join(lines)
    assert lines[-2].startswith(f"perfkit: warning: alert channel json://127.0.0.1:{closed}/…: not delivered (")
    assert lines[-1].startswith(f"perfkit: warning: alert channel json://127.0.0.1:{failing}/…: not delivered (")
    assert "s3cr3t" not in "\n".join(lines)
    # The working channel: exactly one message, naming every account in breach and each breach.
    assert len(got) == 1
    message = got[0]["json"]["message"]
    assert message.count("- NEW BREACH: ") == sum(in_breach.values())
    assert all(f"[{a}]" in message for a in in_breach)
    assert message.splitlines()[-1] == f"All accounts: {week / 'index.html'}"
