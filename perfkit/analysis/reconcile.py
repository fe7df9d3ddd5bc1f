"""Compare perfkit with Amazon's own Seller Performance report (GET_V2_SELLER_PERFORMANCE_REPORT).

Amazon's report holds only the current window of each metric. perfkit recomputes each value for
exactly Amazon's window, shows both with the difference and its likely reason, and keeps the
imported report by date so charts can plot Amazon's official points over perfkit's daily line.

Real payloads are loose: ``rate`` is a fraction although documented as a percentage, required
keys can be missing, undocumented keys appear (``ahrScore``, ``lateShipmentRateList``) and some
keys are spelled differently. Keys are therefore matched ignoring case and punctuation, with
known alternative spellings, and counts are preferred over ``rate``.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfkit.engine import registry
from perfkit.core.atomic import atomic_write_text
from perfkit.engine.context import AccountContext
from perfkit.engine.dates import date_to_day, day_to_date
from perfkit.core.errors import DataError
from perfkit.core.notes import Note
from perfkit.analysis.amazon_json import load_json, validate
from perfkit.analysis.health import EXPECTED, Health, health_history, kept_reports, read_health
from perfkit.core.encodings import decode
from perfkit.core.account import Account
from perfkit.engine.metrics import segment_values
from perfkit.core.policy import MetricPolicy, Policy

ARCHIVE = "amazon-performance"  # sub-folder of the account folder holding imported reports

MARKETPLACE_IDS = {
    "ATVPDKIKX0DER": "US", "A2EUQ1WTGCTBG2": "CA", "A1AM78C64UM0Y8": "MX", "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "UK", "A1PA6795UKMFR9": "DE", "A13V1IB3VIYZZH": "FR", "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES", "A1805IZSGTT6HS": "NL", "A2NODRKZP88ZB9": "SE", "A1C3SOZRARQ6R3": "PL",
    "A1VC38T7YXB528": "JP", "A39IBJ37TRP1C6": "AU", "A21TJRUUN4KGV": "IN", "A2VIGQ35RCS4UG": "AE",
    "A19VAU5U5O7RUS": "SG", "A28R8C7NBKEWEA": "IE", "AMEN7PMS3EDWL": "BE", "AE08WJ6YKNBMC": "ZA",
    "ARBP9OOSHTCHU": "EG", "A33AVAJ2PDY3EV": "TR", "A17E79C6D8DWNP": "SA",
}

ALIASES = {"prefulfillmentcancellationrate": ["prefulfillmentcancelrate", "cancellationrate"],
           "ontimedeliveryrate": ["otdrate", "ontimedelivery"],
           "validtrackingrate": ["vtr", "validtracking"]}


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def _get(obj: object, *keys: str) -> object:
    """The first of ``keys`` present in a dict, ignoring case and punctuation."""
    if not isinstance(obj, dict):
        return None
    table = {_norm(k): v for k, v in obj.items()}
    for key in keys:
        for alt in [_norm(key)] + ALIASES.get(_norm(key), []):
            if alt in table:
                return table[alt]
    return None


def _count(value: object) -> int | None:
    """A count, None when absent; a count that is not a whole number >= 0 is a ValueError."""
    if isinstance(value, dict):
        value = _get(value, "count", "value")
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(Note("count_not_number", value=repr(value))) from None
    if not np.isfinite(number) or number < 0 or number != int(number):
        raise ValueError(Note("count_not_whole", value=repr(value)))
    return int(number)


def _why(exc: ValueError) -> str:
    """A value's refusal as its note (so a page renders it in its language), else its message."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], Note) else str(exc)


def _skip_reason(name: str, exc: Exception) -> str:
    """Why the kept report ``name`` is left out: a note when perfkit refused it with one, else
    the error's English (``explain``'s line for an unexpected failure has no Chinese)."""
    if (isinstance(exc, DataError) and isinstance(exc.problem, Note) and isinstance(exc.expected, Note)
            and not (exc.rows or exc.column or exc.found)):
        return Note("kept_refused", name=name, label=exc.file, problem=exc.problem, expected=exc.expected)
    return f"{name}: {exc}"


def _check(v: AmazonValue, label: str) -> AmazonValue:
    """Refuse a value Amazon cannot have sent: a window ending before it starts or outside the
    years of any data, more defects than units, a rate that is not a finite share."""
    where = {"metric": v.metric, "segment": v.segment, "lo": str(v.date_from.date()), "hi": str(v.date_to.date())}
    problem = _possible(v.date_from, v.date_to)
    if problem:
        raise DataError(label, Note("window_refused", **where, problem=problem), expected=EXPECTED)
    if v.rate is not None and not (np.isfinite(v.rate) and 0 <= v.rate <= 1):
        raise DataError(label, Note("rate_not_share", **where, rate=repr(v.rate)), expected=EXPECTED)
    return v


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?")


def _date(value: object, tz: str = "UTC") -> pd.Timestamp | None:
    """A reporting date as the account's local day: an instant with an offset (Amazon writes
    ``2026-01-31T08:00:00Z``) is converted to the account's zone first; a bare date is that day.
    None when absent; anything but an ISO date or instant ("today", "31/01/2026") is a ValueError,
    never read as some day of pandas' choosing."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value.strip()):
        raise ValueError(Note("date_not_iso", value=repr(str(value)[:40])))
    try:
        stamp = pd.Timestamp(value.strip())
    except ValueError:
        raise ValueError(Note("date_not_real", value=repr(value[:40]))) from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(tz).tz_localize(None)
    return stamp.normalize()


def _possible(lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> Note | None:
    """Why a reporting range cannot be Amazon's (None when it can): Amazon reports past days only."""
    if lo is not None and hi is not None and lo > hi:
        return Note("window_backwards")
    if (lo is not None and lo.year < 2000) or (hi is not None and hi > pd.Timestamp.now() + pd.Timedelta(days=2)):
        return Note("window_impossible")
    return None


@dataclass
class AmazonValue:
    metric: str
    segment: str
    date_from: pd.Timestamp
    date_to: pd.Timestamp
    numerator: int | None
    denominator: int | None
    rate: float | None
    status: str | None


def read_report(path: str | Path, marketplace: str | None, policy: Policy,
                tz: str = "UTC") -> tuple[list[AmazonValue], dict]:
    """Amazon's values for one marketplace, plus account-level extras: ahrScore, ahrStatus,
    marketplaceId and ``health`` (:class:`perfkit.analysis.health.Health`: AHR and policy compliance).

    Reporting windows given as instants are read as days of the account's zone ``tz``.

    Every metric of the policy whose declaration names Amazon keys (:class:`registry.AmazonField`)
    is read; a metric Amazon reports over several windows takes the node whose window is
    closest to the policy's.
    """
    p = Path(path)
    label = str(p)
    if not p.is_file():
        raise DataError(label, "file not found", expected="the JSON of a GET_V2_SELLER_PERFORMANCE_REPORT")
    data = load_json(p.read_bytes(), label)
    warnings = validate(data, label)  # a wrong type is refused here, before anything is read or kept
    metrics = _get(data, "performanceMetrics")
    if not isinstance(metrics, list) or not metrics:
        raise DataError(label, Note("no_metrics_list"), expected=Note("expected_sp_report_json"))
    entry = _entry(metrics, marketplace, label)
    values: list[AmazonValue] = []
    for metric_id, fields in _fields(policy).items():
        for f in fields:
            try:
                value = _read_field(entry, f, metric_id, policy, tz)
            except ValueError as exc:
                raise DataError(label, Note("field_refused", metric=metric_id, segment=f.segment, why=_why(exc)),
                                expected=EXPECTED) from None
            if value is not None:
                values.append(_check(value, label))
    def read_range(node: dict, key: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        rng = _get(node, "reportingDateRange") or {}
        try:
            lo, hi = _date(_get(rng, "reportingDateFrom"), tz), _date(_get(rng, "reportingDateTo"), tz)
        except ValueError as exc:
            raise DataError(label, Note("range_refused", node=key, why=_why(exc)), expected=EXPECTED) from None
        problem = _possible(lo, hi)
        if problem and lo is not None and hi is not None and lo > hi and hi <= pd.Timestamp.now():
            # Amazon's own published example has such a block (documentRequest): its count is
            # still Amazon's, only the range is unusable, so keep the count and say so
            warnings.append(f"{label}: {key}: {problem} ({lo.date()}..{hi.date()}); its count is kept, its range is not")
            return None, None
        if problem:
            raise DataError(label, Note("range_impossible", node=key, problem=problem, lo=str(lo and lo.date()),
                                         hi=str(hi and hi.date())), expected=EXPECTED)
        return lo, hi

    health = read_health(entry, label, _get, read_range)
    if not values and not health.blocks and health.ahr_score is None and not health.ahr_status:
        raise DataError(label, Note("entry_empty"),
                        expected=EXPECTED)
    warnings += [_disagreement(v, label) for v in values if _disagreement(v, label)]
    mid = _get(entry, "marketplaceId")
    if marketplace and not mid:
        # An entry that names no marketplace may be any marketplace's: refused, never compared.
        raise DataError(label, Note("entry_no_marketplace", marketplace=marketplace.upper()), expected=EXPECTED)
    extras = {"ahrScore": health.ahr_score, "ahrStatus": health.ahr_status, "marketplaceId": mid, "health": health,
              "accountStatus": _account_status(data, mid), "warnings": warnings}
    return values, extras


def _entry(metrics: list, marketplace: str | None, label: str) -> dict:
    """The entry of the account's marketplace; a report without one is refused, never compared."""
    codes = [MARKETPLACE_IDS.get(str(_get(m, "marketplaceId")), str(_get(m, "marketplaceId"))) for m in metrics]
    wanted = (marketplace or "").upper()
    if wanted and wanted in codes:
        return metrics[codes.index(wanted)]
    named = [c for c in codes if c != "None"]
    if wanted and named:
        raise DataError(label, Note("wrong_marketplace", named=", ".join(sorted(set(named))), wanted=wanted),
                        expected=EXPECTED)
    if not wanted and len(metrics) > 1:
        raise DataError(label, Note("many_marketplaces", n=len(metrics), named=", ".join(named)), expected=EXPECTED)
    return metrics[0]


def _account_status(data: object, marketplace_id: object) -> str | None:
    """The account's status (NORMAL, AT_RISK, DEACTIVATED) in the entry's marketplace."""
    statuses = _get(data, "accountStatuses")
    for s in statuses if isinstance(statuses, list) else []:
        if isinstance(s, dict) and (marketplace_id is None or _get(s, "marketplaceId") == marketplace_id):
            return _get(s, "status") if isinstance(_get(s, "status"), str) else None
    return None


def _disagreement(v: AmazonValue, label: str) -> str | None:
    """Where Amazon's own figures disagree (more defects than units, counts against the rate):
    kept as Amazon wrote them, with a warning, since the user cannot fix Amazon's file."""
    where = f"{label}: {v.metric} ({v.segment}) {v.date_from.date()}..{v.date_to.date()}"
    if v.numerator is not None and v.denominator is not None and v.numerator > v.denominator:
        return f"{where}: Amazon's report counts {v.numerator} of {v.denominator} units; its rate {v.rate} is used"
    if v.numerator is not None and v.denominator and v.rate is not None \
            and abs(v.numerator / v.denominator - v.rate) > 0.0005:
        return (f"{where}: Amazon's counts {v.numerator}/{v.denominator} = {v.numerator / v.denominator:.4f} "
                f"disagree with its rate {v.rate}; the counts are compared")
    return None


def _fields(policy: Policy) -> dict[str, tuple[registry.AmazonField, ...]]:
    """The Amazon keys of every metric of the policy that has any."""
    return {m: registry.METRICS[m].amazon for m in policy.metrics if m in registry.METRICS and registry.METRICS[m].amazon}


def _read_field(entry: dict, f: registry.AmazonField, metric_id: str, policy: Policy,
                tz: str = "UTC") -> AmazonValue | None:
    node = entry
    for k in f.path:
        node = _get(node, k)
    nodes = [node] if isinstance(node, dict) else []
    if f.listed:
        listed = _get(entry, f.listed)
        nodes = (listed if isinstance(listed, list) else []) + nodes
    # Metrics sharing these keys (late shipment over 10 and 30 days) each take the closest window.
    rivals = {m: policy[m].window for m, fs in _fields(policy).items() if f in fs}
    for n in nodes:
        v = _value(n, metric_id, f.segment, f.numerator, f.denominator, tz) if isinstance(n, dict) else None
        if v is None:
            continue
        days = (v.date_to - v.date_from).days + 1
        if min(rivals, key=lambda m: (abs(rivals[m] - days), m)) == metric_id:
            return v
    return None


def _value(node: dict, metric: str, segment: str, num_keys, den_keys, tz: str = "UTC") -> AmazonValue | None:
    rng = _get(node, "reportingDateRange") or {}
    date_from, date_to = _date(_get(rng, "reportingDateFrom"), tz), _date(_get(rng, "reportingDateTo"), tz)
    if date_from is None or date_to is None:
        return None
    num, den = _count(_get(node, *num_keys)), _count(_get(node, *den_keys))
    rate = _get(node, "rate")
    rate = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None
    if rate is not None and not np.isfinite(rate):
        raise ValueError(Note("rate_not_finite", value=repr(rate)))
    if rate is not None and rate > 1:
        rate /= 100  # documented as a percentage; real payloads send a fraction
    if num is not None and den and num <= den:
        rate = num / den
    status = _get(node, "status")
    return AmazonValue(metric, segment, date_from, date_to, num, den, rate, str(status) if status else None)


def perfkit_window(ctx: AccountContext, mp: MetricPolicy, segment: str, lo: int, hi: int,
                   as_of: int) -> tuple[int, int, int]:
    """(numerator, denominator, defects) of the engine for units anchored in [lo, hi], known by ``as_of``."""
    units = ctx.units(mp)
    if segment not in units.segments:
        return 0, 0, 0
    amazon_window = dataclasses.replace(mp, window=hi - lo + 1, lag=as_of - hi)
    for block in segment_values(amazon_window, units, np.array([as_of], dtype=np.int64)):
        if block["segment"] == segment:
            return int(block["numerator"][0]), int(block["denominator"][0]), int(block["defects"][0])
    return 0, 0, 0


def _reason(ctx: AccountContext, metric: str, amazon: AmazonValue, num: int, den: int) -> str:
    missing = ctx.missing_inputs(metric)
    last_day = ctx.last_day
    if amazon.numerator is None or amazon.denominator is None:
        return "Amazon's report gives no counts for this metric; compare the rates"
    if (num, den) == (amazon.numerator, amazon.denominator):
        return "match"
    reasons = []
    if missing:
        reasons.append("missing input: " + ", ".join(missing))
    reasons += _coverage(ctx, amazon)
    if last_day is not None and pd.Timestamp(last_day) < amazon.date_to:
        reasons.append(f"the export ends {pd.Timestamp(last_day).date()}, before Amazon's window does (events not yet exported)")
    if den != amazon.denominator:
        reasons.append(f"perfkit counts {abs(den - amazon.denominator)} {'more' if den > amazon.denominator else 'fewer'} "
                       f"units than Amazon ({den} against {amazon.denominator}): orders missing from the export or "
                       "a different order filter")
    elif num != amazon.numerator:
        side = (f"perfkit counts {abs(num - amazon.numerator)} {'more' if num > amazon.numerator else 'fewer'} "
                f"than Amazon ({num} against {amazon.numerator})")
        if registry.family(metric) == "odr":
            reasons.append(f"defect counts differ, {side}: feedback, claims or chargebacks not yet exported, or a "
                           "policy difference (claim statuses counted, removed feedback)")
        else:
            reasons.append(f"counts differ, {side}: dates in the export (ship, delivery, invoice) differ from Amazon's")
    return "; ".join(reasons) or "unexplained: check the export covers Amazon's window"


def _coverage(ctx: AccountContext, amazon: AmazonValue) -> list[str]:
    """Whether the export's orders cover Amazon's window at all (by purchase day)."""
    span = ctx.purchase_span
    if span is None:
        return ["the export has no dated orders: it cannot cover Amazon's window"]
    first, last = (day_to_date(d) for d in span)
    if last < amazon.date_from or first > amazon.date_to:
        return [f"the export's orders ({first.date()}..{last.date()}) lie wholly outside Amazon's window"]
    if first > amazon.date_from:
        return [f"the export's orders start {first.date()}, after Amazon's window does"]
    return []


def reconcile(ctx: AccountContext, report: str | Path, keep: bool = True) -> pd.DataFrame:
    """Amazon's values beside perfkit's for the same windows, with the difference and its likely reason.

    Parameters
    ----------
    ctx : AccountContext
        The account and policy.
    report : str or Path
        A GET_V2_SELLER_PERFORMANCE_REPORT JSON file.
    keep : bool
        Archive the report in the account folder (its history feeds the charts' Amazon points).

    Returns
    -------
    DataFrame
        One row per Amazon value: its window, Amazon's and perfkit's counts and rates, the
        difference and the likely reason; ``attrs`` holds ahrScore, ahrStatus and marketplaceId.
    """
    account = ctx.account
    values, extras = read_report(report, account.marketplace, ctx.policy, account.timezone)
    if keep and account.path is not None:
        ends = [b.date_to for b in extras["health"].blocks if b.date_to is not None]
        extras["kept"] = archive_report(account, report, values, ends)
    rows = []
    for v in values:
        mp = ctx.policy[v.metric]
        lo, hi = date_to_day(v.date_from), date_to_day(v.date_to)
        num, den, _ = perfkit_window(ctx, mp, v.segment, lo, hi, hi + mp.lag)
        rate = num / den if den else None
        rows.append({
            "metric": v.metric, "segment": v.segment, "window_from": v.date_from.date(), "window_to": v.date_to.date(),
            "amazon_numerator": v.numerator, "amazon_denominator": v.denominator, "amazon_rate": v.rate,
            "perfkit_numerator": num, "perfkit_denominator": den, "perfkit_rate": rate,
            "rate_difference": None if rate is None or v.rate is None else rate - v.rate,
            "reason": _reason(ctx, v.metric, v, num, den),
        })
    frame = pd.DataFrame(rows)
    frame.attrs.update(extras)
    return frame


def archive_report(account: Account, report: str | Path, values: list[AmazonValue],
                   ends: list[pd.Timestamp] = ()) -> Path:
    """Keep a copy of an imported report in the account folder, named by its reporting date (the
    latest end of its rate windows and policy blocks; today when it has none).

    A different report whose windows end on the same day never replaces the kept one: it is kept
    beside it as ``DAY-2.json``, ``DAY-3.json``...; the same bytes again are not kept twice."""
    newest = max([v.date_to for v in values] + list(ends), default=pd.Timestamp.today().normalize())
    raw = Path(report).read_bytes()
    folder, day = Path(account.path) / ARCHIVE, newest.date().isoformat()
    n = 1
    while True:
        target = folder / (f"{day}.json" if n == 1 else f"{day}-{n}.json")
        if not target.exists():
            break
        if target.read_bytes() == raw:
            return target
        n += 1
    atomic_write_text(target, decode(raw, str(report)))
    return target


def kept_health(ctx: AccountContext) -> pd.DataFrame:
    """The Account Health Rating and policy counts of every kept report (see
    :func:`perfkit.analysis.health.health_history`)."""
    account = ctx.account

    def read(path: Path) -> Health:
        return read_report(path, account.marketplace, ctx.policy, account.timezone)[1]["health"]

    return health_history(account.path, account.marketplace, read)


def official_points(ctx: AccountContext) -> pd.DataFrame:
    """Every archived Amazon value, placed on the day Amazon reported it (window end + lag); a kept
    report that cannot be read is left out and named in ``attrs["skipped"]``."""
    account, pol = ctx.account, ctx.policy
    folder = Path(account.path) / ARCHIVE if account.path is not None else None
    rows = []
    skipped: list[str] = []
    if folder is not None and folder.is_dir():
        for f in kept_reports(folder):
            try:
                values, _ = read_report(f, account.marketplace, pol, account.timezone)
            except Exception as exc:  # a kept report that went bad never breaks a chart or a report
                skipped.append(_skip_reason(f.name, exc))
                continue
            for v in values:
                lag = pol[v.metric].lag if v.metric in pol.metrics else 0
                rows.append({"as_of": (v.date_to + pd.Timedelta(days=lag)).date(), "metric": v.metric,
                             "segment": v.segment, "rate": v.rate, "numerator": v.numerator,
                             "denominator": v.denominator, "source": f.name})
    points = pd.DataFrame(rows, columns=["as_of", "metric", "segment", "rate", "numerator", "denominator", "source"])
    points.attrs["skipped"] = skipped  # unreadable kept reports, each with its reason
    return points

