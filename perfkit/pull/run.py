"""One account's pull: which reports and days it lacks, asked for, waited on, kept.

Dated reports are kept one file per calendar month of the account's time zone (account.json's
``timezone``; its times are sent to Amazon in ISO 8601 with that offset): a month is asked for from where its
last pull ended, less the report's ``settle_days`` (Amazon still changes those rows), until it
has settled; a settled month is never asked for again. Every report Amazon is preparing is in the
state file from the moment it is created, so a run that was stopped resumes it. A report that
fails (FATAL, refused, a file that is not ours) is named and the others go on.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from perfkit.core.atomic import remove_stale_temps
from perfkit.core.encodings import decode
from perfkit.core.errors import PerfkitError, explain
from perfkit.core.policy import MARKET_ALIASES
from perfkit.pull import catalogue
from perfkit.pull.agency import Agency
from perfkit.pull.catalogue import ReportKind
from perfkit.pull.client import LoginError, PullError, ReportsClient, without_secrets
from perfkit.pull.files import merge_rows, owned_text, read_state, write_owned, write_state

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Task:
    kind: ReportKind
    period: str                  # "2026-11" for a dated report, "snapshot" otherwise
    start: dt.datetime | None
    end: dt.datetime | None

    @property
    def id(self) -> str:
        return f"{self.kind.kind}/{self.period}"

    def file(self, today: dt.date) -> str:
        if self.kind.kind == "performance":
            return f"{self.kind.file}/{today.isoformat()}.json"
        return f"{self.kind.file}-{self.period}.txt" if self.kind.dated else f"{self.kind.file}.txt"


@dataclass
class AccountPull:
    account_id: str
    written: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said, not a failure (e.g. a snapshot kept)
    retries: int = 0
    max_wait_minutes: float = 0.0
    error: str | None = None

    @property
    def needs_human(self) -> bool:
        return bool(self.error or self.failed)

    @property
    def came_through(self) -> bool:
        """Logged in and either kept a file or had nothing fail: its pages can be made. An account
        whose app lacks one report's role (Unshipped's restricted one, say) still came through."""
        return self.error is None and (bool(self.written) or not self.failed)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _months(first: dt.datetime, now: dt.datetime):
    """The account's calendar months from ``first`` (local midnights; zoneinfo gives each wall
    time its own offset, so a month across a daylight-saving change starts and ends at midnight)."""
    zone = first.tzinfo
    start = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while start < now:
        nxt = (start.replace(tzinfo=None) + dt.timedelta(days=32)).replace(day=1)
        end = nxt.replace(tzinfo=zone)
        yield start, end
        start = end


def plan(kinds: list[ReportKind], state: dict, now: dt.datetime, history_days: int, folder: Path,
         tz: str = "UTC") -> list[Task]:
    """The reports to ask for now: the days each month lacks or has not settled, and the snapshots.
    Months and days are the account's (``tz``, account.json's ``timezone``), as its pages count them."""
    local = now.astimezone(ZoneInfo(tz))
    day = (local - dt.timedelta(days=history_days)).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    first = day.replace(tzinfo=ZoneInfo(tz))
    now = local
    tasks = []
    for kind in kinds:
        if not kind.dated:
            if kind.kind == "performance" and (folder / kind.file / f"{now.date().isoformat()}.json").exists():
                continue  # today's report is kept already
            tasks.append(Task(kind, "snapshot", None, None))
            continue
        settle = dt.timedelta(days=kind.settle_days)
        for start, end in _months(first, now):
            period = start.strftime("%Y-%m")
            lo, hi = max(start, first), min(end, now)
            done = state["months"].get(kind.kind, {}).get(period)
            if done:
                through, pulled = _parse(done["through"]), _parse(done["pulled_at"])
                if through >= end - dt.timedelta(seconds=1) and pulled >= end + settle:
                    continue  # settled: Amazon no longer changes these rows
                lo = max(lo, through - settle)
            if hi > lo:
                # the month's last second, not the next month's first: an order is in one file only
                tasks.append(Task(kind, period, lo, min(hi, end - dt.timedelta(seconds=1))))
    return tasks


def _account_meta(folder: Path) -> dict:
    """account.json's fields ({} when there is none or it is broken: the loader names a broken one itself)."""
    path = folder / "account.json"
    if not path.is_file():
        return {}
    try:
        meta = json.loads(decode(path.read_bytes(), f"{folder.name}/account.json"))
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def timezone_of(folder: Path) -> str:
    """account.json's ``timezone`` (UTC when there is none, as the loader reads it)."""
    from perfkit.core.timezones import is_zone

    tz = _account_meta(folder).get("timezone")
    if tz and not is_zone(tz):
        raise PerfkitError(f"{folder.name}/account.json: unknown time zone {tz!r} in \"timezone\"; "
                           "write an IANA name such as Asia/Tokyo")
    return str(tz or "UTC")


def marketplace_of(folder: Path) -> str | None:
    return _account_meta(folder).get("marketplace")


def _marketplace_id(marketplace: str | None, account_id: str) -> str:
    from perfkit.analysis.reconcile import MARKETPLACE_IDS

    codes = {code: mid for mid, code in MARKETPLACE_IDS.items()}
    code = MARKET_ALIASES.get((marketplace or "").upper(), (marketplace or "").upper())
    if code not in codes:
        raise PerfkitError(f"{account_id}: marketplace {marketplace!r} has no known SP-API marketplace id; set "
                           f"\"marketplace\" in {account_id}/account.json (one of {', '.join(sorted(codes))})")
    return codes[code]


def _keep(folder: Path, task: Task, raw: bytes, charset: str | None, state: dict, now: dt.datetime,
          marketplace: str | None) -> str:
    """The downloaded document decoded and merged into its file; the file's name."""
    name = task.file(now.date())
    text = decode(raw, f"{folder.name}/{name} (download)", declared=charset, marketplace=marketplace)
    if task.kind.key:
        text = merge_rows(owned_text(folder, name, state) if task.kind.dated else "", text, task.kind.key,
                          f"{folder.name}/{name}")
    write_owned(folder, name, text, state)
    return name


def _kept(folder: Path, name: str, why: str) -> str:
    where = f"{folder.name}/{name}"
    return (f"{where}: {why}; the previous snapshot is kept" if (folder / name).exists()
            else f"{where}: {why}; no snapshot written")


def _finish(folder: Path, task: Task, client: ReportsClient, status: str, doc: str | None, state: dict,
            now: dt.datetime, marketplace: str | None, result: AccountPull) -> None:
    name = task.file(now.date())
    if status not in ("DONE", "FATAL", "CANCELLED"):
        raise PullError(f"{task.kind.type} ({task.period}): Amazon gave the unknown processingStatus {status!r}")
    if status == "DONE" and doc:
        raw, charset = client.document(doc, task.kind.restricted)
        if not raw.strip() and task.kind.dated:
            # An account with no orders in those days: nothing to merge, no file made of nothing.
            result.notes.append(f"{task.kind.type} ({task.period}): Amazon's document was empty; nothing written")
        elif not raw.strip():
            # A document with not even its header says nothing: the last snapshot stays.
            result.notes.append(_kept(folder, name, "Amazon's document was empty"))
        else:
            # A header with no rows is Amazon saying "nothing unshipped": the snapshot is replaced.
            result.written.append(_keep(folder, task, raw, charset, state, now, marketplace))
    elif status == "FATAL":
        detail = ""
        if doc:
            try:
                raw, _ = client.document(doc, task.kind.restricted)
                detail = ": " + " ".join(raw.decode("utf-8", "replace").split())[:200]
            except PerfkitError:
                pass
        result.failed.append(f"{task.kind.type} ({task.period}): Amazon could not prepare the report (FATAL){detail}; "
                             "the next run asks for it again")
        return
    elif task.kind.dated:
        # CANCELLED: Amazon's "no data to return" (or a cancel); DONE without a document says as little
        why = "CANCELLED: no data for those days, or cancelled" if status == "CANCELLED" else "DONE without one"
        result.notes.append(f"{task.kind.type} ({task.period}): Amazon returned no document ({why}); nothing written")
    else:
        # Amazon's model: CANCELLED is an explicit cancel or "no data to return", which cannot be
        # told apart, and DONE without a document says nothing either: neither proves that nothing
        # is unshipped, so the last snapshot stays (a header-only document replaces it, above).
        result.notes.append(_kept(folder, name, f"Amazon returned no document ({status})"))
    if task.kind.dated and task.end is not None:
        state["months"].setdefault(task.kind.kind, {})[task.period] = {"through": _iso(task.end), "pulled_at": _iso(now)}


_MONTH = re.compile(r"\((\d{4}-\d{2})\)")
_MONTHS = "(\ufffcmonths)"  # where the months go back in (U+FFFC is in no message of Amazon's or ours)


def grouped(lines: list[str]) -> list[str]:
    """Failures that differ only by their month as one line naming the months: Amazon refusing a
    report type (400 in that marketplace, say) refuses each of a year's months the same way, and
    a cron log needs that said once, not thirteen times."""
    groups: dict[str, list[str]] = {}
    for line in lines:
        found = _MONTH.search(line)
        key = _MONTH.sub(lambda m: _MONTHS, line, count=1) if found else line
        groups.setdefault(key, []).append(found.group(1) if found else "")
    return [key.replace(_MONTHS, f"({', '.join(months)})", 1) for key, months in groups.items()]


def pull_account(folder: Path, agency: Agency, now: dt.datetime,
                 client_factory: Callable[..., ReportsClient] = ReportsClient,
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] | None = None) -> AccountPull:
    """Pull every report the account lacks into its folder; never raises for the account's own trouble."""
    import time

    sleep, clock = sleep or time.sleep, clock or time.monotonic
    result = AccountPull(folder.name, max_wait_minutes=float(agency.pull["max_wait_minutes"]))
    creds = None
    try:
        remove_stale_temps(folder)
        marketplace = (agency.accounts[folder.name].marketplace if folder.name in agency.accounts else None) \
            or marketplace_of(folder)
        creds = agency.credentials(folder.name, marketplace)
        mid = _marketplace_id(marketplace, folder.name)
        chosen = agency.accounts[folder.name].reports if folder.name in agency.accounts else tuple(catalogue.kinds())
        kinds = [catalogue.kinds()[k] for k in chosen]
        state = read_state(folder)
        tz = timezone_of(folder)
        # The account's own clock: the Seller Performance file is named by its local day (the day
        # its pages show), and plan() looks for that same name; times sent to Amazon stay exact.
        now = now.astimezone(ZoneInfo(tz))
        tasks = plan(kinds, state, now, int(agency.pull["history_days"]), folder, tz)
        client = client_factory(creds, agency.endpoint or catalogue.endpoint(creds.region),
                                agency.token_url or catalogue.token_url(), agency.pull, sleep=sleep, account=folder.name)
        open_tasks: dict[str, tuple[Task, str]] = {}
        for task in tasks:
            pending = state["pending"].get(task.id)
            same = pending and pending.get("start") == (task.start and _iso(task.start))
            try:
                if same:  # a stopped run's report: resumed, and it covers what it was asked for
                    report_id = pending["report_id"]
                    task = Task(task.kind, task.period, task.start, pending["end"] and _parse(pending["end"]))
                else:
                    report_id = client.create(task.kind.type, mid, task.start, task.end, f"{task.kind.type} ({task.period})")
            except LoginError:
                raise  # no token: the account fails as a whole, one line
            except PullError as exc:
                result.failed.append(str(exc))
                continue
            state["pending"][task.id] = {"report_id": report_id, "start": task.start and _iso(task.start),
                                         "end": task.end and _iso(task.end)}
            write_state(folder, state)  # from now on a stopped run resumes this report
            open_tasks[task.id] = (task, report_id)
        deadline = clock() + float(agency.pull["max_wait_minutes"]) * 60
        recreated: set[str] = set()  # asked for again after a 404: once only
        while open_tasks:
            for tid, (task, report_id) in list(open_tasks.items()):
                try:
                    try:
                        status, doc = client.status(report_id)
                    except PullError as exc:
                        if exc.status != 404 or tid in recreated:
                            raise
                        recreated.add(tid)
                        # Amazon no longer knows the id a stopped run kept (reports are kept for a
                        # while only): asked for again now, from the same start.
                        result.notes.append(f"{tid}: Amazon no longer knows report {report_id}; asked for it again")
                        report_id = client.create(task.kind.type, mid, task.start, task.end,
                                                  f"{task.kind.type} ({task.period})")
                        state["pending"][tid]["report_id"] = report_id
                        write_state(folder, state)
                        open_tasks[tid] = (task, report_id)
                        continue
                    if status in ("IN_QUEUE", "IN_PROGRESS"):
                        continue
                    _finish(folder, task, client, status, doc, state, now, marketplace, result)
                    state["pending"].pop(tid, None)
                except PerfkitError as exc:  # this report's trouble: the others go on, the next run retries it
                    label = f"{task.kind.type} ({task.period})"
                    result.failed.append(str(exc) if str(exc).startswith(task.kind.type) else f"{label}: {exc}")
                del open_tasks[tid]
                write_state(folder, state)
            if open_tasks:
                if clock() >= deadline:
                    result.waiting = [t.id for t, _ in open_tasks.values()]
                    break
                sleep(float(agency.pull["poll_seconds"]))
        result.retries = client.retries
    except Exception as exc:  # one account's failure never stops the others
        result.error = explain(exc)
    # Amazon's messages are quoted in these lines: never with a credential a server echoed back.
    secrets = creds.secrets() if creds is not None else ()
    result.failed = grouped([without_secrets(f, secrets) for f in result.failed])
    result.notes = [without_secrets(n, secrets) for n in result.notes]
    result.error = result.error and without_secrets(result.error, secrets)
    return result
