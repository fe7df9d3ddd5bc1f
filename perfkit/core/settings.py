"""Checked values of a settings file (the policy, its sections): exact rates, bounded whole
numbers, lists that are lists, known keys; each refusal names the file and key."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction

from perfkit.core.errors import PerfkitError


def fraction(raw: object, where: str) -> Fraction:
    """A rate between 0 and 1, read exactly."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise PerfkitError(f"{where}: {raw!r} is not a number; write a rate like \"0.01\"")
    try:
        # Strings are exact; a float written without quotes goes through its repr (0.01 -> "0.01").
        value = Fraction(str(raw).strip())
    except (ValueError, ZeroDivisionError):
        raise PerfkitError(f"{where}: {raw!r} is not a number; write a rate like \"0.01\"") from None
    if not 0 <= value <= 1:
        raise PerfkitError(f"{where}: {raw!r} is not a rate between 0 and 1; write 1% as \"0.01\"")
    return value


def whole(raw: object, where: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi] (TOML's true is not 1)."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not lo <= raw <= hi:
        raise PerfkitError(f"{where}: {raw!r} must be a whole number from {lo} to {hi}")
    return raw


def listed(raw: object, where: str, kind: type, allowed: Collection | None = None) -> list:
    """A TOML list of ``kind`` values (a string is not a list of its letters)."""
    if not isinstance(raw, list) or any(isinstance(v, bool) or not isinstance(v, kind) for v in raw):
        example = '["denied"]' if kind is str else "[1, 2]"
        raise PerfkitError(f"{where}: {raw!r} must be a list of {'text' if kind is str else 'whole numbers'}, "
                           f"like {example}")
    bad = [v for v in raw if allowed is not None and v not in allowed]
    if bad:
        raise PerfkitError(f"{where}: {bad[0]!r} is not allowed; choose from {', '.join(map(str, allowed))}")
    return raw


def text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise PerfkitError(f"{where}: {raw!r} must be non-empty text")
    return raw


def check_keys(where: str, found: object, allowed: set[str]) -> None:
    """A misspelt key would silently keep the default: refuse it instead."""
    if not isinstance(found, dict):
        raise PerfkitError(f"{where} must be a table")
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise PerfkitError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


@dataclass(frozen=True)
class Deadlines:
    """The time Amazon gives to answer its notices (policy.toml ``[deadlines]``): a Plan of Action
    after a deactivation or at-risk notice, and, for the metrics made of claims, an A-to-z claim's
    request for information and a chargeback."""

    poa_days: int = 17
    a_to_z_response_hours: int = 72
    chargeback_response_days: int = 7
    claim_metrics: tuple[str, ...] = ("odr",)


def deadlines(raw: object, where: str) -> Deadlines:
    check_keys(where, raw, {"poa_days", "a_to_z_response_hours", "chargeback_response_days", "claim_metrics"})
    d = Deadlines()
    assert isinstance(raw, dict)
    return Deadlines(
        poa_days=whole(raw.get("poa_days", d.poa_days), f"{where} poa_days", 1, 365),
        a_to_z_response_hours=whole(raw.get("a_to_z_response_hours", d.a_to_z_response_hours),
                                    f"{where} a_to_z_response_hours", 1, 24 * 365),
        chargeback_response_days=whole(raw.get("chargeback_response_days", d.chargeback_response_days),
                                       f"{where} chargeback_response_days", 1, 365),
        claim_metrics=tuple(listed(raw.get("claim_metrics", list(d.claim_metrics)), f"{where} claim_metrics", str)),
    )


def claim_statuses(raw: object, where: str, default_known: frozenset[str]) -> tuple[frozenset[str], dict[str, str]]:
    """The known claim statuses and other spellings of them (lower case) -> the known one."""
    check_keys(where, raw, {"known", "spellings"})
    known = frozenset(s.strip().lower() for s in listed(raw.get("known", sorted(default_known)),
                                                         f"{where} known", str))
    spellings = raw.get("spellings", {})
    if not isinstance(spellings, dict):
        raise PerfkitError(f"{where}: spellings must be a table of spelling = status")
    for k, v in spellings.items():
        if not isinstance(v, str) or v.strip().lower() not in known:
            raise PerfkitError(f"{where}.spellings {k!r}: give one of the known statuses ({', '.join(sorted(known))})")
    return known, {k.strip().lower(): v.strip().lower() for k, v in spellings.items()}
