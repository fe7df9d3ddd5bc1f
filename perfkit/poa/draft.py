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

from perfkit.poa.causes import CauseStore, cause_label, causes_for
from perfkit.engine.context import AccountContext
from perfkit.engine.dates import day_to_date
from perfkit.analysis.drilldown import driver_tables, units_frame, window
from perfkit.core.errors import PerfkitError
from perfkit.views.labels import segment_name, t
from perfkit.engine.metrics import meets, series, window_bounds
from perfkit.poa.actions import ACTIONS, DOCUMENTS
from perfkit.poa.evidence import UNEXPLAINED, group_by_evidence
from perfkit.core.policy import MetricPolicy
from perfkit.views.status import worst

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


def _top(frame: pd.DataFrame, column: str, limit: int = 5) -> list[str]:
    if column not in frame.columns:
        return []
    return frame[column].dropna().astype(str).value_counts().head(limit).index.tolist()


def _orders_text(ids: Sequence[str], limit: int = 10) -> str:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return "no order ids recorded"
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


# component -> (one, many), as a count is written in a letter
COUNTED = {
    "a_to_z_claim": ("A-to-z claim", "A-to-z claims"), "chargeback": ("chargeback", "chargebacks"),
    "negative_feedback": ("order with negative feedback", "orders with negative feedback"),
    "seller_cancellation": ("seller cancellation", "seller cancellations"),
    "late_shipment": ("late shipment", "late shipments"),
    "invalid_tracking": ("shipment without valid tracking", "shipments without valid tracking"),
    "late_delivery": ("late delivery", "late deliveries"),
    "missing_invoice": ("missing or late invoice", "missing or late invoices"),
    "negative_return_feedback": ("return with negative feedback", "returns with negative feedback"),
    "late_response": ("late response", "late responses"), "invalid_rejection": ("invalid rejection", "invalid rejections"),
    "refund": ("refund", "refunds"), "return_request": ("return request", "return requests"),
}


def _words(component: str, n: int) -> str:
    """``2 A-to-z claims``: a component as people write it."""
    one, many = COUNTED.get(component, (t(component, "en").lower(), t(component, "en").lower()))
    return f"{n} {one if n == 1 else many}"


def draft_poa(ctx: AccountContext, mp: MetricPolicy, day: int, causes: pd.DataFrame | None = None,
              segment: str | None = None) -> str:
    """The POA draft as Markdown, built from this account's evidence (or why none is needed).

    Defective orders are grouped under causes by their own evidence first (claim reasons, feedback
    and return words, carriers and categories that stand out, :mod:`perfkit.poa.evidence`); the
    analyst's recorded causes and the orders tied to them override. Actions and measures are
    items to confirm, with an owner and a date; the letter says only what the data says.

    Parameters
    ----------
    ctx : AccountContext
        The account and policy.
    mp : MetricPolicy
        A metric with a target (validated at the edge: :meth:`AccountContext.metric`).
    day : int
        The as-of day number.
    causes : DataFrame, optional
        Rows of :meth:`CauseStore.current` for this metric; with none, the causes the evidence
        points to are offered as suggestions.
    segment : str, optional
        The segment (default: the worst).
    """
    account, metric = ctx.account, mp.id
    ev = gather_evidence(ctx, mp, day, segment)
    if ev.denominator and meets(mp, ev.defects, ev.denominator):
        unit_word = "returns" if "return_id" in ev.units.columns else "orders"
        return (f"# {account.name}: {mp.name_en}\n\nNo POA needed: as of {ev.as_of} the {mp.name_en} of "
                f"{segment_name(ev.segment)} {unit_word} is {ev.rate:.2%} ({ev.numerator} of {ev.denominator}), which meets "
                f"Amazon's target ({mp.target_display()}).\n")
    returns = "return_id" in ev.units.columns
    unit_word, id_column = ("returns", "return_id") if returns else ("orders", "order_id")
    chosen = causes if causes is not None and len(causes) else None
    family = [k for k, _ in causes_for(metric)]
    candidates = list(chosen["cause"]) if chosen is not None else family
    tied = {c.cause: list(c.orders) for c in chosen.itertuples() if len(c.orders)} if chosen is not None else {}
    groups = group_by_evidence(ev.units, candidates, tied, id_column)
    rate = "no data" if ev.rate is None else f"{ev.rate:.2%}"
    counted = "good" if mp.counts_good else "defective"
    lines = [f"# Plan of Action: {mp.name_en}", "",
             f"Account: {account.name} ({account.account_id}, marketplace {account.marketplace or 'unknown'})", "",
             "## Acknowledgement", "",
             f"Our {mp.name_en} for {segment_name(ev.segment)} {unit_word} was {rate} as of {ev.as_of}: "
             f"{ev.numerator} {counted} of {ev.denominator} {unit_word} placed from {ev.window_from} to "
             f"{ev.window_to}, against Amazon's target of {mp.target_display()}. {ev.defects} {unit_word} "
             "fell short, and we take responsibility for each of them.", ""]
    comp = ev.drivers.get("component")
    if comp is not None and len(comp):
        parts = [_words(str(c), int(n)) for c, n in zip(comp["component"], comp["defects"])]
        lines += [f"They break down as: {', '.join(parts)}.", ""]
    breaches = _category_breaches(ctx, mp, day)
    if breaches:
        lines += ["Categories below Amazon's target on that day, where Amazon can restrict selling: "
                  + ", ".join(breaches) + ".", ""]
    if chosen is None:
        lines += ["*Draft note: no root cause has been recorded for this metric yet. The causes below are "
                  "where each order's own evidence points; confirm or change them before sending.*", ""]
    lines += ["## 1. Root causes", ""]
    actions, measures = [], []
    notes = {c.cause: c.note for c in chosen.itertuples()} if chosen is not None else {}
    free = {c.cause: c.free_text for c in chosen.itertuples()} if chosen is not None else {}
    for i, (cause, rows) in enumerate(groups.items(), start=1):
        ids = rows[id_column].astype(str).tolist()
        mine = {str(i) for i in tied.get(cause, [])}  # the orders the analyst named lead the list
        ids = [i for i in ids if i in mine] + [i for i in ids if i not in mine]
        carriers = [] if returns else _top(rows, "carrier")
        categories = _top(rows, "category")
        label = ("Not explained by the causes above: look at these before sending" if cause == UNEXPLAINED
                 else cause_label(metric, cause, "en", free.get(cause, "")))
        dates = pd.to_datetime(rows["anchor_date"])
        first, last = dates.min().date(), dates.max().date()
        noun = unit_word if len(ids) != 1 else unit_word[:-1]
        detail = [f"{len(ids)} {noun} " + (f"on {first}" if first == last else f"between {first} and {last}")]
        if carriers:
            detail.append(f"carriers: {_listing(carriers)}")
        if categories:
            detail.append(f"categories: {_listing(categories)}")
        lines += [f"**{i}. {label}.** " + "; ".join(detail) + ".", ""]
        said = _what_buyers_said(rows)
        if said:
            lines += [f"What the buyers said: {said}", ""]
        if notes.get(cause):
            lines += [f"Our finding: {notes[cause]}", ""]
        lines += [f"Affected {unit_word}: {_orders_text(ids)}.", ""]
        if cause == UNEXPLAINED:
            continue
        fields = {"n": len(ids), "orders": _orders_text(ids, 5), "carriers": _listing(carriers),
                  "categories": _listing(categories), "rate": rate}
        done, prevent = ACTIONS.get(cause, ACTIONS["other"])
        actions += [f"- [ ] ({label}) {x.format(**fields)}. Owner: ____ Done on: ____" for x in done]
        measures += [f"- [ ] ({label}) {x.format(**fields)}. Owner: ____ From: ____" for x in prevent]
    lines += ["## 2. Actions taken (confirm each, with who did it and when; delete what was not done)", ""]
    lines += actions + ["", "## 3. Preventive measures (confirm each)", ""] + measures + [""]
    watch = f"a warning level of {float(mp.warn):.2%}" if mp.warn is not None else "its target"
    lines += ["## Commitment", "",
              f"We will check the {mp.name_en} of our {segment_name(ev.segment)} {unit_word} every day against "
              f"{watch} and act on a rising trend before it reaches Amazon's target; the owners named above answer "
              "for each measure.", "",
              "## Appendix: evidence", "",
              f"The {ev.defects} affected {unit_word} with their dates, tracking, carrier and what the buyer said are "
              "in the evidence CSV written beside this draft (`perfkit poa --out FILE.md` writes FILE-evidence.csv).",
              "", "Documents to attach:", ""] + [f"- [ ] {d}" for d in DOCUMENTS] + [""]
    return "\n".join(lines)


def _category_breaches(ctx: AccountContext, mp: MetricPolicy, day: int) -> list[str]:
    """Per-category values below target on the day (Valid Tracking is judged per category too)."""
    values = series(ctx, pd.Series([day]).to_numpy(), [mp])
    hits = values[values["segment"].str.startswith("category=") & (values["status"] == "breach")]
    return [f"{r.segment.split('=', 1)[1]} ({r.rate:.2%})" for r in hits.itertuples()]


def _what_buyers_said(rows: pd.DataFrame, limit: int = 3) -> str:
    said = []
    for column in ("claim_reason", "buyer_comment", "reason"):
        if column in rows.columns:
            said += [str(x) for x in rows[column].dropna() if str(x).strip()]
    said = list(dict.fromkeys(said))
    return "; ".join(f"\u201c{x[:120]}\u201d" for x in said[:limit]) + (f" and {len(said) - limit} more" if len(said) > limit else "")


def evidence_csv(ctx: AccountContext, mp: MetricPolicy, day: int, segment: str | None = None) -> str:
    """The affected units of the POA's window as CSV: ids, dates, tracking, carrier, what was said."""
    ev = gather_evidence(ctx, mp, day, segment)
    bad = ev.units[ev.units["defective"]]
    keep = [c for c in ("return_id", "order_id", "anchor_date", "defect", "defect_known_date", "purchase_date",
                        "ship_confirm_date", "delivered_date", "carrier", "tracking_id", "category",
                        "claim_reason", "buyer_comment", "reason", "request_date", "response_date") if c in bad.columns]
    return bad[keep].to_csv(index=False)


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
