"""One day/month order per date column.

Short numeric dates (``09/10/26``) are read in one order for the whole column: the order some
value proves (``13/09/26`` can only be day-first, ``09/13/26`` only month-first), else the
marketplace's (or mapping.json's ``date_order``). Values proving both orders in one column are
an error naming the rows of each; a column whose values prove an order other than the
marketplace's is read in the values' order, with a warning.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from perfkit.core.errors import DataError, describe_rows
from perfkit.core.notes import Note

# Day and month first, as one or two digits, then a year: "9/10/26", "13.09.2026", "09-10-26 10:00"
# (or, in a year-first marketplace, a two-digit year, month and day: Amazon Japan's "22/7/26").
_SHORT = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?:\D|$)"


def column_order(text: pd.Series, rows: list[int], order: str, label: str, column: str,
                 notes: list[str] | None) -> str:
    """The order ('mdy', 'dmy', 'ymd' or 'ask') to read ``text`` (the column's values that are not
    ISO) in; ``rows`` are their file row numbers."""
    parts = text.astype("string").str.extract(_SHORT)
    first = pd.to_numeric(parts[0], errors="coerce").to_numpy()
    second = pd.to_numeric(parts[1], errors="coerce").to_numpy()
    with np.errstate(invalid="ignore"):
        day_first = (first > 12) & (second <= 12)
        month_first = (second > 12) & (first <= 12)
    if order == "ymd":
        # Year first (Amazon Japan's Feedback report writes 22/7/26, YY/M/D): a first field over 12 is
        # the year, not a day, unless the last field is a four-digit year (26/07/2022).
        day_first &= parts[2].str.len().to_numpy() == 4
    shown = text.astype(str).to_numpy()
    if day_first.any() and month_first.any():
        at = np.asarray(rows)
        raise DataError(label, "one column holds dates in both day/month orders: "
                        f"{describe_rows(at[day_first].tolist())} day-first "
                        f"({', '.join(dict.fromkeys(shown[day_first][:2]))}), "
                        f"{describe_rows(at[month_first].tolist())} month-first "
                        f"({', '.join(dict.fromkeys(shown[month_first][:2]))})", column=column,
                        rows=sorted(at[day_first | month_first].tolist())[:20],
                        expected="one order in the column: fix the rows written the other way")
    proved = "dmy" if day_first.any() else "mdy" if month_first.any() else None
    if proved is None:
        return order
    if order in ("mdy", "dmy") and order != proved and notes is not None:
        example = shown[day_first | month_first][0]
        notes.append(Note("day_order_proved", label=label, column=column, example=repr(example),
                          proved=Note("day" if proved == "dmy" else "month"),
                          usual=Note("day" if order == "dmy" else "month")))
    return proved
