"""Sub-commands beyond check/metrics/sample: reconcile, report, poa."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import PerfkitError


def cmd_reconcile(args: argparse.Namespace) -> int:
    from .cli import write_output
    from .loaders import check_account_id, load_account
    from .reconcile import reconcile

    check_account_id(args.account, "--account")
    folder = Path(args.data_root) / args.account
    if not folder.is_dir():
        raise PerfkitError(f"{args.data_root}: no account folder '{args.account}'")
    frame = reconcile(load_account(folder), args.amazon, policy=args.policy, keep=not args.no_keep)
    if args.format == "csv":
        write_output(frame.to_csv(index=False), args.out)
    elif args.format == "json":
        write_output(json.dumps(json.loads(frame.to_json(orient="records", date_format="iso")), indent=1) + "\n",
                     args.out)
    else:
        lines = [f"{args.account}: Amazon's report against perfkit, window by window"]
        if frame.attrs.get("ahrScore") is not None:
            lines.append(f"  Account Health Rating: {frame.attrs['ahrScore']} ({frame.attrs.get('ahrStatus')})")
        for r in frame.itertuples(index=False):
            amz = f"{r.amazon_numerator}/{r.amazon_denominator}" if r.amazon_denominator is not None else "?"
            ours = f"{r.perfkit_numerator}/{r.perfkit_denominator}"
            ar = "" if r.amazon_rate is None or r.amazon_rate != r.amazon_rate else f"{r.amazon_rate:.2%}"
            pr = "" if r.perfkit_rate is None or r.perfkit_rate != r.perfkit_rate else f"{r.perfkit_rate:.2%}"
            lines.append(f"  {r.metric:<24} {r.segment:<4} {r.window_from}..{r.window_to}  Amazon {amz:>11} {ar:>7}"
                         f"  perfkit {ours:>11} {pr:>7}  {r.reason}")
        write_output("\n".join(lines) + "\n", args.out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .batch import run_batch

    folder, outcomes = run_batch(args.data_root, args.account, args.as_of, args.out, args.lang, args.jobs,
                                 args.policy, args.self_contained, args.causes_db, args.notebook, args.scheduler,
                                 progress=not args.quiet)
    failed = [o for o in outcomes.values() if not o.ok]
    for o in sorted(outcomes.values(), key=lambda o: o.account_id):
        line = f"{o.account_id}: " + (f"{folder / o.html}" if o.ok else f"FAILED: {o.reason}")
        print(line, file=sys.stderr if not o.ok else sys.stdout)
    print(f"index: {folder / 'index.html'}  ({len(outcomes) - len(failed)} rendered, {len(failed)} failed)")
    return 1 if failed else 0


def cmd_poa(args: argparse.Namespace) -> int:
    from .cli import write_output
    from .config import paths
    from .loaders import check_account_id, load_account
    from .poa import poa_for

    check_account_id(args.account, "--account")
    folder = Path(args.data_root) / args.account
    if not folder.is_dir():
        raise PerfkitError(f"{args.data_root}: no account folder '{args.account}'")
    text = poa_for(load_account(folder), args.metric, args.as_of, args.causes_db or paths().causes_db,
                   args.segment, args.policy)
    write_output(text, args.out)
    if args.out:
        print(args.out)
    return 0


def register(sub) -> None:
    p = sub.add_parser("poa", help="draft a Plan of Action (Markdown) for one account and metric")
    p.add_argument("data_root")
    p.add_argument("--account", required=True, metavar="ID")
    p.add_argument("--metric", required=True, metavar="METRIC", help="e.g. odr, valid_tracking_rate")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: the last day of data")
    p.add_argument("--segment", metavar="SEGMENT", help="e.g. MFN or category=Toys (default: the worst)")
    p.add_argument("--causes-db", metavar="FILE", help="recorded root causes (default data/perfkit.sqlite)")
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--out", metavar="FILE.md", help="write the draft here (atomically) instead of stdout")
    p.set_defaults(func=cmd_poa)

    p = sub.add_parser("report", help="render the weekly HTML report of every account, and an index")
    p.add_argument("data_root")
    p.add_argument("--account", action="append", metavar="ID", help="only this account (repeatable)")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="the week's last day (default: the last full week)")
    p.add_argument("--out", metavar="DIR", help="report folder (default reports/)")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="accounts rendered in parallel")
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--self-contained", action="store_true", help="inline plotly.js in every page")
    p.add_argument("--causes-db", metavar="FILE", help="the root-cause database (default data/perfkit.sqlite)")
    p.add_argument("--notebook", metavar="FILE", help="the report notebook (default notebooks/report.ipynb)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="render on a Dask cluster")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("reconcile", help="compare with Amazon's Seller Performance report (JSON)")
    p.add_argument("data_root")
    p.add_argument("--account", required=True, metavar="ID")
    p.add_argument("--amazon", required=True, metavar="FILE.json", help="GET_V2_SELLER_PERFORMANCE_REPORT JSON")
    p.add_argument("--policy", metavar="FILE")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--out", metavar="FILE")
    p.add_argument("--no-keep", action="store_true", help="do not archive the report in the account folder")
    p.set_defaults(func=cmd_reconcile)
