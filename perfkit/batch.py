"""The weekly batch: one papermill run per account in parallel, HTML for management, an index.

Unattended means robust: an account whose data is broken or whose notebook fails is listed
as failed with its one-line reason while the others finish; every file is written to a
temporary name and renamed into place, so a killed run never leaves half a report where a
good one stood; rerunning a week replaces its files.
"""
from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .atomic import atomic_write_text
from .charts import STATUS_COLOURS
from .config import paths
from .errors import PerfkitError
from .labels import check_lang, metric_name, t
from .loaders import check_account_id, load_accounts, select_account_dirs
from .metrics import account_series, last_data_day
from .policy import resolve_policy
from .report import last_full_week_end

KERNEL = "python3"
START_TIMEOUT = 120  # seconds for a kernel to start
CELL_TIMEOUT = 900   # seconds for one cell


@dataclass
class Outcome:
    account_id: str
    ok: bool
    reason: str = ""
    html: str = ""


def one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def plotly_head(mode: str) -> str:
    """The <script> that gives a page plotly.js: inline, or the file written beside it."""
    if mode == "inline":
        from plotly.offline import get_plotlyjs

        return f'<script type="text/javascript">{get_plotlyjs()}</script>'
    return '<script type="text/javascript" src="plotly.min.js" charset="utf-8"></script>'


def export_html(notebook_path: Path, head: str) -> str:
    """The executed notebook as a page without code, prompts or network fetches."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook_path, as_version=4)
    exporter = HTMLExporter(template_name="perfkit_report", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True,
                            extra_template_basedirs=[str(Path(__file__).parent / "templates")])
    body, _ = exporter.from_notebook_node(nb, resources={"perfkit_head": head})
    return body


def render_account(notebook: str, data_root: str, account_id: str, as_of: str, lang: str, policy: str | None,
                   out_dir: str, causes_db: str, plotly_mode: str, attempts: int = 2) -> Outcome:
    """Execute the report notebook for one account and export it; never raises for a user problem."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = Path(out_dir)
    tmp_nb = out / f".{account_id}.{os.getpid()}.tmp.ipynb"
    params = {"data_root": data_root, "account_id": account_id, "as_of": as_of, "lang": lang,
              "policy": policy or "", "causes_db": causes_db}
    try:
        for attempt in range(attempts):
            try:
                pm.execute_notebook(notebook, str(tmp_nb), parameters=params, kernel_name=KERNEL,
                                    start_timeout=START_TIMEOUT, execution_timeout=CELL_TIMEOUT,
                                    progress_bar=False, log_output=False, cwd=str(paths().root))
                break
            except PapermillExecutionError as exc:
                return Outcome(account_id, False, one_line(f"{exc.ename}: {exc.evalue}"))
            except Exception as exc:  # the kernel failed to start or died: try once more
                if attempt + 1 == attempts:
                    return Outcome(account_id, False, one_line(f"kernel failed: {type(exc).__name__}: {exc}"))
        page = export_html(tmp_nb, plotly_head(plotly_mode))
        html_path = out / f"{account_id}.html"
        atomic_write_text(html_path, page)
        os.replace(tmp_nb, out / f"{account_id}.ipynb")
        return Outcome(account_id, True, html=html_path.name)
    finally:
        tmp_nb.unlink(missing_ok=True)


INDEX_METRICS = ["odr", "cancel_rate", "late_shipment_rate_10d", "late_shipment_rate_30d", "valid_tracking_rate",
                 "on_time_delivery_rate", "invoice_defect_rate", "return_dissatisfaction_rate"]


def _worst(rows: pd.DataFrame) -> pd.Series | None:
    order = {"breach": 0, "at_risk": 1, "ok": 2, "no_data": 3, "info": 4}
    if rows.empty:
        return None
    return rows.assign(_o=rows["status"].map(order)).sort_values("_o").iloc[0]


def write_index(out: Path, as_of: dt.date, lang: str, policy, names: dict[str, str], latest: pd.DataFrame,
                outcomes: dict[str, Outcome], data_range: str) -> Path:
    """The portfolio page: every account by every metric, colour-coded, with links."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    pol = resolve_policy(policy)
    metrics = [m for m in INDEX_METRICS if m in pol.metrics]
    rows = []
    for aid in sorted(outcomes):
        o = outcomes[aid]
        cells = []
        for m in metrics:
            worst = _worst(latest[(latest["account_id"] == aid) & (latest["metric"] == m)])
            if worst is None:
                cells.append({"colour": STATUS_COLOURS["no_data"], "text": "–", "title": ""})
                continue
            rate = "–" if pd.isna(worst["rate"]) else f"{worst['rate']:.2%}"
            cells.append({"colour": STATUS_COLOURS.get(worst["status"], "#999"),
                          "text": f"{rate}", "title": f"{t(worst['status'], lang)} · {worst['segment']} · "
                                                      f"{worst['numerator']}/{worst['denominator']}"})
        rows.append({"account_id": aid, "name": names.get(aid, aid), "link": o.html if o.ok else "",
                     "failed": not o.ok, "reason": o.reason, "cells": cells})
    # A rerun of some accounts keeps the other accounts' rows of the same week (rows.json).
    sidecar = out / "rows.json"
    if sidecar.is_file():
        try:
            earlier = json.loads(sidecar.read_text(encoding="utf-8"))
        except ValueError:
            earlier = []
        fresh = {r["account_id"] for r in rows}
        rows += [r for r in earlier if isinstance(r, dict) and r.get("account_id") not in fresh
                 and (not r.get("link") or (out / r["link"]).is_file())]
        rows.sort(key=lambda r: r["account_id"])
    atomic_write_text(sidecar, json.dumps(rows, ensure_ascii=False))
    env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                      autoescape=select_autoescape(["html", "j2"]))
    page = env.get_template("index.html.j2").render(
        lang=lang, title=t("index_title", lang), as_of=as_of.isoformat(),
        week_from=(as_of - dt.timedelta(days=6)).isoformat(), data_range=data_range,
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        labels={k: t(k, lang) for k in ("week", "data_range", "generated", "account", "failed")},
        legend=[(t(s, lang), STATUS_COLOURS[s]) for s in ("ok", "at_risk", "breach", "no_data", "failed")],
        metrics=[{"name": metric_name(m, lang, pol), "target": pol[m].target_text()} for m in metrics],
        rows=rows)
    return atomic_write_text(out / "index.html", page)


def run_batch(data_root: str | Path, accounts: list[str] | None = None, as_of: str | None = None,
              out: str | Path | None = None, lang: str = "en", jobs: int = 2, policy: str | None = None,
              self_contained: bool = False, causes_db: str | Path | None = None,
              notebook: str | Path | None = None, scheduler: str | None = None,
              progress: bool = True) -> tuple[Path, dict[str, Outcome]]:
    """Render every account's report and the index; returns (report folder, outcomes)."""
    check_lang(lang)
    pol = resolve_policy(policy or None)
    p = paths()
    root = Path(data_root).resolve()
    nb = Path(notebook or p.notebooks / "report.ipynb").resolve()
    if not nb.is_file():
        raise PerfkitError(f"{nb}: report notebook not found; pass --notebook or run from the perfkit checkout")
    for a in accounts or []:
        check_account_id(a, "--account")
    dirs = select_account_dirs(root, accounts)
    portfolio = load_accounts(root, [d.name for d in dirs])
    outcomes = {aid: Outcome(aid, False, reason) for aid, reason in portfolio.failures.items()}
    lasts = [d for d in (last_data_day(a) for a in portfolio.accounts.values()) if d is not None]
    if as_of:
        day = pd.Timestamp(as_of).date()
    elif lasts:
        day = last_full_week_end(max(lasts).date())
    else:
        raise PerfkitError(f"{root}: no account could be loaded, so there is no week to report; see the errors above")
    folder = Path(out or p.reports).resolve() / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.tmp*"):  # left by a run that was killed mid-write
        stale.unlink(missing_ok=True)
    frames = []
    for aid, acc in portfolio.accounts.items():
        frames.append(account_series(acc, [day], policy=pol))
    latest = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["account_id", "metric"])
    if not self_contained:
        from plotly.offline import get_plotlyjs

        atomic_write_text(folder / "plotly.min.js", get_plotlyjs())
    mode = "inline" if self_contained else "file"
    db = str(Path(causes_db or p.causes_db).resolve())
    args = [(str(nb), str(root), aid, day.isoformat(), lang, str(Path(policy).resolve()) if policy else None,
             str(folder), db, mode) for aid in portfolio.accounts]
    outcomes.update(_execute(args, jobs, scheduler, progress))
    firsts = [a.orders["purchase_date"].min() for a in portfolio.accounts.values() if len(a.orders)]
    data_range = (f"{min(firsts).tz_convert('UTC').date()} – {max(lasts).date()}" if firsts and lasts else "–")
    names = {aid: acc.name for aid, acc in portfolio.accounts.items()}
    write_index(folder, day, lang, pol, names, latest, outcomes, data_range)
    return folder, outcomes


def _execute(args: list[tuple], jobs: int, scheduler: str | None, progress: bool) -> dict[str, Outcome]:
    from tqdm import tqdm

    results: dict[str, Outcome] = {}
    bar = tqdm(total=len(args), desc="reports", unit="account", disable=not progress, file=sys.stderr)
    if scheduler:
        from .cluster import map_accounts

        for outcome in map_accounts(_render_tuple, [a for a in args], scheduler):
            results[outcome.account_id] = outcome
            bar.update()
    else:
        ctx = multiprocessing.get_context("spawn")  # papermill's zmq threads do not survive fork
        with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=ctx) as pool:
            futures: dict[Future, str] = {pool.submit(render_account, *a): a[2] for a in args}
            for fut in as_completed(futures):
                aid = futures[fut]
                try:
                    results[aid] = fut.result()
                except Exception as exc:  # a worker process died: report it, keep going
                    results[aid] = Outcome(aid, False, one_line(f"{type(exc).__name__}: {exc}"))
                bar.set_postfix_str(aid)
                bar.update()
    bar.close()
    return results


def _render_tuple(a: tuple) -> Outcome:
    return render_account(*a)


