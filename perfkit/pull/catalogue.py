"""The reports perfkit pulls and Amazon's endpoints: read from ``amazon.toml`` (data, not code)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class ReportKind:
    """One report type of the Reports API and the file perfkit keeps it in."""

    kind: str
    type: str
    file: str
    dated: bool
    key: tuple[str, ...]
    settle_days: int
    restricted: bool


@cache
def _data() -> dict:
    return tomllib.loads(resources.files("perfkit.pull").joinpath("amazon.toml").read_text(encoding="utf-8"))


def kinds() -> dict[str, ReportKind]:
    """Every report perfkit pulls, by its short name (orders, feedback, ...)."""
    return {name: ReportKind(name, spec["type"], spec["file"], bool(spec["dated"]), tuple(spec["key"]),
                             int(spec["settle_days"]), bool(spec["restricted"]))
            for name, spec in _data()["reports"].items()}


def endpoint(region: str) -> str:
    return _data()["endpoints"][region]


def token_url() -> str:
    return _data()["endpoints"]["token_url"]


def region_of(marketplace: str | None) -> str | None:
    """NA, EU or FE for a marketplace code (US, DE, JP, ...); None when unknown."""
    mp = (marketplace or "").upper()
    return next((region for region, codes in _data()["regions"].items() if mp in codes), None)


def regions() -> tuple[str, ...]:
    return tuple(_data()["regions"])


def pull_defaults() -> dict[str, float]:
    return dict(_data()["pull"])
