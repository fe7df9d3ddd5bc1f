"""Converting raw cells to typed columns, or failing with the file, rows and column.

Dates become UTC instants (a time without an offset is local to the account), booleans,
channels, statuses and other few-valued columns are mapped from their accepted spellings,
text is trimmed with blanks as missing. The column kinds are declared in :mod:`perfkit.loading.schema`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from perfkit.core import timezones
from perfkit.core.errors import DataError
from perfkit.core.notes import Note
from perfkit.core.notes import rows as note_rows
from perfkit.loading.dayorder import column_order
from perfkit.loading.idmatch import utf8_buffers
from perfkit.loading.orderids import normalise_ids
from perfkit.loading.schema import EXPECTED, TABLES, VALUE_MAPS, Column

# An offset only counts after a time of day: "2026-03-03" ends in "-03" but has none.
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
_BARE_DATE = r"\d{4}-\d{2}-\d{2}"


def rownums(frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> list[int]:
    """File row numbers (header is row 1) of a raw frame's rows where mask holds.

    A raw frame's index is the position of each data row in its file.
    """
    return [int(i) + 2 for i in frame.index.to_numpy()[np.asarray(mask, dtype=bool)]]


def blank(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = series.cat.categories
        return series.isna() | series.isin(cats[cats.astype("string").str.strip() == ""])
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        return series.isna() | (series.astype("string").str.strip() == "")
    return series.isna()


def _spellings(series: pd.Series, mapping: dict, label: str, column: str, frame: pd.DataFrame,
               expected: str) -> tuple[np.ndarray, list]:
    """(codes, canonical values) of a column: code ``i`` means ``values[i]``; -1 means missing.

    Only the distinct spellings are cleaned and mapped (a few values, not millions of cells);
    a blank spelling maps to None.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):  # read dictionary-encoded: codes are at hand
        codes, raw_uniques = series.cat.codes.to_numpy(), series.cat.categories
    elif (coded := _arrow_codes(series)) is not None:
        codes, raw_uniques = coded
    else:
        codes, raw_uniques = pd.factorize(series, use_na_sentinel=True)
    uniques = [str(u).strip().lower() for u in raw_uniques]
    mapped = [mapping.get(u, _BAD) for u in uniques]
    bad_codes = [i for i, m in enumerate(mapped) if m is _BAD and uniques[i] != ""]
    bad = np.isin(codes, bad_codes) if bad_codes else None
    if bad is not None and bad.any():  # (an unused category may be misspelt: only rows count)
        found = list(dict.fromkeys(series[bad].astype(str).tolist()))
        raise DataError(label, "unknown value", column=column, rows=rownums(frame, bad), found=found,
                        expected=expected)
    return codes, [None if m is _BAD else m for m in mapped]


def _arrow_codes(series: pd.Series) -> tuple[np.ndarray, list] | None:
    """``pd.factorize`` of an Arrow text column (codes by first appearance, -1 where missing)
    from Arrow's own dictionary encoding, without pandas' conversions around it (3.3 against
    4.9 ms a column of 200,000); None for any other column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow"):
        return None
    text = pa.array(series.array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    coded = pc.dictionary_encode(text)  # null_encoding="mask": a missing cell has a null code
    codes = coded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp)
    return codes, coded.dictionary.to_pylist()


def _map_values(series: pd.Series, mapping: dict, label: str, column: str, frame: pd.DataFrame,
                expected: str, categorical: bool = False) -> pd.Series:
    """A text column mapped onto canonical values (a nullable string column, or a categorical)."""
    import pyarrow as pa

    codes, values = _spellings(series, mapping, label, column, frame, expected)
    if categorical:
        # Several spellings may share a value ("AFN", "Amazon"): categories are the values.
        cats = list(dict.fromkeys(v for v in values if v is not None))
        lookup = np.array([cats.index(v) if v is not None else -1 for v in values] + [-1], dtype=np.int64)
        dtype = pd.CategoricalDtype(cats)
        return pd.Series(pd.Categorical.from_codes(lookup[codes], dtype=dtype, validate=False), index=series.index)
    # Arrow's take builds the string column without a Python object per row.
    table = pa.array(values + [None], type=pa.string())
    taken = table.take(pa.array(np.where(codes < 0, len(values), codes)))
    return pd.Series(pd.array(taken, dtype="string"), index=series.index)


_BAD = object()


def _to_bool(series: pd.Series, label: str, column: str, frame: pd.DataFrame) -> pd.Series:
    """Booleans as a nullable column (empty stays missing so callers can apply their default)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("boolean")
    codes, values = _spellings(series, VALUE_MAPS["bool"], label, column, frame, EXPECTED["bool"])
    pick = np.where(codes < 0, len(values), codes)
    truth = np.array([bool(v) for v in values] + [False])[pick]
    absent = np.array([v is None for v in values] + [True])[pick]
    return pd.Series(pd.arrays.BooleanArray(truth, absent), index=series.index)


def _localize(naive: pd.Series, tz: str) -> pd.Series:
    # In the autumn hour that happens twice, take the first; in the spring gap, move forward.
    utc = timezones.localize(naive.to_numpy(dtype="datetime64[ns]"), tz)
    return pd.Series(utc, index=naive.index, dtype="datetime64[ns, UTC]")  # the values are UTC already


# Dates a seller's data can hold; outside them a date is a typo or a placeholder.
EARLIEST, LATEST = pd.Timestamp("2000-01-01"), pd.Timestamp("2100-01-01")
# A whole date has a day: three groups of digits (2026-03-04, 4/3/26, 2026年3月4日), or a month
# name and two (Mar 4, 2026). "today", "2026" and "2026-11" are not dates (pandas reads them).
_THREE_NUMBERS = r"^\D*\d+\D+\d+\D+\d+"
_MONTH_NAME = r"(?i)(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*\d+\D+\d+|\d+\D+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"


def _micros(day: str) -> int:
    return int(np.datetime64(day, "us").astype(np.int64))


# Bounds as microseconds since 1970 (parsed dates arrive in microseconds: 0001 and 9999 fit).
_PLACEHOLDER_LOW, _PLACEHOLDER_HIGH = _micros("1901-01-01"), _micros("9999-01-01")
_EARLIEST, _LATEST = _micros(str(EARLIEST.date())), _micros(str(LATEST.date()))


def _as_micros(parsed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(microseconds since 1970, present) of a naive or UTC datetime series of any unit."""
    values = parsed.dt.tz_localize(None) if parsed.dt.tz is not None else parsed
    raw = values.to_numpy(dtype="datetime64[us]")
    return raw.view(np.int64), ~np.isnat(raw)


def is_placeholder(values: pd.Series) -> pd.Series:
    """ERP stand-ins for "no date": the year 9999 (9999-12-31) or a year up to 1900 (0001-01-01,
    1899-12-30, 1900-01-01)."""
    micros, present = _as_micros(values)
    return pd.Series(present & ((micros >= _PLACEHOLDER_HIGH) | (micros < _PLACEHOLDER_LOW)), index=values.index)


def _screened(parsed: pd.Series, col: Column, label: str, frame: pd.DataFrame, text: pd.Series,
              notes: list[str] | None) -> tuple[pd.Series, pd.Series]:
    """Parsed dates (any unit) in nanoseconds, out-of-range ones refused; and where a
    placeholder was read as no date.

    A placeholder in an optional column means "no date" (said in a note naming the rows); in a
    required column, or any other date outside 2000-2099, it is a data error.
    """
    micros, present = _as_micros(parsed)
    outside = present & ((micros < _EARLIEST) | (micros >= _LATEST))
    stand_in = pd.Series(False, index=parsed.index)
    if outside.any():
        stand_in = is_placeholder(parsed)
        if not col.required and stand_in.any():
            if notes is not None:
                rows = rownums(frame, stand_in.reindex(frame.index, fill_value=False))
                notes.append(Note("placeholder_date", label=label, **note_rows(rows), column=col.name,
                                  values=", ".join(dict.fromkeys(text[stand_in].head(3)))))
            parsed = parsed.mask(stand_in)
            outside &= ~stand_in.to_numpy()
        else:
            stand_in[:] = False
        if outside.any():
            far = pd.Series(outside, index=parsed.index)
            raise DataError(label, "date out of range", column=col.name,
                            rows=rownums(frame, far.reindex(frame.index, fill_value=False)),
                            found=text[far].tolist(),
                            expected="a date from 2000 to 2099" + ("" if col.required else
                                                                   " (leave the cell empty when there is no date)"))
    return parsed.astype("datetime64[ns, UTC]" if parsed.dt.tz is not None else "datetime64[ns]"), stand_in


def _end_of_day(parsed: pd.Series, bare: np.ndarray) -> None:
    """A deadline given as a bare date is the end of that local day (23:59:59), in place."""
    parsed[bare] = parsed[bare] + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)


def _iso_column(series: pd.Series, tz: str, col: Column, label: str, frame: pd.DataFrame,
                notes: list[str] | None) -> pd.Series | None:
    """The common case in Arrow's own parser: every value an ISO date or time, all without an
    offset or all with one. Arrow refuses words, partial dates, impossible days and mixed
    columns; those (None here) take the general path, which names them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(series.astype("string"))
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    empty = pc.equal(text, "")
    if pc.any(empty).as_py():  # (a copy of every string otherwise, for nothing)
        text = pc.if_else(empty, pa.scalar(None, text.type), text)
    for target in (pa.timestamp("us"), pa.timestamp("us", "UTC")):
        try:
            stamps = pc.cast(text, target)
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    else:
        return None
    raw = stamps.to_numpy(zero_copy_only=False)  # datetime64[us], NaT where empty
    micros = raw.view(np.int64)
    if not (~np.isnat(raw) & ((micros < _EARLIEST) | (micros >= _LATEST))).any():
        # The common case, every date from 2000 to 2099: nothing to screen, so numpy only (the
        # pandas steps below cost about 2 ms a column in overhead, whatever its length).
        ns = raw.astype("datetime64[ns]")
        if not target.tz:
            if col.kind == "deadline":  # a bare date is the end of that local day
                bare = pc.equal(pc.utf8_length(text), 10).fill_null(False).to_numpy(zero_copy_only=False)
                ns[bare] += np.timedelta64(86399, "s")
            ns = timezones.localize(ns, tz)  # NaT stays NaT
        return pd.Series(ns, index=series.index, dtype="datetime64[ns, UTC]")  # the values are UTC
    parsed = pd.Series(raw, index=series.index)
    if target.tz:
        parsed = parsed.dt.tz_localize("UTC")
    parsed, _ = _screened(parsed, col, label, frame, series.astype("string"), notes)
    if target.tz:
        return parsed
    if col.kind == "deadline":
        _end_of_day(parsed, pc.equal(pc.utf8_length(text), 10).fill_null(False).to_numpy(zero_copy_only=False))
    return _localize(parsed, tz)  # NaT stays NaT


def _to_datetime(series: pd.Series, tz: str, col: Column, label: str, frame: pd.DataFrame,
                 date_order: str | None = None, notes: list[str] | None = None) -> pd.Series:
    """ISO 8601 text to UTC instants, on the account's calendar where no offset is given.

    A bare date is the start of that local day, or its end (23:59:59) for a deadline column.
    ``date_order`` ('mdy', 'dmy', 'ymd') also accepts the short dates of Amazon's reports;
    'ask' refuses them (the marketplace that decides the order is unknown).
    """
    deadline, column = col.kind == "deadline", col.name
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return _localize(series, tz)
    fast = _iso_column(series, tz, col, label, frame, notes)
    if fast is not None:
        return fast
    import pyarrow as pa
    import pyarrow.compute as pc

    # The scans (trim, blanks, which values carry an offset, which are bare dates) run in Arrow's
    # kernels: pandas would call Python's regex once per value.
    arrow = pa.array(series.astype("string"), type=pa.large_string())
    arrow = pc.utf8_trim_whitespace(arrow)
    text = pd.Series(pd.array(arrow, dtype="string"), index=series.index)

    def mask(values) -> pd.Series:
        return pd.Series(values.fill_null(False).to_numpy(zero_copy_only=False), index=series.index)

    blank = mask(pc.or_kleene(pc.is_null(arrow), pc.equal(arrow, "")))
    whole = mask(pc.match_substring_regex(arrow, _THREE_NUMBERS)) | mask(pc.match_substring_regex(arrow, _MONTH_NAME))
    partial = ~blank & ~whole
    if partial.any():
        raise DataError(label, "not a whole date (a word, or a year or month without a day)", column=column,
                        rows=rownums(frame, partial), found=text[partial].tolist(), expected=EXPECTED["datetime"])
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    no_date = pd.Series(False, index=series.index)  # placeholders read as no date
    has_offset = mask(pc.match_substring_regex(arrow, _OFFSET)) & ~blank
    if has_offset.any():
        # Offsets vary row to row; "Z" and "+00:00" mean the same instant.
        stamped = pd.to_datetime(text[has_offset], utc=True, format="ISO8601", errors="coerce")
        out[has_offset], none = _screened(stamped, col, label, frame, text[has_offset], notes)
        no_date[has_offset] = none
    naive = ~blank & ~has_offset
    if naive.any():
        bare = mask(pc.match_substring_regex(arrow, f"^{_BARE_DATE}$")) & naive
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        if date_order is not None and parsed.isna().any():
            retry = parsed.isna()
            date_order = column_order(text[naive][retry], rownums(frame, (retry.reindex(frame.index, fill_value=False)
                                                                         & naive).to_numpy()),
                                      date_order, label, column, notes)
            if date_order == "ask":
                rows = retry.reindex(frame.index, fill_value=False) & naive
                raise DataError(label, "the day/month order of these dates depends on the marketplace, which "
                                "account.json does not give", column=column, rows=rownums(frame, rows),
                                found=text[naive][retry].tolist(),
                                expected='"marketplace" (such as "US" or "DE") in the account\'s account.json')
            parsed[retry] = pd.to_datetime(text[naive][retry], format="mixed", errors="coerce",
                                           dayfirst=date_order == "dmy", yearfirst=date_order == "ymd")
        parsed, none = _screened(parsed, col, label, frame, text[naive], notes)
        no_date[naive] = none
        if deadline:
            _end_of_day(parsed, bare[naive].to_numpy())
        ok = parsed.notna()
        if ok.any():
            out[parsed.index[ok]] = _localize(parsed[ok], tz)
    bad = ~blank & out.isna() & ~no_date
    if bad.any():
        raise DataError(label, "cannot read as a date", column=column, rows=rownums(frame, bad),
                        found=text[bad].tolist(), expected=EXPECTED["datetime"])
    return out


def _whole_ratings(series: pd.Series) -> pd.Series | None:
    """The common case in Arrow's integer parser: every cell a plain 1 to 5 (ASCII spaces around
    it, a subset of what ``str.strip`` takes off). Anything else (None) takes pandas' path, which
    reads the same values and names the bad rows; pandas' ``to_numeric`` on text costs about 6 ms
    per 17,000 ratings, the cast a tenth of that."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pd.api.types.is_string_dtype(series.dtype) or isinstance(series.dtype, pd.CategoricalDtype):
        return None
    try:
        text = pa.array(series)
        if text.null_count or not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
            return None
        numbers = pc.cast(pc.ascii_trim_whitespace(text), pa.int8())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, TypeError):
        return None
    low, high = pc.min_max(numbers).values()
    if len(numbers) and not (low.as_py() >= 1 and high.as_py() <= 5):
        return None
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=series.index, dtype="int8", name=series.name)


def _to_rating(series: pd.Series, label: str, frame: pd.DataFrame) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numbers = series  # a typed column (Parquet) skips the text round trip
    elif (fast := _whole_ratings(series)) is not None:
        return fast
    else:
        numbers = pd.to_numeric(series.astype("string").str.strip(), errors="coerce")
    bad = numbers.isna() | ~numbers.isin([1, 2, 3, 4, 5])
    if bad.any():
        raise DataError(label, "rating out of range", column="rating", rows=rownums(frame, bad),
                        found=series[bad].tolist(), expected=EXPECTED["rating"])
    return numbers.astype("int8")


def typed(frame: pd.DataFrame, table: str, label: str, tz: str, date_order: str | None,
          notes: list[str] | None = None) -> pd.DataFrame:
    """Check and convert the canonical columns present in a raw frame (``notes`` collects what
    was read with a warning, such as placeholder dates read as no date)."""
    out = {}
    for name, col in TABLES[table].items():
        if name not in frame.columns:
            continue
        series = frame[name]
        # Converted values are missing exactly where the cell was blank (a rating is checked
        # before, as its conversion refuses blanks itself).
        empty = blank(series) if col.required and col.kind == "rating" else None
        if empty is None or not empty.any():
            out[name] = _convert(series, col, label, tz, frame, date_order, notes)
            if name == "order_id":  # an id must name one order in every file: no invisible characters
                out[name] = normalise_ids(out[name], label, name, notes)
            if col.required:
                empty = out[name].isna()
        if col.required and empty.any():
            raise DataError(label, "required value is empty", column=name, rows=rownums(frame, empty),
                            expected="a value in every row")
    out["_row"] = frame.index.to_numpy() + 2
    out["_file"] = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [label])  # one label, not n copies
    return pd.DataFrame(out, index=frame.index)


def _convert(series: pd.Series, col: Column, label: str, tz: str, frame: pd.DataFrame,
             date_order: str | None, notes: list[str] | None = None) -> pd.Series:
    kind = col.kind
    if kind in ("datetime", "deadline"):
        return _to_datetime(series, tz, col, label, frame, date_order, notes)
    if kind == "bool":
        return _to_bool(series, label, col.name, frame)
    if kind == "rating":
        return _to_rating(series, label, frame)
    if kind in ("channel", "status", "kind", "decision", "policy_category", "notice_status"):
        # An order's channel and status are compared millions of times: categorical codes.
        return _map_values(series, VALUE_MAPS[kind], label, col.name, frame, EXPECTED[kind],
                           categorical=kind in ("channel", "status"))
    return to_text(series, lower=kind == "lower")


def _may_need_trim(text) -> bool:
    """Whether any value might start or end with white space.

    Ids are usually clean: looking at two bytes a value is cheaper than trimming them all.
    Any byte outside printable ASCII ('!' to '~') counts as possible white space (every ASCII
    space is below '!', every other Unicode space starts with a byte above '~').
    """
    import pyarrow as pa

    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)) or len(text) == 0:
        return True
    data, offsets = utf8_buffers(text)
    if data.size == 0:
        return False  # every value is empty or missing
    # An empty value points at a neighbour's byte (or is clipped to the buffer): at worst a needless trim.
    for edge in (np.take(data, offsets[:-1], mode="clip"), np.take(data, offsets[1:] - 1, mode="clip")):
        edge -= np.uint8(33)
        if (edge > 93).any():
            return True
    return False


def to_text(series: pd.Series, lower: bool) -> pd.Series:
    """Trimmed text, blank as missing, through Arrow's kernels (no Python string per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow_text = pd.api.types.is_string_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype)
    text = pa.array(series if arrow_text else series.astype("string"))
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if pa.types.is_null(text.type):  # an all-empty column of a Parquet file has no type
        text = text.cast(pa.string())
    if _may_need_trim(text):
        text = pc.utf8_trim_whitespace(text)
    if lower:
        text = pc.utf8_lower(text)
    empty = pc.equal(text, "")
    if pc.any(empty).as_py():
        text = pc.if_else(empty, pa.scalar(None, text.type), text)
    return pd.Series(pd.array(text, dtype="string"), index=series.index)


def absent(col: Column, index: pd.Index) -> pd.Series:
    """An all-missing column of the type the column would have had."""
    import pyarrow as pa

    n = len(index)
    if col.kind in ("datetime", "deadline"):
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if col.kind == "bool":
        return pd.Series(pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool)), index=index)
    return pd.Series(pd.array(pa.nulls(n, pa.large_string()), dtype="string"), index=index)
