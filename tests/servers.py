"""JupyterLab (``make lab``) and Voila (``make app``) started as a user starts them, on a free
port, with the project's environment, and a browser page that fails on any JavaScript error.

Causes, POAs and Jupyter's own settings go to the test's temporary folder; JupyterLab's working
copy goes where ``make lab`` puts it (under the git-ignored notebooks/work/, in a folder removed
afterwards); the browser may reach only the local server.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .browser import chromium, only
from .conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str            # the page to open
    log: Path
    tmp: Path
    env: dict = field(default_factory=dict)
    work: Path | None = None   # JupyterLab's working copy folder

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _env(tmp: Path, data: Path | None = None) -> dict:
    cfg = tmp / "jupyter-config"
    # No news prompt: JupyterLab would otherwise ask (and offer to fetch news from the internet).
    (cfg / "labconfig").mkdir(parents=True, exist_ok=True)
    (cfg / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    return {**os.environ, "PERFKIT_CAUSES_DB": str(tmp / "causes.sqlite"), "PERFKIT_REPORTS": str(tmp / "reports"),
            "JUPYTER_CONFIG_DIR": str(cfg), "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "lab-ws"),
            **({"PERFKIT_DATA": str(data)} if data is not None else {})}


@contextlib.contextmanager
def serve(kind: str, tmp: Path, data: Path | None = None) -> Iterator[Server]:
    """``make lab`` or ``make app`` on a free port until the block ends (then the whole process group
    stops); ``data``: the data root the explorer opens (default: the sample)."""
    port, token = free_port(), secrets.token_hex(12)
    env = _env(tmp, data)
    work = None
    if kind == "lab":
        # As a user runs it: the working copy sits where make lab puts it (git-ignored notebooks/work/,
        # here in a folder of its own, removed afterwards), and Jupyter serves the copy's folder.
        work = Path("notebooks") / "work" / f"pytest-{token[:10]}"
        args = (f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 "
                f"--IdentityProvider.token={token} --LabApp.extension_manager=readonly "
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
        cmd = ["make", "-s", "lab", f"WORK={work}", f"LAB_ARGS={args}"]
        url, ready = (f"http://127.0.0.1:{port}/lab/tree/explore.ipynb?token={token}",
                      f"http://127.0.0.1:{port}/api/status?token={token}")
    else:
        args = f"--no-browser --port={port} --Voila.ip=127.0.0.1 --token={token} --show_tracebacks=True"
        cmd = ["make", "-s", "app", f"APP_ARGS={args}"]
        url = ready = f"http://127.0.0.1:{port}/?token={token}"
    log = tmp / f"{kind}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(url, log, tmp, env, ROOT / work if work else None)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"make {kind} exited with {proc.returncode}:\n{server.log_text()[-3000:]}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(ready, timeout=5) as r:
                    if r.status == 200:
                        break
            if time.monotonic() > deadline:
                pytest.fail(f"make {kind} did not answer in 180 s:\n{server.log_text()[-3000:]}")
            time.sleep(0.5)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if work is not None:
            shutil.rmtree(ROOT / work, ignore_errors=True)


@dataclass
class Session:
    """One Chromium page and what went wrong on it."""

    page: object
    shots: Path
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    step: int = 0

    def shot(self, name: str) -> None:
        self.step += 1
        self.page.screenshot(path=str(self.shots / f"{self.step:02d}-{name}.png"))


@contextlib.contextmanager
def browser_page(shots: Path) -> Iterator[Session]:
    """A page in Debian's Chromium that may reach only 127.0.0.1."""
    shots.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        session = Session(page, shots)
        page.on("pageerror", lambda e: session.errors.append(f"page error: {e}"))
        page.on("console", lambda m: session.errors.append(f"console error: {m.text}") if m.type == "error" else None)
        page.on("requestfailed", lambda r: session.errors.append(f"request failed: {r.url} {r.failure}"))
        only(page, ("http://127.0.0.1", "data:", "blob:"), session.blocked)
        try:
            yield session
        except BaseException:
            with contextlib.suppress(Exception):
                session.shot("failed")
            raise
