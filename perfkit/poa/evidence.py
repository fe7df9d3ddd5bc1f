"""Which cause each defective unit's own evidence names: one declared test per cause.

Every cause of the catalogue (:data:`perfkit.poa.causes.CATALOGUE`) is declared here once, beside
its words and its actions, with the test that makes it apply to one defective unit from that
unit's own data: a missing or placeholder tracking id, a carrier Amazon does not integrate, a
confirmation hours or days after ship-by, a response after the deadline, a rejection Amazon did
not uphold, an invoice missing or late, a claim or feedback whose words name the cause (English
and Chinese), a carrier or a category whose share of defects is significantly above the rest's. A cause
declared with ``None`` has no column that shows it: only the analyst can name it.

A unit goes under the first declared cause whose test holds; none holding, it is listed apart
(:data:`UNEXPLAINED`), never forced under a cause. The analyst's ties override (and one unit tied
to several causes appears under each); units they did not tie stay where their evidence points.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from perfkit.core.policy import MARKET_ALIASES, MetricPolicy, PoaRules
from perfkit.engine.metrics import meets
from perfkit.poa.causes import CATALOGUE, CATEGORY

UNEXPLAINED = "_unexplained"
TEXT_COLUMNS = ("claim_reason", "buyer_comment", "reason")

# cause -> words that name it in a claim reason, a feedback comment or a return reason (lower case).
KEYWORDS: dict[str, tuple[str, ...]] = {
    "logistics": ("late", "never arrived", "not arrived", "not received", "didn't arrive", "did not arrive",
                  "lost", "delivery", "slow", "still waiting", "未收到", "没收到", "物流", "丢件", "太慢", "迟到",
                  "延迟"),
    "damaged_packaging": ("damaged", "crushed", "packag", "broken box", "dented", "破损", "包装", "压坏"),
    "listing_mismatch": ("not as described", "different", "wrong size", "wrong colour", "wrong color",
                         "doesn't match", "does not match", "not the same", "not_as_described", "不符", "不一样",
                         "尺码不对", "颜色不对", "与描述"),
    "product_quality": ("broke", "defective", "poor quality", "cheap", "stopped working", "flimsy", "quality",
                        "质量", "坏了", "劣质", "做工", "不能用"),
    "customer_service": ("no response", "never replied", "no reply", "rude", "客服", "不回复"),
    "out_of_stock": ("out of stock", "cancelled my order", "canceled my order", "缺货"),
    "wrong_item": ("wrong item", "sent the wrong", "发错"),
    "size_guide": ("too small", "too big", "too large", "doesn't fit", "does not fit", "not compatible",
                   "偏小", "偏大", "不合适", "不兼容"),
    "unresolved_return": ("no one answered", "unresolved", "still open", "没人处理", "未解决"),
    "not_refunded": ("no refund", "not refunded", "still not refunded", "未退款", "没退款"),
}


@dataclass(frozen=True)
class Scene:
    """What a test may look at besides the unit: the whole window and the policy's thresholds."""

    units: pd.DataFrame  # every unit of the window (``defective`` and the evidence columns)
    mp: MetricPolicy
    rules: PoaRules
    marketplace: str
    response_hours: int
    # The counting rules' lists ([counting.tracking]): the POA names what the metric counted.
    placeholders: frozenset[str]
    untracked_carriers: frozenset[str]


@dataclass(frozen=True)
class Rule:
    """The evidence that makes a cause apply to one defective unit."""

    shows: str  # what the evidence is, as the letter states it ({response_hours}, {confirm_hours}, {days})
    test: Callable[[pd.DataFrame, Scene], pd.Series]
    components: tuple[str, ...] = ()  # only units with one of these defect components (empty: any)


def _col(bad: pd.DataFrame, name: str) -> pd.Series:
    return bad[name] if name in bad.columns else pd.Series(None, index=bad.index, dtype=object)


def _text(value: object) -> str:
    """A cell as stripped text; a missing value (None, NaN, pandas' NA) is empty."""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # a list-like cell is not missing
        pass
    return str(value).strip()


def _words(cause: str) -> Callable[[pd.DataFrame, Scene], pd.Series]:
    def test(bad: pd.DataFrame, _s: Scene) -> pd.Series:
        found = pd.Series(False, index=bad.index)
        for column in TEXT_COLUMNS:
            found |= _col(bad, column).map(lambda v: any(w in _text(v).lower() for w in KEYWORDS[cause]))
        return found
    return test


def _no_tracking(bad: pd.DataFrame, _s: Scene) -> pd.Series:
    return _col(bad, "tracking_id").map(_text) == ""


def _placeholder(bad: pd.DataFrame, s: Scene) -> pd.Series:
    ids = _col(bad, "tracking_id").map(_text)
    return (ids != "") & ids.str.lower().isin(s.placeholders)


def _carrier_untracked(bad: pd.DataFrame, s: Scene) -> pd.Series:
    """No carrier, one Amazon cannot track (``Other``), or one not on Amazon's integrated list for the
    marketplace."""
    carrier = _col(bad, "carrier").map(_text).str.lower()
    untracked = (carrier == "") | carrier.isin(s.untracked_carriers)
    market = s.marketplace.upper()
    integrated = s.rules.integrated_carriers.get(MARKET_ALIASES.get(market, market))
    if integrated:
        untracked |= ~carrier.isin(integrated)
    return untracked


def _no_scan(bad: pd.DataFrame, s: Scene) -> pd.Series:
    """A real tracking id with a carrier Amazon reads, and still no valid tracking: the carrier never
    scanned it (a unit is defective in Valid Tracking only for want of a scan or an id)."""
    return ~_no_tracking(bad, s) & ~_placeholder(bad, s) & ~_carrier_untracked(bad, s)


def fisher_above(k: int, n: int, defects: int, units: int) -> float:
    """One-sided Fisher test: the chance that ``n`` units drawn from ``units`` (``defects`` of them
    defective) hold ``k`` or more defects."""
    total = math.comb(units, n)
    tail = sum(math.comb(defects, i) * math.comb(units - defects, n - i) for i in range(k, min(n, defects) + 1))
    return tail / total


def standing_out(units: pd.DataFrame, column: str, alpha: Fraction) -> set[str]:
    """Values of ``column`` whose defects are significantly above the rest's share (at least two
    defects, one-sided Fisher test at ``alpha``). It holds for a severe breach, where "twice the
    overall rate" cannot: 54 late of 120 on two carriers and none on the others stand out."""
    if column not in units.columns or not units["defective"].any():
        return set()
    values = units[column].map(_text)
    total, bad = len(units), int(units["defective"].sum())
    hot = set()
    for value, rows in units.groupby(values)["defective"]:
        k, n = int(rows.sum()), len(rows)
        rest_n, rest_k = total - n, bad - k
        if value == "" or k < 2 or rest_n == 0 or k * rest_n <= rest_k * n:
            continue
        if fisher_above(k, n, bad, total) < alpha:
            hot.add(str(value))
    return hot


def _missing_own_target(units: pd.DataFrame, column: str, mp: MetricPolicy) -> set[str]:
    """Values of ``column`` whose own rate misses the metric's target (at least two defects)."""
    values = units[column].map(_text) if column in units.columns else pd.Series(dtype=object)
    out = set()
    for value, rows in units.groupby(values)["defective"]:
        k, n = int(rows.sum()), len(rows)
        if value and k >= 2 and not meets(mp, k, n):
            out.add(str(value))
    return out


def _carrier_stands_out(bad: pd.DataFrame, s: Scene) -> pd.Series:
    return _col(bad, "carrier").map(_text).isin(standing_out(s.units, "carrier", s.rules.significance))


def _category_stands_out(bad: pd.DataFrame, s: Scene) -> pd.Series:
    """A defective unit of a category whose share of defects is significantly above the rest's (the
    same one-sided Fisher test as for carriers)."""
    return _col(bad, "category").map(_text).isin(standing_out(s.units, "category", s.rules.significance))


def _carrier_slow(bad: pd.DataFrame, s: Scene) -> pd.Series:
    """A late parcel on a carrier that stands out, or whose own on-time rate misses Amazon's target
    (when every carrier is late alike, none stands out, yet each is too slow)."""
    slow = standing_out(s.units, "carrier", s.rules.significance) | _missing_own_target(s.units, "carrier", s.mp)
    return _col(bad, "carrier").map(_text).isin(slow)


def _hours_late(bad: pd.DataFrame) -> pd.Series:
    confirm = pd.to_datetime(_col(bad, "ship_confirm_date"))
    due = pd.to_datetime(_col(bad, "latest_ship_date"))
    return (confirm - due) / pd.Timedelta(hours=1)


def _confirmed_hours_late(bad: pd.DataFrame, s: Scene) -> pd.Series:
    return (_hours_late(bad) < s.rules.late_confirmation_hours).fillna(False).astype(bool)


def _confirmed_days_late(bad: pd.DataFrame, s: Scene) -> pd.Series:
    return (_hours_late(bad) >= s.rules.late_confirmation_hours).fillna(False).astype(bool)


def _never_confirmed(bad: pd.DataFrame, _s: Scene) -> pd.Series:
    return _col(bad, "ship_confirm_date").isna()


def _never_delivered(bad: pd.DataFrame, _s: Scene) -> pd.Series:
    return _col(bad, "delivered_date").isna()


def _near_miss(bad: pd.DataFrame, s: Scene) -> pd.Series:
    late = pd.to_datetime(_col(bad, "delivered_date")) - pd.to_datetime(_col(bad, "latest_delivery_date"))
    return (late <= pd.Timedelta(days=s.rules.near_miss_days)).fillna(False).astype(bool)


def _delivery_defect(bad: pd.DataFrame, s: Scene) -> pd.Series:
    """An order defect about delivery: its words say so, or it arrived after its promised date or not
    at all (the dates are read only where the promise is known)."""
    promised = pd.to_datetime(_col(bad, "latest_delivery_date"))
    delivered = pd.to_datetime(_col(bad, "delivered_date"))
    late = promised.notna() & (delivered.isna() | (delivered > promised))
    return _words("logistics")(bad, s) | late


def _cancel_vs_ship_by(bad: pd.DataFrame) -> pd.Series:
    """Hours from the ship-by deadline to the seller's cancellation (negative: before it); NaN where
    either date is unknown. Buyer-requested cancellations are not defects, so every unit here is the
    seller's."""
    return ((pd.to_datetime(_col(bad, "cancelled_at")) - pd.to_datetime(_col(bad, "latest_ship_date")))
            / pd.Timedelta(hours=1))


def _cancelled_before_ship_by(bad: pd.DataFrame, _s: Scene) -> pd.Series:
    return (_cancel_vs_ship_by(bad) <= 0).fillna(False).astype(bool)


def _cancelled_after_ship_by(bad: pd.DataFrame, _s: Scene) -> pd.Series:
    return (_cancel_vs_ship_by(bad) > 0).fillna(False).astype(bool)


def _missing_invoice(bad: pd.DataFrame, _s: Scene) -> pd.Series:
    return _col(bad, "invoice_upload_date").isna()


def _late_invoice(bad: pd.DataFrame, _s: Scene) -> pd.Series:
    return _col(bad, "invoice_upload_date").notna()


def _always(bad: pd.DataFrame, _s: Scene) -> pd.Series:
    return pd.Series(True, index=bad.index)


def _words_rule(cause: str, shows: str) -> Rule:
    return Rule(shows, _words(cause))


_ODR_WORDS = {c: _words_rule(c, "the buyer's claim or feedback says so") for c in
              ("out_of_stock", "listing_mismatch", "damaged_packaging", "customer_service", "product_quality",
               "wrong_item")}
_CATEGORY = Rule("its category's share of defects is significantly above the other categories'",
                 _category_stands_out)
# family -> cause -> rule, in the order a unit is tested (the most specific evidence first); None: no
# column shows the cause, only the analyst can name it.
RULES: dict[str, dict[str, Rule | None]] = {
    "odr": {
        "logistics": Rule("the buyer's words or the delivery dates point to the parcel's transit",
                          _delivery_defect),
        **_ODR_WORDS,
    },
    "cancel_rate": {
        # Cancelled by the seller before ship-by: the item was not there to send (stock-out).
        "out_of_stock": Rule("cancelled by us before its ship-by date", _cancelled_before_ship_by),
        "cancel_after_ship_by": Rule("cancelled by us after its ship-by date had passed", _cancelled_after_ship_by),
        "unrequested_cancel": None,
    },
    "late_shipment": {
        "not_confirmed": Rule("ship-by date passed and the order is still not confirmed", _never_confirmed),
        "late_confirmation": Rule("confirmed less than {confirm_hours} hours after the ship-by deadline",
                                  _confirmed_hours_late),
        "handling_time_short": Rule("confirmed {confirm_hours} hours or more after the ship-by deadline",
                                    _confirmed_days_late),
        "carrier_pickup": None, "erp_sync": None, "stock_problem": None, "untrained_staff": None,
    },
    "valid_tracking_rate": {
        "no_tracking_id": Rule("no tracking id was uploaded at confirmation", _no_tracking),
        "tracking_wrong": Rule("a placeholder was uploaded instead of a tracking id", _placeholder),
        "carrier_no_tracking": Rule("the carrier is missing, 'Other' or not one Amazon integrates",
                                    _carrier_untracked),
        "carrier_no_updates": Rule("a tracking id the carrier never scanned", _no_scan),
        "tracking_late": None, "confirm_before_ship": None, "fake_tracking": None, "untrained_staff": None,
    },
    "on_time_delivery_rate": {
        "logistics": Rule("no delivery scan at all", _never_delivered),
        "carrier_slow": Rule("the carrier's late deliveries stand out from the others, or its own on-time rate "
                             "misses Amazon's target", _carrier_slow),
        "transit_time_setting": Rule("delivered within {days} day(s) of the promised date", _near_miss),
    },
    "invoice_defect_rate": {
        "no_invoice_upload": Rule("no invoice uploaded at all", _missing_invoice),
        "invoice_late": Rule("an invoice uploaded after the deadline", _late_invoice),
        "no_vcs": None, "vat_exemption": None,
    },
    "return_rate": {c: _words_rule(c, "the buyer's return reason says so") for c in
                    ("wrong_item", "damaged_packaging", "size_guide", "listing_mismatch", "product_quality")},
    "return_dissatisfaction_rate": {
        "slow_response": Rule("no response within {response_hours} hours of the request", _always, ("late_response",)),
        "wrongful_rejection": Rule("a rejection Amazon did not uphold", _always, ("invalid_rejection",)),
        "unresolved_return": _words_rule("unresolved_return", "the buyer's words say so"),
        "not_refunded": _words_rule("not_refunded", "the buyer's words say so"),
    },
}


for _family, _rules in RULES.items():  # the category test comes last: specific evidence keeps its units
    if CATEGORY in CATALOGUE.get(_family, []):  # the families the catalogue gives the cause
        _rules[CATEGORY[0]] = _CATEGORY


def rule_for(family: str, cause: str) -> Rule | None:
    return RULES.get(family, {}).get(cause)


def shows(rule: Rule, scene: Scene) -> str:
    return rule.shows.format(response_hours=scene.response_hours, confirm_hours=scene.rules.late_confirmation_hours,
                             days=scene.rules.near_miss_days)


def _has_component(bad: pd.DataFrame, components: tuple[str, ...]) -> pd.Series:
    if not components:
        return pd.Series(True, index=bad.index)
    parts = bad["defect"].fillna("").map(lambda d: set(str(d).split(", ")))
    return parts.map(lambda found: bool(found & set(components)))


def matches(family: str, bad: pd.DataFrame, scene: Scene) -> dict[str, pd.Series]:
    """cause -> which defective units its declared test holds for."""
    out = {}
    for cause, rule in RULES.get(family, {}).items():
        if rule is not None and len(bad):
            out[cause] = (rule.test(bad, scene).fillna(False).astype(bool)
                          & _has_component(bad, rule.components))
    return out


def group_by_evidence(family: str, scene: Scene, tied: dict[str, list[str]],
                      id_column: str = "order_id") -> dict[str, pd.DataFrame]:
    """The defective units under each cause: ``{cause: rows}``, then :data:`UNEXPLAINED` for the rest.

    Parameters
    ----------
    family : str
        The metric's cause family.
    scene : Scene
        The window's units and the policy's thresholds.
    tied : dict
        Cause -> ids the analyst tied to it: these units go there (under each cause that names
        them), whatever their evidence says.
    id_column : str
        ``order_id``, or ``return_id`` for returns.
    """
    bad = scene.units[scene.units["defective"]]
    ids = bad[id_column].astype(str)
    taken = pd.Series(False, index=bad.index)
    groups: dict[str, pd.DataFrame] = {}
    for cause, named in tied.items():
        mine = ids.isin([str(i) for i in named])
        taken |= mine
        if mine.any():
            groups[cause] = bad[mine]
    free = ~taken
    for cause, hold in matches(family, bad, scene).items():
        pick = hold & free
        if pick.any():
            groups[cause] = pd.concat([groups[cause], bad[pick]]) if cause in groups else bad[pick]
            free &= ~pick
    if free.any():
        groups[UNEXPLAINED] = bad[free]
    return groups
