"""Wall-clock time to UTC and back on an account's calendar: fast, and exactly as pandas does it.

pandas converts time zones value by value (about 50 ns a value, 10 ms a column of 200k
orders). Offsets change a few times a year, so time is cut into slots of 2**42 ns (73
minutes); pandas converts the two ends of each slot once (kept per zone in blocks of about
a year) and every value takes its slot's shift. A slot whose two ends do not move together
(a daylight-saving change inside it, or the spring gap) has its values converted one by one
by pandas, so the result is always pandas' own.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd

SLOT_BITS = 42  # a slot is 2**42 ns (73 minutes): a bit shift finds a value's slot
BLOCK_BITS = 13  # slots are looked up and kept in blocks of 2**13 (about 417 days)
NAT = np.iinfo(np.int64).min  # NaT as an int64
ODD = NAT  # the shift of a slot that does not move as one piece
MAX_BLOCKS = 16  # data spread wider than this is converted value by value
DAY = 86_400 * 10**9  # ns


def _localize_exact(x: np.ndarray, tz: str) -> np.ndarray:
    """pandas' own conversion of local wall-clock ns to UTC ns (the rule :func:`localize` documents)."""
    idx = pd.DatetimeIndex(x.view("datetime64[ns]"))
    utc = idx.tz_localize(tz, ambiguous=np.ones(len(x), dtype=bool), nonexistent="shift_forward")
    return utc.tz_convert("UTC").tz_localize(None).asi8


def _to_local_exact(x: np.ndarray, tz: str) -> np.ndarray:
    """pandas' own conversion of UTC ns to local wall-clock ns."""
    return pd.DatetimeIndex(x.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz).tz_localize(None).asi8


EXACT: dict[str, Callable[[np.ndarray, str], np.ndarray]] = {"localize": _localize_exact,
                                                           "to_local": _to_local_exact}


@functools.lru_cache(maxsize=256)
def _block(direction: str, tz: str, block: int) -> np.ndarray:
    """The shift pandas applies to each slot of a block, or ODD where the slot's two ends do not
    move together (a daylight-saving change inside it, or the spring gap)."""
    n = 1 << BLOCK_BITS
    starts = (np.arange(n, dtype=np.int64) + block * n) << SLOT_BITS
    exact = EXACT[direction]
    first, last = exact(starts, tz), exact(starts + ((1 << SLOT_BITS) - 1), tz)
    return np.where(last - first == (1 << SLOT_BITS) - 1, first - starts, ODD)


def _convert(values: np.ndarray, direction: str, tz: str, per_day: bool = False,
             missing: int = NAT) -> np.ndarray:
    """Converted int64 ns (or, with ``per_day``, day numbers); NaT becomes ``missing``.

    Written with few passes and fresh arrays: on 200k values each new array costs more than
    the arithmetic.
    """
    nat = values == NAT
    has_nat = bool(nat.any())
    if len(values) == 0 or (has_nat and nat.all()):
        return np.full(len(values), missing, dtype=np.int64)
    # NaT is the smallest int64, so it never is the maximum; the minimum needs it left out.
    lo = int(values[~nat].min() if has_nat else values.min()) >> (SLOT_BITS + BLOCK_BITS)
    hi = int(values.max()) >> (SLOT_BITS + BLOCK_BITS)
    if hi - lo >= MAX_BLOCKS:
        out = values.copy()
        out[~nat] = EXACT[direction](values[~nat], tz)
    else:
        table = np.concatenate([_block(direction, tz, b) for b in range(lo, hi + 1)])
        slot = values >> SLOT_BITS
        slot -= lo << BLOCK_BITS
        if has_nat:
            np.clip(slot, 0, len(table) - 1, out=slot)  # NaT rows look anywhere; they are reset below
        out = table[slot]
        odd = np.flatnonzero(out == ODD)
        out += values
        if len(odd):
            odd = odd[~nat[odd]]
            out[odd] = EXACT[direction](values[odd], tz)
    if per_day:
        np.floor_divide(out, DAY, out=out)
    if has_nat:
        np.putmask(out, nat, missing)
    return out


def is_zone(name: object) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows (``Asia/Shanghai``)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def localize(naive: np.ndarray, tz: str) -> np.ndarray:
    """Local wall-clock times (datetime64[ns]) to UTC instants (datetime64[ns]), NaT kept.

    In the autumn hour that happens twice the first (summer) one is taken; a time in the
    spring gap moves forward to the end of the gap (pandas' ``ambiguous=True``,
    ``nonexistent="shift_forward"``).
    """
    values = np.asarray(naive, dtype="datetime64[ns]").view(np.int64)
    return _convert(values, "localize", tz).view("datetime64[ns]")


def to_local(utc: np.ndarray, tz: str) -> np.ndarray:
    """UTC instants (datetime64[ns]) to local wall-clock times (datetime64[ns]), NaT kept."""
    values = np.asarray(utc, dtype="datetime64[ns]").view(np.int64)
    return _convert(values, "to_local", tz).view("datetime64[ns]")


def local_days(utc: np.ndarray, tz: str, missing: int) -> np.ndarray:
    """UTC instants (datetime64[ns]) to local day numbers (days since 1970-01-01); NaT -> ``missing``."""
    values = np.asarray(utc, dtype="datetime64[ns]").view(np.int64)
    return _convert(values, "to_local", tz, per_day=True, missing=missing)


def utc_values(series: pd.Series) -> np.ndarray:
    """A tz-aware column's instants as datetime64[ns] UTC (NaT kept), without Python objects."""
    return series.to_numpy(dtype="datetime64[ns]")  # for a tz-aware column: its UTC wall clock
