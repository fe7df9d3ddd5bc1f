"""The agency's commands: ``perfkit pull`` (Amazon's reports into the account folders).

A cron log stays short: with ``--quiet`` a run prints one line, plus one per account that needs a
human (a report that failed, credentials refused); without it, one line per account.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from perfkit.cli.output import counted, say
from perfkit.core.errors import PerfkitError


def _line(r) -> str:
    if r.error:
        return f"{r.account_id}: FAILED: {r.error}"
    parts = [f"{counted(len(r.written), 'file')} written"]
    if r.waiting:
        parts.append(f"{len(r.waiting)} still being prepared by Amazon after the {r.max_wait_minutes:g}-minute wait "
                     f"({', '.join(r.waiting)}): the next run resumes them; raise max_wait_minutes in [pull] to "
                     "wait longer")
    if r.retries:
        parts.append(f"{r.retries} throttled or failed calls retried")
    text = f"{r.account_id}: " + ", ".join(parts)
    return text + "".join(f"\n  note: {n}" for n in r.notes) + "".join(f"\n  failed: {f}" for f in r.failed)


def cmd_pull(args: argparse.Namespace) -> int:
    from perfkit.loading.loader import account_dirs
    from perfkit.pull.agency import configured_accounts, read_agency
    from perfkit.pull.run import pull_account

    agency = read_agency(args.config, args.data_root)
    for aid in sorted(set(agency.accounts) - {d.name for d in account_dirs(args.data_root)}):
        new_account_folder(Path(args.data_root), aid, agency.accounts[aid].marketplace)
    folders = {d.name: d for d in account_dirs(args.data_root)}
    wanted = configured_accounts(agency, list(folders))
    if args.account:
        unknown = [a for a in args.account if a not in wanted]
        if unknown:
            raise PerfkitError(f"--account {unknown[0]}: not configured for pulling (no [accounts.{unknown[0]}] in the "
                               "config file nor its refresh token in the environment), or no such folder")
        wanted = [a for a in wanted if a in args.account]
    if not wanted:
        raise PerfkitError(f"{args.data_root}: no account to pull; list each under [accounts.ID] in the config "
                           "file (docs/agency.md), with a folder of that name in the data root")
    now = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:  # waiting on Amazon, not computing
        results = list(pool.map(lambda a: pull_account(folders[a], agency, now), wanted))
    human = [r for r in results if r.needs_human]
    for r in results:
        if r.needs_human or not args.quiet:
            say(_line(r), sys.stderr if r.needs_human else sys.stdout)
    written = sum(len(r.written) for r in results)
    print(f"pull: {counted(len(results), 'account')}, {counted(written, 'file')} written, {len(human)} need a human")
    # One account Amazon refused must not stop `perfkit pull && perfkit report` for the others:
    # its line above is the alarm; only a pull where no account came through fails the run (one
    # report refused for every account, as Unshipped is to an app without the restricted role, is not that).
    return 0 if any(r.came_through for r in results) else 2


def new_account_folder(root: Path, account_id: str, marketplace: str | None) -> None:
    """A configured account without a folder yet (a new client): its folder, and an account.json
    with the config's marketplace; said on stderr, since the time zone is left at UTC."""
    import json

    from perfkit.core.atomic import atomic_write_text
    from perfkit.loading.loader import check_account_id

    check_account_id(account_id, "[accounts] in the config file")
    folder = root / account_id
    if folder.exists():
        return  # a folder perfkit skips (a name starting with . or _): the loader says so
    folder.mkdir(parents=True)
    if not marketplace:
        raise PerfkitError(f"{account_id}: a new account folder needs its marketplace: add marketplace = \"US\" (or DE, "
                           f"JP, ...) under [accounts.{account_id}], or write {folder}/account.json")
    atomic_write_text(folder / "account.json", json.dumps({"marketplace": marketplace}) + "\n")
    print(f"perfkit: note: {account_id}: new account folder {folder} (marketplace {marketplace}; add its "
          "\"timezone\" to account.json, else days are counted in UTC)", file=sys.stderr)


def add_pull(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("pull", parents=[common], help="fetch Amazon's reports into each account folder (SP-API)")
    p.add_argument("data_root", help="folder with one sub-folder per account")
    p.add_argument("--config", metavar="FILE", help="the agency config file (default $PERFKIT_CONFIG or "
                                                   "~/.config/perfkit/agency.toml); kept private, outside the data root")
    p.add_argument("--account", action="append", metavar="ID", help="only this account (repeatable)")
    p.add_argument("--jobs", type=int, default=4, metavar="N", help="accounts pulled at once (default 4)")
    p.set_defaults(func=cmd_pull)


# --- alerts after perfkit report -----------------------------------------------------------------


def needs_human(outcome, stale_before: dt.date) -> str:
    """Why a quiet log names an account ("" when it need not): a value in breach, or data whose
    last day is before ``stale_before``. (A failed report is named anyway.)"""
    why = []
    if any(isinstance(v, dict) and v.get("status") == "breach" for v in outcome.row.values()):
        why.append("breach")
    last = outcome.row.get("_last")
    if last and dt.date.fromisoformat(last) < stale_before:
        why.append(f"stale data: last day {last}")
    return ", ".join(why)


def print_outcomes(args: argparse.Namespace, folder: Path, outcomes: dict) -> list:
    """One line per account (with --quiet only those that need a human) and the run's line; the
    failed outcomes."""
    from perfkit.pull.agency import read_agency

    stale_before = dt.date.today() - dt.timedelta(days=read_agency(args.config, args.data_root).stale_days)
    failed = [o for o in outcomes.values() if not o.ok]
    for o in sorted(outcomes.values(), key=lambda o: o.account_id):
        why = needs_human(o, stale_before) if o.ok else ""
        if args.quiet and o.ok and not why:
            continue  # a cron log: only the accounts that need a human
        line = f"{o.account_id}: " + (f"{folder / o.html}" if o.ok else f"FAILED: {o.reason}")
        say(line + (f" ({why})" if why and args.quiet else ""), sys.stderr if not o.ok else sys.stdout)
    print(f"index: {folder / 'index.html'}  ({len(outcomes) - len(failed)} rendered, {len(failed)} failed)")
    return failed


def notify_after_report(args: argparse.Namespace, folder: Path, outcomes: dict) -> int:
    """Send the run's alert to every channel (``--notify`` and the config's). A channel that
    fails is named in one warning line and the others are still sent; it never changes how the
    batch ends (the exit code is the reports', as without alerts). The number of failed channels."""
    from perfkit.engine.registry import resolve_policy
    from perfkit.pull.agency import read_agency
    from perfkit.report.alerts import compose, read_state, send, write_state

    agency = read_agency(args.config, args.data_root)
    urls = list(dict.fromkeys((args.notify or []) + list(agency.notify)
                              + [u for a in agency.accounts.values() for u in a.notify]))
    if not urls:
        return 0
    root = folder.parent
    day = dt.date.fromisoformat(folder.name)
    base = (agency.notify_base or "").rstrip("/")
    link = (lambda name: f"{base}/{folder.name}/{name}") if base else (lambda name: str(folder / name))
    langs = {aid: a.language for aid, a in agency.accounts.items() if a.language}
    alert = compose(outcomes, read_state(root), resolve_policy(args.policy or None), day, langs, args.lang,
                    {aid: link(o.html) for aid, o in outcomes.items() if o.ok}, link("index.html"),
                    dt.date.today(), agency.stale_days)
    failures: list[str] = []
    notes: list[str] = []
    if alert.changes or args.notify_always or agency.notify_always:
        if not alert.lines:
            alert.lines = [link("index.html")]
        failures = send(alert, urls, notes)
    for n in notes:
        print(f"perfkit: note: alert channel {n}", file=sys.stderr)
    write_state(root, {**read_state(root), **alert.state})
    for f in failures:
        print(f"perfkit: warning: alert channel {f}", file=sys.stderr)
    return len(failures)
