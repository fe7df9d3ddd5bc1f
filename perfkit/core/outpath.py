"""Where a command may write: a place of its own, never over what it reads.

An existing file named by ``--out`` is replaced (a daily job reruns into the same file); a
symlink is followed, so its target is written and the link stays; a place inside a data root,
an input file (a policy, Amazon's report, the notebook) or the root-cause database is refused,
since a rerun would destroy it.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from perfkit.core.errors import PerfkitError


def resolved(path: str | Path, option: str) -> Path:
    """``path`` with every symlink followed (a missing tail is kept as given)."""
    try:
        return Path(path).expanduser().resolve(strict=False)
    except (RuntimeError, OSError) as exc:  # a symlink loop
        raise PerfkitError(f"{option} {path}: cannot be followed ({exc}); give a real file or folder") from None


def inside(path: Path, folder: Path) -> bool:
    """Whether resolved ``path`` is ``folder`` or lies under it."""
    return path == folder or folder in path.parents


def check_place(out: str | Path, *, folder: bool, option: str = "--out",
                data_roots: Iterable[str | Path] = (), inputs: Iterable[str | Path | None] = ()) -> Path:
    """The resolved place ``out`` names, or a :class:`PerfkitError` saying why it cannot be written.

    ``folder``: a folder is wanted (``report``), else a file. ``data_roots`` are never written
    into; ``inputs`` (files read by this run, the causes database) are never replaced.
    """
    target = resolved(out, option)
    what = "a folder" if folder else "a file name"
    if target.exists() and not target.is_dir() and not target.is_file():
        raise PerfkitError(f"{option} {out}: is a device or a pipe, not a regular file; give {what}")
    if target.exists() and target.is_dir() != folder:
        raise PerfkitError(f"{option} {out}: is {'a file' if folder else 'a folder'}; give {what}")
    for root in data_roots:
        base = resolved(root, "data folder")
        if inside(target, base):
            raise PerfkitError(f"{option} {out}: is inside the data folder {root}; write outside it "
                               "(a rerun would add to or replace the accounts' files)")
    for path in inputs:
        if path is not None and resolved(path, option) == target:
            raise PerfkitError(f"{option} {out}: is {path}, which this run reads; choose another file")
    parent = target if folder and target.exists() else target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise PerfkitError(f"{option} {out}: {parent} is a file, not a folder; give {what} in a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PerfkitError(f"{option} {out}: cannot write in {parent} (permission denied); choose another place")
    return target
