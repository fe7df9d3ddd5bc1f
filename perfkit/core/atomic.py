"""Atomic file writes: a reader sees the old file or the new one, never half of one."""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from perfkit.core.errors import PerfkitError

_PID = re.compile(r"\.pid(\d+)\.")


def temp_prefix(name: str) -> str:
    """A temporary file's prefix naming this process, so that another run can tell whether the
    file is being written (its process lives) or was left by a run that was killed."""
    return f".{name}.pid{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(folder: Path) -> None:
    """Remove the temporary files of processes that are gone; another live run's stay."""
    for stale in folder.glob(".*.tmp*"):
        found = _PID.search(stale.name)
        if found is None or not _alive(int(found.group(1))):
            stale.unlink(missing_ok=True)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if needed) for a read-merge-write by several runs."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``.

    A symlink is followed (its target is replaced, the link stays); a disk that is full, read-only
    or over a file-size limit is a :class:`PerfkitError` naming the file, and the old file stays.
    """
    target = Path(os.path.realpath(path))
    try:
        return _write(target, data)
    except OSError as exc:
        raise PerfkitError(f"{path}: cannot be written ({exc.strerror or exc}); the previous file, if any, is "
                           "unchanged: free disk space, raise the file-size limit or choose another place") from None


def _write(target: Path, data: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))
