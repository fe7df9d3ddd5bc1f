"""The ``perfkit`` command: check, metrics, reconcile, report, poa, sample (and pull, in cli/agency.py).

User mistakes print one line and exit 2; bugs still show a traceback. Each command imports
what it needs when it runs, so ``perfkit --help`` stays fast.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from perfkit.cli.arguments import check_arguments
from perfkit.core.errors import PerfkitError, explain
from perfkit.core.terminal import printable
from perfkit.cli.output import err, fail_on_hits, use_colour, format_table, print_warnings


CORES = os.cpu_count() or 1


# --- check -----------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from perfkit.cli.check import check_accounts

    return check_accounts(args)


# --- metrics ---------------------------------------------------------------------------------


def _series_args(args: argparse.Namespace) -> dict:
    return {"as_of": args.as_of, "start": getattr(args, "date_from", None), "end": getattr(args, "date_to", None),
            "policy": args.policy}


def write_output(text: str, out: str | None) -> None:
    if out:
        from perfkit.core.atomic import atomic_write_text

        atomic_write_text(out, text)
    else:
        sys.stdout.write(text)


def cmd_metrics(args: argparse.Namespace) -> int:
    from perfkit.engine.metrics import COLUMNS, to_contract
    from perfkit.analysis.portfolio import portfolio_series

    series, failures = portfolio_series(args.data_root, args.account, early=args.early, jobs=args.jobs,
                                        scheduler=args.scheduler, **_series_args(args))
    _report_skipped(args.data_root)
    for aid, reason in failures.items():
        err(f"{aid}: {reason}")
    print_warnings(series.attrs.get("warnings", {}))
    if len(series):  # a segment is named by the data (category=...): its control characters are shown
        series["segment"] = series["segment"].map(printable)
    if args.format == "csv":
        write_output(to_contract(series).to_csv(index=False) if len(series) else ",".join(COLUMNS) + "\n", args.out)
    elif args.format == "json":
        records = json.loads(to_contract(series).to_json(orient="records")) if len(series) else []
        write_output(json.dumps(records, ensure_ascii=False, indent=1) + "\n", args.out)
    else:
        write_output(format_table(series, colour=use_colour(sys.stdout) and not args.out), args.out)
    # Every breach found is printed, also when an account failed: an alert reading them misses none.
    hit = fail_on_hits(series, args.fail_on, args.include_partial) if args.fail_on and len(series) else 0
    return 2 if failures else hit


def _report_skipped(root: str) -> None:
    from perfkit.cli.check import report_skipped

    report_skipped(root)



# --- reconcile, report, poa ---------------------------------------------------------------------


def _context(args: argparse.Namespace):
    """The one account a command is about (``--account``), with its policy: built once, here."""
    from perfkit.engine.context import AccountContext
    from perfkit.loading.loader import check_account_id

    check_account_id(args.account, "--account")
    folder = Path(args.data_root) / args.account
    if not folder.is_dir():
        raise PerfkitError(f"{args.data_root}: no account folder '{args.account}'")
    try:
        return AccountContext.of(folder, args.policy)
    except PerfkitError:
        raise
    except Exception as exc:  # the account's failure, whatever it is: one line (exit 2)
        raise PerfkitError(f"{args.account}: {explain(exc)}") from None


def cmd_reconcile(args: argparse.Namespace) -> int:
    from perfkit.analysis.reconcile import reconcile
    from perfkit.views.health import health_lines

    frame = reconcile(_context(args), args.amazon, keep=not args.no_keep)
    for note in frame.attrs.get("warnings", []):
        print(f"perfkit: warning: {note}", file=sys.stderr)
    if args.format == "csv":
        write_output(frame.to_csv(index=False), args.out)
    elif args.format == "json":
        write_output(json.dumps(json.loads(frame.to_json(orient="records", date_format="iso")), indent=1) + "\n",
                     args.out)
    else:
        lines = [f"{args.account}: Amazon's report against perfkit, window by window"]
        health = frame.attrs.get("health")
        if health is not None and (health.ahr_score is not None or health.ahr_status):
            score = "" if health.ahr_score is None else f"{health.ahr_score} "
            lines.append(f"  Account Health Rating: {score}({health.ahr_status or 'no status'})")
        lines += health_lines(health, frame.attrs.get("accountStatus"), frame.attrs.get("kept"))
        for r in frame.itertuples(index=False):
            amz = f"{r.amazon_numerator}/{r.amazon_denominator}" if r.amazon_denominator is not None else "?"
            ours = f"{r.perfkit_numerator}/{r.perfkit_denominator}"
            ar = "" if r.amazon_rate is None or r.amazon_rate != r.amazon_rate else f"{r.amazon_rate:.2%}"
            pr = "" if r.perfkit_rate is None or r.perfkit_rate != r.perfkit_rate else f"{r.perfkit_rate:.2%}"
            lines.append(f"  {r.metric:<24} {r.segment:<4} {r.window_from}..{r.window_to}  Amazon {amz:>11} {ar:>7}"
                         f"  perfkit {ours:>11} {pr:>7}  {r.reason}")
        if health is not None and health.blocks:
            lines.append("  Policy compliance (Amazon's counts over its reporting range):")
            for r in health.table().itertuples(index=False):
                mark = "BREACH" if r.breach else ("ok" if r.breach is False else "")
                lines.append(f"    {r.name:<46} {'' if r.defects is None else r.defects:>4}  target {r.target or '?':<6} "
                             f"{r.status or '':<10} {mark:<6} {r.date_from or ''}..{r.date_to or ''}")
        write_output(printable("\n".join(lines)) + "\n", args.out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from perfkit.report.batch import run_batch

    _report_skipped(args.data_root)
    folder, outcomes = run_batch(args.data_root, args.account, args.as_of, args.out, args.lang, args.jobs,
                                 args.policy, args.self_contained, args.causes_db, args.notebook, args.scheduler,
                                 progress=not args.quiet)
    from perfkit.cli.agency import notify_after_report, print_outcomes

    failed = print_outcomes(args, folder, outcomes)
    notify_after_report(args, folder, outcomes)  # a failed channel is named; the exit is the reports'
    return 2 if failed else 0


def cmd_poa(args: argparse.Namespace) -> int:
    from perfkit.config import paths
    from perfkit.poa.draft import poa_for

    ctx = _context(args)
    from perfkit.loading.schema import POLICY_CATEGORIES

    if args.metric in POLICY_CATEGORIES:  # a policy-compliance category: drafted from its notices
        from perfkit.poa.policy import as_date, policy_poa_for

        text = policy_poa_for(ctx, args.metric, as_date(ctx, args.as_of), args.causes_db or paths().causes_db)
        write_output(text, args.out)
        return 0
    try:
        mp = ctx.metric(args.metric, targeted=True)  # the one validation of the metric name
    except PerfkitError as exc:
        raise PerfkitError(f"a Plan of Action is written for a metric with a target: {exc}") from None
    day = ctx.day(args.as_of)
    text = poa_for(ctx, mp, day, args.causes_db or paths().causes_db, args.segment)
    write_output(text, args.out)
    if args.out and "No POA needed" not in text:  # the evidence appendix, beside the draft
        from perfkit.core.atomic import atomic_write_text
        from perfkit.poa.draft import evidence_csv

        csv_path = Path(args.out).with_name(Path(args.out).stem + "-evidence.csv")
        atomic_write_text(csv_path, evidence_csv(ctx, mp, day, args.segment))
        print(csv_path)
    if args.out:
        print(args.out)
    return 0


# --- sample ----------------------------------------------------------------------------------


def cmd_sample(args: argparse.Namespace) -> int:
    from perfkit.loading.sample import generate

    written = generate(args.out_dir, accounts=args.accounts, days=args.days, seed=args.seed, end=args.end,
                       fmt=args.format, daily_orders=args.daily_orders, replace=args.replace)
    for path in written:
        print(path)
    return 0


# --- parser ----------------------------------------------------------------------------------


def _add_common(p: argparse.ArgumentParser, many_accounts: bool = True) -> None:
    p.add_argument("data_root", help="folder with one sub-folder per account")
    if many_accounts:
        p.add_argument("--account", action="append", metavar="ID", help="only this account (repeatable)")
    p.add_argument("--policy", metavar="FILE", help="a policy TOML replacing the default thresholds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perfkit", description="Amazon seller account-health toolkit.")
    sub = parser.add_subparsers(dest="command", required=True)
    # Every command that reads accounts can skip the parsed-account cache.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="print the Python traceback of any failure")
    common.add_argument("--quiet", action="store_true", help="only what matters: no progress, warnings summarised")
    no_cache = argparse.ArgumentParser(add_help=False, parents=[common])
    no_cache.add_argument("--no-cache", action="store_true", help="parse every file again (no parsed-account cache)")

    p = sub.add_parser("check", parents=[no_cache], help="validate account folders and summarise them")
    _add_common(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("metrics", parents=[no_cache], help="every rate for every account, as a table, CSV or JSON")
    _add_common(p)
    p.add_argument("--as-of", action="append", metavar="YYYY-MM-DD", help="as-of day (repeatable)")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first as-of day of a range")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last as-of day of a range")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--out", metavar="FILE", help="write to a file (atomically) instead of stdout")
    p.add_argument("--fail-on", choices=("breach", "at_risk"), help="exit 1 when any value is there")
    p.add_argument("--include-partial", action="store_true",
                   help="--fail-on also counts values computed on part of their window or units")
    p.add_argument("--early", action="store_true", help="also the maturing ODR view (metric odr_early)")
    p.add_argument("--jobs", type=int, default=CORES, metavar="N",
                   help=f"accounts computed in parallel processes (default: the {CORES} CPU cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler (tcp://host:8786) for per-account work")
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("sample", parents=[common], help="generate realistic sample accounts")
    p.add_argument("out_dir")
    p.add_argument("--accounts", type=int, default=5)
    p.add_argument("--days", type=int, default=190)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--end", metavar="YYYY-MM-DD", help="the day after the last day of data (default 2026-11-16)")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--daily-orders", type=float, help="orders per day for every account (benchmarks)")
    p.add_argument("--replace", action="store_true",
                   help="regenerate account folders an earlier perfkit sample wrote (others are never replaced)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("poa", parents=[no_cache], help="draft a Plan of Action (Markdown) for one account and metric")
    p.add_argument("data_root")
    p.add_argument("--account", required=True, metavar="ID")
    p.add_argument("--metric", required=True, metavar="METRIC",
                   help="e.g. odr, valid_tracking_rate, or a policy category such as listingPolicyViolations")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: the last day of data")
    p.add_argument("--segment", metavar="SEGMENT", help="e.g. MFN or category=Toys (default: the worst)")
    p.add_argument("--causes-db", metavar="FILE", help="recorded root causes (default data/perfkit.sqlite)")
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--out", metavar="FILE.md", help="write the draft here (atomically) instead of stdout")
    p.set_defaults(func=cmd_poa)

    p = sub.add_parser("report", parents=[no_cache], help="render the weekly HTML report of every account, and an index")
    p.add_argument("data_root")
    p.add_argument("--account", action="append", metavar="ID", help="only this account (repeatable)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="the week's last day (default: the last full week)")
    p.add_argument("--out", metavar="DIR", help="report folder (default reports/)")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.add_argument("--jobs", type=int, default=CORES, metavar="N",
                   help=f"accounts rendered in parallel (default: the {CORES} CPU cores)")
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--self-contained", action="store_true", help="inline plotly.js in every page")
    p.add_argument("--causes-db", metavar="FILE", help="the root-cause database (default data/perfkit.sqlite)")
    p.add_argument("--notebook", metavar="FILE", help="the report notebook (default notebooks/report.ipynb)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="render on a Dask cluster")
    p.add_argument("--notify", action="append", metavar="URL", help="send what changed to this channel (Apprise URL; repeatable)")
    p.add_argument("--notify-always", action="store_true", help="send a message even when nothing changed")
    p.add_argument("--config", metavar="FILE", help="the agency config file (alert channels, languages)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("reconcile", parents=[no_cache], help="compare with Amazon's Seller Performance report (JSON)")
    p.add_argument("data_root")
    p.add_argument("--account", required=True, metavar="ID")
    p.add_argument("--amazon", required=True, metavar="FILE.json", help="GET_V2_SELLER_PERFORMANCE_REPORT JSON")
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--out", metavar="FILE")
    p.add_argument("--no-keep", action="store_true", help="do not archive the report in the account folder")
    p.set_defaults(func=cmd_reconcile)
    from perfkit.cli.agency import add_pull

    add_pull(sub, common)
    return parser


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit code is documented in docs/guide.md (0 ok, 1 --fail-on hit,
    2 bad input or a failed account, 3 perfkit's own failure, 130 interrupted)."""
    # A cron log (stdout and stderr into one file) reads in the order things happened: without a
    # terminal, stdout would be block-buffered and land after every stderr line.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)
    parser = build_parser()
    args = parser.parse_args(argv)
    # SIGTERM (a scheduler stopping the job) ends a run like Ctrl-C: workers stopped, temp files removed.
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        return _run(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    if getattr(args, "no_cache", False):
        os.environ["PERFKIT_NO_CACHE"] = "1"  # workers and report kernels inherit it
    if getattr(args, "debug", False):
        os.environ["PERFKIT_DEBUG"] = "1"
    try:
        check_arguments(args)
        return int(args.func(args) or 0)
    except PerfkitError as exc:
        err(str(exc))
        return 2
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # perfkit's own failure: one line, the traceback only when asked
        if getattr(args, "debug", False):
            raise
        err(explain(exc))
        return 3


if __name__ == "__main__":
    sys.exit(main())
