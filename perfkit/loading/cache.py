"""A cache of parsed accounts, so a second run (and every explorer session) skips parsing.

Each account folder's typed tables are kept as Arrow IPC files in the user's cache folder
(``$PERFKIT_CACHE``, else ``$XDG_CACHE_HOME/perfkit`` or ``~/.cache/perfkit``; never inside the
data folder), under a key made of every file's name and a hash of its bytes (SHA-256: size and
modification time survive ``cp -p``, ``rsync -a`` and unzip, so they prove nothing), the columns
and tables asked for, the policy's loading rules, and perfkit's version, code and table layout: a changed, added or removed
file, or a changed perfkit, is a new key, so a stale table is never served.

Each entry also records its owner (the account folder) and key, and a seal: a hash of its
meta.json and of every cached table. An entry whose owner or key is not this account's (another
account's entry copied in) or whose seal does not match (an edited meta.json, a truncated table)
is not served: the account is parsed again and the entry replaced, with no error.
``PERFKIT_NO_CACHE=1`` (``--no-cache``) turns the cache off. The cache only ever saves time: a
folder it cannot write, or an entry it cannot read, is parsed as usual.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perfkit.core.account import Account

from perfkit.core import notes
from perfkit.loading.schema import TABLES  # every table an Account holds

FORMAT = 5  # bump when the cached layout changes (2: policy notices, 3: content key, owner and seal,
# 4: Arrow IPC, 5: warnings as note keys and parameters, so that a cached account renders in Chinese too)
# Tables are kept as uncompressed Arrow IPC (Feather v2), not Parquet: writing is a copy (no
# encoding, no codec) and pandas' own metadata keeps every dtype, as Parquet did. A column that
# is absent from the files (all missing, of the type the loader gives an absent column) is not
# written but made again on reading: a narrow export fills 13 of the 22 orders columns that way,
# and converting them cost more than the rest of the write (200,000 orders: 2 ms to write the
# table without them, 9 MB; 51 ms with LZ4 and every column, 6 MB). The price is disk: with every
# column filled, 31 MB per 200,000 orders where Parquet took 9 MB.
SUFFIX, CODEC = ".arrow", "uncompressed"
LAYOUT = "_layout"  # in meta.json: each table's columns in order, and those made again on reading
MEMO = "sha256.json"  # the folder's files' remembered hashes, by stat (see _digest; hashes.json held BLAKE2b's)
SEAL = "seal.json"  # beside meta.json: owner, key and the hash of every other file of the entry


@functools.cache
def _code() -> str:
    """A fingerprint of perfkit's own code: a changed loader (an upgrade without a new version
    number, a checkout being edited) never reads tables parsed by the old one."""
    h = hashlib.sha256()
    package = Path(__file__).parent.parent  # the layers that decide what a parsed table holds
    # policy.toml too: its [encodings] decide how files that are not UTF-8 are read.
    for path in sorted((package / "core").glob("*.py")) + sorted((package / "loading").glob("*.py")) + [
            package / "core" / "policy.toml"]:
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:16]


def enabled() -> bool:
    """Whether the cache is on (``PERFKIT_NO_CACHE`` unset or 0)."""
    return os.environ.get("PERFKIT_NO_CACHE", "") in ("", "0")


def root() -> Path:
    """The cache folder."""
    if os.environ.get("PERFKIT_CACHE"):
        return Path(os.environ["PERFKIT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "perfkit"


def _hasher():
    """SHA-256: with the CPU's SHA instructions (x86 SHA-NI, ARMv8) about twice BLAKE2b's speed
    in Python's hashlib here (700 against 300 MB/s), and hashing is a fifth of the cache's cost
    on a cold load."""
    return hashlib.sha256()


def _digest(path: Path) -> str:
    """A file's content hash (see :func:`_hash_open`).

    Hashing is some hundreds of MB/s, seconds for a big export on every load, so a hash is remembered with
    the file's device, inode, size, mtime and ctime. ctime cannot be set from user space (utime,
    ``cp -p``, ``rsync -a`` and unzip all leave it at the moment of writing), so an unchanged
    stat proves unchanged bytes; any other stat is hashed again."""
    st = path.stat()
    stamp = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    name = str(path.resolve())
    known = _memo().get(name)
    if known and known[0] == stamp:
        return known[1]
    with open(path, "rb") as fh:
        h = _hash_open(fh, st.st_size)
    _memo()[name] = [stamp, h.hexdigest()]
    _unsaved().add(name)
    return h.hexdigest()


def _hash_open(fh, size: int):
    """The hash of an open file's bytes, taken from its pages mapped in memory (no copy into
    Python objects: reading 1 MiB chunks cost a fifth again of the hashing); a file system that
    cannot map files, a file that changed size meanwhile, and a file over 256 MiB (its mapped
    pages would count in the process's resident memory) are read in chunks instead (a huge file
    costs time, not memory)."""
    import mmap

    h = _hasher()
    try:
        if size > 1 << 28:
            raise ValueError("read in chunks")
        if size:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as pages:
                if len(pages) != size:
                    raise ValueError("the file changed size")
                h.update(pages)
        return h
    except (OSError, ValueError):
        fh.seek(0)
        h = _hasher()
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
        return h


@functools.cache
def _memo() -> dict[str, list]:
    """The hashes remembered by this process, and by earlier runs (``sha256.json`` of a folder's
    cache place, read by ``key``): a copied or restored file has a new inode or ctime, so an entry
    of another file never matches."""
    return {}


@functools.cache
def _unsaved() -> set[str]:
    """Files hashed since their folder's ``sha256.json`` was last written (a warm load writes nothing)."""
    return set()


def _load_memo(place: Path) -> None:
    try:
        saved = json.loads((place / MEMO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(saved, dict):
        _memo().update({k: v for k, v in saved.items() if isinstance(v, list) and len(v) == 2})


def _save_memo(place: Path, folder: Path) -> None:
    """Keep this folder's remembered hashes for the next run (aside, then renamed; a failure only costs time)."""
    prefixes = (str(folder) + os.sep, str(place.resolve()) + os.sep)  # its files and its entries'
    fresh = {k for k in _unsaved() if k.startswith(prefixes)}
    if not fresh:
        return
    # Files gone since (an older entry removed, a renamed export) are not kept for ever.
    mine = {k: v for k, v in _memo().items() if k.startswith(prefixes) and os.path.exists(k)}
    tmp = place / f".{MEMO}.{os.getpid()}.tmp"
    try:
        place.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(mine), encoding="utf-8")
        os.replace(tmp, place / MEMO)
        _unsaved().difference_update(fresh)
    except OSError:
        tmp.unlink(missing_ok=True)


def _version() -> str:
    """perfkit's version, from the package itself: importlib.metadata scans every installed
    distribution for it, about 16 ms of a report kernel (tests hold the two equal)."""
    from perfkit.core import __version__

    return __version__


def key(folder: Path, columns: Collection[str] | None, tables: Collection[str] | None,
        rules: object = None) -> tuple[Path, str]:
    """(the folder's cache place, the key of its current files, of what was asked for and of the
    policy's loading ``rules``: JSON-able, see loader.loading_rules)."""
    __version__ = _version()
    folder = folder.resolve()
    place = root() / f"{folder.name}-{hashlib.sha256(str(folder).encode()).hexdigest()[:12]}"
    _load_memo(place)
    # The bytes decide: an edit that keeps a file's size and time stamp is still a new key.
    files = [[p.name, _digest(p)] for p in sorted(folder.iterdir()) if p.is_file() and not p.name.startswith(".")]
    # The tables' layout is part of the key: a new column in perfkit never meets an old cached table.
    layout = {t: [(c.name, c.kind, str(c.default)) for c in cols.values()] for t, cols in TABLES.items()}
    spec = json.dumps([FORMAT, __version__, _code(), layout, files, sorted(columns) if columns is not None else None,
                       sorted(tables) if tables is not None else None, rules])
    _save_memo(place, folder)
    return place, hashlib.sha256(spec.encode()).hexdigest()[:24]


def read(place: Path, digest: str, folder: Path) -> dict | None:
    """The cached account for this key, as the fields of an ``Account``; None if absent or unreadable."""
    import pandas as pd
    import pyarrow as pa

    entry = place / digest
    try:
        seal = json.loads((entry / SEAL).read_text(encoding="utf-8"))
        # Another account's entry copied in, or one filed under another key, is not this account's.
        if not isinstance(seal, dict) or seal.get("owner") != _owner(folder) or seal.get("key") != digest:
            return None
        if seal.get("files") != _seal_files(entry):  # an edited meta.json or a damaged table
            return None
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        meta["warnings"] = [notes.from_json(w) for w in meta["warnings"]]
        layout = meta.pop(LAYOUT)
        # One thread: the accounts are spread over processes already, one a core.
        tables = {t: _with_absent(t, pd.read_feather(entry / f"{t}{SUFFIX}", use_threads=False), *layout[t])
                  for t in TABLES}
    except (OSError, ValueError, ImportError, KeyError, TypeError, pa.ArrowException):  # KeyError, TypeError: a note unlike any
        return None
    _save_memo(place, folder)  # the entry's hashes too: the next run checks its seal by stat
    return {**meta, **tables}


def _owner(folder: Path) -> str:
    """The account an entry belongs to: its folder's full path (the folder's name is its id)."""
    return str(Path(folder).resolve())


def _seal_files(entry: Path) -> dict[str, str]:
    """The hash of every file of an entry but the seal itself."""
    return {p.name: _digest(p) for p in sorted(entry.iterdir()) if p.name != SEAL and p.is_file()}


def write(place: Path, digest: str, account: Account, folder: Path) -> None:
    """Keep an account under its key (written aside, then renamed; older keys of the folder removed)."""
    import pyarrow as pa
    import pyarrow.feather as feather

    entry = place / digest
    tmp = place / f".{digest}.{os.getpid()}.tmp"
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        hashes: dict[str, str] = {}
        layout = {}
        for t in TABLES:
            frame = account.table(t)
            gone = _absent_columns(t, frame)
            layout[t] = [list(frame.columns), gone]
            # The kept columns named to Arrow (dropping the others from the frame first copied it);
            # one thread: else pyarrow starts a Python thread pool per table (10 ms an account).
            kept = [c for c in frame.columns if c not in gone]
            # Straight into the file: a buffer in memory first cost a copy of every table into
            # freshly mapped pages (8 ms for a 200,000-order table), then the file's hash is
            # taken from the file's pages in place.
            feather.write_feather(pa.Table.from_pandas(frame, columns=kept, preserve_index=False, nthreads=1),
                                  str(tmp / f"{t}{SUFFIX}"), compression=CODEC)
            _hash_written(tmp, entry, f"{t}{SUFFIX}", hashes)
        meta = {k: getattr(account, k) for k in ("account_id", "name", "marketplace", "timezone", "missing",
                                                  "warnings", "sources", "encodings")}
        meta["warnings"] = [notes.to_json(w) for w in account.warnings]
        meta[LAYOUT] = layout
        _write_hashed(tmp, entry, "meta.json", json.dumps(meta, ensure_ascii=False).encode("utf-8"), hashes)
        seal = {"owner": _owner(folder), "key": digest, "files": hashes}
        (tmp / SEAL).write_text(json.dumps(seal), encoding="utf-8")
        if entry.exists():  # an entry that was not served (foreign or damaged): set it aside first
            aside = place / f".{digest}.{os.getpid()}.old"
            os.replace(entry, aside)
            shutil.rmtree(aside, ignore_errors=True)
        os.replace(tmp, entry)
        for old in place.iterdir():
            if old.name not in (digest, MEMO) and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
        _save_memo(place, folder)  # the new entry's hashes: the next run checks its seal by stat
    except (OSError, ValueError, ImportError, pa.ArrowException):
        shutil.rmtree(tmp, ignore_errors=True)  # a cache that cannot be written costs nothing


@functools.cache
def _absent_dtype(table: str, column: str):
    """The type ``absent`` gives a column (asked once per process: making one costs about 1 ms)."""
    import pandas as pd

    from perfkit.loading.converting import absent

    return absent(TABLES[table][column], pd.RangeIndex(0)).dtype


def _absent_columns(table: str, frame) -> list[str]:
    """The columns of ``frame`` that hold nothing and are of exactly the type ``absent`` makes
    (so that making them again on reading gives the same frame)."""
    # The types from one ``dtypes`` (a column at a time costs pandas' overhead twice per column),
    # the emptiness only for columns of the absent type.
    cols = TABLES[table]
    same = [c for c, dtype in zip(frame.columns, frame.dtypes) if c in cols and dtype == _absent_dtype(table, c)]
    return [c for c in same if _holds_nothing(frame[c])]


def _holds_nothing(series) -> bool:
    """Whether every value is missing, from Arrow's null count or one pass over the instants
    (``count`` made a mask and summed it: 0.18 ms a column of 200,000, 2.7 ms an orders table)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        return pa.array(series.array).null_count == len(series)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return bool(np.isnat(series.to_numpy(dtype="datetime64[ns]")).all())
    return series.count() == 0


def _with_absent(table: str, frame, order: list[str], gone: list[str]):
    """A cached table with its absent columns made again, in their places."""
    from perfkit.loading.converting import absent

    if not gone:
        return frame
    made = {c: absent(TABLES[table][c], frame.index) for c in gone}
    import pandas as pd

    return pd.DataFrame({c: made[c] if c in made else frame[c] for c in order}, index=frame.index)


def _write_hashed(tmp: Path, entry: Path, name: str, data: bytes, hashes: dict[str, str]) -> None:
    """Write one file of an entry (in ``tmp``, renamed to ``entry`` after) and hash it (see
    :func:`_hash_written`)."""
    with open(tmp / name, "wb") as fh:
        fh.write(data)
    _hash_written(tmp, entry, name, hashes)


def _hash_written(tmp: Path, entry: Path, name: str, hashes: dict[str, str]) -> None:
    """Hash a file just written in ``tmp`` from its pages in memory (mapped, no copy and no read
    from disk), and remember the hash by the file's stat under its final name in ``entry``
    (renaming the folder keeps inode and ctime), so a warm run checks the seal by stat."""
    path = tmp / name
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        hashes[name] = _hash_open(fh, st.st_size).hexdigest()
    final = str(entry.resolve() / name)
    _memo()[final] = [[st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns], hashes[name]]
    _unsaved().add(final)
