"""Command-line options checked before any work starts: one line and exit 2 for any mistake.

Dates are ISO (YYYY-MM-DD); --as-of and a --from/--to range exclude each other; --out must be a
place perfkit can write (a file, or a folder for ``report``); a --policy file is read and
checked against its schema here, so a typo never surfaces after minutes of work.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from perfkit.core.errors import PerfkitError


def _date_arg(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise PerfkitError(f"{option} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-15") from None


def _check_out(out: Path, folder: bool) -> None:
    """--out names a place perfkit can write: a file (or, for ``report``, a folder)."""
    what = "a folder" if folder else "a file name"
    if out.exists() and out.is_dir() != folder:
        raise PerfkitError(f"--out {out}: is {'a file' if folder else 'a folder'}; give {what}")
    parent = out.parent if not out.exists() else out
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise PerfkitError(f"--out {out}: {parent} is a file, not a folder; give {what} in a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PerfkitError(f"--out {out}: cannot write in {parent} (permission denied); choose another place")


def check_arguments(args: argparse.Namespace) -> None:
    """Every option checked before work starts: one line and exit 2 for any mistake."""
    as_of = getattr(args, "as_of", None)
    days = as_of if isinstance(as_of, list) else [as_of] if as_of else []
    for value in days:
        _date_arg(value, "--as-of")
    lo, hi = getattr(args, "date_from", None), getattr(args, "date_to", None)
    if days and (lo or hi):
        raise PerfkitError("--as-of cannot be combined with --from/--to; give exact days or a range")
    first = _date_arg(lo, "--from") if lo else None
    last = _date_arg(hi, "--to") if hi else None
    if first and last and first > last:
        raise PerfkitError(f"--from {first} is after --to {last}; swap them")
    if getattr(args, "jobs", None) is not None and args.jobs < 1:
        raise PerfkitError(f"--jobs {args.jobs}: give 1 or more processes")
    if getattr(args, "out", None):
        _check_out(Path(args.out), folder=args.command == "report")
    if getattr(args, "policy", None):
        from perfkit.engine.registry import load_policy

        load_policy(args.policy)
    root = getattr(args, "data_root", None)
    if root is not None and not Path(root).is_dir():
        raise PerfkitError(f"{root}: no such data folder; pass the folder that holds one folder per account")
