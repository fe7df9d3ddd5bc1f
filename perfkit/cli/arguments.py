"""Command-line options checked before any work starts: one line and exit 2 for any mistake.

Dates are ISO (YYYY-MM-DD); --as-of and a --from/--to range exclude each other; --out must be a
place perfkit can write (a file, or a folder for ``report``); a --policy file is read and
checked against its schema here, so a typo never surfaces after minutes of work.
"""
from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path

from perfkit.core.errors import PerfkitError
from perfkit.core.outpath import check_place, inside, resolved


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date_arg(text: str, option: str) -> dt.date:
    """A calendar day written YYYY-MM-DD; Python would also take week dates (2026-W42-4) and
    compact ones (20261115), which the rest of perfkit does not."""
    try:
        if not _ISO_DAY.fullmatch(str(text)):
            raise ValueError(text)
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise PerfkitError(f"{option} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-15") from None


def _inputs(args: argparse.Namespace) -> list[str | None]:
    """Files this run reads besides the data root: never an output."""
    from perfkit.config import paths

    return [getattr(args, "policy", None), getattr(args, "amazon", None), getattr(args, "notebook", None),
            getattr(args, "causes_db", None) or str(paths().causes_db)]


def _check_outputs(args: argparse.Namespace) -> None:
    """--out (and report's $PERFKIT_REPORTS, poa's evidence file beside the draft) is a place of its own."""
    from perfkit.config import paths

    roots = [args.data_root] if getattr(args, "data_root", None) else []
    out = getattr(args, "out", None)
    if args.command == "report":
        place = out or str(paths().reports)
        check_place(place, folder=True, option="--out" if out else "PERFKIT_REPORTS", data_roots=roots,
                    inputs=_inputs(args))
    elif out:
        target = check_place(out, folder=False, data_roots=roots, inputs=_inputs(args))
        if args.command == "poa":
            check_place(target.with_name(target.stem + "-evidence.csv"), folder=False, option="--out's evidence file",
                        data_roots=roots, inputs=_inputs(args))


def _check_cache(args: argparse.Namespace) -> None:
    """The parsed-account cache never lives in the data it caches (its clean-up would delete there)."""
    from perfkit.loading import cache

    root = getattr(args, "data_root", None)
    if root is None or args.command == "sample" or not cache.enabled():
        return
    place = resolved(cache.root(), "PERFKIT_CACHE")
    base = resolved(root, "data folder")
    if inside(place, base) or inside(base, place):
        raise PerfkitError(f"PERFKIT_CACHE {cache.root()}: overlaps the data folder {root}; point it outside "
                           "(or run with --no-cache)")


# Bounds of perfkit sample: a typo (100000 accounts) is refused, not run for an hour.
SAMPLE_LIMITS = {"accounts": (1, 500), "days": (1, 3650), "daily_orders": (0.01, 10_000), "seed": (0, 2**32 - 1)}


def _check_sample(args: argparse.Namespace) -> None:
    for name, (low, high) in SAMPLE_LIMITS.items():
        value = getattr(args, name, None)
        if value is not None and not low <= value <= high:
            raise PerfkitError(f"--{name.replace('_', '-')} {value}: give a number from {low} to {high}")
    if getattr(args, "end", None):
        _date_arg(args.end, "--end")
    target = resolved(args.out_dir, "OUT_DIR")
    if target.exists() and not target.is_dir():
        raise PerfkitError(f"{args.out_dir}: is a file, not a folder; give a folder for the sample accounts")


# --jobs: processes beyond a few per core only add memory and switching (a typo such as 10000
# would fork that many); pull's jobs are threads waiting on Amazon, whose rate limits a few
# dozen parallel requests already meet.
JOBS_PER_CORE = 4
PULL_JOBS_MAX = 32


def _check_jobs(args: argparse.Namespace) -> None:
    import os

    cores = os.cpu_count() or 1
    high = PULL_JOBS_MAX if args.command == "pull" else JOBS_PER_CORE * cores
    what = ("accounts pulled at once" if args.command == "pull"
            else f"processes (at most {JOBS_PER_CORE} per CPU core; {cores} cores here)")
    if not 1 <= args.jobs <= high:
        raise PerfkitError(f"--jobs {args.jobs}: give a number from 1 to {high} {what}")


SCHEMES = ("tcp", "tls", "ucx", "ws", "wss")


def check_scheduler(address: str) -> None:
    """A Dask scheduler address: scheme://host:port (tcp:// when no scheme is written)."""
    from urllib.parse import urlsplit

    text = address if "://" in address else f"tcp://{address}"
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEMES or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise PerfkitError(f"--scheduler {address!r}: not a Dask scheduler address; write it as "
                           "tcp://host:8786 (schemes: " + ", ".join(SCHEMES) + ")")


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
    if getattr(args, "jobs", None) is not None:
        _check_jobs(args)
    if args.command == "sample":
        _check_sample(args)
    if getattr(args, "scheduler", None):
        check_scheduler(args.scheduler)
    _check_outputs(args)
    _check_cache(args)
    if getattr(args, "policy", None):
        from perfkit.engine.registry import load_policy

        load_policy(args.policy)
    root = getattr(args, "data_root", None)
    if root is not None and not Path(root).is_dir():
        raise PerfkitError(f"{root}: no such data folder; pass the folder that holds one folder per account")
