"""Amazon's own report downloads, recognised by their headers and mapped to perfkit tables.

Each format says which table it feeds, how its headers map onto canonical columns, fixed
values it implies (the shipping-dates report lists seller-fulfilled orders only), and whether
its dates are in a marketplace-dependent order rather than ISO 8601.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class ReportFormat:
    name: str
    table: str
    signature: frozenset[str]  # headers (lower case) that identify the report
    columns: dict[str, str]  # report header (lower case) -> canonical column
    defaults: dict[str, str] = field(default_factory=dict)
    local_dates: bool = False  # dates like 1/15/26 whose order depends on the marketplace
    date_order: str | None = None  # the order of its short dates in every marketplace ('dmy', ...)
    english: str | None = None  # for localised titles: the name of the English report
    # Amazon's flat files are tab-separated with no quoting: a '"' is part of the text (a product named
    # '"Deluxe" lamp 12"'), never the start of a quoted field that would swallow the next rows.
    quotes: bool = False

    @property
    def report(self) -> str:
        """Which of Amazon's reports this is, whatever the language of its titles."""
        return self.english or self.name


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
        # "The date of the most recent order update" (help item 200547170): on a cancelled order, its
        # cancellation (kept on cancelled orders only, see sources.py).
        "last-updated-date": "cancelled_at",
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
    # "Date returned merchandise was processed at the fulfillment center (DD-MM-YYYY)", in every
    # marketplace's help page (help item 200453320); the SP-API's download writes ISO instants.
    date_order="dmy",
)

# The same report downloaded from Seller Central: its help page (200453320) names the order column
# amazon-order-id, where the SP-API's file has order-id.
FBA_RETURNS_DOWNLOAD = replace(
    FBA_RETURNS,
    signature=frozenset({"return-date", "amazon-order-id", "detailed-disposition"}),
    columns={("amazon-order-id" if k == "order-id" else k): v for k, v in FBA_RETURNS.columns.items()},
)

REPORT_FORMATS = (ALL_ORDERS, SHIPPING_DATES, UNSHIPPED, AMAZON_SHIPMENTS, FEEDBACK, RETURNS, FBA_RETURNS,
                  FBA_RETURNS_DOWNLOAD)

# Column titles of the same reports downloaded with another report language (Seller Central's
# "Language for feed processing reports", SP-API's preferredReportDocumentLocale): English header
# (lower case) -> the localised title. One table per language serves every report above; a report
# recognised by its localised titles writes its dates the marketplace's way (2017/06/05 in Japan).
LOCALISED_TITLES: dict[str, dict[str, str]] = {
    "Japanese": {
        "amazon-order-id": "注文番号", "order-id": "注文番号", "order id": "注文番号",
        "purchase-date": "購入日", "order-status": "注文ステータス",
        "fulfillment-channel": "フルフィルメントチャネル", "is-business-order": "法人注文",
        "product-name": "商品名", "item-status": "商品ステータス",
        "shipment-id": "出荷ID", "shipment-date": "出荷日", "carrier": "配送業者",
        "tracking-number": "お問い合わせ伝票番号",
        "latest-ship-date": "出荷期限日", "latest-delivery-date": "お届け期限日",
        "promise-date": "出荷予定日", "days-past-promise": "出荷予定日超過日数",
        "date": "日付", "rating": "評価", "comments": "コメント",
        "return request date": "返品リクエスト日", "return request status": "返品リクエストのステータス",
        "amazon rma id": "Amazon RMA ID", "in policy": "返品ポリシー内",
        "return-date": "返品日", "detailed-disposition": "詳細な区分",
        "license-plate-number": "ライセンスプレート番号", "reason": "返品理由",
    },
}

# Amazon's Returns report states the request's status, not the seller's decision: statuses
# that are not a decision yet become empty.
RETURN_STATUS_DECISIONS = {
    "approved": "authorized", "authorized": "authorized", "closed": "authorized",
    "completed": "authorized", "rejected": "rejected", "denied": "rejected",
}

# Amazon's marketplaces by the code account.json gives (GB is accepted for UK).
MARKETPLACES = frozenset({"US", "CA", "MX", "BR", "UK", "GB", "DE", "FR", "IT", "ES", "NL", "SE", "PL", "BE", "IE",
                          "TR", "JP", "AU", "SG", "IN", "AE", "SA", "EG", "ZA", "CN"})
# Marketplaces that write dates month first (1/15/26) or year first (26/01/15) in the Feedback report:
# only the US writes M/D/YY (CA, MX and BR write D/M/YY, DE D.M.YY, JP YY/M/D), as airbytehq/airbyte's
# connector reads each marketplace's report (source-amazon-seller-partner, MARKETPLACE_DATE_FORMAT_MAP,
# pull request #8810).
MONTH_FIRST = frozenset({"US"})
YEAR_FIRST = frozenset({"JP", "CN"})


def detect(headers: list[str]) -> ReportFormat | None:
    """The Amazon report these headers belong to (with English or localised titles), or None."""
    lowered = {h.strip().lower() for h in headers}
    for fmt in REPORT_FORMATS:
        if fmt.signature <= lowered:
            return fmt
    for language, titles in LOCALISED_TITLES.items():
        for fmt in REPORT_FORMATS:
            signature = {titles.get(h, "").lower() for h in fmt.signature}
            if "" not in signature and signature <= lowered:
                return localised(fmt, language, titles)
    return None


def localised(fmt: ReportFormat, language: str, titles: dict[str, str]) -> ReportFormat:
    """A report as it comes with ``language``'s column titles: the same columns under those titles,
    its dates in the marketplace's order."""
    columns = {titles[h].lower(): canonical for h, canonical in fmt.columns.items() if h in titles}
    return replace(fmt, name=f"{fmt.name} ({language} titles)", english=fmt.name, columns=columns,
                   signature=frozenset(titles[h].lower() for h in fmt.signature), local_dates=True, date_order=None)


def date_order(marketplace: str | None) -> str:
    """'mdy', 'dmy' or 'ymd': how a marketplace writes short dates in its reports."""
    mp = (marketplace or "US").upper()
    if mp in MONTH_FIRST:
        return "mdy"
    if mp in YEAR_FIRST:
        return "ymd"
    return "dmy"
