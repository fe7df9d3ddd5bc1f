"""The policy: thresholds, windows and counting rules, read from one TOML file.

The shipped default is ``perfkit/core/policy.toml``. A user's own file (same keys) replaces it
wholesale with ``--policy FILE`` or ``policy=`` in the Python API, so Amazon changing a target
is an edit to data, never to code.
"""
from __future__ import annotations

import codecs
import functools
import re

import tomllib
from dataclasses import dataclass, field, replace
from fractions import Fraction
from importlib import resources
from pathlib import Path

from perfkit.core.errors import PerfkitError
from perfkit.core.settings import Deadlines, claim_statuses, deadlines
from perfkit.core.settings import check_keys as _check_keys
from perfkit.core.settings import fraction as _fraction
from perfkit.core.settings import listed as _listed
from perfkit.core.settings import text as _text
from perfkit.core.settings import whole as _whole

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
    # How the account's marketplace judges it: "enforced" (ok / at_risk / breach) or "advisory"
    # (Amazon recommends the target and takes no action: ok / advisory). See Policy.for_marketplace.
    mode: str = "enforced"
    # Below this many units in the window the marketplace does not judge the value (status too_few).
    min_units: int = 0

    @property
    def advisory(self) -> bool:
        """True when Amazon only recommends this target in the account's marketplace."""
        return self.mode == "advisory"

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

    # (tracking placeholders and untracked carriers are the counting rules': Policy.tracking_placeholders)
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
    # An account whose last order is this many weeks before the report's day (or the newest account's) is stale.
    stale_weeks: int = 2
    # Per marketplace code ("DE", "JP", or "default"), the encodings a file that is not UTF-8 may be in.
    encodings: dict[str, tuple[str, ...]] = field(default_factory=dict)
    poa: PoaRules = field(default_factory=PoaRules)
    source: str = field(default="default")
    # Tracking ids that are no tracking (compared lower case, stripped) and carriers Amazon cannot track.
    tracking_placeholders: frozenset[str] = frozenset({"", "n/a", "na", "-", "0", "none", "null", "tbd"})
    untracked_carriers: frozenset[str] = frozenset({"other"})
    # Carrier (lower case) -> the published formats its ids must match (tracking-numbers' courier names).
    tracking_formats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Per metric, how each marketplace judges it ([marketplaces.<metric>] in the policy file).
    marketplaces: dict[str, MarketRule] = field(default_factory=dict)
    # Set by for_marketplace: the marketplace these metrics are judged for (None: as written, all
    # enforced) and the metrics Amazon does not compute there (no rows).
    marketplace: str | None = None
    not_applicable: frozenset[str] = frozenset()
    # The time Amazon gives to answer its notices ([deadlines]): the alerts name it on a new breach.
    deadlines: Deadlines = field(default_factory=lambda: Deadlines())
    # Claim statuses perfkit knows, and other spellings of them (lower case) -> the known one.
    claim_statuses_known: frozenset[str] = frozenset({"pending", "granted", "denied", "withdrawn", "closed"})
    claim_status_spellings: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, metric_id: str) -> MetricPolicy:
        return self.metrics[metric_id]

    def for_marketplace(self, marketplace: str | None) -> Policy:
        """The policy as one marketplace applies it: each metric enforced, advisory (with its
        recommended target) or left out (not applicable). ``None`` (no marketplace known): every
        metric as written, all enforced."""
        if marketplace is None or not self.marketplaces:
            return self
        market = MARKET_ALIASES.get(marketplace.upper(), marketplace.upper())
        metrics: dict[str, MetricPolicy] = {}
        absent: set[str] = set()
        for mid, mp in self.metrics.items():
            rule = self.marketplaces.get(_judged_as(mid, self.metrics))
            mode = rule.mode(market) if rule is not None else "enforced"
            if mode == "not_applicable":
                absent.add(mid)
                continue
            value = rule.values.get(mode) if rule is not None else None
            warn = rule.warns.get(mode) if rule is not None else None
            metrics[mid] = replace(mp, mode=mode, value=value if value is not None else mp.value,
                                   warn=warn if warn is not None else (None if value is not None else mp.warn),
                                   min_units=rule.minimums.get(market, 0) if rule is not None else 0)
        return replace(self, metrics=metrics, marketplace=market, not_applicable=frozenset(absent))


@dataclass(frozen=True)
class MarketRule:
    """How Amazon judges one metric per marketplace: the marketplaces that enforce it, those where
    it is advisory and those where it is not computed; ``others`` is the mode of every other
    marketplace. ``values``/``warns`` give a mode its own target (the recommended 97% of advisory
    On-Time Delivery)."""

    enforced: frozenset[str]
    advisory: frozenset[str]
    not_applicable: frozenset[str]
    others: str
    values: dict[str, Fraction] = field(default_factory=dict)
    warns: dict[str, Fraction] = field(default_factory=dict)
    # Marketplace -> the fewest units in the window Amazon judges (fewer: not enforced).
    minimums: dict[str, int] = field(default_factory=dict)

    def mode(self, market: str) -> str:
        for mode, markets in (("enforced", self.enforced), ("advisory", self.advisory),
                              ("not_applicable", self.not_applicable)):
            if market in markets:
                return mode
        return self.others


MODES = ("enforced", "advisory", "not_applicable")
# account.json may say GB for the United Kingdom.
MARKET_ALIASES = {"GB": "UK"}


def _judged_as(metric_id: str, metrics: dict[str, MetricPolicy]) -> str:
    """The metric whose marketplace rule applies: a maturing view follows its metric (odr_early: odr)."""
    base = metric_id.removesuffix("_early")
    return base if base != metric_id and base in metrics else metric_id


def _decimal_text(value: Fraction) -> str:
    """Write a fraction with a terminating decimal expansion exactly (1/100 -> 0.01)."""
    text = f"{float(value):.10f}".rstrip("0").rstrip(".")
    return text if Fraction(text) == value else str(value)


METRIC_KEYS = {"name_en", "name_zh", "window", "lag", "target", "value", "warn", "segments", "numerator", "maturing"}
SECTIONS = {"counting": {"claim_statuses_not_counted", "negative_ratings", "chargeback_kinds_not_counted",
                         "business_days", "return_response_hours", "tracking", "claim_statuses"},
            "forecast": {"pace_days", "horizon_days"}, "compliance": {"lookback_days"}, "data_day": {"stale_weeks"},
            "metrics": None,
            "marketplaces": None, "encodings": None,
            "deadlines": {"poa_days", "a_to_z_response_hours", "chargeback_response_days", "claim_metrics"},
            "poa": {"integrated_carriers", "significance", "late_confirmation_hours",
                    "near_miss_days"}}
MARKET_KEYS = {"enforced", "advisory", "not_applicable", "others", "enforced_value", "enforced_warn",
               "advisory_value", "advisory_warn", "minimum_units"}
MARKET_CODE = re.compile(r"[A-Z]{2}")
UNICODE = ("utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig")  # tried before any candidate


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
        A file in another encoding than UTF-8 is decoded by the engine's ``load_policy`` (the
        encodings module reads its candidates from this module, so it cannot be imported here).

    Returns
    -------
    Policy
        Raises :class:`PerfkitError` naming the file and key for anything wrong in it.
    """
    if path is None:
        return parse_policy(default_policy_text(), "default policy")
    p = Path(path)
    if not p.is_file():
        raise PerfkitError(f"{p}: policy file not found; pass the path of a TOML file")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PerfkitError(f"{p}: not UTF-8; load it with perfkit.load_policy, which reads any encoding") from None
    return parse_policy(text, str(p))


def parse_policy(text: str, where: str) -> Policy:
    """A policy from its TOML text; ``where`` names it in errors."""
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
    data_day = raw.get("data_day", {})
    _check_keys(f"{where}: [counting]", counting, SECTIONS["counting"])
    _check_keys(f"{where}: [forecast]", forecast, SECTIONS["forecast"])
    _check_keys(f"{where}: [compliance]", compliance, SECTIONS["compliance"])
    _check_keys(f"{where}: [data_day]", data_day, SECTIONS["data_day"])
    poa = _poa_rules(raw.get("poa", {}), f"{where}: [poa]")
    metrics = {mid: _metric(mid, m, where) for mid, m in raw.get("metrics", {}).items()}
    if not metrics:
        raise PerfkitError(f"{where}: no [metrics.*] tables; copy perfkit/core/policy.toml and edit it")
    tracking = counting.get("tracking", {})
    _check_keys(f"{where}: [counting.tracking]", tracking, {"placeholders", "untracked_carriers", "formats"})
    formats = tracking.get("formats", {})
    if not isinstance(formats, dict):
        raise PerfkitError(f"{where}: [counting.tracking.formats] must be a table of carrier = [formats]")
    checked = {c.strip().lower(): tuple(_listed(v, f"{where}: [counting.tracking.formats] {c}", str))
               for c, v in formats.items()}
    known, spellings = claim_statuses(counting.get("claim_statuses", {}), f"{where}: [counting.claim_statuses]",
                                      Policy.claim_statuses_known)
    markets = raw.get("marketplaces", {})
    _check_keys(f"{where}: [marketplaces]", markets, set(metrics))
    rules = {mid: _market_rule(metrics[mid], r, f"{where}: [marketplaces.{mid}]") for mid, r in markets.items()}
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
        stale_weeks=_whole(data_day.get("stale_weeks", 2), f"{where}: [data_day] stale_weeks", 1, 520),
        encodings=_encodings(raw.get("encodings", {}), f"{where}: [encodings]"),
        poa=poa,
        source=where,
        tracking_placeholders=frozenset(v.strip().lower() for v in _listed(
            tracking.get("placeholders", sorted(Policy.tracking_placeholders)),
            f"{where}: [counting.tracking] placeholders", str)),
        untracked_carriers=frozenset(v.strip().lower() for v in _listed(
            tracking.get("untracked_carriers", ["other"]), f"{where}: [counting.tracking] untracked_carriers", str)),
        tracking_formats=checked,
        marketplaces=rules,
        deadlines=deadlines(raw.get("deadlines", {}), f"{where}: [deadlines]"),
        claim_statuses_known=known,
        claim_status_spellings=spellings,
    )


def _market_rule(mp: MetricPolicy, raw: dict, here: str) -> MarketRule:
    """One metric's marketplace rule, checked: each marketplace in one list only, targets on the
    metric's own side."""
    _check_keys(here, raw, MARKET_KEYS)
    lists = {m: frozenset(x.strip().upper() for x in _listed(raw.get(m, []), f"{here} {m}", str)) for m in MODES}
    for a, b in (("enforced", "advisory"), ("enforced", "not_applicable"), ("advisory", "not_applicable")):
        both = sorted(lists[a] & lists[b])
        if both:
            raise PerfkitError(f"{here}: marketplace {both[0]!r} is both {a} and {b}; list it once")
    others = raw.get("others", "enforced")
    if others not in MODES:
        raise PerfkitError(f"{here} others {others!r} must be one of {', '.join(MODES)}")
    values: dict[str, Fraction] = {}
    warns: dict[str, Fraction] = {}
    for mode in ("enforced", "advisory"):
        if f"{mode}_value" in raw:
            if mp.target == "info":
                raise PerfkitError(f"{here} {mode}_value: {mp.id} has no target to replace")
            values[mode] = _fraction(raw[f"{mode}_value"], f"{here} {mode}_value")
        if f"{mode}_warn" in raw:
            warns[mode] = _fraction(raw[f"{mode}_warn"], f"{here} {mode}_warn")
            value = values.get(mode, mp.value)
            if value is not None and (warns[mode] > value if mp.target == "<" else warns[mode] < value):
                raise PerfkitError(f"{here} {mode}_warn must lie on the safe side of the {mode} target")
    minimums = raw.get("minimum_units", {})
    if not isinstance(minimums, dict):
        raise PerfkitError(f"{here} minimum_units must be a table of marketplace = units, e.g. {{ UK = 20 }}")
    least = {MARKET_ALIASES.get(k.strip().upper(), k.strip().upper()): _whole(v, f"{here} minimum_units {k}", 1, 10**9)
             for k, v in minimums.items()}
    return MarketRule(lists["enforced"], lists["advisory"], lists["not_applicable"], others, values, warns, least)


def _encodings(raw: object, where: str) -> dict[str, tuple[str, ...]]:
    """Each marketplace's candidate encodings: known codecs, in order of preference, with a default."""
    if not isinstance(raw, dict):
        raise PerfkitError(f"{where} must be a table of marketplace = [encodings]")
    table: dict[str, tuple[str, ...]] = {}
    for market, names in raw.items():
        if market != "default" and not MARKET_CODE.fullmatch(market):
            raise PerfkitError(f"{where}: {market!r} is not a marketplace code; write DE, JP, ... or default")
        here = f"{where} {market}"
        listed = _listed(names, here, str)
        if not listed:
            raise PerfkitError(f"{here} is empty; list at least one encoding, like [\"cp1252\"]")
        for name in listed:
            try:
                found = codecs.lookup(name).name
            except LookupError:
                raise PerfkitError(f"{here}: {name!r} is not an encoding Python knows; "
                                   "write cp1252, cp932, gb18030, ...") from None
            if found in UNICODE:
                raise PerfkitError(f"{here}: {name!r} is always tried first; list only legacy encodings")
        table[market] = tuple(codecs.lookup(n).name for n in listed)
    if table and "default" not in table:
        raise PerfkitError(f"{where} has no default; add default = [...] for accounts without a listed marketplace")
    return table


def encoding_candidates(marketplace: str | None, table: dict[str, tuple[str, ...]] | None = None) -> tuple[str, ...]:
    """The encodings a data file that is not UTF-8 may be in, for an account of ``marketplace``
    (``table``: a policy's ``[encodings]``, by default the default policy's; GB is UK), most likely first."""
    table = read_policy().encodings if table is None else table
    market = (marketplace or "").upper()
    market = MARKET_ALIASES.get(market, market)
    return table.get(market) or table.get("default", ())


def _poa_rules(raw: object, where: str) -> PoaRules:
    if isinstance(raw, dict) and "tracking_placeholders" in raw:  # an older policy file: say where it went
        raise PerfkitError(f"{where} tracking_placeholders has moved: list the placeholders once, as "
                           "placeholders in [counting.tracking] (the metric and the POA both read it)")
    _check_keys(where, raw, SECTIONS["poa"])
    carriers = raw.get("integrated_carriers", {})
    if not isinstance(carriers, dict):
        raise PerfkitError(f"{where} integrated_carriers must be a table of marketplace = [carriers]")
    significance = _fraction(raw.get("significance", "0.05"), f"{where} significance")
    if not 0 < significance < 1:
        raise PerfkitError(f"{where} significance must lie between 0 and 1, like \"0.05\"")
    return PoaRules(
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
