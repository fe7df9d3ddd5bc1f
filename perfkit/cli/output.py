"""What the commands print: the metrics table, warnings, --fail-on hits and errors.

Everything printed passes :func:`perfkit.core.terminal.printable`: text from the data never
drives the terminal.
"""
from __future__ import annotations

import os
import sys

import pandas as pd

from perfkit.core.terminal import printable

STATUS_COLOURS = {"ok": "32", "at_risk": "33", "breach": "1;31", "no_data": "2", "info": "36", "partial": "2",
                  "advisory": "35", "too_few": "2"}


def counted(n: int, noun: str) -> str:
    """``1 file``, ``2 files``: a count as a line of output says it."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def err(message: str) -> None:
    print(f"perfkit: error: {printable(message)}", file=sys.stderr)


def say(line: str, stream=None) -> None:
    """One line of output holding text from the data: control characters shown, never obeyed."""
    print(printable(line), file=stream or sys.stdout)


def _colour(text: str, status: str, enabled: bool) -> str:
    return f"\033[{STATUS_COLOURS[status]}m{text}\033[0m" if enabled and status in STATUS_COLOURS else text


def use_colour(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _target_display(target: str) -> str:
    """A contract target (``< 0.01``) as people read it (``< 1%``)."""
    if not target:
        return ""
    op, value = target.split(" ", 1)
    return f"{op} {float(value) * 100:.4g}%"


def format_table(series: pd.DataFrame, colour: bool = False) -> str:
    """A readable table: one block per account and day; values on part of their window show as partial."""
    from perfkit.views.status import shown_status

    lines = []
    for (account, as_of), block in series.groupby(["account_id", "as_of"], sort=False):
        lines.append(f"{account}  as of {as_of}")
        lines.append(f"  {'metric':<30} {'segment':<28} {'num/den':>15} {'rate':>8} {'target':>9} "
                     f"{'status':<8} {'headroom':>8} {'coverage':>8} {'units':>6}")
        for r in block.itertuples(index=False):
            rate = "" if pd.isna(r.rate) else f"{r.rate:.2%}"
            counts = f"{r.numerator}/{r.denominator}"
            head = "" if pd.isna(r.headroom) else str(int(r.headroom))
            shown = shown_status(r.status, r.coverage, r.unit_coverage)
            status = _colour(f"{shown:<8}", shown, colour)
            segment = printable(r.segment, one_line=True)
            lines.append(f"  {r.metric:<30} {segment[:28]:<28} {counts:>15} {rate:>8} {_target_display(r.target):>9} "
                         f"{status} {head:>8} {r.coverage:>8.0%} {r.unit_coverage:>6.0%}")
        lines.append("")
    return "\n".join(lines)


def print_warnings(by_account: dict[str, list[str]]) -> None:
    """Loading notes to stderr: each account's own, and missing inputs once per run for all
    accounts (which input, how many accounts; ``perfkit check`` has each account's detail)."""
    missing: dict[str, list[str]] = {}
    for aid, notes in by_account.items():
        for note in notes:
            if note.startswith("missing input "):
                missing.setdefault(note, []).append(aid)
            else:
                say(f"perfkit: warning: {aid}: {printable(note, one_line=True)}", sys.stderr)
    for note, accounts in missing.items():
        shown = ", ".join(accounts[:5]) + (f", +{len(accounts) - 5} more" if len(accounts) > 5 else "")
        say(f"perfkit: warning: {note} ({len(accounts)} account{'s' if len(accounts) > 1 else ''}: {shown}; "
              "perfkit check lists each account's inputs)", sys.stderr)


def fail_on_hits(series: pd.DataFrame, level: str, include_partial: bool) -> int:
    """1 when a value is at ``level`` (or worse), naming which; partial windows only when asked."""
    from perfkit.engine.metrics import partial_values

    # Advisory values (a target Amazon only recommends in the marketplace) never count.
    bad = series["status"].isin({"breach"} if level == "breach" else {"breach", "at_risk"})
    partial = bad & partial_values(series)
    if partial.any() and not include_partial:
        print(f"perfkit: note: --fail-on ignores {int(partial.sum())} {level} value(s) computed on part of their "
              "window (the data starts or ends inside it) or of their units (a column they are placed by is empty "
              "in some rows); add --include-partial to count them", file=sys.stderr)
        bad &= ~partial
    if not bad.any():
        return 0
    hits = series.loc[bad].groupby(["account_id", "metric"], sort=False)["segment"].agg(lambda x: ", ".join(dict.fromkeys(x)))
    for (account, metric), segments in hits.items():
        say(f"perfkit: --fail-on {level}: {account}: {metric} ({printable(segments, one_line=True)})", sys.stderr)
    return 1
