"""Which cause each defective order's own evidence points to, before any analyst's choice.

Evidence is read in this order: the claim's reason, the buyer's feedback comment and the return
reason (keywords in English and Chinese), then the carrier or category when the defects of one
stand out. An order the analyst tied to a cause goes there whatever its evidence says; an order
whose evidence matches none of the causes in play is listed apart, never forced under one.
"""
from __future__ import annotations

import pandas as pd

# cause -> words that point to it in claim reasons, feedback comments and return reasons (lower case).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "logistics": ("late", "never arrived", "not arrived", "not received", "didn't arrive", "did not arrive",
                  "lost", "delivery", "slow", "still waiting", "未收到", "没收到", "物流", "丢件", "太慢", "迟到",
                  "延迟"),
    "damaged_packaging": ("damaged", "crushed", "packag", "broken box", "dented", "破损", "包装", "压坏"),
    "listing_mismatch": ("not as described", "different", "wrong size", "wrong colour", "wrong color",
                         "doesn't match", "does not match", "not the same", "not_as_described", "不符", "不一样",
                         "尺码不对", "颜色不对"),
    "product_quality": ("broke", "defective", "poor quality", "cheap", "stopped working", "flimsy", "quality",
                        "质量", "坏了", "劣质", "做工", "不能用"),
    "customer_service": ("no response", "never replied", "no reply", "rude", "客服", "不回复"),
    "out_of_stock": ("out of stock", "cancelled my order", "canceled my order", "缺货"),
    "wrong_item": ("wrong item", "sent the wrong", "发错"),
}
CARRIER_CAUSES = {"logistics", "carrier_pickup", "carrier_no_tracking", "carrier_slow", "transit_time_setting",
                  "carrier_no_updates"}
CATEGORY_CAUSES = {"product_quality", "out_of_stock", "listing_mismatch", "damaged_packaging"}
TEXT_COLUMNS = ("claim_reason", "buyer_comment", "reason")
UNEXPLAINED = "_unexplained"


def cause_from_text(text: object, candidates: list[str]) -> str | None:
    """The first candidate cause whose words appear in ``text`` (None when none does)."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    lower = str(text).lower()
    for cause in candidates:
        if any(word in lower for word in KEYWORDS.get(cause, ())):
            return cause
    return None


def _standing_out(units: pd.DataFrame, column: str) -> set[str]:
    """Values of ``column`` whose defect rate is at least twice the overall one (one value alone never
    stands out: every defect shares it)."""
    if column not in units.columns or units[column].isna().all() or not units["defective"].any():
        return set()
    overall = units["defective"].mean()
    g = units.groupby(column, observed=True)["defective"].agg(["sum", "mean"])
    hot = g[(g["mean"] >= 2 * overall) & (g["sum"] > 0)].index.tolist()
    return {str(h) for h in hot}


def group_by_evidence(units: pd.DataFrame, candidates: list[str], tied: dict[str, list[str]],
                      id_column: str = "order_id") -> dict[str, pd.DataFrame]:
    """The defective units under each cause: ``{cause: rows}`` plus :data:`UNEXPLAINED` for the rest.

    Parameters
    ----------
    units : DataFrame
        The window's units (``defective``, evidence columns, carrier, category).
    candidates : list of str
        The causes in play: the analyst's, or every cause of the metric's family.
    tied : dict
        Cause -> ids the analyst tied to it (these override any evidence).
    id_column : str
        ``order_id``, or ``return_id`` for returns.
    """
    bad = units[units["defective"]].copy()
    assigned = pd.Series(None, index=bad.index, dtype=object)
    for cause, ids in tied.items():
        assigned[bad[id_column].astype(str).isin([str(i) for i in ids]) & assigned.isna()] = cause
    for column in TEXT_COLUMNS:
        if column in bad.columns:
            found = bad[column].map(lambda text: cause_from_text(text, candidates))
            assigned = assigned.where(assigned.notna(), found)
    for causes, column in ((CARRIER_CAUSES, "carrier"), (CATEGORY_CAUSES, "category")):
        hot = _standing_out(units, column) if any(c in causes for c in candidates) else set()
        for cause in (c for c in candidates if c in causes and hot):
            pick = assigned.isna() & bad[column].astype(str).isin(hot)
            assigned[pick] = cause
    if len(candidates) == 1 and not tied:  # one cause chosen for the whole window, no evidence against it
        assigned = assigned.fillna(candidates[0])
    groups = {c: bad[assigned == c] for c in dict.fromkeys(list(tied) + candidates) if (assigned == c).any()}
    rest = bad[assigned.isna()]
    if len(rest):
        groups[UNEXPLAINED] = rest
    return groups
