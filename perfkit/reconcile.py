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

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_write_text
from .errors import DataError
from .loaders import Account
from .metrics import last_data_day, missing_inputs, window_count
from .policy import Policy, resolve_policy
from .units import AccountDays, build_units, date_to_day

ARCHIVE = "amazon-performance"  # sub-folder of the account folder holding imported reports

MARKETPLACE_IDS = {
    "ATVPDKIKX0DER": "US", "A2EUQ1WTGCTBG2": "CA", "A1AM78C64UM0Y8": "MX", "A2Q3Y263D00KWC": "BR",
    "A1F83G8C2ARO7P": "UK", "A1PA6795UKMFR9": "DE", "A13V1IB3VIYZZH": "FR", "APJ6JRA9NG5V4": "IT",
    "A1RKKUPIHCS9HS": "ES", "A1805IZSGTT6HS": "NL", "A2NODRKZP88ZB9": "SE", "A1C3SOZRARQ6R3": "PL",
    "A1VC38T7YXB528": "JP", "A39IBJ37TRP1C6": "AU", "A21TJRUUN4KGV": "IN", "A2VIGQ35RCS4UG": "AE",
    "A19VAU5U5O7RUS": "SG",
}

# (Amazon key path, perfkit metric, segment, numerator keys, denominator keys, counts good units?)
FIELDS = [
    (("orderDefectRate", "mfn"), "odr", "MFN", ("orderWithDefects", "ordersWithDefects"), ("orderCount",), False),
    (("orderDefectRate", "afn"), "odr", "AFN", ("orderWithDefects", "ordersWithDefects"), ("orderCount",), False),
    (("preFulfillmentCancellationRate",), "cancel_rate", "MFN", ("cancellationCount", "cancelledOrderCount"),
     ("orderCount",), False),
    (("validTrackingRate",), "valid_tracking_rate", "MFN", ("validTrackingCount",), ("shipmentCount",), True),
    (("onTimeDeliveryRate",), "on_time_delivery_rate", "MFN", ("onTimeDeliveryCount",),
     ("shipmentCountWithValidTracking", "shipmentCount"), True),
    (("invoiceDefectRate",), "invoice_defect_rate", "MFN", ("invoiceDefect", "invoiceDefectCount"),
     ("orderCount",), False),
]
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
    if isinstance(value, dict):
        value = _get(value, "count", "value")
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value: object) -> pd.Timestamp | None:
    if not value:
        return None
    try:
        return pd.Timestamp(str(value)[:10])
    except ValueError:
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


def read_report(path: str | Path, marketplace: str | None = None) -> tuple[list[AmazonValue], dict]:
    """Amazon's values for one marketplace, plus account-level extras (ahrScore, ahrStatus)."""
    p = Path(path)
    label = str(p)
    if not p.is_file():
        raise DataError(label, "file not found", expected="the JSON of a GET_V2_SELLER_PERFORMANCE_REPORT")
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(label, f"is not JSON ({exc})", expected="the JSON of a GET_V2_SELLER_PERFORMANCE_REPORT") from None
    metrics = _get(data, "performanceMetrics")
    if isinstance(metrics, dict):
        metrics = [metrics]
    if not isinstance(metrics, list) or not metrics:
        raise DataError(label, "has no performanceMetrics list", expected="Amazon's Seller Performance report JSON")
    entry = metrics[0]
    for m in metrics:
        if MARKETPLACE_IDS.get(str(_get(m, "marketplaceId"))) == (marketplace or "").upper():
            entry = m
    values: list[AmazonValue] = []
    for path_keys, metric, segment, num_keys, den_keys, good in FIELDS:
        node = entry
        for k in path_keys:
            node = _get(node, k)
        if isinstance(node, dict):
            v = _value(node, metric, segment, num_keys, den_keys, good)
            if v:
                values.append(v)
    lsr = _get(entry, "lateShipmentRateList")
    nodes = lsr if isinstance(lsr, list) else []
    single = _get(entry, "lateShipmentRate")
    if isinstance(single, dict):
        nodes = nodes + [single]
    seen = set()
    for node in nodes:
        v = _value(node, "late_shipment_rate", "MFN", ("lateShipmentCount", "lateShipmentsCount"), ("orderCount",), False)
        if v is None:
            continue
        days = (v.date_to - v.date_from).days + 1
        v.metric = "late_shipment_rate_30d" if days > 15 else "late_shipment_rate_10d"
        if v.metric not in seen:
            seen.add(v.metric)
            values.append(v)
    ahr = _get(entry, "accountHealthRating") or {}
    extras = {"ahrScore": _get(ahr, "ahrScore"), "ahrStatus": _get(ahr, "ahrStatus"),
              "marketplaceId": _get(entry, "marketplaceId")}
    return values, extras


def _value(node: dict, metric: str, segment: str, num_keys, den_keys, good: bool) -> AmazonValue | None:
    rng = _get(node, "reportingDateRange") or {}
    date_from, date_to = _date(_get(rng, "reportingDateFrom")), _date(_get(rng, "reportingDateTo"))
    if date_from is None or date_to is None:
        return None
    num, den = _count(_get(node, *num_keys)), _count(_get(node, *den_keys))
    rate = _get(node, "rate")
    rate = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None
    if rate is not None and rate > 1:
        rate /= 100  # documented as a percentage; real payloads send a fraction
    if num is not None and den:
        rate = num / den
    status = _get(node, "status")
    return AmazonValue(metric, segment, date_from, date_to, num, den, rate, str(status) if status else None)


def perfkit_window(account: Account, prepared: AccountDays, metric: str, segment: str, lo: int, hi: int,
                   as_of: int) -> tuple[int, int, int]:
    """(numerator, denominator, defects) for units anchored in [lo, hi], known by ``as_of``."""
    units = build_units(prepared, metric)
    mask = units.segments.get(segment)
    if mask is None:
        return 0, 0, 0
    a, e, k = units.anchor[mask], units.enter[mask], units.known[mask]
    days = np.array([as_of])
    window, lag = hi - lo + 1, as_of - hi
    den = int(window_count(a, e, days, window, lag)[0])
    bad = int(window_count(a, np.maximum(e, k), days, window, lag)[0])
    num = den - bad if prepared.policy[metric].counts_good else bad
    return num, den, bad


def _reason(account: Account, metric: str, amazon: AmazonValue, num: int, den: int, last_day) -> str:
    missing = missing_inputs(account, metric)
    if amazon.numerator is None or amazon.denominator is None:
        return "Amazon's report gives no counts for this metric; compare the rates"
    if (num, den) == (amazon.numerator, amazon.denominator):
        return "match"
    reasons = []
    if missing:
        reasons.append("missing input: " + ", ".join(missing))
    if last_day is not None and pd.Timestamp(last_day) < amazon.date_to:
        reasons.append(f"the export ends {pd.Timestamp(last_day).date()}, before Amazon's window does (events not yet exported)")
    if den != amazon.denominator:
        reasons.append(f"{abs(den - amazon.denominator)} {'more' if den > amazon.denominator else 'fewer'} units "
                       "than Amazon counts: orders missing from the export or a different order filter")
    elif num != amazon.numerator:
        if metric.startswith("odr"):
            reasons.append("defect counts differ: feedback, claims or chargebacks not yet exported, or a policy "
                           "difference (claim statuses counted, removed feedback)")
        else:
            reasons.append("defect counts differ: dates in the export (ship, delivery, invoice) differ from Amazon's")
    return "; ".join(reasons) or "unexplained: check the export covers Amazon's window"


def reconcile(account: Account, report: str | Path, policy: Policy | str | Path | None = None,
              keep: bool = True) -> pd.DataFrame:
    """Amazon's values beside perfkit's for the same windows, with the difference and its likely reason."""
    pol = resolve_policy(policy)
    values, extras = read_report(report, account.marketplace)
    if keep and account.path is not None:
        archive_report(account, report, values)
    prepared = AccountDays.build(account, pol)
    last = last_data_day(account)
    rows = []
    for v in values:
        if v.metric not in pol.metrics:
            continue
        lo, hi = date_to_day(v.date_from), date_to_day(v.date_to)
        as_of = hi + pol[v.metric].lag
        num, den, _ = perfkit_window(account, prepared, v.metric, v.segment, lo, hi, as_of)
        rate = num / den if den else None
        rows.append({
            "metric": v.metric, "segment": v.segment, "window_from": v.date_from.date(), "window_to": v.date_to.date(),
            "amazon_numerator": v.numerator, "amazon_denominator": v.denominator, "amazon_rate": v.rate,
            "perfkit_numerator": num, "perfkit_denominator": den, "perfkit_rate": rate,
            "rate_difference": None if rate is None or v.rate is None else rate - v.rate,
            "reason": _reason(account, v.metric, v, num, den, last),
        })
    frame = pd.DataFrame(rows)
    frame.attrs.update(extras)
    return frame


def archive_report(account: Account, report: str | Path, values: list[AmazonValue] | None = None) -> Path:
    """Keep a copy of an imported report in the account folder, named by its reporting date."""
    if values is None:
        values, _ = read_report(report, account.marketplace)
    newest = max((v.date_to for v in values), default=pd.Timestamp.today().normalize())
    target = Path(account.path) / ARCHIVE / f"{newest.date().isoformat()}.json"
    atomic_write_text(target, Path(report).read_text(encoding="utf-8-sig"))
    return target


def official_points(account: Account, policy: Policy | str | Path | None = None) -> pd.DataFrame:
    """Every archived Amazon value, placed on the day Amazon reported it (window end + lag)."""
    pol = resolve_policy(policy)
    folder = Path(account.path) / ARCHIVE if account.path is not None else None
    rows = []
    if folder is not None and folder.is_dir():
        for f in sorted(folder.glob("*.json")):
            try:
                values, _ = read_report(f, account.marketplace)
            except DataError:
                continue
            for v in values:
                lag = pol[v.metric].lag if v.metric in pol.metrics else 0
                rows.append({"as_of": (v.date_to + pd.Timedelta(days=lag)).date(), "metric": v.metric,
                             "segment": v.segment, "rate": v.rate, "numerator": v.numerator,
                             "denominator": v.denominator, "source": f.name})
    return pd.DataFrame(rows, columns=["as_of", "metric", "segment", "rate", "numerator", "denominator", "source"])

