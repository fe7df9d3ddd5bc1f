"""The portfolio over the last weeks, from the batch's own results (never the raw files again).

Each batch run keeps every account's index row (its worst value per index metric: status, rate,
counts, target, headroom) in ``<week>/results.json``; :func:`load_history` reads the weeks kept
under the report folder, :func:`portfolio_table` puts every account by every metric worst first,
with the change since the week before (rising towards the target or not) and an estimate of the
days of headroom left, and :func:`portfolio_html` shows it (``notebooks/portfolio.ipynb`` and
``<week>/portfolio.html``), each account linked to its page.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import urllib.parse
from pathlib import Path

import pandas as pd

from perfkit.core.atomic import atomic_write_text, locked
from perfkit.core.policy import Policy
from perfkit.views.labels import metric_name, segment_name, t
from perfkit.views.status import STATUS_COLOURS

RESULTS = "results.json"
ORDER = {"breach": 0, "at_risk": 1, "partial": 2, "ok": 3, "no_data": 4, "info": 5}
COLUMNS = ["week", "account_id", "name", "metric", "status", "rate", "target", "headroom", "numerator",
           "denominator", "segment", "link"]


def write_results(folder: Path, outcomes: dict) -> Path:
    """Keep this run's index rows beside the week's pages (merged with other runs of the week)."""
    with locked(folder / ".results.lock"):
        path = folder / RESULTS
        kept = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        kept.update({aid: {"row": o.row, "link": o.html} for aid, o in outcomes.items() if o.ok})
        return atomic_write_text(path, json.dumps(kept, ensure_ascii=False, sort_keys=True))


def load_history(reports_root: str | Path, weeks: int = 8) -> pd.DataFrame:
    """One row per week, account and index metric, from the last ``weeks`` weeks' results."""
    root = Path(reports_root)
    folders = sorted(p for p in root.glob("????-??-??") if (p / RESULTS).is_file())[-weeks:]
    rows = []
    for folder in folders:
        for aid, kept in json.loads((folder / RESULTS).read_text(encoding="utf-8")).items():
            row = kept.get("row", {})
            for metric, cell in row.items():
                if metric.startswith("_") or not isinstance(cell, dict):
                    continue
                # an index key is the metric, or "metric:channel" where Amazon judges the channels apart (ODR)
                rows.append({"week": folder.name, "account_id": aid, "name": row.get("_name") or aid,
                             "metric": metric.partition(":")[0],
                             **{k: cell.get(k) for k in ("status", "rate", "target", "headroom", "numerator",
                                                         "denominator", "segment")},
                             "link": f"{folder.name}/{kept.get('link', '')}"})
    return pd.DataFrame(rows, columns=COLUMNS)


def portfolio_table(history: pd.DataFrame) -> pd.DataFrame:
    """The latest week's values, worst first, with ``change`` (rate minus the week before),
    ``towards_target`` (the rate moved towards the target) and ``days_left``: the headroom
    divided by the defects the window gained per day over the last week (None when it gained
    none, the value is already over, or there is no earlier week)."""
    if history.empty:
        return history.assign(change=[], towards_target=[], days_left=[], weeks=[])
    latest_week = history["week"].max()
    now = history[history["week"] == latest_week].copy()
    earlier = history[history["week"] < latest_week].sort_values("week")
    value = ["account_id", "metric", "segment"]  # one value of the index (ODR's channels apart)
    before = earlier.groupby(value).last()
    trail = history.sort_values("week").groupby(value)["rate"].apply(list)
    out = []
    for r in now.itertuples(index=False):
        key = (r.account_id, r.metric, r.segment)
        prev = before.loc[key] if key in before.index else None
        change = None if prev is None or r.rate is None or pd.isna(prev["rate"]) else r.rate - prev["rate"]
        towards = None
        if change is not None and r.target:
            towards = change > 0 if r.target.startswith("<") else change < 0
        days = None
        if prev is not None and r.headroom is not None and r.headroom >= 0 and not pd.isna(prev["numerator"]):
            span = (dt.date.fromisoformat(r.week) - dt.date.fromisoformat(str(prev["week"]))).days
            gained = (r.numerator or 0) - int(prev["numerator"])
            if gained > 0 and span > 0:
                days = int(r.headroom / (gained / span))
        out.append({**r._asdict(), "change": change, "towards_target": towards, "days_left": days,
                    "weeks": trail.get(key, [])})
    table = pd.DataFrame(out)
    table["_order"] = table["status"].map(ORDER).fillna(9)
    table["_room"] = table["headroom"].fillna(10**9)
    return table.sort_values(["_order", "_room", "account_id", "metric"]).drop(columns=["_order", "_room"]).reset_index(drop=True)


def explorer_link(app_url: str, account_id: str) -> str:
    """The explorer app opened on one account (it reads ``?account=`` on start)."""
    return app_url + ("&" if "?" in app_url else "?") + urllib.parse.urlencode({"account": account_id})


def portfolio_html(table: pd.DataFrame, policy: Policy, lang: str = "en", link_prefix: str = "",
                   app_url: str = "") -> str:
    """The portfolio as an HTML table (every value from a data file escaped): each account name
    opens its weekly page and, with ``app_url``, a link beside it opens the explorer on it."""
    E = html.escape
    explore = {"en": "explore", "zh": "浏览器"}[lang if lang == "zh" else "en"]
    labels = {"en": ["Account", "Metric", "Status", "Rate", "Target", "Change", "Headroom", "Days left", "Weeks"],
              "zh": ["账户", "指标", "状态", "比率", "目标", "变化", "余量", "剩余天数", "各周"]}[lang if lang == "zh" else "en"]
    rows = []
    for r in table.itertuples(index=False):
        rate = "–" if r.rate is None or pd.isna(r.rate) else f"{r.rate:.2%}"
        change = "–" if r.change is None or pd.isna(r.change) else f"{r.change * 100:+.2f} pt" + (" ↑" if r.towards_target else "")
        trend = " ".join("–" if v is None or pd.isna(v) else f"{v:.2%}" for v in r.weeks)
        go = f" <a href='{E(explorer_link(app_url, str(r.account_id)))}' target='_blank'>{explore} ↗</a>" if app_url else ""
        cells = [f"<a href='{E(link_prefix + r.link)}'>{E(str(r.name))}</a>{go}",
                 E(f"{metric_name(r.metric, lang, policy)} ({segment_name(r.segment or 'all', lang)})"),
                 f"<span style='color:{STATUS_COLOURS.get(r.status, '#999')}'>{E(t(r.status, lang))}</span>",
                 rate, E(r.target or ""), change, "" if r.headroom is None or pd.isna(r.headroom) else str(int(r.headroom)),
                 "" if r.days_left is None or pd.isna(r.days_left) else str(int(r.days_left)), trend]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ("<table class='pk-portfolio'><thead><tr>" + "".join(f"<th>{E(h)}</th>" for h in labels)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def write_portfolio_page(folder: Path, policy: Policy, lang: str, weeks: int = 8, app_url: str | None = None) -> Path:
    """``<week>/portfolio.html``: the portfolio as of this week, from the kept results, each
    account linked to its page and to the explorer (``app_url``, default :func:`perfkit.config.app_url`)."""
    from perfkit.config import app_url as configured

    table = portfolio_table(load_history(folder.parent, weeks))
    table = table[table["week"] <= folder.name] if len(table) else table
    body = portfolio_html(table, policy, lang, link_prefix="../", app_url=configured() if app_url is None else app_url)
    page = (f"<!doctype html><html lang='{lang}'><meta charset='utf-8'><title>{html.escape(t('index_title', lang))}"
            f"</title><body><h1>{html.escape(t('index_title', lang))} · {folder.name}</h1>{body}</body></html>")
    return atomic_write_text(folder / "portfolio.html", page)
