"""Load account folders into typed tables, or fail with one clear line: the assembling step.

Reading files is :mod:`perfkit.loading.reading`, converting cells :mod:`perfkit.loading.converting`, finding
which file feeds which table :mod:`perfkit.loading.sources`; here the tables are put together: rows
of one order merged, events matched to their orders, absent columns and defaults filled.

An account folder holds ``orders`` (required) and optionally ``feedback``, ``claims``,
``chargebacks`` and ``returns`` as CSV, TSV/TXT or Parquet, an optional ``account.json``, and
optionally Amazon's own report downloads and other exports described in ``mapping.json``.
All date-times become UTC instants; day arithmetic happens later on the account's calendar.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection

from pathlib import Path

import numpy as np
import pandas as pd

from perfkit.loading import cache as parsed
from perfkit.loading import formats
from perfkit.core import timezones
from perfkit.loading.converting import absent, typed
from perfkit.core.errors import DataError, PerfkitError
from perfkit.core.notes import Note
from perfkit.loading.idmatch import match_orders
from perfkit.loading.plausible import (check_event_times, check_order_times, claim_statuses, lookahead_notes,
                                      refuse_conflicts, resolve_item_rows, without_future)
from perfkit.core.account import Account, Portfolio
from perfkit.core.policy import Policy, read_policy
from perfkit.core.encodings import decode
from perfkit.loading.reading import read_table_file
from perfkit.loading.schema import NOTICE_TABLES, OPTIONAL_TABLES, TABLES
from perfkit.loading.sources import canonical_frame, find_sources

# Event columns that are only ever shown (drill-downs, reports), never counted.
FREE_TEXT = ("comments", "reason")
ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


# ---------------------------------------------------------------------------------------------
# Combining


def _merge_orders(orders: pd.DataFrame, codes: np.ndarray, n_files: int, warnings: list[str],
                  tz: str = "UTC") -> pd.DataFrame:
    """One row per order: rows repeating an order id are merged (``codes`` number the ids by first
    appearance, so the merged order ``i`` is the one with code ``i``; ``tz`` is the account's zone)."""
    distinct = int(codes.max()) + 1 if len(codes) else 0
    if distinct == len(codes):
        return orders
    dup = pd.Series(codes).duplicated(keep=False).to_numpy()
    n_rows, n_orders = int(dup.sum()), len(np.unique(codes[dup]))
    if n_files == 1:
        warnings.append(Note("rows_repeat", file=str(orders["_file"].iat[0]), n_rows=n_rows, n_orders=n_orders))
    else:
        warnings.append(Note("rows_from_files", n_rows=n_rows, n_files=n_files, n_orders=n_orders))
    # Each column takes the first value any row gives for the order.
    merged = orders.groupby(codes, sort=True).first().reset_index(drop=True)
    refuse_conflicts(orders, merged, codes)
    resolve_item_rows(orders, merged, codes, warnings, tz)  # other columns: a rule, never the first row
    if "item_cancelled" in orders.columns:  # any cancelled item marks the order (normal: no warning)
        merged["item_cancelled"] = orders["item_cancelled"].fillna(False).astype(bool).groupby(codes).max().to_numpy()
    return merged


CARRIED = "_carried_"  # prefix of the marks below


def _mark_carried(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """With several orders files, mark each row with the optional columns its file carries where
    another file lacks them (``_carried_<column>``, True; the others' rows get nothing): an empty
    cell then says "no value" only for rows of a file that has the column (a delivered date not
    yet there), never for rows of a file that cannot say (an Amazon download without delivery
    dates). Merged orders keep a mark when any of their rows has it."""
    if len(frames) < 2:
        return frames
    sets = [{c for c in f.columns if not c.startswith("_")} for f in frames]
    uneven = set.union(*sets) - set.intersection(*sets)
    return [f.assign(**{f"{CARRIED}{c}": True for c in sorted(uneven & cols)}) if uneven & cols else f
            for f, cols in zip(frames, sets)]


def _require_order_columns(orders: pd.DataFrame, frames: list[pd.DataFrame]) -> None:
    labels = ", ".join(dict.fromkeys(f["_file"].iat[0] for f in frames if len(f)))
    for col in (c for c in TABLES["orders"].values() if c.required):
        if col.name not in orders.columns:
            raise DataError(labels or "orders", "required column missing", column=col.name,
                            expected=f"a column {col.name} in the orders file (or mapped in mapping.json)")
        empty = orders[col.name].isna()
        if empty.any():
            examples = orders.loc[empty, "order_id"].head(3).tolist()
            raise DataError(labels, f"{int(empty.sum())} orders have no {col.name} in any file "
                            f"(order ids {', '.join(map(str, examples))})", column=col.name,
                            expected="every order to appear in a file that has this column")


@functools.cache
def _empty_table(table: str) -> pd.DataFrame:
    return typed(pd.DataFrame({c: pd.Series(dtype="string") for c in TABLES[table]}),
                  table, table, "UTC", None).iloc[0:0]


def _empty(table: str) -> pd.DataFrame:
    """A typed table with no rows (a copy: callers add columns)."""
    return _empty_table(table).copy()


def _finish_orders(orders: pd.DataFrame, missing: list[str], keep: set[str] | None = None) -> pd.DataFrame:
    orders = orders.reset_index(drop=True)
    index = orders.index
    columns = {name: orders[name] if name in orders.columns else absent(col, index)
               for name, col in TABLES["orders"].items()}
    # A column present but empty in every row is as missing as an absent one (a metric whose defect
    # test needs it has no data, never 0% or 100%).
    empty = {name for name in TABLES["orders"] if name not in orders.columns or orders[name].isna().all()}
    # No tracking_valid column has a rule of its own (the engine judges the tracking id), so it is
    # missing only when the tracking ids are missing too.
    quiet = {"product_name", "item_cancelled", "buyer_cancel_reason", "cancelled_at"} | ({"tracking_valid"} if "tracking_id" not in empty else set())
    missing += [f"orders.{name}" for name in TABLES["orders"] if name in empty and name not in quiet
                and (keep is None or name in keep)]
    # tracking_valid stays empty where the file does not say: the engine's tracking rule decides there.
    columns["tracking_valid"] = columns["tracking_valid"].astype("boolean")
    _with_defaults("orders", columns)
    for name in ("fulfillment_channel", "order_status"):
        columns[name] = columns[name].astype("category")
    # One new frame (canonical columns first, then the loader's own), not a copy per column.
    extra = {name: orders[name] for name in orders.columns if name not in columns}
    return pd.DataFrame(columns | extra, index=index)


def positions(keys: pd.Series | pd.Index, lookup: pd.Series) -> np.ndarray:
    """For each value of ``lookup``, its position in the unique ``keys`` (-1 when absent).

    Arrow's hash lookup is used when it can be: pandas would first re-check that the keys are
    unique and, on Arrow strings, fall back to Python objects.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.index_in(pa.array(lookup, type=pa.string()), value_set=pa.array(keys, type=pa.string()))
        return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pd.Index(keys).get_indexer(lookup)


def _finish_events(table: str, frame: pd.DataFrame, unknown: np.ndarray, warnings: list[str],
                   missing: list[str] | None = None) -> pd.DataFrame:
    for name, col in TABLES[table].items():
        if name not in frame.columns or (len(frame) and frame[name].isna().all()):
            if name not in frame.columns:
                frame[name] = absent(col, frame.index)
            if col.note and missing is not None:  # a column whose absence (or emptiness) changes what is counted
                missing.append(f"{table}.{name}")
    columns = {name: frame[name] for name in TABLES[table]}
    before = dict(columns)
    _with_defaults(table, columns)
    for name, values in columns.items():
        if values is not before[name]:  # only the columns given defaults: each assignment costs
            frame[name] = values
    if table == "returns":
        dup = frame["return_id"].duplicated(keep=False)
        if dup.any():
            files = frame.loc[dup, "_file"].iat[0]
            raise DataError(files, "duplicate return id", column="return_id",
                            rows=frame.loc[dup, "_row"].tolist(), found=frame.loc[dup, "return_id"].unique().tolist(),
                            expected="each return_id once per account")
    if unknown.any():
        examples = ", ".join(frame.loc[unknown, "order_id"].astype(str).unique()[:3])
        warnings.append(Note("unknown_orders", table=table, n=int(unknown.sum()), examples=examples))
        frame = frame[~unknown]
    return frame.reset_index(drop=True)


def _with_defaults(table: str, columns: dict[str, pd.Series]) -> None:
    """Fill each column's declared default where the value is missing (a flag's empty cell is false)."""
    for name, col in TABLES[table].items():
        if col.default is not None and name in columns:
            filled = columns[name].fillna(col.default)
            columns[name] = filled.astype(bool) if isinstance(col.default, bool) else filled


def _read_account_json(folder: Path, account_id: str) -> dict:
    path = folder / "account.json"
    if not path.is_file():
        return {}
    label = f"{account_id}/account.json"
    try:
        meta = json.loads(decode(path.read_bytes(), label))
    except RecursionError:  # JSON nested thousands deep: no account description is
        raise DataError(label, "is nested too deeply to be an account description",
                        expected='{"name": "...", "marketplace": "US", "timezone": "America/Los_Angeles"}') from None
    except json.JSONDecodeError as exc:
        raise DataError(label, f"is not valid JSON (line {exc.lineno}: {exc.msg})",
                        expected='{"name": "...", "marketplace": "US", "timezone": "America/Los_Angeles"}') from None
    if not isinstance(meta, dict):
        raise DataError(label, "must be a JSON object", expected='{"name": "...", "timezone": "..."}')
    market = meta.get("marketplace")
    if market is not None and (not isinstance(market, str) or market.strip().upper() not in formats.MARKETPLACES):
        # The marketplace decides how Amazon's reports write dates: a wrong one must not be guessed around.
        raise DataError(label, "unknown marketplace", column="marketplace", found=[market],
                        expected="one of " + ", ".join(sorted(formats.MARKETPLACES)))
    if market is not None:
        meta["marketplace"] = market.strip().upper()
    tz = meta.get("timezone") or "UTC"
    if not timezones.is_zone(tz):
        raise DataError(label, "unknown time zone", column="timezone", found=[tz],
                        expected="an IANA name such as America/Los_Angeles or Asia/Shanghai")
    return meta


def check_account_id(account_id: str, where: str = "account") -> str:
    """Refuse ids that could escape a folder when used as a file name."""
    if not ACCOUNT_ID.fullmatch(account_id or ""):
        raise PerfkitError(f"{where}: account id {account_id!r} is not a safe name; use 1 to 64 "
                           "letters, digits, '-' or '_' (rename the folder)")
    return account_id


def load_account(path: str | Path, columns: Collection[str] | None = None,
                 tables: Collection[str] | None = None, cache: bool | None = None,
                 policy: Policy | None = None) -> Account:
    """Load one account folder into typed tables; raises :class:`DataError` on bad input.

    Parameters
    ----------
    path : str or Path
        The account folder (its name is the account id).
    columns : collection of str, optional
        Orders columns to read (column pruning, for callers that compute only some metrics; text
        files are still scanned whole, but only these columns are converted); what was not asked
        for is empty, not reported missing. With ``columns``
        given, the free text of events (feedback comments, claim reasons) is not read either.
    tables : collection of str, optional
        Optional tables to read (default: all).
    cache : bool, optional
        Keep and reuse the parsed tables (:mod:`perfkit.loading.cache`); default: on unless
        ``PERFKIT_NO_CACHE=1``.
    policy : Policy, optional
        The policy whose loading rules apply (claim-status spellings, the encodings a file that is
        not UTF-8 may be in); default: perfkit's. A command's ``--policy`` passes it here.

    Returns
    -------
    Account
        The tables, plus what was missing (``missing``) and the loading notes (``warnings``).
    """
    folder = Path(path)
    policy = policy if policy is not None else read_policy()
    if (cache if cache is not None else parsed.enabled()) and folder.is_dir() and ACCOUNT_ID.fullmatch(folder.name):
        place, digest = parsed.key(folder, columns, tables, loading_rules(policy))
        fields = parsed.read(place, digest, folder)
        if fields is not None:
            return Account(**fields, path=folder)
        account = _parse_account(folder, columns, tables, policy)
        parsed.write(place, digest, account, folder)
        return account
    return _parse_account(folder, columns, tables, policy)


def loading_rules(policy: Policy) -> list:
    """What of a policy changes what loading reads (part of the cache key: an account parsed under
    one policy is never served under another that reads it differently)."""
    return [sorted(policy.claim_status_spellings.items()), sorted(policy.claim_statuses_known),
            sorted(policy.claim_statuses_not_counted), sorted((k, list(v)) for k, v in policy.encodings.items())]


def _parse_account(folder: Path, columns: Collection[str] | None, tables: Collection[str] | None,
                   policy: Policy) -> Account:
    """Read and check every file of an account folder (see :func:`load_account`)."""
    account_id = check_account_id(folder.name, str(folder))
    if not folder.is_dir():
        raise PerfkitError(f"{folder}: no such account folder; pass a folder holding orders.csv")
    meta = _read_account_json(folder, account_id)
    tz = str(meta.get("timezone") or "UTC")
    marketplace = meta.get("marketplace")
    warnings: list[str] = []
    missing: list[str] = []
    now = pd.Timestamp.now(tz="UTC")
    sources = find_sources(folder, account_id, marketplace, warnings, policy.encodings)
    by_table: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    keep = None if columns is None else set(columns)
    read: dict = {}  # label -> how a file that is not UTF-8 was decoded
    for src in sources:
        if tables is not None and src.table != "orders" and src.table not in tables:
            continue
        if src.table == "orders":
            wanted = keep
        else:  # when pruning, the buyers' and claimants' free text (shown, never counted) stays unread
            wanted = None if keep is None else {c for c in TABLES[src.table] if c not in FREE_TEXT}
        frame = canonical_frame(src, tz, wanted, warnings, read)
        by_table[src.table].append(without_future(src.table, frame, now, warnings, tz))
    if not by_table["orders"]:
        # A file that was not recognised is named with its header: it may be the orders, in a layout
        # perfkit does not know (rather than "missing", which sends the user looking for a file they have).
        strangers = [w for w in warnings if isinstance(w, Note) and w.key == "unrecognised"]
        if strangers:
            raise DataError(f"{account_id}", "no orders file recognised: " + "; ".join(strangers),
                            expected="orders.csv with perfkit's columns, an Amazon order report, or the file "
                                     "described in mapping.json")
        raise DataError(f"{account_id}/orders.csv", "required file missing",
                        expected="orders.csv (or .tsv/.parquet, or an Amazon All Orders report) in the account folder")
    frames = _mark_carried(by_table["orders"])
    orders = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    events: dict[str, pd.DataFrame] = {}
    for table in OPTIONAL_TABLES:
        frames = by_table[table]
        if not frames:
            if tables is None or table in tables:
                missing.append(table)
            events[table] = _empty(table)
            continue
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        if len(frames) > 1:
            key = [c for c in frame.columns if not c.startswith("_")]
            before = len(frame)
            frame = frame.drop_duplicates(subset=key)
            if before != len(frame):
                warnings.append(Note("identical_rows", table=table, n=before - len(frame)))
        events[table] = frame
    order_codes, event_orders = match_orders(orders["order_id"], [f["order_id"] for f in events.values()])
    orders = _merge_orders(orders, order_codes, len(by_table["orders"]), warnings, tz)
    _require_order_columns(orders, by_table["orders"])
    check_order_times(orders, warnings)
    orders = _finish_orders(orders, missing, keep)
    loaded = {"orders": orders}
    for (table, frame), pos in zip(events.items(), event_orders):
        frame["_order"] = pos  # the merged order's position, -1 for an id no order has
        if table == "claims":  # statuses read onto the known ones (the policy's spellings)
            frame = claim_statuses(frame, policy, warnings)
        check_event_times(table, frame, orders, warnings)
        loaded[table] = _finish_events(table, frame, pos < 0, warnings, missing if by_table[table] else None)
    for table in NOTICE_TABLES:  # the account's own events: no order to match
        frames = by_table[table]
        if not frames and (tables is None or table in tables):
            missing.append(table)
        frame = pd.concat(frames, ignore_index=True) if frames else _empty(table)
        loaded[table] = _finish_events(table, frame, np.zeros(len(frame), bool), warnings)
    lookahead_notes(loaded["feedback"], loaded["claims"], warnings, policy)
    warnings += [Note("encoding_doubt", label=label, doubt=how.doubt) for label, how in read.items() if how.doubt]
    return Account(
        account_id=account_id,
        name=str(meta.get("name") or account_id),
        marketplace=marketplace,
        timezone=tz,
        missing=missing,
        warnings=warnings,
        sources=[f"{s.label} ({s.fmt or s.table})" for s in sources],
        encodings={label: how.name for label, how in read.items()},
        path=folder,
        **loaded,
    )


def account_dirs(root: str | Path) -> list[Path]:
    """The account folders under a data root (sub-folders not starting with '.' or '_')."""
    base = Path(root)
    if not base.is_dir():
        raise PerfkitError(f"{base}: no such data folder; pass the folder that holds one folder per account")
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def skipped_dirs(root: str | Path) -> list[Path]:
    """Sub-folders of a data root that are not accounts because of their name ('.' or '_' first),
    so that callers can say so rather than drop them in silence (checkpoints and caches aside)."""
    base = Path(root)
    quiet = {".ipynb_checkpoints", "__pycache__", ".git"}
    return sorted(p for p in base.iterdir() if p.is_dir() and p.name.startswith((".", "_")) and p.name not in quiet)


def select_account_dirs(root: str | Path, accounts: list[str] | None = None) -> list[Path]:
    """The folders of the chosen accounts (all when ``accounts`` is empty).

    Parameters
    ----------
    root : str or Path
        The data root.
    accounts : list of str, optional
        Account ids; an unsafe or unknown one is a :class:`PerfkitError` naming the choices.
    """
    base = Path(root)
    dirs = account_dirs(base)
    if accounts:
        names = {d.name for d in dirs}
        for a in accounts:
            check_account_id(a, "--account")
            if a not in names:
                raise PerfkitError(f"{base}: no account folder '{a}'; choose from {', '.join(sorted(names)) or 'none'}")
        dirs = [d for d in dirs if d.name in accounts]
    if not dirs:
        raise PerfkitError(f"{base}: no account folders found; each account is a sub-folder holding orders.csv")
    return dirs


def load_accounts(root: str | Path, accounts: list[str] | None = None, policy: Policy | None = None) -> Portfolio:
    """Load every account folder under ``root`` (or only ``accounts``); failures are collected.

    Parameters
    ----------
    root : str or Path
        The data root, one folder per account.
    accounts : list of str, optional
        Only these account ids (unknown ones are refused).
    policy : Policy, optional
        Whose loading rules apply (see :func:`load_account`).

    Returns
    -------
    Portfolio
        The loaded accounts and, per failed folder, its one-line reason.
    """
    base = Path(root)
    dirs = select_account_dirs(base, accounts)
    loaded: dict[str, Account] = {}
    failures: dict[str, str] = {}
    for d in dirs:
        try:
            loaded[d.name] = load_account(d, policy=policy)
        except PerfkitError as exc:
            failures[d.name] = str(exc)
    return Portfolio(base, loaded, failures)


__all__ = ["Account", "Portfolio", "load_account", "load_accounts", "account_dirs", "select_account_dirs", "skipped_dirs",
           "read_table_file", "positions",
           "check_account_id"]
