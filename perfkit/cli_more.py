"""Sub-commands registered after the core ones (reconcile, report, poa)."""
from __future__ import annotations


def register(sub) -> None:
    return None
