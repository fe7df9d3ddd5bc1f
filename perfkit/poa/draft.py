"""Draft a Plan of Action (POA) from the analyst's recorded causes and each unit's own evidence.

A POA has three parts: root causes (with the affected units and figures), corrective actions
already taken, and preventive measures. Amazon's reviewers reject letters copied from a
template and causes the evidence does not support, so every paragraph here is built from this
account's facts: what Amazon counted and by which date, the rate and counts of the metric row,
the units behind the defects and the declared evidence test each of them passed
(:mod:`perfkit.poa.evidence`). The analyst's causes always appear, with or without units tied
to them. Buyer-written text is made inert (:mod:`perfkit.poa.safe`). The text is a draft in
English for the analyst to edit, never something to send unread.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from perfkit.core.policy import MetricPolicy
from perfkit.engine import registry
from perfkit.engine.context import AccountContext
from perfkit.engine.metrics import series
from perfkit.poa.actions import ACTIONS, COMPONENT_ACTIONS, DOCUMENTS
from perfkit.poa.causes import CauseStore, cause_label
from perfkit.poa.evidence import UNEXPLAINED, Scene, group_by_evidence, rule_for, shows
from perfkit.poa.facts import (Evidence, component_count, count, gather_evidence, no_poa_reason,
                               unit_words)
from perfkit.poa.safe import csv_frame, md_text

CARRIER_CAUSES = {"logistics", "carrier_pickup", "carrier_no_tracking", "carrier_slow", "transit_time_setting",
                  "carrier_no_updates"}
BUYER_TEXT = ("claim_reason", "buyer_comment", "reason", "tracking_id", "carrier", "category", "product_name")


def _listing(values: Sequence[str], limit: int = 3) -> str:
    values = [v for v in values if v]
    head = ", ".join(values[:limit])
    return head + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _ids_text(ids: Sequence[str], limit: int = 10) -> str:
    ids = [md_text(i) for i in dict.fromkeys(ids)]
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def _by(rows: pd.DataFrame, units: pd.DataFrame, column: str, limit: int = 3) -> str:
    """``DHL (30 of 60), UPS (24 of 50)``: the values behind these rows, each with its defects of its units."""
    if column not in rows.columns or rows[column].isna().all():
        return ""
    top = rows[column].dropna().astype(str).value_counts().head(limit)
    totals = units[column].astype(str).value_counts()
    return _listing([f"{md_text(v)} ({n} of {int(totals.get(v, n))})" for v, n in top.items()], limit)


def _what_buyers_said(rows: pd.DataFrame, limit: int = 3) -> str:
    said = []
    for column in ("claim_reason", "buyer_comment", "reason"):
        if column in rows.columns:
            said += [md_text(x)[:160] for x in rows[column].dropna() if str(x).strip()]
    said = list(dict.fromkeys(s for s in said if s))
    return "; ".join(f"\u201c{x}\u201d" for x in said[:limit]) + (f" and {len(said) - limit} more"
                                                                   if len(said) > limit else "")


def _period(rows: pd.DataFrame) -> str:
    dates = pd.to_datetime(rows["anchor_date"])
    first, last = dates.min().date(), dates.max().date()
    return f"on {first}" if first == last else f"between {first} and {last}"


def seller(ctx: AccountContext) -> str:
    """The seller's display name with its marketplace, said once (a name often carries it already)."""
    name, market = md_text(ctx.account.name), ctx.account.marketplace or "unknown"
    return name if f"({market})" in name else f"{name} ({market})"


def _header(ctx: AccountContext, mp: MetricPolicy) -> list[str]:
    return [f"# Plan of Action: {mp.name_en}", "",
            f"Seller: {seller(ctx)} · account {md_text(ctx.account_id)}", ""]


def _scope(ev: Evidence) -> str:
    """What the segment adds to the counted units: a channel, a category, or nothing for all."""
    if ev.segment.startswith("category="):
        return f" in category {md_text(ev.segment.split('=', 1)[1])}"
    if ev.segment == "AFN":
        return " (Fulfilled by Amazon)"
    if ev.segment == "MFN" and "seller-fulfilled" not in ev.counted():
        return " (seller-fulfilled)"
    return ""


def _statement(mp: MetricPolicy, ev: Evidence) -> list[str]:
    one, many = unit_words(mp.id)
    said = (f"{ev.numerator} of {ev.denominator} {ev.counted()}{_scope(ev)} met it; "
            f"{count(ev.defects, one, many)} did not" if mp.counts_good
            else f"{ev.defects} of {ev.denominator} {ev.counted()}{_scope(ev)} "
                 f"{'was' if ev.defects == 1 else 'were'} defective")
    lines = ["## What happened", "",
             f"On {ev.as_of} our {mp.name_en} was {ev.rate:.2%}: {said}, against Amazon's target of "
             f"{mp.target_display()}.", ""]
    comp = ev.drivers.get("component")
    if comp is not None and len(comp) > 1:
        parts = [component_count(str(c), int(n)) for c, n in zip(comp["component"], comp["defects"])]
        lines += [f"The defects are {', '.join(parts)} (a unit with several counts once).", ""]
    return lines


def _chosen(causes: pd.DataFrame | None, ev: Evidence) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The analyst's causes for this window, and those recorded for another window."""
    if causes is None or not len(causes):
        empty = pd.DataFrame(columns=["cause", "free_text", "note", "orders", "period_start", "period_end"])
        return empty, empty
    same = (causes["period_start"].astype(str) == str(ev.window_from)) & (
        causes["period_end"].astype(str) == str(ev.window_to))
    return causes[same].reset_index(drop=True), causes[~same].reset_index(drop=True)


def draft_poa(ctx: AccountContext, mp: MetricPolicy, day: int, causes: pd.DataFrame | None = None,
              segment: str | None = None) -> str:
    """The POA draft as Markdown, built from this account's evidence (or why none is needed).

    Every cause the analyst recorded for this window appears with its note and actions, with or
    without units tied to it; a unit tied to several causes appears under each; the units nobody
    tied go under the cause whose declared evidence test they pass, else under "still to explain",
    which is a note to the analyst, never a cause. Causes recorded for another window are listed
    apart, for the analyst to confirm.

    Parameters
    ----------
    ctx : AccountContext
        The account and policy.
    mp : MetricPolicy
        A metric with a target (validated at the edge: :meth:`AccountContext.metric`).
    day : int
        The as-of day number.
    causes : DataFrame, optional
        Rows of :meth:`CauseStore.current` for this metric (any window).
    segment : str, optional
        The segment (default: the worst).
    """
    ev = gather_evidence(ctx, mp, day, segment)
    why_not = no_poa_reason(ctx, mp, ev)
    if why_not is not None:
        return f"# {seller(ctx)}: {mp.name_en}\n\nNo POA needed: {why_not}\n"
    metric, family = mp.id, registry.family(mp.id)
    returns = "return_id" in ev.units.columns
    id_column = "return_id" if returns else "order_id"
    one, many = unit_words(metric)
    mine, elsewhere = _chosen(causes, ev)
    tied: dict[str, list[str]] = {}
    for c in mine.itertuples():
        tied.setdefault(_key(c), []).extend(str(i) for i in c.orders)
    scene = Scene(_with_columns(ctx, ev.units), mp, ctx.policy.poa, ctx.account.marketplace or "",
                  ctx.policy.return_response_hours, ctx.policy.tracking_placeholders,
                  ctx.policy.untracked_carriers)
    groups = group_by_evidence(family, scene, tied, id_column)
    lines = _header(ctx, mp) + _statement(mp, ev)
    breaches = _category_breaches(ctx, mp, day)
    if breaches:
        lines += ["Categories below Amazon's target on that day, where Amazon can restrict selling: "
                  + ", ".join(breaches) + ".", ""]
    if not len(mine):
        lines += ["*Draft note: no root cause has been recorded for this window yet. The causes below are the "
                  "ones each unit's own data shows; confirm or change them before sending.*", ""]
    lines += ["## 1. Root causes", ""]
    actions, measures, number = [], [], 0
    order = list(dict.fromkeys([_key(c) for c in mine.itertuples()] + [g for g in groups if g != UNEXPLAINED]))
    notes = {}
    for c in mine.itertuples():
        if str(c.note or "").strip():
            notes.setdefault(_key(c), []).append(str(c.note))
    free = {_key(c): str(c.free_text or "") for c in mine.itertuples()}
    for key in order:
        number += 1
        cause = key.split(":", 1)[0]
        label = md_text(cause_label(metric, cause, "en", free.get(key, "")))
        rows = groups.get(key, ev.units.iloc[0:0])
        named = {str(i) for i in tied.get(key, [])}
        ids = rows[id_column].astype(str)
        by_us, by_data = rows[ids.isin(named)], rows[~ids.isin(named)]
        lines += [f"**{number}. {label}.** " + _cause_detail(rows, ev, scene, family, cause, many, one), ""]
        for note in notes.get(key, []):
            lines += [f"Our finding: {md_text(note)}", ""]
        if len(by_us):
            lines += [f"{many.capitalize()} we traced to it: {_ids_text(by_us[id_column].astype(str))}.", ""]
        elif tied.get(key):  # tied, but none of those units is defective in this window: say so
            lines += [f"The {many} tied to it are not among this window's defective {many}: "
                      f"{_ids_text(tied[key], 5)}.", ""]
        elif key in free:
            lines += [f"Recorded for the whole window; no {one} is tied to it yet.", ""]
        if len(by_data):
            rule = rule_for(family, cause)
            why = f" ({shows(rule, scene)})" if rule is not None else ""
            lines += [f"{many.capitalize()} whose own data shows it{why}: {_ids_text(by_data[id_column].astype(str))}.", ""]
        said = _what_buyers_said(rows)
        if said:
            lines += [f"What the buyers said: {said}", ""]
        fields = {"n": len(rows) or "the", "orders": _ids_text(rows[id_column].astype(str), 5) or "see above",
                  "carriers": _listing(_top(rows, "carrier")) or "the carriers used",
                  "categories": _listing(_top(rows, "category")) or "the categories concerned",
                  "rate": f"{ev.rate:.2%}"}
        done, prevent = ACTIONS.get(cause, ACTIONS["other"])
        actions += [f"- [ ] ({label}) {_singular(x.format(**fields))}. Owner: ____ Done on: ____" for x in done]
        measures += [f"- [ ] ({label}) {_singular(x.format(**fields))}. Owner: ____ From: ____" for x in prevent]
    if not order:
        lines += ["*Draft note: no cause is recorded and no unit's data shows one. Find the cause of each unit "
                  "listed below before writing this part: Amazon rejects a letter without a specific root cause.*",
                  ""]
    actions, measures = _component_items(ev, actions, measures)
    lines += ["## 2. Actions taken (confirm each, with who did it and when; delete what was not done)", ""]
    lines += actions + ["", "## 3. Preventive measures (confirm each)", ""] + measures + [""]
    lines += _watch(mp, ev)
    if UNEXPLAINED in groups:
        rest = groups[UNEXPLAINED]
        lines += ["## Still to explain (a note for the analyst: not part of the letter)", "",
                  f"{count(len(rest), one, many)} {_period(rest)} pass no cause's evidence test and no analyst "
                  f"tied them: {_ids_text(rest[id_column].astype(str))}. Record their cause, or leave them out.", ""]
        if family == "cancel_rate" and "cancelled_at" not in scene.units.columns:
            lines += ["The cancellation time is not in the data, so a cancellation before the ship-by date "
                      "(stock-out) cannot be told from one after it: load Amazon's All Orders report (its "
                      "last-updated-date) or a `cancelled_at` column.", ""]
        said = _what_buyers_said(rest)
        if said:
            lines += [f"What those buyers said: {said}", ""]
    if len(elsewhere):
        lines += ["## Causes recorded for another window (confirm they still apply before using them)", ""]
        lines += [f"- {md_text(cause_label(metric, c.cause, 'en', c.free_text or ''))} (recorded for "
                  f"{c.period_start} to {c.period_end}" + (f"; {len(c.orders)} tied" if len(c.orders) else "") + ")"
                  + (f": {md_text(c.note)}" if str(c.note or "").strip() else "") for c in elsewhere.itertuples()]
        lines += [""]
    lines += ["## Documents to attach", ""] + [f"- [ ] {d}" for d in DOCUMENTS.get(family, DOCUMENTS["odr"][:1])]
    lines += ["", "(`perfkit poa --out FILE.md` writes the evidence CSV beside the draft as FILE-evidence.csv.)", ""]
    return "\n".join(lines)


_ONE = re.compile(r"\b(the|of) 1 ((?:affected |late |cancelled |business )?)(order|shipment|invoice|parcel|buyer|unit|"
                  r"confirmation|request)s\b")


def _singular(text: str) -> str:
    """``the 1 affected orders`` -> ``the affected order``: an item's counts read right for one unit."""
    return _ONE.sub(lambda m: f"{m[1]} {'the ' if m[1] == 'of' else ''}{m[2]}{m[3]}", text).replace("; 1 were ",
                                                                                                     "; 1 was ")


def _key(c) -> str:
    """A recorded cause's key in the letter: the catalogue key, or ``other:<its words>``."""
    return f"other:{c.free_text}" if c.cause == "other" else str(c.cause)


def _top(frame: pd.DataFrame, column: str, limit: int = 5) -> list[str]:
    if column not in frame.columns:
        return []
    return [md_text(v) for v in frame[column].dropna().astype(str).value_counts().head(limit).index]


def _cause_detail(rows: pd.DataFrame, ev: Evidence, scene: Scene, family: str, cause: str,
                  many: str, one: str) -> str:
    if not len(rows):
        return "No unit of the window is tied to it or shows it in its data."
    parts = [f"{count(len(rows), one, many)} of the {ev.defects} defective {_period(rows)}"]
    if cause in CARRIER_CAUSES:
        carriers = _by(rows, scene.units, "carrier")
        if carriers:
            parts.append(f"carriers (defects of shipments): {carriers}")
    categories = _by(rows, scene.units, "category")
    if categories and family != "return_dissatisfaction_rate":
        parts.append(f"categories (defects of units): {categories}")
    return "; ".join(parts) + "."


def _component_items(ev: Evidence, actions: list[str], measures: list[str]) -> tuple[list[str], list[str]]:
    """Add what Amazon recommends for each kind of defect present in the window."""
    comp = ev.drivers.get("component")
    for c in ([] if comp is None else comp["component"]):
        done, prevent = COMPONENT_ACTIONS.get(str(c), ([], []))
        actions += [f"- [ ] {x}. Owner: ____ Done on: ____" for x in done]
        measures += [f"- [ ] {x}. Owner: ____ From: ____" for x in prevent]
    return actions, measures


def _watch(mp: MetricPolicy, ev: Evidence) -> list[str]:
    """How the rate will be watched, in the direction its target points."""
    level = mp.warn if mp.warn is not None else mp.value
    way = "falls to" if mp.target == ">" else "rises to"
    return ["## How we will keep it within target", "",
            f"We check the {mp.name_en}{_scope(ev)} every day and act as soon as it "
            f"{way} {float(level):.2%}, before it reaches Amazon's target of {mp.target_display()}.", ""]


def _category_breaches(ctx: AccountContext, mp: MetricPolicy, day: int) -> list[str]:
    """Per-category values below target on the day (Valid Tracking is judged per category too)."""
    values = series(ctx, pd.Series([day]).to_numpy(), [mp])
    hits = values[values["segment"].str.startswith("category=") & (values["status"] == "breach")]
    return [f"{md_text(r.segment.split('=', 1)[1])} ({r.rate:.2%})" for r in hits.itertuples()]


def _with_columns(ctx: AccountContext, units: pd.DataFrame) -> pd.DataFrame:
    """The window's units with the order columns some evidence tests read (invoice upload), and a
    returns metric's return reason for orders (Return rate counts orders)."""
    orders = ctx.account.orders
    out = units
    for name in ("invoice_upload_date", "cancelled_at"):  # a cancellation time only where the data has one
        if "return_id" in units.columns or name not in orders.columns:
            continue
        if name == "cancelled_at" and not orders[name].notna().any():
            continue
        when = orders.set_index(orders["order_id"].astype(str))[name]
        when = when[~when.index.duplicated()]
        if isinstance(when.dtype, pd.DatetimeTZDtype):  # local wall time, as the letter states dates
            when = when.dt.tz_convert(ctx.account.timezone).dt.tz_localize(None)
        out = out.assign(**{name: units["order_id"].astype(str).map(when).to_numpy()})
    returns = ctx.account.returns
    if "return_id" not in units.columns and "reason" in returns.columns and len(returns):
        reason = returns.dropna(subset=["reason"]).groupby(returns["order_id"].astype(str))["reason"].first()
        out = out.assign(reason=units["order_id"].astype(str).map(reason).to_numpy())
    return out


def evidence_csv(ctx: AccountContext, mp: MetricPolicy, day: int, segment: str | None = None) -> str:
    """The affected units of the POA's window as CSV: ids, dates, tracking, carrier, what was said
    (buyer-written cells made inert for spreadsheets)."""
    ev = gather_evidence(ctx, mp, day, segment)
    units = _with_columns(ctx, ev.units)  # the columns the evidence tests read (a cancellation's time, ...)
    bad = units[units["defective"]]
    keep = [c for c in ("return_id", "order_id", "anchor_date", "defect", "defect_known_date", "purchase_date",
                        "latest_ship_date", "cancelled_at", "ship_confirm_date", "latest_delivery_date", "delivered_date", "carrier",
                        "tracking_id", "category", "claim_reason", "buyer_comment", "reason", "request_date",
                        "response_date") if c in bad.columns]
    return csv_frame(bad[keep], BUYER_TEXT + ("order_id", "return_id")).to_csv(index=False)


def recorded_causes(causes_db: str | Path | None, ctx: AccountContext, metric: str,
                    segment: str | None = None) -> pd.DataFrame | None:
    """The causes in force in the store for this account and metric (for the segment or "all")."""
    if not causes_db or not Path(causes_db).is_file():
        return None
    recorded = CauseStore(causes_db).current(ctx.account_id, metric)
    if segment is not None and len(recorded):
        recorded = recorded[recorded["segment"].isin([segment, "all"])]
    return recorded


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
        The root-cause database; without one (or an empty one) causes come from the evidence alone.
    segment : str, optional
        The segment (default: the worst); causes recorded for it or for "all" are used.
    """
    return draft_poa(ctx, mp, day, recorded_causes(causes_db, ctx, mp.id, segment), segment)
