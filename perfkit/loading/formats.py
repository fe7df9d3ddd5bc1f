"""Amazon's own report downloads, recognised by their headers and mapped to perfkit tables.

Each format says which table it feeds, how its headers map onto canonical columns, fixed
values it implies (the shipping-dates report lists seller-fulfilled orders only), and whether
its dates are in a marketplace-dependent order rather than ISO 8601.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReportFormat:
    name: str
    table: str
    signature: frozenset[str]  # headers (lower case) that identify the report
    columns: dict[str, str]  # report header (lower case) -> canonical column
    defaults: dict[str, str] = field(default_factory=dict)
    local_dates: bool = False  # dates like 1/15/26 whose order depends on the marketplace


ALL_ORDERS = ReportFormat(
    name="Amazon All Orders report",
    table="orders",
    signature=frozenset({"amazon-order-id", "purchase-date", "order-status", "fulfillment-channel"}),
    columns={
        "amazon-order-id": "order_id",
        "purchase-date": "purchase_date",
        "order-status": "order_status",
        "fulfillment-channel": "fulfillment_channel",
        "is-business-order": "is_business_order",
        "product-name": "product_name",
        # One row per item: an item cancelled inside an order that shipped is a partial cancellation.
        "item-status": "item_cancelled",
        # Amazon says which cancellations the buyer asked for: they are not the seller's.
        "is-buyer-requested-cancellation": "buyer_requested_cancel",
        "buyer-requested-cancel-reason": "buyer_cancel_reason",
        "buyer-cancel-reason": "buyer_cancel_reason",
    },
)

SHIPPING_DATES = ReportFormat(
    name="Amazon order report with shipping dates",
    table="orders",
    signature=frozenset({"order-id", "purchase-date", "latest-ship-date"}),
    columns={
        "order-id": "order_id",
        "purchase-date": "purchase_date",
        "latest-ship-date": "latest_ship_date",
        "latest-delivery-date": "latest_delivery_date",
        "is-business-order": "is_business_order",
        "product-name": "product_name",
    },
    # This report lists seller-fulfilled orders only.
    defaults={"fulfillment_channel": "MFN"},
)

FEEDBACK = ReportFormat(
    name="Amazon Feedback report",
    table="feedback",
    signature=frozenset({"date", "rating", "order id"}),
    columns={"date": "feedback_date", "rating": "rating", "comments": "comments", "order id": "order_id"},
    local_dates=True,
)

RETURNS = ReportFormat(
    name="Amazon Returns report",
    table="returns",
    signature=frozenset({"order id", "return request date", "return request status"}),
    columns={
        "order id": "order_id",
        "return request date": "request_date",
        "return request status": "decision",
        "amazon rma id": "return_id",
        # "In policy: N" marks a return outside Amazon's policy, which the seller may validly reject.
        "in policy": "rejection_valid",
    },
    local_dates=True,
)

UNSHIPPED = ReportFormat(
    name="Amazon Unshipped Orders report",
    table="orders",
    signature=frozenset({"order-id", "purchase-date", "promise-date", "days-past-promise"}),
    # promise-date is the ship-by instant; the report is a snapshot of seller-fulfilled orders not yet
    # shipped, so it gives no status of its own (the All Orders report does; an order that shipped
    # since would otherwise conflict).
    columns={
        "order-id": "order_id",
        "purchase-date": "purchase_date",
        "promise-date": "latest_ship_date",
        "is-business-order": "is_business_order",
        "product-name": "product_name",
        "is-buyer-requested-cancellation": "buyer_requested_cancel",
        "buyer-requested-cancel-reason": "buyer_cancel_reason",
        "buyer-cancel-reason": "buyer_cancel_reason",
    },
    defaults={"fulfillment_channel": "MFN"},
)

AMAZON_SHIPMENTS = ReportFormat(
    name="Amazon Fulfilled Shipments report",
    table="orders",
    signature=frozenset({"amazon-order-id", "shipment-id", "shipment-date", "fulfillment-channel"}),
    columns={
        "amazon-order-id": "order_id",
        "purchase-date": "purchase_date",
        "shipment-date": "ship_confirm_date",
        "carrier": "carrier",
        "tracking-number": "tracking_id",
        "fulfillment-channel": "fulfillment_channel",
        "product-name": "product_name",
    },
    # Every row is a shipment Amazon made.
    defaults={"order_status": "Shipped"},
)

FBA_RETURNS = ReportFormat(
    name="Amazon FBA Customer Returns report",
    table="returns",
    signature=frozenset({"return-date", "order-id", "detailed-disposition", "license-plate-number"}),
    columns={
        "return-date": "request_date",
        "order-id": "order_id",
        "license-plate-number": "return_id",
        "reason": "reason",
    },
    # Amazon handled these returns: they count in the return rate, never in Return Dissatisfaction.
    defaults={"fba": "true"},
)

REPORT_FORMATS = (ALL_ORDERS, SHIPPING_DATES, UNSHIPPED, AMAZON_SHIPMENTS, FEEDBACK, RETURNS, FBA_RETURNS)

# Amazon's Returns report states the request's status, not the seller's decision: statuses
# that are not a decision yet become empty.
RETURN_STATUS_DECISIONS = {
    "approved": "authorized", "authorized": "authorized", "closed": "authorized",
    "completed": "authorized", "rejected": "rejected", "denied": "rejected",
}

# Amazon's marketplaces by the code account.json gives (GB is accepted for UK).
MARKETPLACES = frozenset({"US", "CA", "MX", "BR", "UK", "GB", "DE", "FR", "IT", "ES", "NL", "SE", "PL", "BE", "IE",
                          "TR", "JP", "AU", "SG", "IN", "AE", "SA", "EG", "ZA", "CN"})
# Marketplaces that write dates month first (1/15/26) or year first (26/01/15).
MONTH_FIRST = frozenset({"US", "CA", "MX", "BR"})
YEAR_FIRST = frozenset({"JP", "CN"})


def detect(headers: list[str]) -> ReportFormat | None:
    """The Amazon report these headers belong to, or None."""
    lowered = {h.strip().lower() for h in headers}
    for fmt in REPORT_FORMATS:
        if fmt.signature <= lowered:
            return fmt
    return None


def date_order(marketplace: str | None) -> str:
    """'mdy', 'dmy' or 'ymd': how a marketplace writes short dates in its reports."""
    mp = (marketplace or "US").upper()
    if mp in MONTH_FIRST:
        return "mdy"
    if mp in YEAR_FIRST:
        return "ymd"
    return "dmy"
