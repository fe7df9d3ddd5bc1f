"""Draft a Plan of Action (POA) from the analyst's chosen causes and the account's own evidence.

A POA has three parts: root causes (with the affected orders and figures), corrective actions
already taken, and preventive measures. Amazon's reviewers reject letters copied from a
template, so every paragraph here is built from this account's facts: the metric, window,
rate and counts, the order ids, dates, carriers and categories behind the defects. The text is
a draft in English for the analyst to edit, never something to send unread.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import registry
from .causes import CauseStore, cause_label
from .context import AccountContext
from .dates import day_to_date
from .drilldown import driver_tables, units_frame, window
from .errors import PerfkitError
from .labels import segment_name
from .metrics import series, window_bounds
from .policy import MetricPolicy
from .status import worst

# cause key -> (what was done, what will prevent it); {placeholders} are filled from the evidence.
ACTIONS: dict[str, tuple[list[str], list[str]]] = {
    "logistics": (
        ["Contacted every buyer among the {n} affected orders and reshipped or refunded the parcels that "
         "had not arrived ({orders}).",
         "Opened trace requests with {carriers} for the parcels still without a delivery scan."],
        ["Moved shipments in the affected lanes to services with end-to-end tracking and a delivery scan.",
         "Review late and lost parcels by carrier every week and stop using a service whose rate rises."]),
    "out_of_stock": (
        ["Removed or paused the listings in {categories} that sold without stock, and restocked the "
         "fastest-selling items.",
         "Reconciled the inventory counts in Seller Central with the warehouse for every SKU of the "
         "{n} affected orders."],
        ["Set a safety-stock level per SKU from the last 30 days of sales and alert the buyer team below it.",
         "Synchronise inventory from the warehouse system to Amazon every hour instead of once a day."]),
    "listing_mismatch": (
        ["Compared the listings of the {n} affected orders ({categories}) with the items shipped and corrected "
         "titles, images and size charts that did not match."],
        ["Every listing change is now checked against a physical sample before it goes live."]),
    "damaged_packaging": (
        ["Inspected returned parcels from the affected orders and replaced the packaging for {categories} "
         "with stronger cartons and inserts."],
        ["Added a drop test for new packaging and a weekly check of damage-related feedback."]),
    "customer_service": (
        ["Answered every open buyer message and offered a resolution to the {n} buyers behind the defects."],
        ["Buyer messages are now answered within 12 hours, seven days a week, with a named owner each day."]),
    "product_quality": (
        ["Stopped selling the batch linked to the complaints in {categories}, quarantined the remaining stock "
         "and refunded or replaced the affected buyers ({orders})."],
        ["Every incoming batch is now sampled and inspected before it is listed; supplier defects are tracked "
         "by batch number."]),
    "unrequested_cancel": (
        ["Reviewed the {n} cancelled orders ({orders}) and stopped cancelling orders the buyer did not ask to "
         "cancel; staff now contact the buyer first."],
        ["Cancellation is restricted to two trained staff and each one is logged with its reason."]),
    "carrier_pickup": (
        ["Agreed a fixed daily pick-up time with {carriers} and moved the cut-off for same-day dispatch."],
        ["Track pick-up scans daily; when a pick-up is missed, parcels go out with a backup carrier the same day."]),
    "erp_sync": (
        ["Fixed the order-sync job between our ERP and Amazon and re-imported the orders that arrived late "
         "({n} affected orders)."],
        ["An alert fires when no Amazon order has been imported for 30 minutes during business hours."]),
    "stock_problem": (
        ["Restocked the SKUs whose orders shipped late and moved slow items out of the pick path."],
        ["Orders for items below safety stock are flagged at import so they are picked first or cancelled "
         "before their ship-by date."]),
    "late_confirmation": (
        ["Confirmed every shipped order in Seller Central the same day and cleared the backlog of "
         "{n} late confirmations."],
        ["Shipment confirmation is now automatic when the carrier label is printed."]),
    "carrier_no_tracking": (
        ["Stopped using {carriers} for seller-fulfilled orders because its tracking ids were not recognised "
         "(valid tracking fell to {rate} in the window).",
         "Uploaded corrected tracking ids where the carrier could supply them."],
        ["Only carriers whose tracking Amazon recognises are allowed in our shipping software.",
         "Check the valid tracking rate per carrier and per category every week."]),
    "tracking_wrong": (
        ["Corrected the mistyped or missing tracking ids of the affected shipments ({orders})."],
        ["Tracking ids are now uploaded from the label file, never typed by hand."]),
    "tracking_late": (
        ["Uploaded the tracking ids that were missing at confirmation for the {n} affected shipments."],
        ["Shipment is confirmed only together with its tracking id, in one step."]),
    "confirm_before_ship": (
        ["Stopped confirming shipment before the parcel is handed to the carrier."],
        ["Confirmation happens only after the carrier's first scan."]),
    "carrier_slow": (
        ["Moved the slowest lanes of {carriers} to faster services and contacted the buyers of late parcels."],
        ["Compare promised and actual delivery times per carrier every week."]),
    "transit_time_setting": (
        ["Lengthened the transit times in our shipping templates to match what {carriers} actually achieve."],
        ["Shipping templates are reviewed every month against measured delivery times."]),
    "no_invoice_upload": (
        ["Uploaded the missing invoices for the {n} business orders ({orders})."],
        ["Invoices for business orders are generated and uploaded automatically at shipment confirmation."]),
    "no_vcs": (
        ["Enrolled in Amazon's VAT Calculation Service so invoices are issued automatically."],
        ["A daily check lists business orders shipped without an invoice."]),
    "slow_response": (
        ["Answered every open return request and cleared the backlog ({n} requests answered late)."],
        ["Return requests are answered within 24 hours, weekends included; an alert fires at 36 hours."]),
    "wrongful_rejection": (
        ["Reversed the rejections that did not follow Amazon's return policy and refunded those buyers."],
        ["Every return rejection now needs a second person's approval against the return policy."]),
    "other": (["Addressed the cause described above for the {n} affected orders."],
              ["Monitor this cause weekly until the rate is back within target."]),
}

@dataclass
class Evidence:
    metric: str
    segment: str
    as_of: dt.date
    rate: float | None
    numerator: int
    denominator: int
    defects: int
    target: str
    window_from: dt.date
    window_to: dt.date
    units: pd.DataFrame  # every unit in the window, with defective/defect columns
    drivers: dict[str, pd.DataFrame]  # defects by component, category, carrier and week


def gather_evidence(ctx: AccountContext, mp: MetricPolicy, day: int, segment: str | None = None) -> Evidence:
    """The value of a metric on a day and the units behind it.

    Parameters
    ----------
    ctx : AccountContext
        The account and policy.
    mp : MetricPolicy
        A validated metric with a target.
    day : int
        The as-of day number.
    segment : str, optional
        The segment (default: the worst on that day).
    """
    values = series(ctx, pd.Series([day]).to_numpy(), [mp])
    if segment is None:
        row = worst(values)
    else:
        rows = values[values["segment"] == segment]
        if rows.empty:
            raise PerfkitError(f"{mp.id} has no segment {segment!r}; choose from {', '.join(values['segment'])}")
        row = rows.iloc[0]
    w = window(ctx, mp, day, row["segment"])
    lo, hi = (day_to_date(d).date() for d in window_bounds(mp, day))
    return Evidence(mp.id, row["segment"], day_to_date(day).date(), None if pd.isna(row["rate"]) else float(row["rate"]),
                    int(row["numerator"]), int(row["denominator"]), int(row["defects"]), row["target"], lo, hi,
                    units_frame(ctx, w), driver_tables(ctx, w)[2])


def _listing(values: Sequence[str], limit: int = 3) -> str:
    values = [v for v in values if v]
    if not values:
        return "the affected lanes"
    head = ", ".join(values[:limit])
    return head + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _orders_text(ids: Sequence[str], limit: int = 10) -> str:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return "no order ids recorded"
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def draft_poa(ctx: AccountContext, mp: MetricPolicy, day: int, causes: pd.DataFrame | None = None,
              segment: str | None = None) -> str:
    """The POA draft as Markdown.

    Parameters
    ----------
    ctx : AccountContext
        The account and policy.
    mp : MetricPolicy
        A metric with a target (validated at the edge: :meth:`AccountContext.metric`).
    day : int
        The as-of day number.
    causes : DataFrame, optional
        Rows of :meth:`CauseStore.current` for this metric; with none, causes are suggested
        from the data and marked as suggestions.
    segment : str, optional
        The segment (default: the worst).
    """
    account, metric = ctx.account, mp.id
    ev = gather_evidence(ctx, mp, day, segment)
    bad = ev.units[ev.units["defective"]]
    d = ev.drivers
    chosen = causes if causes is not None and len(causes) else None
    suggested = chosen is None
    if suggested:
        keys = list(registry.get(metric).suggested) or ["other"]
        chosen = pd.DataFrame({"cause": keys, "free_text": "", "note": "", "orders": [[] for _ in keys]})
    rate = "no data" if ev.rate is None else f"{ev.rate:.2%}"
    unit_word = "returns" if "return_id" in ev.units.columns else "orders"
    counted = "good" if mp.counts_good else "defective"
    facts = (f"As of {ev.as_of.isoformat()}, the {mp.name_en} of our {segment_name(ev.segment)} {unit_word} was "
             f"{rate}: {ev.numerator} {counted} out of {ev.denominator} {unit_word} from {ev.window_from.isoformat()} to "
             f"{ev.window_to.isoformat()}, against Amazon's target of {'below' if mp.target == '<' else 'above'} "
             f"{float(mp.value) * 100:.4g}%. "
             f"{ev.defects} {unit_word} count as defects.")
    lines = [f"# Plan of Action: {mp.name_en}", "",
             f"Account: {account.name} ({account.account_id}, marketplace {account.marketplace or 'unknown'})", "",
             facts, ""]
    comp = d.get("component")
    if comp is not None and len(comp):
        parts = [f"{int(n)} {str(c).replace('_', ' ')}" for c, n in zip(comp["component"], comp["defects"])]
        lines += [f"The defects break down as: {', '.join(parts)}.", ""]
    if suggested:
        lines += ["*Draft note: no root cause has been recorded for this metric yet; the causes below are "
                  "suggested from the data and must be confirmed by the analyst before this letter is sent.*", ""]
    lines += ["## 1. Root causes", ""]
    actions, preventions = [], []
    for i, c in enumerate(chosen.itertuples(), start=1):
        if len(c.orders):
            sub = bad[bad["order_id"].isin(list(c.orders))]
            orders = list(c.orders)
        else:
            sub = _concentrated(ev.units, c.cause) if suggested else bad
            orders = sub["order_id"].astype(str).tolist()
        carriers = _top(sub, "carrier")
        categories = _top(sub, "category")
        label = cause_label(metric, c.cause, "en", c.free_text)
        dates = pd.to_datetime(sub["anchor_date"]) if len(sub) else pd.Series(dtype="datetime64[ns]")
        span = f" between {dates.min().date()} and {dates.max().date()}" if len(dates) else ""
        detail = [f"{len(orders)} affected {unit_word}{span}"]
        if carriers:
            detail.append(f"carriers: {_listing(carriers)}")
        if categories:
            detail.append(f"categories: {_listing(categories)}")
        lines += [f"**{i}. {label}.** " + "; ".join(detail) + ".", ""]
        if c.note:
            lines += [f"Analyst's finding: {c.note}", ""]
        lines += [f"Affected {unit_word}: {_orders_text(orders)}.", ""]
        fields = {"n": len(orders), "orders": _orders_text(orders, 5), "carriers": _listing(carriers),
                  "categories": _listing(categories), "rate": rate}
        done, prevent = ACTIONS.get(c.cause, ACTIONS["other"])
        actions += [f"- ({label}) " + s.format(**fields) for s in done]
        preventions += [f"- ({label}) " + s.format(**fields) for s in prevent]
    lines += ["## 2. Corrective actions taken", ""] + actions + [""]
    lines += ["## 3. Preventive measures", ""] + preventions + [""]
    watch = (f"We now check the {mp.name_en} every day against a warning level of "
             f"{float(mp.warn):.2%}" if mp.warn is not None else f"We now check the {mp.name_en} every day")
    lines += [watch + ", so that a rising trend is acted on before it reaches Amazon's target.", ""]
    return "\n".join(lines)


CARRIER_CAUSES = {"logistics", "carrier_pickup", "carrier_no_tracking", "carrier_slow", "transit_time_setting"}
CATEGORY_CAUSES = {"product_quality", "out_of_stock", "listing_mismatch", "damaged_packaging"}


def _concentrated(units: pd.DataFrame, cause: str) -> pd.DataFrame:
    """For a suggested cause, the defects of the carriers or categories that stand out.

    A group stands out when its defect rate is at least twice the overall rate; when none
    does, the group with the most defects is taken.
    """
    bad = units[units["defective"]]
    column = "carrier" if cause in CARRIER_CAUSES else "category" if cause in CATEGORY_CAUSES else None
    if column is None or column not in units.columns or bad[column].isna().all():
        return bad
    overall = units["defective"].mean()
    g = units.groupby(column)["defective"].agg(["sum", "mean"])
    hot = g[(g["mean"] >= 2 * overall) & (g["sum"] > 0)].index.tolist() or [g["sum"].idxmax()]
    return bad[bad[column].isin(hot)]


def _top(frame: pd.DataFrame, column: str, limit: int = 5) -> list[str]:
    if column not in frame.columns:
        return []
    return frame[column].dropna().astype(str).value_counts().head(limit).index.tolist()


def poa_for(ctx: AccountContext, mp: MetricPolicy, day: int, causes_db: str | Path | None = None,
            segment: str | None = None) -> str:
    """The POA draft using the causes recorded in the store for this account and metric.

    Parameters
    ----------
    ctx : AccountContext
        The account and policy.
    mp : MetricPolicy
        A validated metric with a target.
    day : int
        The as-of day number.
    causes_db : str or Path, optional
        The root-cause database; without one (or an empty one) causes are suggested.
    segment : str, optional
        The segment (default: the worst); causes recorded for it or for "all" are used.
    """
    recorded = None
    if causes_db and Path(causes_db).is_file():
        recorded = CauseStore(causes_db).current(ctx.account_id, mp.id)
        if segment is not None and len(recorded):
            recorded = recorded[recorded["segment"].isin([segment, "all"])]
    return draft_poa(ctx, mp, day, recorded, segment)
