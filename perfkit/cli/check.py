"""``perfkit check``: what each account folder holds, how its marketplace judges it, where its
data stops and which values its inputs cannot support."""
from __future__ import annotations

import argparse
import sys

import pandas as pd

from perfkit.cli.output import say
from perfkit.core.terminal import printable
from perfkit.core.errors import PerfkitError, explain
from perfkit.engine import registry


def report_skipped(root: str) -> None:
    """Say which sub-folders are not accounts because of their name (never dropped in silence)."""
    from perfkit.loading.loader import skipped_dirs

    for folder in skipped_dirs(root):
        say(f"perfkit: warning: {folder.name}: folder skipped (a name starting with '.' or '_' is not an "
            "account; rename it to include it)", sys.stderr)



def check_accounts(args: argparse.Namespace) -> int:
    """``perfkit check``: each account's inputs, marketplace rules, data day and what cannot be judged."""
    from perfkit.engine.dates import first_data_day
    from perfkit.loading.loader import account_dirs, load_account

    from perfkit.engine.context import AccountContext

    failed = 0
    dirs = account_dirs(args.data_root)
    report_skipped(args.data_root)
    if args.account:
        dirs = [d for d in dirs if d.name in set(args.account)]
    if not dirs:
        raise PerfkitError(f"{args.data_root}: no account folders found; each account is a sub-folder holding orders.csv")
    policy = registry.load_policy(getattr(args, "policy", None))
    loaded = []
    for folder in dirs:
        try:
            loaded.append(AccountContext.of(load_account(folder, policy=policy), policy))
        except Exception as exc:  # one account's failure, whatever it is, is that account's
            failed += 1
            say(f"{folder.name}: FAILED: {explain(exc)}")
    # An account is stale when its last order is weeks before the newest account's (the report's week).
    newest = max((c.last_day for c in loaded if c.last_day is not None), default=None)
    for ctx in loaded:
        acc = ctx.account
        channels = acc.orders["fulfillment_channel"].value_counts()
        first, last = first_data_day(acc), ctx.last_day
        span = f"{first.date()} to {last.date()}" if first is not None and last is not None else "no dates"
        say(f"{acc.account_id}: {printable(acc.name, one_line=True)} ({acc.marketplace or '?'}, {acc.timezone})")
        say(f"  orders: {len(acc.orders)}  ({', '.join(f'{k} {v}' for k, v in channels.items())})  {span}")
        for line in _data_day_lines(ctx, newest):
            say(f"  {line}")
        tables = {t: len(acc.table(t)) for t in ("feedback", "claims", "chargebacks", "returns")}
        present = ", ".join(f"{t} {n}" for t, n in tables.items() if acc.has(t))
        say(f"  inputs: {present or 'orders only'}")
        for label, encoding in acc.encodings.items():
            say(f"  {label}: read as {encoding}")
        if acc.missing:
            say(f"  missing: {', '.join(acc.missing)}")
        for metric, column, has, units in registry.anchor_coverage(ctx.days, ctx.policy):
            print(f"  partial: {metric}: {column} on {has} of {units} units; the value is computed on part of its "
                  "units and not judged")
        for w in registry.account_notes(acc):
            if not w.startswith("missing input"):
                say(f"  warning: {printable(w, one_line=True)}")
    if failed:
        print(f"{failed} of {len(dirs)} accounts failed to load", file=sys.stderr)
        return 2
    return 0


def _data_day_lines(ctx, newest: pd.Timestamp | None) -> list[str]:
    """What ``check`` says of an account's marketplace rules and its own data day."""
    from perfkit.engine.dates import last_data_day

    pol, last = ctx.policy, ctx.last_day
    lines = []
    if ctx.account.marketplace is None:
        lines.append("marketplace: unknown (no marketplace in account.json): every target is judged as enforced; "
                     "add \"marketplace\" to judge it as Amazon does there")
    else:
        advisory = [m for m, mp in pol.metrics.items() if mp.advisory and not mp.maturing]
        parts = [f"advisory {', '.join(advisory)}" if advisory else "",
                 f"not computed by Amazon {', '.join(sorted(pol.not_applicable))}" if pol.not_applicable else ""]
        if any(parts):
            lines.append(f"marketplace {ctx.account.marketplace}: " + "; ".join(p for p in parts if p))
    if last is None:
        return lines
    lines.append(f"data day: {last.date()} (the last day with orders; every default as-of day)")
    events = last_data_day(ctx.account)
    if events is not None and events > last:
        lines.append(f"after the data: events continue to {events.date()}, after the last order")
    if newest is not None and (newest - last).days >= 7 * pol.stale_weeks:
        lines.append(f"stale: the last order is {(newest - last).days // 7} weeks before the newest account's "
                     f"({newest.date()})")
    return lines
