"""Root causes: the catalogue sellers use for each metric, and the store of analysts' choices.

Choices live in one SQLite file (WAL mode, each save its own IMMEDIATE transaction), so two
notebooks saving at once both keep their choice, and every choice reappears on reopening and
in the weekly report. Nothing is overwritten: a later choice for the same account, metric and
cause supersedes the earlier one when reading, and the history stays.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from perfkit.engine import registry
from perfkit.core.errors import PerfkitError

# cause family (each metric's declaration names one) -> [(key, English, Chinese)]; the keys are what
# the store and the POA use.
CATALOGUE: dict[str, list[tuple[str, str, str]]] = {
    "odr": [
        ("logistics", "Logistics: parcels lost or slow in transit", "物流问题:包裹丢失或运输缓慢"),
        ("out_of_stock", "Out of stock when the order arrived", "下单时缺货"),
        ("listing_mismatch", "Listing does not match the item sent", "商品详情与实物不符"),
        ("damaged_packaging", "Damaged or weak packaging", "包装破损或不牢固"),
        ("customer_service", "Slow or poor customer service", "客服响应慢或服务差"),
        ("product_quality", "Product quality problem", "产品质量问题"),
        ("wrong_item", "Wrong item, size or colour sent", "发错商品、尺码或颜色"),
    ],
    "cancel_rate": [
        ("out_of_stock", "Out of stock: orders cancelled for lack of inventory", "缺货导致取消订单"),
        ("cancel_after_ship_by", "Orders cancelled after their ship-by date because they could not ship in time",
         "超过发货期限后因无法按时发货而取消订单"),
        ("unrequested_cancel", "Orders cancelled that the buyer did not ask to cancel", "取消了买家未要求取消的订单"),
    ],
    "late_shipment": [
        ("carrier_pickup", "Logistics pick-up delays", "物流揽收延迟"),
        ("erp_sync", "ERP or order-sync problems", "ERP 或订单同步问题"),
        ("stock_problem", "Stock problems delaying dispatch", "库存问题导致发货延迟"),
        ("late_confirmation", "Shipment confirmed late in Seller Central", "发货确认操作过晚"),
        ("not_confirmed", "Orders past their ship-by date never confirmed as shipped", "超过发货期限仍未确认发货"),
        ("handling_time_short", "Handling time set shorter than the warehouse needs", "备货时间设置过短"),
        ("untrained_staff", "Staff not trained on Amazon's shipping rules", "员工未接受亚马逊发货规则培训"),
    ],
    "valid_tracking_rate": [
        ("no_tracking_id", "Shipments confirmed with no tracking id at all", "确认发货时完全未填写追踪编码"),
        ("carrier_no_tracking", "Carrier without usable tracking", "承运商不提供有效追踪"),
        ("tracking_wrong", "Tracking id missing or typed wrong", "追踪编码缺失或填写错误"),
        ("tracking_late", "Tracking uploaded late", "追踪编码上传过晚"),
        ("confirm_before_ship", "Shipment confirmed before the parcel really shipped", "包裹实际发出前就确认了发货"),
        ("carrier_no_updates", "Carrier does not update tracking after pick-up", "承运商揽收后不更新追踪信息"),
        ("fake_tracking", "Wrong or made-up tracking number or carrier", "追踪编码或承运商填写错误或虚假"),
        ("untrained_staff", "Staff not trained on Amazon's tracking rules", "员工未接受亚马逊追踪规则培训"),
    ],
    "on_time_delivery_rate": [
        ("carrier_slow", "Carrier slower than the promised delivery window", "承运商时效慢于承诺送达时间"),
        ("transit_time_setting", "Transit time settings too optimistic", "配送时效设置过于乐观"),
        ("logistics", "Logistics: parcels lost or delayed", "物流问题:包裹丢失或延误"),
    ],
    "invoice_defect_rate": [
        ("no_invoice_upload", "No invoice uploaded for business buyers", "未为企业买家上传发票"),
        ("invoice_late", "Invoices uploaded after the first business day", "发票上传晚于第一个工作日"),
        ("no_vcs", "No VAT calculation service or automatic upload", "未启用增值税计算服务或自动上传"),
        ("vat_exemption", "VAT exemption not declared", "未申报增值税豁免"),
    ],
    "return_rate": [
        ("product_quality", "Product quality problem", "产品质量问题"),
        ("listing_mismatch", "Listing does not match the item sent", "商品详情与实物不符"),
        ("wrong_item", "Wrong item, size or colour sent", "发错商品、尺码或颜色"),
        ("damaged_packaging", "Damaged or weak packaging", "包装破损或不牢固"),
        ("size_guide", "Size chart or compatibility information unclear", "尺码表或兼容性信息不清楚"),
    ],
    "return_dissatisfaction_rate": [
        ("slow_response", "Return requests answered too slowly", "退货请求响应过慢"),
        ("wrongful_rejection", "Returns rejected without a valid reason", "无正当理由拒绝退货"),
        ("unresolved_return", "Return issue left unresolved with the buyer", "退货问题未与买家解决"),
        ("not_refunded", "Returned item received but not refunded", "退货已收到但未退款"),
    ],
}
# Policy-compliance categories (Amazon's keys, see perfkit.loading.schema.POLICY_CATEGORIES) are families too.
_IP = [("unauthorised_brand", "Brand or trademark used without authorisation", "未经授权使用品牌或商标"),
       ("copied_content", "Images or text copied from another listing", "图片或文字抄袭其他商品详情")]
_SAFETY = [("unsafe_product", "Product without the required safety checks or certificates", "商品缺少必要的安全检测或认证")]
CATALOGUE |= {
    "receivedIntellectualPropertyComplaints": _IP,
    "suspectedIntellectualPropertyViolations": _IP,
    "productAuthenticityCustomerComplaints": [
        ("no_invoice_proof", "No supplier invoice proving the goods are genuine", "没有能证明正品的供应商发票"),
        ("counterfeit_supply", "A supplier delivered counterfeit goods", "供应商供应了假货"),
        ("used_sold_as_new", "Returned or used units resold as new", "退回或用过的商品作为新品出售")],
    "productConditionCustomerComplaints": [
        ("used_sold_as_new", "Returned or used units resold as new", "退回或用过的商品作为新品出售"),
        ("damaged_packaging", "Damaged or weak packaging", "包装破损或不牢固")],
    "productSafetyCustomerComplaints": _SAFETY,
    "foodAndProductSafetyIssues": _SAFETY,
    "listingPolicyViolations": [
        ("variation_unrelated", "Unrelated products merged into one variation to share reviews",
         "将不相关的商品合并为变体以共享评论"),
        ("variation_theme", "Variation theme that does not match the product", "变体主题与商品不符"),
        ("parent_changed", "Brand or product changed under an existing parent", "在已有父体下更换品牌或商品")],
    "restrictedProductPolicyViolations": [
        ("restricted_listing", "Restricted product listed without approval", "未经批准发布受限商品")],
    "customerProductReviewsPolicyViolations": [
        ("review_manipulation", "Incentives or requests for positive reviews", "以利诱或请求获取好评")],
    "otherPolicyViolations": [],
    "documentRequests": [
        ("documents_missing", "Documents Amazon asked for were not sent", "未提交亚马逊要求的文件")],
}
# A category whose defects stand out from the rest's (evidence.py): a cause of every metric counted on
# orders, last in each family, so that more specific evidence keeps its units.
CATEGORY = ("category_concentrated", "Defects concentrated in one product category", "缺陷集中在某一商品品类")
for _family in ("odr", "cancel_rate", "late_shipment", "valid_tracking_rate", "on_time_delivery_rate",
                "invoice_defect_rate", "return_rate"):
    CATALOGUE[_family].append(CATEGORY)
OTHER = "other"  # a free-text cause


def causes_for(metric: str, lang: str = "en") -> list[tuple[str, str]]:
    """(key, label) of the known causes for a metric, in the chosen language."""
    rows = CATALOGUE.get(registry.family(metric), [])
    return [(k, zh if lang == "zh" else en) for k, en, zh in rows]


def cause_label(metric: str, key: str, lang: str = "en", free_text: str = "") -> str:
    if key == OTHER:
        return free_text
    return dict(causes_for(metric, lang)).get(key, key)


@dataclass
class CauseChoice:
    """One analyst's choice of a root cause for a metric in a period."""

    account_id: str
    metric: str
    cause: str  # a catalogue key, or "other" with free_text
    period_start: dt.date
    period_end: dt.date
    segment: str = "all"
    free_text: str = ""
    note: str = ""
    orders: list[str] = field(default_factory=list)
    author: str = ""
    created_at: str = ""

    def validate(self) -> None:
        keys = {k for k, _ in causes_for(self.metric)} | {OTHER}
        if self.cause not in keys:
            raise PerfkitError(f"cause {self.cause!r} is not known for {self.metric}; choose from {', '.join(sorted(keys))}")
        if self.cause == OTHER and not self.free_text.strip():
            raise PerfkitError("a cause of 'other' needs its own words in free_text")


SCHEMA = """
CREATE TABLE IF NOT EXISTS cause_choices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    segment TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    cause TEXT NOT NULL,
    free_text TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    orders TEXT NOT NULL DEFAULT '[]',
    author TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cause_choices_account ON cause_choices (account_id, metric);
"""


class CauseStore:
    """Analysts' cause choices in a SQLite file shared by notebooks and reports."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Two processes creating a new database at once: switching it to WAL and creating the
        # table can find it locked without waiting (SQLite's busy handler does not cover every
        # lock); try again rather than lose the second choice.
        for attempt in range(100):
            try:
                con = self._connect()
                try:
                    con.execute("PRAGMA journal_mode=WAL")
                    con.executescript(SCHEMA)
                finally:
                    con.close()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise self._unusable(exc) from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                raise self._unusable(exc) from None

    def _unusable(self, exc: Exception) -> PerfkitError:
        return PerfkitError(f"{self.path}: cannot be used as the root-cause database ({exc}); move the file "
                            "aside (perfkit starts a new one) or pass another with --causes-db")

    def _connect(self) -> sqlite3.Connection:
        # A generous busy timeout: a second writer waits for the first instead of failing.
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("PRAGMA busy_timeout=30000")
        return con

    def save(self, choice: CauseChoice) -> int:
        """Store one choice; returns its id."""
        choice.validate()
        author = choice.author or _user()
        created = choice.created_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            cur = con.execute(
                "INSERT INTO cause_choices (account_id, metric, segment, period_start, period_end, cause, free_text,"
                " note, orders, author, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (choice.account_id, choice.metric, choice.segment, str(choice.period_start), str(choice.period_end),
                 choice.cause, choice.free_text, choice.note, json.dumps(list(choice.orders)), author, created))
            con.execute("COMMIT")
            return int(cur.lastrowid)
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def remove(self, choice_id: int) -> None:
        con = self._connect()
        try:
            con.execute("UPDATE cause_choices SET removed = 1 WHERE id = ?", (choice_id,))
        finally:
            con.close()

    def history(self, account_id: str | None = None, metric: str | None = None) -> pd.DataFrame:
        """Every saved choice, oldest first (removed ones included, flagged).

        Parameters
        ----------
        account_id, metric : str, optional
            Only this account, only this metric.
        """
        sql = "SELECT * FROM cause_choices WHERE 1=1"
        args: list[str] = []
        if account_id:
            sql += " AND account_id = ?"
            args.append(account_id)
        if metric:
            sql += " AND metric = ?"
            args.append(metric)
        con = self._connect()
        try:
            frame = pd.read_sql_query(sql + " ORDER BY id", con, params=args)
        finally:
            con.close()
        frame["orders"] = frame["orders"].map(json.loads)
        return frame

    def current(self, account_id: str, metric: str | None = None, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """The choices in force: the latest per (metric, segment, cause, free text), not removed.

        Parameters
        ----------
        account_id : str
            The account.
        metric : str, optional
            Only this metric.
        metrics : sequence of str, optional
            Only these metrics.
        """
        frame = self.history(account_id, metric)
        if metrics is not None:
            frame = frame[frame["metric"].isin(list(metrics))]
        frame = frame.drop_duplicates(["metric", "segment", "cause", "free_text"], keep="last")
        return frame[frame["removed"] == 0].reset_index(drop=True)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "analyst"
