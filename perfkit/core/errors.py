"""User-facing errors: one line that says where the problem is and what to do."""
from __future__ import annotations

from collections.abc import Sequence


class PerfkitError(Exception):
    """A user mistake (bad input, bad option). The CLI prints ``str(err)`` and exits 2."""


ROWS_SHOWN = 5  # file row numbers named in a message; the rest are counted


def describe_rows(rows: Sequence[int], limit: int = ROWS_SHOWN, total: int | None = None) -> str:
    """``rows 3, 7, 9 (3 in all)``: the first few file row numbers and the total (``total``: of
    rows not all given, as a note keeps only the first few)."""
    n = len(rows) if total is None else total
    shown = ", ".join(str(r) for r in rows[:limit])
    noun = "row" if n == 1 else "rows"
    more = f" ({n} in all)" if n > 1 else ""
    return f"{noun} {shown}{more}"


class DataError(PerfkitError):
    """A problem in an input file, located to the file, rows and column."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        column: str | None = None,
        rows: Sequence[int] = (),
        found: Sequence[object] = (),
        expected: str | None = None,
    ) -> None:
        self.file = file
        self.problem = problem  # a Note (core/notes.py) where a page may show it in another language
        self.column = column
        self.rows = list(rows)
        self.found = list(found)
        self.expected = expected
        parts = [file]
        if self.rows:
            parts.append(describe_rows(self.rows))
        if column:
            parts.append(f"column '{column}'")
        message = ", ".join(parts) + f": {problem}"
        if self.found:
            message += " (found " + ", ".join(repr(f) for f in self.found[:3]) + ")"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)


def explain(exc: BaseException) -> str:
    """One line for any failure of one account: perfkit's own message, or for anything else its
    type and message with what to do; with ``--debug`` (``PERFKIT_DEBUG=1``, which worker
    processes inherit) the traceback follows."""
    import os
    import traceback

    if isinstance(exc, PerfkitError):
        return str(exc)
    text = " ".join(str(exc).split()) or "no message"
    line = (f"unexpected {type(exc).__name__}: {text[:300]} (perfkit could not handle this input; "
            "rerun with --debug for the traceback and report it with the file that caused it)")
    if os.environ.get("PERFKIT_DEBUG") == "1":
        line += "\n" + "".join(traceback.format_exception(exc)).rstrip()
    return line
