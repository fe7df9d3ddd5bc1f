"""Headless Chromium (Debian's package, never a downloaded build) with the network blocked."""
from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian's chromium is not installed: run `make test` (it installs it) or apt-get install chromium")
    return path


@dataclass
class PageCheck:
    plot_divs: int
    main_svgs: int
    page_errors: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    text: str = ""
    html: str = ""


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, closed when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def only(page, allowed: tuple[str, ...], blocked: list[str]) -> None:
    """Let ``page`` reach only URLs starting with one of ``allowed``; others are aborted and listed."""
    def route(r):
        if r.request.url.startswith(allowed):
            return r.continue_()
        blocked.append(r.request.url)
        return r.abort()

    page.route("**/*", route)


def open_pages(paths: list[Path], wait_ms: int = 1500) -> dict[Path, PageCheck]:
    """Open each file offline; report plots drawn, page errors, blocked requests and any dialog."""
    results = {}
    with chromium() as browser:
        for path in paths:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            check = PageCheck(0, 0)
            page.on("pageerror", lambda e, c=check: c.page_errors.append(str(e)))
            page.on("dialog", lambda d, c=check: (c.dialogs.append(d.message), d.dismiss()))
            only(page, ("file:",), check.blocked_requests)
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            page.wait_for_timeout(wait_ms)
            check.plot_divs = page.locator("div.plotly-graph-div").count()
            # Each drawn plotly chart has exactly one first-level .main-svg inside .svg-container.
            check.main_svgs = page.locator("div.plotly-graph-div .svg-container > svg.main-svg:first-child").count()
            check.text = page.inner_text("body")
            check.html = page.content()
            results[path] = check
            page.close()
    return results
