"""The policy: thresholds, windows and counting rules, read from one TOML file.

The shipped default is ``perfkit/core/policy.toml``. A user's own file (same keys) replaces it
wholesale with ``--policy FILE`` or ``policy=`` in the Python API, so Amazon changing a target
is an edit to data, never to code.
"""
from __future__ import annotations

import functools
from collections.abc import Collection

import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path

from perfkit.core.errors import PerfkitError

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
class PoaRules:
    """The thresholds the Plan of Action's evidence tests use ([poa] in the policy file)."""

    # tracking ids that are no tracking at all (compared in lower case)
    tracking_placeholders: frozenset[str] = frozenset({"", "n/a", "na", "-", "0", "none", "null", "tbd"})
    # marketplace -> carriers Amazon integrates there (lower case); a marketplace not listed: not tested
    integrated_carriers: dict[str, frozenset[str]] = field(default_factory=dict)
    # a carrier or category "stands out" when a one-sided Fisher test puts its defects above the rest's
    # share at this significance level
    significance: Fraction = Fraction(1, 20)
    # a shipment confirmed less than this many hours after its ship-by deadline was confirmed late, not
    # shipped late
    late_confirmation_hours: int = 24
    # a parcel delivered at most this many days after its promised date points to a promise tighter than
    # the carrier's transit time, not to a lost parcel
    near_miss_days: int = 1


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
    notice_lookback_days: int = 180
    poa: PoaRules = field(default_factory=PoaRules)
    source: str = field(default="default")

    def __getitem__(self, metric_id: str) -> MetricPolicy:
        return self.metrics[metric_id]


def _decimal_text(value: Fraction) -> str:
    """Write a fraction with a terminating decimal expansion exactly (1/100 -> 0.01)."""
    text = f"{float(value):.10f}".rstrip("0").rstrip(".")
    return text if Fraction(text) == value else str(value)


def _fraction(raw: object, where: str) -> Fraction:
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


def _whole(raw: object, where: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi] (TOML's true is not 1)."""
    if isinstance(raw, bool) or not isinstance(raw, int) or not lo <= raw <= hi:
        raise PerfkitError(f"{where}: {raw!r} must be a whole number from {lo} to {hi}")
    return raw


def _listed(raw: object, where: str, kind: type, allowed: Collection | None = None) -> list:
    """A TOML list of ``kind`` values (a string is not a list of its letters)."""
    if not isinstance(raw, list) or any(isinstance(v, bool) or not isinstance(v, kind) for v in raw):
        example = '["denied"]' if kind is str else "[1, 2]"
        raise PerfkitError(f"{where}: {raw!r} must be a list of {'text' if kind is str else 'whole numbers'}, "
                           f"like {example}")
    bad = [v for v in raw if allowed is not None and v not in allowed]
    if bad:
        raise PerfkitError(f"{where}: {bad[0]!r} is not allowed; choose from {', '.join(map(str, allowed))}")
    return raw


def _text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise PerfkitError(f"{where}: {raw!r} must be non-empty text")
    return raw


METRIC_KEYS = {"name_en", "name_zh", "window", "lag", "target", "value", "warn", "segments", "numerator", "maturing"}
SECTIONS = {"counting": {"claim_statuses_not_counted", "negative_ratings", "chargeback_kinds_not_counted",
                         "business_days", "return_response_hours"},
            "forecast": {"pace_days", "horizon_days"}, "compliance": {"lookback_days"}, "metrics": None,
            "poa": {"tracking_placeholders", "integrated_carriers", "significance", "late_confirmation_hours",
                    "near_miss_days"}}


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
        raise PerfkitError(f"{here} target {target!r} must be one of {', '.join(TARGET_OPS)}")
    if "window" not in raw:
        raise PerfkitError(f"{here} has no window; give its length in days, like window = 60")
    window = _whole(raw["window"], f"{here} window", 1, 3650)
    lag = _whole(raw.get("lag", 0), f"{here} lag", 0, 365)
    value = warn = None
    if target != "info":
        if "value" not in raw:
            raise PerfkitError(f"{here} has target '{target}' but no value")
        value = _fraction(raw["value"], f"{here} value")
        warn = _fraction(raw["warn"], f"{here} warn") if "warn" in raw else None
        if warn is not None and (warn > value if target == "<" else warn < value):
            raise PerfkitError(f"{here} warn {raw['warn']!r} must lie on the safe side of value {raw['value']!r} "
                               f"({'at most' if target == '<' else 'at least'} the value)")
    numerator = raw.get("numerator", "good" if target == ">" else "defects")
    if numerator not in ("good", "defects"):
        raise PerfkitError(f"{here} numerator must be 'good' or 'defects'")
    maturing = raw.get("maturing", False)
    if not isinstance(maturing, bool):
        raise PerfkitError(f"{here} maturing must be true or false")
    name_en = _text(raw.get("name_en", metric_id), f"{here} name_en")
    return MetricPolicy(
        id=metric_id,
        name_en=name_en,
        name_zh=_text(raw.get("name_zh", name_en), f"{here} name_zh"),
        window=window,
        lag=lag,
        target=target,
        value=value,
        warn=warn,
        segments=tuple(_listed(raw.get("segments", ["all"]), f"{here} segments", str)),
        numerator=numerator,
        maturing=maturing,
    )


def default_policy_text() -> str:
    """The default policy file's text: a starting point for a user's own policy."""
    return resources.files("perfkit.core").joinpath("policy.toml").read_text(encoding="utf-8")


def read_policy(path: str | Path | None = None) -> Policy:
    """Read a policy file and check its values (the engine's ``load_policy`` also checks it
    against the metric declarations).

    Parameters
    ----------
    path : str or Path, optional
        A TOML file with the keys of ``perfkit/core/policy.toml``; ``None`` reads that default.

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
        from perfkit.core.encodings import decode  # the encodings data files may use (UTF-8, UTF-16, GB18030

        text = decode(p.read_bytes(), str(p))
        where = str(p)
    return _parse(text, where)


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
    compliance = raw.get("compliance", {})
    _check_keys(f"{where}: [counting]", counting, SECTIONS["counting"])
    _check_keys(f"{where}: [forecast]", forecast, SECTIONS["forecast"])
    _check_keys(f"{where}: [compliance]", compliance, SECTIONS["compliance"])
    poa = _poa_rules(raw.get("poa", {}), f"{where}: [poa]")
    metrics = {mid: _metric(mid, m, where) for mid, m in raw.get("metrics", {}).items()}
    if not metrics:
        raise PerfkitError(f"{where}: no [metrics.*] tables; copy perfkit/core/policy.toml and edit it")
    here = f"{where}: [counting]"
    return Policy(
        metrics=metrics,
        claim_statuses_not_counted=frozenset(s.lower() for s in _listed(
            counting.get("claim_statuses_not_counted", ["denied", "withdrawn"]),
            f"{here} claim_statuses_not_counted", str)),
        negative_ratings=frozenset(_listed(counting.get("negative_ratings", [1, 2]), f"{here} negative_ratings",
                                           int, range(1, 6))),
        chargeback_kinds_not_counted=frozenset(k.lower() for k in _listed(
            counting.get("chargeback_kinds_not_counted", ["fraud"]), f"{here} chargeback_kinds_not_counted", str,
            ("service", "fraud"))),
        business_days=frozenset(_listed(counting.get("business_days", [0, 1, 2, 3, 4]), f"{here} business_days",
                                        int, range(7)) or _no_days(here)),
        return_response_hours=_whole(counting.get("return_response_hours", 48), f"{here} return_response_hours",
                                     1, 24 * 365),
        pace_days=_whole(forecast.get("pace_days", 30), f"{where}: [forecast] pace_days", 1, 3650),
        horizon_days=_whole(forecast.get("horizon_days", 365), f"{where}: [forecast] horizon_days", 1, 3650),
        notice_lookback_days=_whole(compliance.get("lookback_days", 180), f"{where}: [compliance] lookback_days",
                                    1, 3650),
        poa=poa,
        source=where,
    )


def _poa_rules(raw: object, where: str) -> PoaRules:
    _check_keys(where, raw, SECTIONS["poa"])
    default = PoaRules()
    carriers = raw.get("integrated_carriers", {})
    if not isinstance(carriers, dict):
        raise PerfkitError(f"{where} integrated_carriers must be a table of marketplace = [carriers]")
    significance = _fraction(raw.get("significance", "0.05"), f"{where} significance")
    if not 0 < significance < 1:
        raise PerfkitError(f"{where} significance must lie between 0 and 1, like \"0.05\"")
    return PoaRules(
        tracking_placeholders=frozenset(v.strip().lower() for v in _listed(
            raw.get("tracking_placeholders", sorted(default.tracking_placeholders)),
            f"{where} tracking_placeholders", str)),
        integrated_carriers={m.upper(): frozenset(c.strip().lower() for c in _listed(v, f"{where} integrated_carriers.{m}",
                                                                                     str))
                             for m, v in carriers.items()},
        significance=significance,
        late_confirmation_hours=_whole(raw.get("late_confirmation_hours", 24), f"{where} late_confirmation_hours",
                                       1, 24 * 30),
        near_miss_days=_whole(raw.get("near_miss_days", 1), f"{where} near_miss_days", 0, 60),
    )


def _no_days(where: str) -> list[int]:
    raise PerfkitError(f"{where} business_days is empty; list the working weekdays (0 = Monday ... 6 = Sunday)")
