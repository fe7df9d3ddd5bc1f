"""An account as every layer sees it: its identity and its tables (the loading layer fills them).

Kept at the bottom so the engine, the analyses and the views can name the type without
importing the loader that builds it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Account:
    """One seller account: its identity, its tables, and what was missing or odd on loading."""

    account_id: str
    name: str
    marketplace: str | None
    timezone: str
    orders: pd.DataFrame
    feedback: pd.DataFrame
    claims: pd.DataFrame
    chargebacks: pd.DataFrame
    returns: pd.DataFrame
    policy_notices: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)  # file -> the encoding it was read in, if not UTF-8
    path: Path | None = None

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def has(self, what: str) -> bool:
        """Whether an input was supplied: a table (``feedback``) or a column (``orders.carrier``)."""
        return what not in self.missing


@dataclass
class Portfolio:
    """Every account under a data root, plus the folders that failed to load and why."""

    root: Path
    accounts: dict[str, Account]
    failures: dict[str, str]
