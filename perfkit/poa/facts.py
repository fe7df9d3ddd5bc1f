"""The facts a Plan of Action states, as Amazon counts them, and whether a letter is due at all.

Each metric family says what Amazon counts (orders, shipments, return requests) and by which
date a unit falls in the window: a letter that says "orders placed from ... to ..." for a
rate counted by promised delivery date states a fact that is not true. A letter is due only for
a value in breach computed on its whole window; every other case gets "No POA needed" with its
reason, and a metric Amazon does not compute in the marketplace is refused.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from perfkit.analysis.drilldown import driver_tables, units_frame, window
from perfkit.core.errors import PerfkitError
from perfkit.core.policy import MetricPolicy
from perfkit.engine import registry
from perfkit.engine.context import AccountContext
from perfkit.engine.dates import day_to_date
from perfkit.engine.metrics import series, window_bounds
from perfkit.views.labels import segment_name
from perfkit.views.status import worst

# family -> (one unit, many units, what the window holds: {lo} and {hi} filled in)
COUNTED_AS: dict[str, tuple[str, str, str]] = {
    "odr": ("order", "orders", "orders placed from {lo} to {hi}"),
    "cancel_rate": ("order", "orders", "seller-fulfilled orders placed from {lo} to {hi}"),
    "late_shipment": ("order", "orders", "seller-fulfilled orders with a ship-by date from {lo} to {hi}"),
    "valid_tracking_rate": ("shipment", "shipments", "seller-fulfilled shipments with a promised delivery date from "
                            "{lo} to {hi}"),
    "on_time_delivery_rate": ("shipment", "shipments", "tracked shipments with a promised delivery date from "
                              "{lo} to {hi}"),
    "invoice_defect_rate": ("business order", "business orders", "seller-fulfilled business orders placed from "
                            "{lo} to {hi}"),
    "return_dissatisfaction_rate": ("return request", "return requests", "return requests made from {lo} to {hi}"),
    "return_rate": ("order", "orders", "orders placed from {lo} to {hi}"),
}
# defect component -> (one, many), as a count is written in a letter
COMPONENTS = {
    "a_to_z_claim": ("A-to-z claim", "A-to-z claims"), "chargeback": ("chargeback", "chargebacks"),
    "negative_feedback": ("order with negative feedback", "orders with negative feedback"),
    "seller_cancellation": ("seller cancellation", "seller cancellations"),
    "late_shipment": ("late shipment", "late shipments"),
    "invalid_tracking": ("shipment without valid tracking", "shipments without valid tracking"),
    "late_delivery": ("late delivery", "late deliveries"),
    "missing_invoice": ("missing or late invoice", "missing or late invoices"),
    "negative_return_feedback": ("return with negative feedback", "returns with negative feedback"),
    "late_response": ("late response", "late responses"), "invalid_rejection": ("invalid rejection",
                                                                                  "invalid rejections"),
    "refund": ("refund", "refunds"), "return_request": ("return request", "return requests"),
}


def count(n: int, one: str, many: str | None = None) -> str:
    """``1 order``, ``2 orders``: a count with the right plural."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def unit_words(metric: str) -> tuple[str, str]:
    one, many, _ = COUNTED_AS.get(registry.family(metric), ("order", "orders", ""))
    return one, many


def component_count(component: str, n: int) -> str:
    one, many = COMPONENTS.get(component, (component.replace("_", " "), component.replace("_", " ")))
    return count(n, one, many)


@dataclass
class Evidence:
    """One metric's value on a day (the metric row's own numbers) and the units behind it."""

    metric: str
    segment: str
    as_of: dt.date
    rate: float | None
    numerator: int
    denominator: int
    defects: int
    target: str
    status: str
    coverage: float
    window_from: dt.date
    window_to: dt.date
    units: pd.DataFrame  # every unit in the window, with defective/defect columns
    drivers: dict[str, pd.DataFrame]  # defects by component, category, carrier and week
    unit_coverage: float = 1.0  # share of the window's units a column they need covers

    def counted(self) -> str:
        """What the window holds, as Amazon counts it: ``return requests made from ... to ...``."""
        _, _, text = COUNTED_AS.get(registry.family(self.metric), ("", "", "units from {lo} to {hi}"))
        return text.format(lo=self.window_from, hi=self.window_to)


def metric_row(ctx: AccountContext, mp: MetricPolicy, day: int, segment: str | None) -> pd.Series:
    """The metric's row on the day (the worst segment unless one is named); a metric without rows
    (not computed in the account's marketplace) is refused in one line."""
    values = series(ctx, pd.Series([day]).to_numpy(), [mp])
    if values.empty:
        raise PerfkitError(f"{mp.id}: Amazon does not compute {mp.name_en} in marketplace "
                           f"{ctx.account.marketplace or 'unknown'}, so no Plan of Action is written for it")
    if segment is None:
        return worst(values)
    rows = values[values["segment"] == segment]
    if rows.empty:
        raise PerfkitError(f"{mp.id} has no segment {segment!r}; choose from {', '.join(values['segment'])}")
    return rows.iloc[0]


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
    row = metric_row(ctx, mp, day, segment)
    w = window(ctx, mp, day, row["segment"])
    lo, hi = (day_to_date(d).date() for d in window_bounds(mp, day))
    coverage = float(row["coverage"]) if "coverage" in row and pd.notna(row["coverage"]) else 1.0
    units = float(row["unit_coverage"]) if "unit_coverage" in row and pd.notna(row["unit_coverage"]) else 1.0
    return Evidence(mp.id, row["segment"], day_to_date(day).date(), None if pd.isna(row["rate"]) else float(row["rate"]),
                    int(row["numerator"]), int(row["denominator"]), int(row["defects"]), row["target"],
                    str(row["status"]), coverage, lo, hi, units_frame(ctx, w), driver_tables(ctx, w)[2], units)


def no_poa_reason(ctx: AccountContext, mp: MetricPolicy, ev: Evidence) -> str | None:
    """Why no letter is due (None when one is): the value meets the target, Amazon only recommends
    the target in this marketplace, there is no data, or the value covers part of its window."""
    one, many = unit_words(mp.id)
    whose = f"the {mp.name_en} of {segment_name(ev.segment)} {many}"
    market = ctx.account.marketplace or "unknown"
    if ev.status == "no_data":
        return (f"as of {ev.as_of} {whose} has no data: no {one} "
                f"counted in the window ({ev.counted()}), so there is nothing to explain.")
    if ev.status == "advisory":
        return (f"as of {ev.as_of} {whose} is {ev.rate:.2%} ({ev.numerator} of {ev.denominator}); in marketplace "
                f"{market} Amazon only recommends the target ({mp.target_display()}) and takes no action on it.")
    if ev.status == "too_few":
        return (f"as of {ev.as_of} {whose} counts {ev.denominator} {many}, fewer than the {mp.min_units} Amazon "
                f"needs to judge it in marketplace {market}: it is not enforced.")
    if ev.coverage < 1:
        return (f"as of {ev.as_of} {whose} is computed on {ev.coverage:.0%} of its window ({ev.counted()}): the "
                "data does not reach back far enough, so the figures are not the ones Amazon sees; load the "
                "whole window before writing a letter.")
    if ev.unit_coverage < 1:
        return (f"as of {ev.as_of} {whose} is computed on {ev.unit_coverage:.0%} of its {many} ({ev.counted()}): "
                "a column they are placed by or judged on is empty in the rest (perfkit check names it), so the "
                "figures are not the ones Amazon sees; load a file that has it before writing a letter.")
    if ev.status in ("ok", "at_risk"):
        text = (f"as of {ev.as_of} {whose} is {ev.rate:.2%} ({ev.numerator} of {ev.denominator}), which meets "
                f"Amazon's target ({mp.target_display()}).")
        return text + (" It is at risk: watch it, but there is nothing to appeal." if ev.status == "at_risk" else "")
    if ev.status != "breach":
        return f"as of {ev.as_of} {whose} has status {ev.status}, which Amazon does not act on."
    return None
