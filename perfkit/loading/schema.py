"""The canonical tables: their columns, types and accepted value spellings.

This is the input contract in code. ``loaders`` reads files into these shapes; every other
module relies on them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One canonical column.

    ``kind`` is how its cells are read (text, datetime, deadline, bool, channel, status,
    rating, kind, decision, lower); ``default`` fills a missing value (None: stays missing);
    ``note`` says what the column's absence means beyond the metrics that need it.
    """

    name: str
    kind: str
    required: bool = False
    default: object = None
    note: str = ""


def _cols(*spec: tuple) -> dict[str, Column]:
    return {s[0]: Column(*s) for s in spec}


TABLES: dict[str, dict[str, Column]] = {
    "orders": _cols(
        ("order_id", "text", True),
        ("purchase_date", "datetime", True),
        ("fulfillment_channel", "channel", True),
        ("order_status", "status", True),
        ("buyer_requested_cancel", "bool", False, False),
        # The buyer's stated reason for a cancellation (Amazon's order reports): untrusted text, shown only.
        ("buyer_cancel_reason", "text", False),
        # When a cancelled order was cancelled (the All Orders report's last-updated-date, kept only on
        # cancelled orders): the POA tells a cancellation before ship-by from one after it.
        ("cancelled_at", "datetime", False),
        ("latest_ship_date", "deadline", False),
        ("ship_confirm_date", "datetime", False),
        ("carrier", "text", False, None, "drill-downs cannot name carriers"),
        ("tracking_id", "text", False, None, "tracking validity comes from tracking_valid alone"),
        # Missing tracking_valid has a rule of its own: valid if a tracking id is present (loaders).
        ("tracking_valid", "bool", False),
        ("latest_delivery_date", "deadline", False),
        ("delivered_date", "datetime", False),
        ("category", "text", False),
        ("is_business_order", "bool", False, False),
        ("invoice_upload_date", "datetime", False),
        ("refund_date", "datetime", False),
        ("product_name", "text", False),
        # Some item of the order was cancelled though the order itself was not (All Orders report).
        ("item_cancelled", "bool", False, False),
    ),
    "feedback": _cols(
        ("order_id", "text", True),
        ("feedback_date", "datetime", True),
        ("rating", "rating", True),
        ("comments", "text", False),
        ("removed", "bool", False, False),
        ("removed_date", "datetime", False),  # when a removed feedback stopped counting
    ),
    "claims": _cols(
        ("order_id", "text", True),
        ("claim_date", "datetime", True),
        ("status", "lower", True),
        ("reason", "text", False),
        ("status_date", "datetime", False),  # when the claim reached its status (a denial counts until then)
        # Amazon funded the claim, or Buy Shipping protected the seller: it never counts in ODR.
        ("protected", "bool", False, False),
    ),
    "chargebacks": _cols(
        ("order_id", "text", True),
        ("chargeback_date", "datetime", True),
        ("kind", "kind", False, "service"),
    ),
    "returns": _cols(
        ("return_id", "text", True),
        ("order_id", "text", True),
        ("request_date", "datetime", True),
        # Amazon's Returns report has no response date: lateness cannot be judged without it.
        ("response_date", "datetime", False, None, "late responses cannot be judged"),
        ("decision", "decision", False),
        ("rejection_valid", "bool", False, False),
        ("negative_return_feedback", "bool", False, False),
        ("reason", "text", False),
        # Returned through Amazon's FBA network: counts in the return rate, not in Return Dissatisfaction.
        ("fba", "bool", False, False),
    ),
    "policy_notices": _cols(
        ("notice_date", "datetime", True),
        ("category", "policy_category", True),
        ("asin", "text", False),
        ("text", "text", False),
        ("status", "notice_status", False, "open"),
        ("points", "text", False),
    ),
}

# Item rows of one order that disagree on a column a metric reads: the order's value, by a rule
# that does not depend on the rows' order (each use is warned with the rows). An order is late
# when its earliest item deadline passes, and shipped or delivered when its last item was;
# tracking is valid only if every row says so. Text (carrier, tracking id, category) takes the
# first value in sorted order, so that swapping rows never changes a number.
# The sentence saying which rule was used is the note "item_rule.<column>" (core/notes.py).
ITEM_RULES: dict[str, str] = {
    "latest_ship_date": "min",
    "latest_delivery_date": "min",
    "ship_confirm_date": "max",
    "delivered_date": "max",
    "invoice_upload_date": "max",
    "refund_date": "min",
    "tracking_valid": "min",
    "buyer_requested_cancel": "min",
    "is_business_order": "max",
    "carrier": "min",
    "tracking_id": "min",
    "category": "min",
}

OPTIONAL_TABLES = ("feedback", "claims", "chargebacks", "returns")  # events of orders, matched by order id
NOTICE_TABLES = ("policy_notices",)  # events of the account, not of an order
# What a missing table means beyond the metrics that need it.
TABLE_NOTES = {"policy_notices": "policy-compliance counts come only from Amazon's kept reports"}

# Amazon's policy-compliance categories (the V2 Seller Performance report's keys), in Seller
# Central's order, with their English and Chinese names.
POLICY_CATEGORIES: dict[str, tuple[str, str]] = {
    "suspectedIntellectualPropertyViolations": ("Suspected intellectual property violations", "涉嫌侵犯知识产权"),
    "receivedIntellectualPropertyComplaints": ("Received intellectual property complaints", "收到的知识产权投诉"),
    "productAuthenticityCustomerComplaints": ("Product authenticity customer complaints", "商品真实性买家投诉"),
    "productConditionCustomerComplaints": ("Product condition customer complaints", "商品状况买家投诉"),
    "productSafetyCustomerComplaints": ("Product safety customer complaints", "商品安全买家投诉"),
    "foodAndProductSafetyIssues": ("Food and product safety issues", "食品和商品安全问题"),
    "listingPolicyViolations": ("Listing policy violations", "违反商品发布政策"),
    "restrictedProductPolicyViolations": ("Restricted product policy violations", "违反受限商品政策"),
    "customerProductReviewsPolicyViolations": ("Customer product reviews policy violations", "违反买家商品评论政策"),
    "otherPolicyViolations": ("Other policy violations", "其他违反政策行为"),
    "documentRequests": ("Document requests", "文件请求"),
}


def category_name(key: str, lang: str = "en") -> str:
    """A policy category's name as people read it, in English or Chinese."""
    en, zh = POLICY_CATEGORIES[key]
    return zh if lang == "zh" else en


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


# A category may be written as Amazon's key (any case), in snake_case, or by its English or Chinese name.
CATEGORY_VALUES = {spelling.lower(): key for key, names in POLICY_CATEGORIES.items()
                   for spelling in (key, _snake(key), *names)}
# Short names sellers' trackers use (the seeds' 商品政策合规性 terms).
CATEGORY_VALUES |= {"知识产权投诉": "receivedIntellectualPropertyComplaints",
                    "侵权": "suspectedIntellectualPropertyViolations",
                    "真实性投诉": "productAuthenticityCustomerComplaints",
                    "假货投诉": "productAuthenticityCustomerComplaints",
                    "商品状况投诉": "productConditionCustomerComplaints",
                    "商品安全投诉": "productSafetyCustomerComplaints",
                    "变体违规": "listingPolicyViolations", "listing违规": "listingPolicyViolations",
                    "受限商品": "restrictedProductPolicyViolations",
                    "评论违规": "customerProductReviewsPolicyViolations"}
NOTICE_STATUS_VALUES = {"open": "open", "appealed": "appealed", "resolved": "resolved", "closed": "resolved",
                        "未处理": "open", "申诉中": "appealed", "已解决": "resolved"}

BOOL_VALUES = {
    "true": True, "false": False, "1": True, "0": False, "yes": True, "no": False,
    "y": True, "n": False, "t": True, "f": False, "1.0": True, "0.0": False,
}
CHANNEL_VALUES = {
    "mfn": "MFN", "merchant": "MFN", "afn": "AFN", "amazon": "AFN", "fba": "AFN", "fbm": "MFN",
}
# Amazon's report spellings map onto the four canonical statuses.
STATUS_VALUES = {
    "pending": "Pending", "pendingavailability": "Pending", "pending - waiting for pick up": "Pending",
    "unshipped": "Unshipped", "invoiceunconfirmed": "Unshipped",
    "partiallyshipped": "Unshipped", "partially shipped": "Unshipped",
    "shipped": "Shipped", "shipping": "Shipped",
    "shipped - delivered to buyer": "Shipped", "shipped - returned to seller": "Shipped",
    "shipped - returning to seller": "Shipped", "shipped - rejected by buyer": "Shipped",
    "shipped - lost in transit": "Shipped", "shipped - out for delivery": "Shipped",
    "shipped - damaged": "Shipped", "shipped - picked up": "Shipped",
    "cancelled": "Cancelled", "canceled": "Cancelled",
}
KIND_VALUES = {"service": "service", "fraud": "fraud"}
DECISION_VALUES = {
    "authorized": "authorized", "authorised": "authorized", "approved": "authorized",
    "rejected": "rejected", "denied": "rejected",
}
EXPECTED = {
    "bool": "true/false, 1/0, yes/no or Y/N",
    "channel": "MFN or AFN (Merchant/Amazon accepted)",
    "status": "Pending, Unshipped, Shipped or Cancelled",
    "rating": "a whole number from 1 to 5",
    "kind": "service or fraud",
    "decision": "authorized, rejected or empty",
    "datetime": "an ISO 8601 date or time such as 2026-03-01 or 2026-03-01T14:30:00+08:00",
    "deadline": "an ISO 8601 date or time such as 2026-03-01 or 2026-03-01T14:30:00+08:00",
    "policy_category": "one of Amazon's policy categories, such as receivedIntellectualPropertyComplaints or "
                       "listing_policy_violations (docs/data.md lists them)",
    "notice_status": "open, appealed or resolved",
}
VALUE_MAPS = {
    "bool": BOOL_VALUES, "channel": CHANNEL_VALUES, "status": STATUS_VALUES,
    "kind": KIND_VALUES, "decision": DECISION_VALUES,
    "policy_category": CATEGORY_VALUES, "notice_status": NOTICE_STATUS_VALUES,
}
