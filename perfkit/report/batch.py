"""The weekly batch: one papermill run per account in parallel, HTML for management, an index.

Unattended means robust: an account whose data is broken or whose notebook fails is listed
as failed with its one-line reason while the others finish; every file is written to a
temporary name and renamed into place, so a killed run never leaves half a report where a
good one stood; rerunning a week replaces its files.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from perfkit.engine import registry
from perfkit.core.atomic import atomic_write_text, locked, remove_stale_temps, temp_prefix
from perfkit.core.cluster import imap_accounts
from perfkit.config import paths
from perfkit.engine.dates import last_order_day
from perfkit.core.errors import PerfkitError, explain
from perfkit.views.labels import check_lang, metric_name, segment_name, t
from perfkit.loading import cache as parsed
from perfkit.loading.loader import check_account_id, load_account, select_account_dirs
from perfkit.core.policy import Policy
from perfkit.engine.registry import resolve_policy
from perfkit.report.export import export_html, index_row, plotly_head
from perfkit.report.page import last_full_week_end
from perfkit.views.status import STATUS_COLOURS

KERNEL = "python3"
START_TIMEOUT = 120  # seconds for a kernel to start
CELL_TIMEOUT = 900   # seconds for one cell
# nbclient waits 4 s by default for a cell's output after the kernel's reply, then logs a warning
# and goes on *without* it: on a loaded machine a page could lose a section in silence (and the
# cron log got a stray line). Wait longer, and fail the account rather than publish half a page.
IOPUB_TIMEOUT = 120


@dataclass
class Outcome:
    account_id: str
    ok: bool
    reason: str = ""
    html: str = ""
    row: dict = field(default_factory=dict)  # the account's index row, computed by its own notebook


def one_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def prefetch_account(folder: str | Path, policy: str | None) -> threading.Thread | None:
    """Start parsing an account into the parsed cache in a thread, by the same call and policy as
    the report kernel's ``AccountContext.of``, so the kernel, still starting (spawn, ZMQ
    handshakes, ``import perfkit``, most of it waiting), then reads the cache warm.

    None, and nothing read, when the cache is off: the kernel would parse it again. A failure is
    not this thread's to report: the kernel meets it and the account fails as it always did.
    """
    if not parsed.enabled():
        return None

    def load() -> None:
        try:
            load_account(folder, cache=True, policy=resolve_policy(policy or None))
        except Exception:  # noqa: BLE001 - the kernel's own load names it
            pass

    thread = threading.Thread(target=load, name="perfkit-prefetch", daemon=True)
    thread.start()
    return thread


def render_account(notebook: str, data_root: str, account_id: str, as_of: str, lang: str, policy: str | None,
                   out_dir: str, causes_db: str, plotly_mode: str, attempts: int = 2,
                   prefetch: bool = False) -> Outcome:
    """Execute the report notebook for one account and export it; never raises for a user problem.

    Parameters
    ----------
    notebook : str
        The report notebook.
    data_root, account_id, as_of, lang, policy, causes_db : str
        The notebook's parameters.
    out_dir : str
        The week's folder; the page and the executed notebook are written there atomically.
    plotly_mode : str
        ``inline`` (self-contained page) or ``file`` (plotly.min.js beside it).
    attempts : int
        Kernel starts to try before the account is reported as failed.
    prefetch : bool
        Parse the account into the parsed cache while the kernel starts (see
        :func:`prefetch_account`); off when the batch has just read every account for its week.
    """
    from perfkit.analysis.amazon_json import import_jsonschema

    import_jsonschema()  # before nbformat imports it: seconds per worker process saved
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = Path(out_dir)
    tmp_nb = out / f"{temp_prefix(account_id)}tmp.ipynb"
    params = {"data_root": data_root, "account_id": account_id, "as_of": as_of, "lang": lang,
              "policy": policy or "", "causes_db": causes_db}
    loading = prefetch_account(Path(data_root) / account_id, policy) if prefetch else None
    try:
        for attempt in range(attempts):
            try:
                # Saved once at the end, not at every cell's start and end (two dozen writes of the
                # growing notebook per account); the temporary file is only kept on success anyway.
                executed = pm.execute_notebook(notebook, str(tmp_nb), parameters=params, kernel_name=KERNEL,
                                               request_save_on_cell_execute=False,
                                               start_timeout=START_TIMEOUT, execution_timeout=CELL_TIMEOUT,
                                               iopub_timeout=IOPUB_TIMEOUT, raise_on_iopub_timeout=True,
                                               progress_bar=False, log_output=False, cwd=str(paths().root),
                                               # the kernel's own log (plain TCP on localhost) is not the user's
                                               extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
                break
            except PapermillExecutionError as exc:
                # perfkit's own errors are already one line for the user; anything else names its type.
                own = exc.ename in ("PerfkitError", "DataError")
                return Outcome(account_id, False, one_line(exc.evalue if own else f"{exc.ename}: {exc.evalue}"))
            except Exception as exc:  # the kernel failed to start or died: try once more
                if attempt + 1 == attempts:
                    return Outcome(account_id, False, one_line(f"kernel failed: {type(exc).__name__}: {exc}"))
        page = export_html(executed, plotly_head(plotly_mode), lang)
        row = index_row(executed)
        html_path = out / f"{account_id}.html"
        atomic_write_text(html_path, page)
        os.replace(tmp_nb, out / f"{account_id}.ipynb")
        return Outcome(account_id, True, html=html_path.name, row=row)
    finally:
        if loading is not None:
            loading.join()  # long done by now: the next account starts with no thread of this one
        tmp_nb.unlink(missing_ok=True)


def write_index(out: Path, as_of: dt.date, lang: str, policy: Policy, names: dict[str, str],
                outcomes: dict[str, Outcome], data_range: str) -> Path:
    """The portfolio page: every account by every index metric, colour-coded, with links.

    Parameters
    ----------
    out : Path
        The week's folder (``index.html`` and ``rows.json`` go there).
    as_of : date
        The week's last day.
    lang : str
        ``en`` or ``zh``.
    policy : Policy
        The index metrics, their names and targets.
    names : dict
        Account id -> display name (else the name the account's row carries).
    outcomes : dict
        Account id -> :class:`Outcome`; each cell comes from its index row.
    data_range : str
        The data's first and last day, as shown.
    """

    metrics = registry.index_columns(policy)
    rows = []
    for aid in sorted(outcomes):
        o = outcomes[aid]
        cells = []
        for m, channel in metrics:
            worst = o.row.get(registry.index_key(m, channel))
            if not worst:
                cells.append({"colour": STATUS_COLOURS["no_data"], "text": "–", "title": ""})
                continue
            rate = "–" if worst["rate"] is None else f"{worst['rate']:.2%}"
            cover = worst.get("coverage", 1.0)
            cells.append({"colour": STATUS_COLOURS.get(worst["status"], "#999"),
                          "text": f"{rate}" + (f" ({t(worst['status'], lang)})"
                                               if worst["status"] in ("partial", "advisory") else ""),
                          "title": f"{t(worst['status'], lang)} · {worst['segment']} · "
                                   f"{worst['numerator']}/{worst['denominator']} · {cover:.0%}"})
        cells += _health_cells(o.row, lang)
        rows.append({"account_id": aid, "name": names.get(aid) or o.row.get("_name") or aid,
                     "link": o.html if o.ok else "", "failed": not o.ok, "reason": o.reason, "cells": cells})
    # A rerun of some accounts keeps the other accounts' rows of the same week (rows.json); two
    # runs into one week merge their rows under a lock, so neither loses the other's.
    with locked(out / ".index.lock"):
        return _merge_and_write(out, rows, as_of, lang, policy, metrics, data_range)


def _health_cells(row: dict, lang: str) -> list[dict]:
    """The index's Account Health Rating and policy-compliance cells of one account."""
    ahr, pol = row.get("_ahr"), row.get("_policy")
    cells = [{"colour": STATUS_COLOURS["no_data"], "text": "–", "title": t("ahr_none", lang)} if not ahr else
             {"colour": STATUS_COLOURS.get(ahr["status"], "#999"),
              "text": f"{ahr['score'] if ahr['score'] is not None else ''} {ahr['text']}".strip(),
              "title": t("ahr", lang)}]
    if not pol:
        cells.append({"colour": STATUS_COLOURS["no_data"], "text": "–", "title": ""})
    else:
        cells.append({"colour": STATUS_COLOURS.get(pol["status"], "#999"),
                      "text": f"{pol['open']} / {pol['notices']}" if pol["status"] != "no_data" else "–",
                      "title": f"{t(pol['status'], lang)} · {t('notices_open', lang)} / {t('policy_short', lang)}"})
    return cells


def _merge_and_write(out: Path, rows: list[dict], as_of: dt.date, lang: str, policy: Policy,
                     metrics: list[tuple[str, str | None]],
                     data_range: str) -> Path:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

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
        labels={k: t(k, lang) for k in ("week", "data_range", "generated", "account", "failed", "portfolio_weeks")},
        legend=[(t(s, lang), STATUS_COLOURS[s]) for s in ("ok", "at_risk", "breach", "advisory", "partial", "no_data",
                                                            "failed")],
        metrics=[{"name": metric_name(m, lang, policy) + (f" ({segment_name(c, lang)})" if c else ""),
                  "target": policy[m].target_display()} for m, c in metrics]
        + [{"name": t("ahr_short", lang), "target": ""}, {"name": t("policy_short", lang),
                                                          "target": t("policy_target", lang)}],
        rows=rows)
    return atomic_write_text(out / "index.html", page)


def _dates_job(folder: str, policy: Policy | None = None) -> tuple[str, str | None, str | None, str | None]:
    """(account, name, first purchase day, last order day) or the reason it cannot be read (read by
    the report's policy: the cache entry it leaves is the one the pages use)."""
    try:
        acc = load_account(folder, policy=policy)
    except Exception as exc:  # any failure of one account is that account's
        return Path(folder).name, None, None, f"!{explain(exc)}"
    last = last_order_day(acc)
    first = acc.orders["purchase_date"].min() if len(acc.orders) else None
    return (acc.account_id, acc.name, None if first is None or first != first else str(first.tz_convert("UTC").date()),
            None if last is None else str(last.date()))


def run_batch(data_root: str | Path, accounts: list[str] | None = None, as_of: str | None = None,
              out: str | Path | None = None, lang: str = "en", jobs: int | None = None, policy: str | None = None,
              self_contained: bool = False, causes_db: str | Path | None = None,
              notebook: str | Path | None = None, scheduler: str | None = None,
              progress: bool = True) -> tuple[Path, dict[str, Outcome]]:
    """Render every account's report and the index.

    Parameters
    ----------
    data_root : str or Path
        The data root, one folder per account.
    accounts : list of str, optional
        Only these accounts.
    as_of : str, optional
        The week's last day; by default the last full week of the newest data (this reads
        every account's dates once before rendering).
    out : str or Path, optional
        The report folder (default: ``reports/``); the week's pages go to ``out/<week>/``.
    lang, jobs, policy, self_contained, causes_db, notebook, scheduler, progress
        As the ``perfkit report`` options of the same names.

    Returns
    -------
    (Path, dict)
        The week's folder and each account's :class:`Outcome`.
    """
    from tqdm import tqdm

    check_lang(lang)
    jobs = jobs or os.cpu_count() or 1
    pol = resolve_policy(policy or None)
    p = paths()
    root = Path(data_root).resolve()
    nb = Path(notebook or p.notebooks / "report.ipynb").resolve()
    if not nb.is_file():
        raise PerfkitError(f"{nb}: report notebook not found; pass --notebook or run from the perfkit checkout")
    for a in accounts or []:
        check_account_id(a, "--account")
    dirs = select_account_dirs(root, accounts)
    outcomes: dict[str, Outcome] = {}
    names: dict[str, str] = {}
    ids = [d.name for d in dirs]
    firsts, lasts = [], []
    # Given the week, nobody has read the accounts yet: each worker parses its account while the
    # kernel starts. Without it, the dates just read them into the parsed cache.
    prefetch = bool(as_of)
    if as_of:
        day = _iso_date(as_of)
    else:
        # The portfolio's week needs every account's last day: read in parallel, dates only kept.
        for _, res in imap_accounts(_dates_job, [str(d) for d in dirs], scheduler, jobs, policy=pol):
            aid, name, first, last = res
            if last is not None and last.startswith("!"):
                outcomes[aid] = Outcome(aid, False, last[1:])
                continue
            names[aid] = name
            firsts += [first] if first else []
            lasts += [last] if last else []
        if not lasts:
            raise PerfkitError(f"{root}: no account could be loaded, so there is no week to report; "
                               "see the errors above")
        day = last_full_week_end(_iso_date(max(lasts)))
        ids = [a for a in ids if a not in outcomes]
    # Each language has its own folder beside the others: a Chinese run never overwrites the English pages.
    folder = Path(out or p.reports).resolve() / (day.isoformat() if lang == "en" else f"{day.isoformat()}-{lang}")
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(folder)  # left by a run that was killed mid-write (a live run's stay)
    if not self_contained:
        from plotly.offline import get_plotlyjs

        atomic_write_text(folder / "plotly.min.js", get_plotlyjs())
    mode = "inline" if self_contained else "file"
    db = str(Path(causes_db or p.causes_db).resolve())
    if Path(db).is_file():
        from perfkit.poa.causes import CauseStore

        CauseStore(db)  # a corrupt database is one line before any work, not a failure per account
    bar = tqdm(total=len(ids), desc="reports", unit="account", disable=not progress, file=sys.stderr)
    # papermill's zmq threads do not survive fork: workers are spawned.
    for i, res in imap_accounts(_render, ids, scheduler, jobs, method="spawn", notebook=str(nb), data_root=str(root),
                                as_of=day.isoformat(), lang=lang,
                                policy=str(Path(policy).resolve()) if policy else None, out_dir=str(folder),
                                causes_db=db, plotly_mode=mode, prefetch=prefetch):
        aid = ids[i]
        outcomes[aid] = res if isinstance(res, Outcome) else Outcome(aid, False, one_line(f"{type(res).__name__}: {res}"))
        bar.set_postfix_str(aid)
        bar.update()
    bar.close()
    firsts += [o.row["_first"] for o in outcomes.values() if o.row.get("_first")]
    lasts += [o.row["_last"] for o in outcomes.values() if o.row.get("_last")]
    data_range = f"{min(firsts)} – {max(lasts)}" if firsts and lasts else "–"
    write_index(folder, day, lang, pol, names, outcomes, data_range)
    from perfkit.report.history import write_portfolio_page, write_results

    write_results(folder, outcomes)  # the portfolio's weeks read these, never the raw files again
    write_portfolio_page(folder, pol, lang)
    return folder, outcomes


def _iso_date(text: str) -> dt.date:
    """An ISO date (``2026-11-15``) as a date."""
    return dt.date.fromisoformat(str(text)[:10])


def _render(account_id: str, **kwargs) -> Outcome:
    return render_account(account_id=account_id, **kwargs)
