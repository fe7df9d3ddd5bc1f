"""What a pull keeps in an account folder: its files and its state, both written atomically.

``.perfkit-pull.json`` (hidden: the loader skips dot files) records the checksum of every file
the pull wrote, the data range each month of each report covers, and the reports Amazon is still
preparing (so an interrupted run resumes them instead of asking again). A file of the same name
that the pull did not write, or that someone edited since, is never overwritten.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from perfkit.core.atomic import atomic_write_text
from perfkit.core.encodings import decode
from perfkit.core.errors import PerfkitError

STATE = ".perfkit-pull.json"


class NotOurs(PerfkitError):
    """A file the pull would write exists and the pull did not write it (or it changed since)."""


def read_state(folder: Path) -> dict:
    path = folder / STATE
    if not path.is_file():
        return {"files": {}, "months": {}, "pending": {}}
    try:
        state = json.loads(decode(path.read_bytes(), str(path)))
    except ValueError:
        raise PerfkitError(f"{path}: the pull's state is damaged; delete it and pull again "
                           "(the files it names are then left alone: move them away first)") from None
    for key in ("files", "months", "pending"):
        state.setdefault(key, {})
    return state


def write_state(folder: Path, state: dict) -> None:
    atomic_write_text(folder / STATE, json.dumps(state, indent=1, sort_keys=True) + "\n")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def owned_text(folder: Path, name: str, state: dict) -> str:
    """The text of a file the pull wrote ("" when there is none); NotOurs when it is someone else's."""
    path = folder / name
    if not path.exists():
        return ""
    data = path.read_bytes()
    if state["files"].get(name) != _digest(data):
        raise NotOurs(f"{folder.name}/{name}: exists and was not written by perfkit pull (or was edited since); "
                      "left alone: move it away to let the pull keep this report")
    return data.decode("utf-8")


def write_owned(folder: Path, name: str, text: str, state: dict) -> None:
    """Write UTF-8 text under ``name`` (checked ours first) and record its checksum."""
    owned_text(folder, name, state)
    data = text.encode("utf-8")
    atomic_write_text(folder / name, text)
    state["files"][name] = _digest(data)


def _rows(text: str) -> tuple[list[str], list[list[str]]]:
    lines = [line.rstrip("\r") for line in text.split("\n")]
    lines = [line for line in lines if line.strip()]
    if not lines:
        return [], []
    header = lines[0].split("\t")
    return header, [line.split("\t") for line in lines[1:]]


def _key_positions(header: list[str], key: tuple[str, ...], label: str) -> list[int]:
    lowered = [h.strip().lower() for h in header]
    missing = [k for k in key if k not in lowered]
    if missing:
        raise PerfkitError(f"{label}: Amazon's download has no column {missing[0]!r}, which identifies its rows; "
                           "the report's layout changed: please report it")
    return [lowered.index(k) for k in key]


def merge_rows(old: str, new: str, key: tuple[str, ...], label: str) -> str:
    """A tab-separated report: the rows of ``old`` whose key the ``new`` download also has are
    replaced by the download's rows (Amazon's current state of that order or return); the others
    stay. The download's header wins; older rows are laid out under it by column name."""
    new_header, new_rows = _rows(new)
    if not new_header:
        return old
    old_header, old_rows = _rows(old)
    at_new = _key_positions(new_header, key, label)
    wanted = {tuple(_cell(r, i) for i in at_new) for r in new_rows}
    kept: list[list[str]] = []
    if old_header:
        at_old = _key_positions(old_header, key, label)
        where = {h.strip().lower(): i for i, h in enumerate(old_header)}
        for row in old_rows:
            if tuple(_cell(row, i) for i in at_old) in wanted:
                continue
            kept.append([_cell(row, where[h.strip().lower()]) if h.strip().lower() in where else ""
                         for h in new_header])
    out = ["\t".join(new_header)] + ["\t".join(r) for r in kept + new_rows]
    return "\n".join(out) + "\n"


def _cell(row: list[str], i: int) -> str:
    return row[i] if i < len(row) else ""
