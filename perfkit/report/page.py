"""The weekly account report: everything the report notebook shows, as escaped HTML pieces.

The notebook stays thin (parameters, then one call per section); everything here is plain
functions over an :class:`AccountReport`, so the same content is testable without Jupyter.
Buyer text, analyst notes, product and category names are untrusted: every string that
reaches HTML goes through :func:`html.escape`.
"""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from perfkit.engine import registry
from perfkit.poa.causes import CauseStore, cause_label
from perfkit.views.charts import drivers_chart, metric_charts
from perfkit.engine.context import AccountContext
from perfkit.engine.dates import first_data_day
from perfkit.analysis.drilldown import driver_tables, units_frame, window
from perfkit.core.errors import PerfkitError
from perfkit.analysis.forecast import Recovery, breach_forecasts
from perfkit.views.labels import check_lang, input_note_text, metric_name, segment_name, t
from perfkit.core.account import Account
from perfkit.core.notes import render as render_note
from perfkit.engine.metrics import account_series
from perfkit.core.policy import Policy
from perfkit.analysis.reconcile import official_points
from perfkit.views.status import (STATUS_COLOURS, counted_text, judged_segments, shown_statuses, status_reason,
                                  status_table, worst_record)

HISTORY_DAYS = 180
E = html.escape


def _e(value: object) -> str:
    """A cell's value as escaped text; missing (None, NaN, pandas' NA or NaT) as nothing, never ``<NA>``."""
    missing = value is None or (pd.api.types.is_scalar(value) and pd.isna(value))
    return E("" if missing else str(value))


def fmt_rate(value: object) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.2%}"


def last_full_week_end(latest: dt.date, today: dt.date | None = None) -> dt.date:
    """The Sunday that ends the last full week covered by data up to ``latest`` (and before today).

    Parameters
    ----------
    latest : date
        The last day of data.
    today : date, optional
        Today (default: the machine's date); a week is full only once its Sunday is over.
    """
    today = today or dt.date.today()
    last = min(latest, today - dt.timedelta(days=1))
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


@dataclass
class AccountReport:
    """One account's weekly report: the figures of its week and the HTML sections showing them."""

    ctx: AccountContext
    as_of: dt.date
    lang: str
    series: pd.DataFrame
    official: pd.DataFrame
    causes: pd.DataFrame
    recoveries: list[Recovery] = field(default_factory=list)
    as_of_chosen: bool = False  # the day was given, not the default last full week
    _judged: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def account(self) -> Account:
        return self.ctx.account

    @property
    def policy(self) -> Policy:
        return self.ctx.policy

    @classmethod
    def build(cls, data_root: str | Path, account_id: str, as_of: str | dt.date | None = None, lang: str = "en",
              policy: Policy | str | Path | None = None, causes_db: str | Path | None = None) -> AccountReport:
        """Load an account and compute its week (the report notebook's one call).

        Parameters
        ----------
        data_root : str or Path
            The data root holding the account's folder.
        account_id : str
            The account (its folder name).
        as_of : date, optional
            The week's last day (default: the last full week the data covers).
        lang : str
            ``en`` or ``zh``.
        policy : Policy, str or Path, optional
            The policy (default: perfkit's).
        causes_db : str or Path, optional
            The analysts' root-cause database, if any.
        """
        check_lang(lang)
        ctx = AccountContext.of(Path(data_root) / account_id, policy or None)
        if ctx.last_day is None:
            raise PerfkitError(f"{account_id}: no dated orders to report on")
        day = pd.Timestamp(as_of).date() if as_of else last_full_week_end(ctx.last_day.date())
        # The charts span the data's own period (its first purchase day to the report's day).
        first = first_data_day(ctx.account)
        start = min(first.date(), day) if first is not None else day - dt.timedelta(days=HISTORY_DAYS)
        series = account_series(ctx, start=start, end=day, early=True)
        store_rows = pd.DataFrame()
        if causes_db and Path(causes_db).is_file():
            store_rows = CauseStore(causes_db).current(ctx.account_id)
        return cls(ctx, day, lang, series, official_points(ctx), store_rows, breach_forecasts(ctx, series),
                   as_of_chosen=bool(as_of))

    # --- data ----------------------------------------------------------------------------------

    def judged(self) -> pd.DataFrame:
        """This week's and last week's values of every metric with a target, and the headline ones
        (worked out once: four sections read it; none changes it)."""
        if self._judged is None:
            table = status_table(self.series, self.policy, self.as_of).rename(columns={"rate_before": "rate_last_week"})
            keep = (table["target"] != "") | table["metric"].map(registry.headline)
            self._judged = table[keep].reset_index(drop=True)
        return self._judged

    def health_section(self) -> tuple[str, dict | None]:
        """Account Health Rating and policy compliance (HTML), and the notices chart (or None)."""
        from perfkit.views.health import health_html, notices_chart

        return health_html(self.ctx, self.as_of, self.lang), notices_chart(self.ctx, self.lang)

    def index_row(self) -> dict:
        """The account's row of the portfolio index: per index metric, its worst segment's value
        (status, rate, segment, counts), plus the data's first and last day and the name."""
        latest = self.series[self.series["as_of"] == self.as_of]
        by_metric: dict[str, list[dict]] = {}  # a few rows per metric, as plain records
        for rec, shown in zip(latest.to_dict("records"), shown_statuses(latest)):
            by_metric.setdefault(rec["metric"], []).append({**rec, "shown": shown})
        from perfkit.views.health import index_cells

        row: dict = {"_name": self.account.name, "_last": self.ctx.last_day.date().isoformat(),
                     **index_cells(self.ctx, self.as_of)}
        first = self.account.orders["purchase_date"].min()
        if first == first:
            row["_first"] = first.tz_convert("UTC").date().isoformat()
        for m, channel in registry.index_columns(self.policy):
            rows = by_metric.get(m, [])
            keep = {channel} if channel else set(judged_segments([r["segment"] for r in rows]))
            r = worst_record([r for r in rows if r["segment"] in keep], "shown")
            if r is not None:
                row[registry.index_key(m, channel)] = {
                    "status": r["shown"], "coverage": float(r["coverage"]),
                    "unit_coverage": float(r.get("unit_coverage", 1.0)),
                    "rate": None if pd.isna(r["rate"]) else float(r["rate"]), "segment": r["segment"],
                    "numerator": int(r["numerator"]), "denominator": int(r["denominator"]),
                    "target": self.policy[m].target_display(),
                    "headroom": None if pd.isna(r["headroom"]) else int(r["headroom"])}
        return row

    # --- HTML sections -------------------------------------------------------------------------

    def verdicts(self) -> dict[str, list[tuple[str, list[str], float]]]:
        """Each targeted metric once, by the worst status of the segments Amazon judges: ``breach``,
        ``at_risk``, ``advisory`` or ``unjudged`` (partial or no data), each (metric, its segments
        with that status, the worst rate); metrics whose judged segments are all ok are left out."""
        j = self.judged()
        j = j[j["target"] != ""]
        out: dict[str, list] = {"breach": [], "at_risk": [], "advisory": [], "unjudged": [], "ok": []}
        # Plain records grouped by metric in order of appearance: a few rows per metric, where
        # pandas' per-group filtering cost more than the rest of the headline.
        groups: dict[str, list[dict]] = {}
        for rec in j[["metric", "segment", "shown", "rate"]].to_dict("records"):
            groups.setdefault(rec["metric"], []).append(rec)
        unjudged = {"partial": "unjudged", "no_data": "unjudged", "too_few": "unjudged"}
        for metric, recs in groups.items():
            keep = set(judged_segments([r["segment"] for r in recs]))
            recs = [r for r in recs if r["segment"] in keep]
            for key in ("breach", "at_risk", "advisory", "unjudged", "ok"):
                hit = [r for r in recs if unjudged.get(r["shown"], r["shown"]) == key]
                if hit:
                    out[key].append((metric, [r["segment"] for r in hit], hit[0]["rate"]))
                    break
        return out

    def policy_breaches(self) -> list[tuple[str, int]]:
        """The policy-compliance categories in breach (category, open notices)."""
        from perfkit.views.health import compliance_table

        table, _ = compliance_table(self.ctx, self.as_of)
        return [(r.category, int(r.open)) for r in table.itertuples() if r.status == "breach"]

    def headline(self) -> str:
        from perfkit.loading.schema import category_name

        v = self.verdicts()
        name = self.account.name

        def listing(items: list, rates: bool = True) -> str:
            return ", ".join(f"{metric_name(m, self.lang, self.policy)} ("
                             f"{', '.join(segment_name(s, self.lang) for s in segs)})"
                             + (f" {fmt_rate(rate)}" if rates else "") for m, segs, rate in items)

        policies = [t("policy_breach_item", self.lang, category=category_name(c, self.lang), n=n)
                    for c, n in self.policy_breaches()]
        if v["breach"] or policies:
            text = ", ".join(x for x in (listing(v["breach"]), *policies) if x)
            key, fields, colour = "headline_breach", {"n": len(v["breach"]) + len(policies), "list": text}, \
                STATUS_COLOURS["breach"]
        elif v["at_risk"]:
            key, fields, colour = "headline_risk", {"n": len(v["at_risk"]), "list": listing(v["at_risk"])}, \
                STATUS_COLOURS["at_risk"]
        elif v["ok"] or v["advisory"]:
            # Never "safe" when some rate could not be judged: say which instead.
            key = "headline_judged_ok" if v["unjudged"] else "headline_safe"
            fields, colour = {}, STATUS_COLOURS["partial" if v["unjudged"] else "ok"]
        else:
            key, fields, colour = "headline_nodata", {}, STATUS_COLOURS["no_data"]
        sentences = [t(key, self.lang, name=name, **fields)]
        if v["advisory"]:
            sentences.append(t("headline_advisory", self.lang, n=len(v["advisory"]), list=listing(v["advisory"])))
        if v["unjudged"] and key != "headline_nodata":
            sentences.append(t("headline_unjudged", self.lang, n=len(v["unjudged"]),
                               list=listing(v["unjudged"], rates=False)))
        why = t("as_of_chosen" if self.as_of_chosen else "as_of_week", self.lang, day=self.as_of.isoformat())
        sub = " · ".join([E(why), *(E(x) for x in self.data_day_notes()), _e(self.account.marketplace or ""),
                          _e(self.account.timezone)])
        return (f"<div class='pk-headline' style='border-left:6px solid {colour}'>"
                f"<h1>{E(t('report_title', self.lang))}: {E(name)}</h1>"
                f"<p class='pk-sentence'>{E(' '.join(sentences))}</p><p class='pk-sub'>{sub}</p></div>")

    def data_day_notes(self) -> list[str]:
        """Where the account's data stops, and whether it is stale for this report's day."""
        last = self.ctx.last_day.date()
        notes = [t("data_stops", self.lang, day=last.isoformat())]
        weeks = (self.as_of - last).days // 7
        if weeks >= self.policy.stale_weeks:
            notes.append(t("data_stale", self.lang, day=last.isoformat(), weeks=weeks))
        events = self.ctx.last_event_day
        if events is not None and events.date() > last:
            notes.append(t("events_after", self.lang, day=events.date().isoformat()))
        return notes

    def status_table(self) -> str:
        j = self.judged()
        head = [t(k, self.lang) for k in ("metric", "segment", "this_week", "last_week", "change", "counted",
                                          "target", "status", "headroom")]
        rows = []
        for r in j.itertuples():
            change = "–" if pd.isna(r.rate) or pd.isna(r.rate_last_week) else f"{(r.rate - r.rate_last_week) * 100:+.2f} pt"
            head_room = "–" if pd.isna(r.headroom) else str(int(r.headroom))
            colour = STATUS_COLOURS.get(r.shown, "#999")
            why = status_reason(self.policy, r.metric, r.shown, r.numerator, r.denominator, self.lang)
            note = f" title='{E(why)}'" if why else ""  # e.g. why an at-risk 0.00% is at risk
            rows.append(
                "<tr>" + "".join(f"<td>{c}</td>" for c in (
                    E(metric_name(r.metric, self.lang, self.policy)), E(segment_name(r.segment, self.lang)),
                    fmt_rate(r.rate), fmt_rate(r.rate_last_week), change,
                    E(counted_text(self.policy, r.metric, r.numerator, r.denominator, self.lang)),
                    E(self.policy[r.metric].target_display()))) +
                f"<td><span class='pk-badge' style='background:{colour}'{note}>{E(t(r.shown, self.lang))}</span></td>"
                f"<td>{head_room}</td></tr>")
        return (f"<h2>{E(t('status_heading', self.lang))}</h2><table class='pk-table'><thead><tr>"
                + "".join(f"<th>{E(h)}</th>" for h in head) + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")

    def charts(self) -> list[tuple[str, dict]]:
        """Every metric's chart as a figure dict (rendered as is: validating each costs more than drawing
        it), compact: every byte of it goes through the kernel, papermill, the notebook and the page."""
        return metric_charts(self.series, self.policy, self.lang, self.official, as_spec=True, compact=True)

    def recovery_section(self) -> str:
        out = [f"<h2>{E(t('recovery_heading', self.lang))}</h2>"]
        if not self.recoveries:
            return out[0] + f"<p>{E(t('no_breach', self.lang))}</p>"
        for rec in self.recoveries:
            title = f"{metric_name(rec.metric, self.lang, self.policy)} ({segment_name(rec.segment, self.lang)})"
            first = (t("recovers_on", self.lang, date=rec.date_no_new_defects.date().isoformat())
                     if rec.date_no_new_defects is not None else t("recovers_never", self.lang))
            pace = f"{float(rec.daily_defects):.2f}"
            second = (t("pace_on", self.lang, pace=pace, date=rec.date_at_recent_pace.date().isoformat())
                      if rec.date_at_recent_pace is not None else t("pace_never", self.lang, pace=pace))
            sched = rec.schedule.head(8)
            sched_html = "".join(f"<tr><td>{r.date}</td><td>{r.defects_leaving}</td><td>{r.defects_left}</td></tr>"
                                 for r in sched.itertuples())
            out.append(f"<h3>{E(title)}</h3><ul><li>{E(first)}</li><li>{E(second)}</li></ul>"
                       f"<details><summary>{E(t('leaving', self.lang))}</summary><table class='pk-table'><thead><tr>"
                       f"<th>{E(t('date', self.lang))}</th><th>-</th><th>{E(t('defects', self.lang))}</th></tr></thead>"
                       f"<tbody>{sched_html}</tbody></table></details>")
        return "".join(out)

    def drivers_section(self, charts: bool = False) -> tuple[str, list]:
        """Drivers of each breached or at-risk metric: small tables (and optional bar charts)."""
        j = self.judged()
        hot = j[j["shown"].isin(["breach", "at_risk"])].drop_duplicates("metric")
        parts, figs = [f"<h2>{E(t('drivers_heading', self.lang))}</h2>"], []
        if hot.empty:
            return parts[0] + f"<p>{E(t('no_breach', self.lang))}</p>", figs
        for r in hot.itertuples():
            w = window(self.ctx, self.policy[r.metric], self.ctx.day(self.as_of), None)
            _, n_bad, tables = driver_tables(self.ctx, w)
            if not n_bad:
                continue
            parts.append(f"<h3>{E(metric_name(r.metric, self.lang, self.policy))}</h3><div class='pk-drivers'>")
            for key in ("component", "category", "carrier"):
                if key not in tables or tables[key].empty:
                    continue
                tab = tables[key].head(6)
                label = tab.columns[0]
                body = "".join(
                    f"<tr><td>{E(t(str(v), self.lang) if key == 'component' else str(v))}</td><td>{n}</td>"
                    + (f"<td>{fmt_rate(rate)}</td>" if "rate" in tab.columns else "") + "</tr>"
                    for v, n, rate in zip(tab[label], tab["defects"], tab.get("rate", [None] * len(tab))))
                rate_head = f"<th>{E(t('rate', self.lang))}</th>" if "rate" in tab.columns else ""
                parts.append(f"<table class='pk-table pk-small'><caption>{E(t('by_' + key, self.lang))}</caption>"
                             f"<thead><tr><th></th><th>{E(t('defects', self.lang))}</th>{rate_head}</tr></thead>"
                             f"<tbody>{body}</tbody></table>")
                if charts:
                    figs.append(drivers_chart(tables[key], key, self.lang))
            parts.append("</div>")
            parts.append(self._evidence(units_frame(self.ctx, w, defective_only=True, latest=8)))
        return "".join(parts), figs

    def _evidence(self, bad: pd.DataFrame, limit: int = 8) -> str:
        """The latest defective units with the buyer's own words (escaped: it is untrusted text)."""
        bad = bad.sort_values("anchor_date", ascending=False).head(limit)
        cols = [("order_id", "orders"), ("anchor_date", "date"), ("defect", "cause"), ("category", "by_category"),
                ("carrier", "by_carrier"), ("product_name", "product"), ("buyer_comment", "buyer_comment"),
                ("claim_reason", "claim_reason")]
        cols = [(c, k) for c, k in cols if c in bad.columns and bad[c].notna().any()]
        head = "".join(f"<th>{E(t(k, self.lang))}</th>" for _, k in cols)
        body = "".join(
            "<tr>" + "".join(
                f"<td>{E(', '.join(t(x, self.lang) for x in str(r[c]).split(', '))) if c == 'defect' else _e(r[c])}</td>"
                for c, _ in cols) + "</tr>"
            for r in bad.to_dict("records"))
        return (f"<table class='pk-table pk-small'><caption>{E(t('examples', self.lang))}</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def causes_section(self) -> str:
        head = f"<h2>{E(t('causes_heading', self.lang))}</h2>"
        if self.causes is None or self.causes.empty:
            return head + f"<p>{E(t('no_causes', self.lang))}</p>"
        rows = "".join(
            f"<tr><td>{E(metric_name(r.metric, self.lang, self.policy))}</td>"
            f"<td>{E(cause_label(r.metric, r.cause, self.lang, r.free_text))}</td><td>{E(r.note)}</td>"
            f"<td>{E(', '.join(r.orders[:5]) + (' …' if len(r.orders) > 5 else ''))}</td>"
            f"<td>{E(r.period_start)} – {E(r.period_end)}</td><td>{E(r.author)}</td></tr>"
            for r in self.causes.itertuples())
        cols = "".join(f"<th>{E(t(k, self.lang))}</th>" for k in ("metric", "cause", "note", "orders", "period", "author"))
        return head + f"<table class='pk-table'><thead><tr>{cols}</tr></thead><tbody>{rows}</tbody></table>"

    def quality_section(self) -> str:
        head = f"<h2>{E(t('quality_heading', self.lang))}</h2>"
        # Loading's warnings are notes of the one catalogue (core/notes.py): rendered in the page's language.
        notes = [render_note(w, self.lang) for w in self.account.warnings]
        notes += [input_note_text(item, registry.input_notes(item), self.lang) for item in self.account.missing]
        notes += [t("kept_skipped", self.lang, why=render_note(w, self.lang)) for w in self.official.attrs.get("skipped", [])]
        if self.as_of > self.ctx.last_day.date():
            notes.append(t("after_last_order", self.lang, day=self.as_of, last=self.ctx.last_day.date()))
        zh = self.lang == "zh"  # English keeps the ids check prints; Chinese names them
        notes += [t("units_partial", self.lang, metric=metric_name(r.metric, self.lang, self.policy) if zh else r.metric,
                    segment=segment_name(r.segment, self.lang) if zh else r.segment, share=f"{r.unit_coverage:.0%}")
                  for r in self.judged().itertuples() if r.unit_coverage < 1]
        items = [f"<li>{E(w)}</li>" for w in notes]
        if not items:
            return head + f"<p>{E(t('no_notes', self.lang))}</p>"
        return head + "<ul class='pk-notes'>" + "".join(items) + "</ul>"


REPORT_CSS = """
body { font-family: -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
.pk-headline { padding: 8px 16px; margin: 8px 0 16px; background: #f7f8fa; }
.pk-headline h1 { font-size: 22px; margin: 4px 0; }
.pk-sentence { font-size: 17px; margin: 6px 0; }
.pk-sub { color: #666; font-size: 13px; margin: 2px 0 6px; }
.pk-table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
.pk-table th, .pk-table td { border-bottom: 1px solid #e3e5e8; padding: 4px 10px; text-align: left; }
.pk-table th { background: #f1f3f5; }
.pk-table caption { text-align: left; font-weight: 600; padding: 4px 0; }
.pk-badge { color: #fff; border-radius: 3px; padding: 1px 7px; font-size: 12px; white-space: nowrap; }
.pk-drivers { display: flex; flex-wrap: wrap; gap: 18px; }
.pk-small { font-size: 12px; }
"""
