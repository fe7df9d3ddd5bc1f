"""Shared helpers: tiny account folders written from CSV text, counted by hand in each test."""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def write_account(root: Path, account_id: str = "acct", *, tz: str | None = "UTC", name: str | None = None,
                  marketplace: str | None = "US", **tables: str) -> Path:
    """Write ``root/account_id`` with account.json and one CSV per keyword (text is dedented)."""
    folder = root / account_id
    folder.mkdir(parents=True, exist_ok=True)
    meta = {k: v for k, v in {"name": name, "marketplace": marketplace, "timezone": tz}.items() if v}
    (folder / "account.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    for table, text in tables.items():
        filename = table if "." in table else f"{table}.csv"
        (folder / filename).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


def orders_csv(rows: list[str], header: str = "order_id,purchase_date,fulfillment_channel,order_status") -> str:
    return header + "\n" + "\n".join(rows) + "\n"


@pytest.fixture
def account_dir(tmp_path):
    def make(**kwargs) -> Path:
        return write_account(tmp_path, **kwargs)
    return make


@pytest.fixture(autouse=True, scope="session")
def parsed_cache(tmp_path_factory):
    """The parsed-account cache of this test run (commands run from the tests inherit it)."""
    os.environ["PERFKIT_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    return os.environ["PERFKIT_CACHE"]


@pytest.fixture(autouse=True)
def warnings_are_notes(request, parsed_cache):
    """After each hostile-input test: every warning loading wrote into the parsed cache (the CLI's
    and the tests' own loads) was made from the notes' catalogue, none a raw English string, so
    that ``report --lang zh`` can render all of them."""
    yield
    if not request.module.__name__.rpartition(".")[2].startswith("test_bad_inputs"):
        return
    from perfkit.core.notes import CATALOGUE

    raw = []
    for meta in Path(parsed_cache).glob("*/*/meta.json"):
        for w in json.loads(meta.read_text(encoding="utf-8"))["warnings"]:
            if not (isinstance(w, dict) and w.get("key") in CATALOGUE):
                raw.append(w)
    assert raw == [], "warnings not made from the catalogue (core/notes.py)"


@pytest.fixture
def proxy(tmp_path, monkeypatch):
    """A local intercepting HTTPS proxy (tests/receivers.py) that every HTTPS call of this test
    goes through and that answers it itself, never connecting onwards: what it received."""
    from .receivers import intercepting_proxy

    started = intercepting_proxy(tmp_path)
    if started is None:
        pytest.skip("openssl is needed to make the proxy's certificate")
    server, got = started
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
    yield got
    server.shutdown()
