"""Account Health Rating and policy compliance, as Amazon's Seller Performance report states them.

perfkit cannot compute these from orders: the Account Health Rating (AHR: a score, 0 to 1000,
and a status) and the policy-compliance blocks (IP complaints, authenticity complaints, listing
and restricted-product violations, ...) come only from Amazon's
``GET_V2_SELLER_PERFORMANCE_REPORT``. Each block gives a count of defects over Amazon's
reporting range, a status and a target (``targetValue`` with ``targetCondition``, usually
"at most 0"). Reports kept by ``perfkit reconcile`` give their history.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from perfkit.analysis.amazon_json import plain_text
from perfkit.core.errors import DataError
from perfkit.core.notes import Note
from perfkit.loading.schema import POLICY_CATEGORIES, category_name

EXPECTED = Note("expected_as_downloaded")
AHR_MAX = 1000  # the Account Health Rating runs 0 to 1,000 (Amazon, sellercentral.amazon.co.uk forums t/577933)


@dataclass(frozen=True)
class PolicyBlock:
    """One policy-compliance block: Amazon's count over its reporting range, status and target."""

    key: str
    defects: int | None
    status: str | None
    target_value: float | None
    target_condition: str | None
    date_from: pd.Timestamp | None
    date_to: pd.Timestamp | None

    def name(self, lang: str = "en") -> str:
        return category_name(self.key, lang)

    def breached(self) -> bool | None:
        """Whether the count misses Amazon's target (None when the report gives no target)."""
        if self.defects is None or self.target_value is None:
            return None
        condition = (self.target_condition or "LESS_THAN_OR_EQUAL_TO").upper()
        limit = self.target_value
        meets = {"LESS_THAN": self.defects < limit, "LESS_THAN_OR_EQUAL_TO": self.defects <= limit,
                 "GREATER_THAN": self.defects > limit, "GREATER_THAN_OR_EQUAL_TO": self.defects >= limit,
                 "EQUALS": self.defects == limit}
        return not meets.get(condition, self.defects <= limit)


@dataclass(frozen=True)
class Health:
    """What one report says of the account's health beyond the rates."""

    ahr_score: int | None
    ahr_status: str | None
    blocks: tuple[PolicyBlock, ...]
    warning_states: tuple[str, ...]
    unit_on_time_delivery: dict | None

    def table(self, lang: str = "en") -> pd.DataFrame:
        """One row per policy block: name, count, status, target and whether it is missed."""
        return pd.DataFrame([{
            "key": b.key, "name": b.name(lang), "defects": b.defects, "status": b.status,
            "target": None if b.target_value is None else f"{_condition(b.target_condition)} {b.target_value:g}",
            "breach": b.breached(), "date_from": None if b.date_from is None else b.date_from.date(),
            "date_to": None if b.date_to is None else b.date_to.date()} for b in self.blocks],
            columns=["key", "name", "defects", "status", "target", "breach", "date_from", "date_to"])


def _condition(text: str | None) -> str:
    return {"LESS_THAN": "<", "LESS_THAN_OR_EQUAL_TO": "<=", "GREATER_THAN": ">",
            "GREATER_THAN_OR_EQUAL_TO": ">=", "EQUALS": "="}.get((text or "LESS_THAN_OR_EQUAL_TO").upper(), "<=")


def _number(value: object, where: str, label: str, whole: bool = False) -> float | None:
    """A finite number (a whole one >= 0 for counts), None when absent; anything else refused."""
    if isinstance(value, dict):
        value = value.get("value", value.get("count"))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DataError(label, Note("value_not_number", where=where, value=repr(value)), expected=EXPECTED)
    try:
        number = float(value)
    except ValueError:
        raise DataError(label, Note("value_not_number", where=where, value=repr(value)), expected=EXPECTED) from None
    if not math.isfinite(number) or (whole and (number < 0 or number != int(number))):
        raise DataError(label, Note("value_not_whole" if whole else "value_not_finite", where=where, value=repr(value)),
                        expected=EXPECTED)
    return number


def read_health(entry: dict, label: str, get, read_range) -> Health:
    """The AHR and policy blocks of one marketplace's entry of the report.

    ``get`` reads a key loosely (case and punctuation ignored); ``read_range`` turns a node's
    ``reportingDateRange`` into checked (from, to) timestamps.
    """
    ahr = get(entry, "accountHealthRating") or get(get(entry, "warningStates") or {}, "accountHealthRating") or {}
    score = _number(get(ahr, "ahrScore"), "accountHealthRating.ahrScore", label, whole=True)
    if score is not None and score > AHR_MAX:
        raise DataError(label, Note("ahr_above", score=f"{score:g}", top=AHR_MAX),
                        expected=EXPECTED)
    status = get(ahr, "ahrStatus", "accountHealthRatingStatus", "status")
    blocks = []
    for key in POLICY_CATEGORIES:  # the V2 report's policy blocks, in Seller Central's order
        node = get(entry, key, key.removesuffix("s"))  # Amazon's example writes "documentRequest"
        if not isinstance(node, dict):
            continue
        count = _number(get(node, "defectsCount", "defectCount", "count"), f"{key}.defectsCount", label, whole=True)
        target = _number(get(node, "targetValue"), f"{key}.targetValue", label)
        lo, hi = read_range(node, key)
        blocks.append(PolicyBlock(key, None if count is None else int(count), _text(get(node, "status")), target,
                                  _text(get(node, "targetCondition")), lo, hi))
    states = get(entry, "warningStates", "warningState")  # the schema's and its example's spellings
    # Amazon's schema: a list of {"warningType": ..., "status": GOOD|BAD|NONE}
    warnings = tuple(plain_text(f"{get(s, 'warningType')} ({get(s, 'status')})") for s in states
                     if isinstance(s, dict)) if isinstance(states, list) else ()
    unit = get(entry, "unitOnTimeDeliveryRate")
    return Health(None if score is None else int(score), _text(status), tuple(blocks), warnings,
                  unit if isinstance(unit, dict) else None)


def _text(value: object) -> str | None:
    """A status or name from the report, control characters removed (it reaches terminals)."""
    return None if value is None or isinstance(value, (dict, list)) else plain_text(value)


_KEPT_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})(?:-(\d+))?")


def kept_reports(folder: Path) -> list[Path]:
    """The kept reports of ``folder``, oldest first: by day, then by the number of a same-day
    report (DAY.json, DAY-2.json ... DAY-10.json; a name sort would put DAY-10 before DAY-2).
    A file named otherwise sorts after them, by name."""
    def key(f: Path) -> tuple:
        m = _KEPT_NAME.fullmatch(f.stem)
        return (0, m.group(1), int(m.group(2) or 1), "") if m else (1, "", 0, f.name)

    return sorted(folder.glob("*.json"), key=key)


def health_history(account_path: Path | None, marketplace: str | None, read) -> pd.DataFrame:
    """The AHR and policy counts of every kept report, oldest first (one row per report and block;
    a block-less report still gives its AHR row with ``key`` empty). ``read(path)`` reads one
    kept report's :class:`Health`; an unreadable one is left out (the charts say so)."""
    rows = []
    folder = Path(account_path) / "amazon-performance" if account_path is not None else None
    if folder is not None and folder.is_dir():
        for f in kept_reports(folder):
            try:
                health = read(f)
            except Exception:  # a kept report gone bad never breaks a chart (official_points names it)
                continue
            base = {"report": f.stem, "ahr_score": health.ahr_score, "ahr_status": health.ahr_status}
            rows.append({**base, "key": "", "defects": None, "status": None, "breach": None})
            rows += [{**base, "key": b.key, "defects": b.defects, "status": b.status, "breach": b.breached()}
                     for b in health.blocks]
    return pd.DataFrame(rows, columns=["report", "ahr_score", "ahr_status", "key", "defects", "status", "breach"])
