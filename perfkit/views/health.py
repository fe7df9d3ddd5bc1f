"""Account health beside the rates: the Account Health Rating and policy compliance, as HTML,
a chart and the portfolio index's cells, shared by the report, the explorer and the index.

Counts come from two places, shown side by side: the seller's own notices over the look-back
window (:mod:`perfkit.analysis.compliance`) and Amazon's count in the latest kept report
(:mod:`perfkit.analysis.health`). Any open notice, or an Amazon count over its target, is a breach.
"""
from __future__ import annotations

import datetime as dt
import weakref
from html import escape as E

import pandas as pd

from perfkit.analysis.compliance import notice_counts, worst_status
from perfkit.engine.context import AccountContext
from perfkit.engine.dates import date_to_day
from perfkit.views.labels import t
from perfkit.analysis.amazon_json import plain_text
from perfkit.analysis.reconcile import kept_health
from perfkit.loading.schema import category_name
from perfkit.views.status import STATUS_COLOURS

# Amazon's AHR statuses (Seller Central and the report spell them several ways) as perfkit's. The
# V2 Seller Performance report's own schema has only GREAT and WARNED (no score): WARNED is Amazon's
# warning that the rating is no longer healthy, so at risk (it cannot tell At Risk from Critical).
AHR_STATUS = {"great": "ok", "good": "ok", "healthy": "ok", "fair": "at_risk", "at_risk": "at_risk",
              "at risk": "at_risk", "warned": "at_risk", "poor": "breach", "unhealthy": "breach",
              "critical": "breach"}


def ahr_status(text: str | None) -> str:
    return AHR_STATUS.get(str(text or "").strip().lower(), "no_data")


# Per context, the tables already made (the report's section and index row, every redraw of the
# explorer's status ask for the same day): kept reports are read from disk once.
_MADE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def compliance_table(ctx: AccountContext, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per category on ``day``: notices, open, Amazon's latest count, status; the kept AHR history).

    A category is listed when it has a notice in the window or a count in Amazon's latest kept
    report; its status is the worse of the two (an Amazon count over target is a breach). Made
    once per context and day.
    """
    made = _MADE.setdefault(ctx, {})
    if day not in made:
        made[day] = _compliance_table(ctx, day)
    return made[day]


def _compliance_table(ctx: AccountContext, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = notice_counts(ctx, [date_to_day(day)])
    history = kept_health(ctx)
    history = history[history["report"].str[:10] <= day.isoformat()]  # "DAY-2": a second report of DAY
    latest = history[history["report"] == history["report"].max()] if len(history) else history
    amazon = latest[latest["key"] != ""].set_index("key") if len(latest) else pd.DataFrame()
    rows = []
    for r in counts.itertuples():
        theirs = amazon.loc[r.category] if r.category in amazon.index else None
        amazon_count = None if theirs is None or pd.isna(theirs["defects"]) else int(theirs["defects"])
        if not r.notices and not amazon_count:
            continue
        status = r.status
        if theirs is not None and theirs["breach"] in (True,):  # a Python or numpy true; None is no target
            status = "breach"
        elif status == "no_data" and theirs is not None:
            status = "ok"
        rows.append({"category": r.category, "notices": int(r.notices), "open": int(r.open),
                     "amazon": amazon_count, "status": status})
    table = pd.DataFrame(rows, columns=["category", "notices", "open", "amazon", "status"])
    ahr = history[history["key"] == ""][["report", "ahr_score", "ahr_status"]].reset_index(drop=True)
    if not len(table) and ctx.account.has("policy_notices"):
        table.attrs["status"] = "ok"
    else:
        table.attrs["status"] = worst_status(table) if len(table) else ("ok" if len(latest) else "no_data")
    return table, ahr


def health_html(ctx: AccountContext, day: dt.date, lang: str) -> str:
    """The section: AHR (with its kept history) and the policy-compliance table."""
    table, ahr = compliance_table(ctx, day)
    days = ctx.policy.notice_lookback_days
    out = [f"<h2>{E(t('health_heading', lang))}</h2>"]
    if len(ahr):
        last = ahr.iloc[-1]
        score = "" if pd.isna(last["ahr_score"]) else f"{int(last['ahr_score'])} "
        colour = STATUS_COLOURS[ahr_status(last["ahr_status"])]
        trail = " · ".join(f"{E(r.report)}: {'' if pd.isna(r.ahr_score) else int(r.ahr_score)} {E(str(r.ahr_status or ''))}"
                           for r in ahr.itertuples())
        out.append(f"<p class='pk-ahr'>{E(t('ahr', lang))}: <b style='color:{colour}'>{E(score)}"
                   f"({E(str(last['ahr_status'] or '–'))})</b> <span class='pk-small'>{trail}</span></p>")
    else:
        out.append(f"<p class='pk-ahr'>{E(t('ahr', lang))}: {E(t('ahr_none', lang))}</p>")
    if not ctx.account.has("policy_notices"):
        out.append(f"<p class='pk-small'>{E(t('no_notices_file', lang))}</p>")
    if not len(table):
        out.append(f"<p>{E(t('no_notices', lang, days=days))}</p>")
        return "".join(out)
    heads = [t("policy_category", lang), t("notices_window", lang, days=days), t("notices_open", lang),
             t("amazon_count", lang), t("status", lang)]
    rows = "".join(
        f"<tr><td>{E(category_name(r.category, lang))}</td><td>{r.notices}</td><td>{r.open}</td>"
        f"<td>{'–' if r.amazon is None or pd.isna(r.amazon) else int(r.amazon)}</td>"
        f"<td><span class='pk-badge' style='background:{STATUS_COLOURS.get(r.status, '#999')}'>"
        f"{E(t(r.status, lang))}</span></td></tr>" for r in table.itertuples())
    out.append("<table class='pk-table'><thead><tr>" + "".join(f"<th>{E(h)}</th>" for h in heads)
               + f"</tr></thead><tbody>{rows}</tbody></table>")
    return "".join(out)


def notices_chart(ctx: AccountContext, lang: str) -> dict | None:
    """Notices over time by category: one bar per month and category (a figure dict), or None."""
    notices = ctx.account.policy_notices
    if not len(notices):
        return None
    local = notices["notice_date"].dt.tz_convert(ctx.account.timezone).dt.tz_localize(None)
    month = local.dt.to_period("M").astype(str)
    counts = pd.crosstab(month, notices["category"].astype(str))
    data = [{"type": "bar", "name": category_name(c, lang), "x": list(counts.index), "y": counts[c].tolist()}
            for c in counts.columns]
    return {"data": data, "layout": {"title": {"text": t("notices_chart", lang)}, "barmode": "stack", "height": 320,
                                     "yaxis": {"title": {"text": "notices"}, "dtick": 1}, "xaxis": {"type": "category"}}}


def index_cells(ctx: AccountContext, day: dt.date) -> dict:
    """The index row's health cells: the latest AHR and the worst policy-compliance status."""
    table, ahr = compliance_table(ctx, day)
    cells = {"_policy": {"status": table.attrs["status"], "open": int(table["open"].sum()) if len(table) else 0,
                         "notices": int(table["notices"].sum()) if len(table) else 0}}
    if len(ahr):
        last = ahr.iloc[-1]
        cells["_ahr"] = {"score": None if pd.isna(last["ahr_score"]) else int(last["ahr_score"]),
                         "status": ahr_status(last["ahr_status"]), "text": str(last["ahr_status"] or "")}
    return cells


def health_lines(health, account_status: str | None = None, kept=None) -> list[str]:
    """The terminal lines of what Amazon's report says beyond the rates: the account's status in
    the marketplace, its warning states, the unit on-time delivery rate and where the report was kept."""
    lines = []
    if account_status:
        lines.append(f"  Account status (Amazon): {plain_text(account_status)}")
    if health.warning_states:
        lines.append("  Warning states: " + ", ".join(plain_text(s) for s in health.warning_states))
    unit = health.unit_on_time_delivery or {}
    done, total = unit.get("unitOnTimeDeliveryCount"), unit.get("totalUnitCount")
    if unit:
        counts = f"{done}/{total} units" if done is not None and total is not None else "no counts"
        rate = unit.get("rate")
        shown = f" {rate:.2%}" if isinstance(rate, (int, float)) and not isinstance(rate, bool) else ""
        lines.append(f"  Unit on-time delivery rate (Amazon): {plain_text(counts)}{shown} ({plain_text(unit.get('status') or 'no status')})")
    if kept is not None:
        lines.append(f"  kept as {plain_text(kept)}")
    return lines
