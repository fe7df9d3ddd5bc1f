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
    ),
    "feedback": _cols(
        ("order_id", "text", True),
        ("feedback_date", "datetime", True),
        ("rating", "rating", True),
        ("comments", "text", False),
        ("removed", "bool", False, False),
    ),
    "claims": _cols(
        ("order_id", "text", True),
        ("claim_date", "datetime", True),
        ("status", "lower", True),
        ("reason", "text", False),
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
        ("response_date", "datetime", False),
        ("decision", "decision", False),
        ("rejection_valid", "bool", False, False),
        ("negative_return_feedback", "bool", False, False),
    ),
}

OPTIONAL_TABLES = ("feedback", "claims", "chargebacks", "returns")

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
}
VALUE_MAPS = {
    "bool": BOOL_VALUES, "channel": CHANNEL_VALUES, "status": STATUS_VALUES,
    "kind": KIND_VALUES, "decision": DECISION_VALUES,
}
