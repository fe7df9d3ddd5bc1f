"""The policy: thresholds, windows and counting rules, read from one TOML file.

The shipped default is ``perfkit/policy.toml``. A user's own file (same keys) replaces it
wholesale with ``--policy FILE`` or ``policy=`` in the Python API, so Amazon changing a target
is an edit to data, never to code.
"""
from __future__ import annotations

import functools

import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path

from .errors import PerfkitError
from .registry import check_policy

TARGET_OPS = ("<", ">", "info")


@dataclass(frozen=True)
class MetricPolicy:
    """One metric's window, lag, target and warning level."""

    id: str
    name_en: str
    name_zh: str
    window: int
    lag: int
    target: str  # "<", ">" or "info"
    value: Fraction | None
    warn: Fraction | None
    segments: tuple[str, ...]
    numerator: str  # "defects" or "good"
    maturing: bool = False  # an early view, left out of tables unless asked for

    @property
    def counts_good(self) -> bool:
        """True when the reported numerator counts good units (rates judged "above")."""
        return self.numerator == "good"

    def target_text(self) -> str:
        """The target as the CSV contract writes it, e.g. ``< 0.01``; empty for info."""
        if self.target == "info" or self.value is None:
            return ""
        return f"{self.target} {_decimal_text(self.value)}"

    def target_display(self) -> str:
        """The target as people read it, written like the rates beside it: ``< 1%``; empty for info."""
        if self.target == "info" or self.value is None:
            return ""
        return f"{self.target} {float(self.value) * 100:.4g}%"

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Policy:
    """Every metric's policy plus the counting rules shared between metrics."""

    metrics: dict[str, MetricPolicy]
    claim_statuses_not_counted: frozenset[str]
    negative_ratings: frozenset[int]
    chargeback_kinds_not_counted: frozenset[str]
    business_days: frozenset[int]
    return_response_hours: int
    pace_days: int
    horizon_days: int
    source: str = field(default="default")

    def __getitem__(self, metric_id: str) -> MetricPolicy:
        return self.metrics[metric_id]


def _decimal_text(value: Fraction) -> str:
    """Write a fraction with a terminating decimal expansion exactly (1/100 -> 0.01)."""
    text = f"{float(value):.10f}".rstrip("0").rstrip(".")
    return text if Fraction(text) == value else str(value)


def _fraction(raw: object, where: str) -> Fraction:
    try:
        # Strings are exact; a float written without quotes goes through its repr (0.01 -> "0.01").
        return Fraction(str(raw))
    except (ValueError, ZeroDivisionError):
        raise PerfkitError(f"{where}: '{raw}' is not a number; write it like \"0.01\"") from None


METRIC_KEYS = {"name_en", "name_zh", "window", "lag", "target", "value", "warn", "segments", "numerator", "maturing"}
SECTIONS = {"counting": {"claim_statuses_not_counted", "negative_ratings", "chargeback_kinds_not_counted",
                         "business_days", "return_response_hours"},
            "forecast": {"pace_days", "horizon_days"}, "metrics": None}


def _check_keys(where: str, found: object, allowed: set[str]) -> None:
    """A misspelt key would silently keep the default: refuse it instead."""
    if not isinstance(found, dict):
        raise PerfkitError(f"{where} must be a table")
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise PerfkitError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


def _metric(metric_id: str, raw: dict, where: str) -> MetricPolicy:
    here = f"{where}: [metrics.{metric_id}]"
    _check_keys(here, raw, METRIC_KEYS)
    target = raw.get("target", "info")
    if target not in TARGET_OPS:
        raise PerfkitError(f"{here} target '{target}' must be one of {', '.join(TARGET_OPS)}")
    for key in ("window", "lag"):
        if not isinstance(raw.get(key, 0), int) or raw.get(key, 0) < 0:
            raise PerfkitError(f"{here} {key} must be a whole number of days >= 0")
    if raw.get("window", 0) < 1:
        raise PerfkitError(f"{here} window must be at least 1 day")
    value = warn = None
    if target != "info":
        if "value" not in raw:
            raise PerfkitError(f"{here} has target '{target}' but no value")
        value = _fraction(raw["value"], f"{here} value")
        warn = _fraction(raw["warn"], f"{here} warn") if "warn" in raw else None
    numerator = raw.get("numerator", "good" if target == ">" else "defects")
    if numerator not in ("good", "defects"):
        raise PerfkitError(f"{here} numerator must be 'good' or 'defects'")
    return MetricPolicy(
        id=metric_id,
        name_en=str(raw.get("name_en", metric_id)),
        name_zh=str(raw.get("name_zh", raw.get("name_en", metric_id))),
        window=int(raw["window"]),
        lag=int(raw.get("lag", 0)),
        target=target,
        value=value,
        warn=warn,
        segments=tuple(raw.get("segments", ["all"])),
        numerator=numerator,
        maturing=bool(raw.get("maturing", False)),
    )


def default_policy_text() -> str:
    """The default policy file's text: a starting point for a user's own policy."""
    return resources.files("perfkit").joinpath("policy.toml").read_text(encoding="utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """Read a policy file and check it against the metric declarations.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file with the keys of ``perfkit/policy.toml``; ``None`` reads that default.

    Returns
    -------
    Policy
        Raises :class:`PerfkitError` naming the file and key for anything wrong in it.
    """

    if path is None:
        text = default_policy_text()
        where = "default policy"
    else:
        p = Path(path)
        if not p.is_file():
            raise PerfkitError(f"{p}: policy file not found; pass the path of a TOML file")
        text = p.read_text(encoding="utf-8")
        where = str(p)
    return check_policy(_parse(text, where))


@functools.lru_cache(maxsize=32)
def _parse(text: str, where: str) -> Policy:
    """A policy from its TOML text (kept: every account of a batch asks for the same policy)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PerfkitError(f"{where}: not valid TOML ({exc}); fix the file") from None
    _check_keys(where, raw, set(SECTIONS))
    counting = raw.get("counting", {})
    forecast = raw.get("forecast", {})
    _check_keys(f"{where}: [counting]", counting, SECTIONS["counting"])
    _check_keys(f"{where}: [forecast]", forecast, SECTIONS["forecast"])
    metrics = {mid: _metric(mid, m, where) for mid, m in raw.get("metrics", {}).items()}
    if not metrics:
        raise PerfkitError(f"{where}: no [metrics.*] tables; copy perfkit/policy.toml and edit it")
    return Policy(
        metrics=metrics,
        claim_statuses_not_counted=frozenset(
            s.lower() for s in counting.get("claim_statuses_not_counted", ["denied", "withdrawn"])
        ),
        negative_ratings=frozenset(int(r) for r in counting.get("negative_ratings", [1, 2])),
        chargeback_kinds_not_counted=frozenset(
            k.lower() for k in counting.get("chargeback_kinds_not_counted", ["fraud"])
        ),
        business_days=frozenset(int(d) for d in counting.get("business_days", [0, 1, 2, 3, 4])),
        return_response_hours=int(counting.get("return_response_hours", 48)),
        pace_days=int(forecast.get("pace_days", 30)),
        horizon_days=int(forecast.get("horizon_days", 365)),
        source=where,
    )


def resolve_policy(policy: Policy | str | Path | None) -> Policy:
    """A Policy, a path, or None (the default) as a Policy: called at the edges only (CLI,
    explorer, report, public API), which hand the result down."""
    return policy if isinstance(policy, Policy) else load_policy(policy)
