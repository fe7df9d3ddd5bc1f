"""Load account folders into typed tables, or fail with one clear line.

An account folder holds ``orders`` (required) and optionally ``feedback``, ``claims``,
``chargebacks`` and ``returns`` as CSV, TSV/TXT or Parquet, an optional ``account.json``, and
optionally Amazon's own report downloads and other exports described in ``mapping.json``.
All date-times become UTC instants; day arithmetic happens later on the account's calendar.
"""
from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from . import formats, timezones
from .errors import DataError, PerfkitError
from .idmatch import match_orders, utf8_buffers
from .schema import EXPECTED, OPTIONAL_TABLES, TABLES, VALUE_MAPS, Column

# Event columns that are only ever shown (drill-downs, reports), never counted.
FREE_TEXT = ("comments", "reason")
# Column kinds whose values are a few spellings: read from Parquet as categoricals.
FEW_VALUES = ("channel", "status", "kind", "decision", "lower", "bool")
ACCOUNT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
DATA_SUFFIXES = TEXT_SUFFIXES + (".parquet",)
CONTROL_FILES = ("account.json", "mapping.json")
# An offset only counts after a time of day: "2026-03-03" ends in "-03" but has none.
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
_BARE_DATE = r"\d{4}-\d{2}-\d{2}"


@dataclass
class Account:
    """One seller account: its identity, its tables, and what was missing or odd on loading."""

    account_id: str
    name: str
    marketplace: str | None
    timezone: str
    orders: pd.DataFrame
    feedback: pd.DataFrame
    claims: pd.DataFrame
    chargebacks: pd.DataFrame
    returns: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    path: Path | None = None

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def has(self, what: str) -> bool:
        """Whether an input was supplied: a table (``feedback``) or a column (``orders.carrier``)."""
        return what not in self.missing


@dataclass
class Portfolio:
    """Every account under a data root, plus the folders that failed to load and why."""

    root: Path
    accounts: dict[str, Account]
    failures: dict[str, str]


# ---------------------------------------------------------------------------------------------
# Reading files


def _decode(raw: bytes, name: str) -> str:
    """Bytes to text: UTF-8 (BOM or not), UTF-16 (Excel "Unicode text") or GB18030/GBK."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DataError(name, f"looks like UTF-16 but byte {exc.start} is not valid UTF-16",
                            expected="a file saved as UTF-8 or UTF-16") from None
    head = raw[:4096]
    if head and b"\x00" in head:
        # UTF-16 without a BOM has a zero in every other byte of ASCII text.
        zeros_odd, zeros_even = head[1::2].count(0), head[0::2].count(0)
        half = len(head) // 2
        for enc, zeros in (("utf-16-le", zeros_odd), ("utf-16-be", zeros_even)):
            if zeros > 0.4 * half:
                try:
                    return raw.decode(enc)
                except UnicodeDecodeError:
                    break
        raise DataError(name, "is not a text table (it contains binary data, perhaps an image or "
                        "a spreadsheet renamed)", expected="CSV/TSV text or a .parquet file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise DataError(name, f"is neither UTF-8 nor GB18030 text (undecodable byte at offset {exc.start})",
                        expected="a file saved as UTF-8, UTF-16 or GB18030/GBK") from None


def _read_header(path: Path, label: str) -> list[str]:
    """The header names of a text table, reading only its first 64 KiB."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:4096].count(0) > 0:
        head = head[: len(head) - len(head) % 2]  # whole UTF-16 code units only
    elif len(head) == 65536 and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # no multi-byte character cut in half
    try:
        text = _decode(head, label)
    except (DataError, UnicodeDecodeError):
        text = _decode(path.read_bytes(), label)
    first = text.split("\n", 1)[0].rstrip("\r")
    sep = "\t" if "\t" in first and first.count("\t") >= first.count(",") else ","
    return [c.strip().strip('"').lstrip("\ufeff") for c in first.split(sep)]


def _read_text_table(path: Path, label: str) -> pd.DataFrame:
    raw = path.read_bytes()
    if raw.startswith((b"\x89PNG", b"PK\x03\x04", b"%PDF", b"\xff\xd8\xff", b"GIF8")):
        raise DataError(label, "is not a text table (it is an image, PDF or zipped file such as .xlsx)",
                        expected="CSV/TSV text; save the sheet as CSV UTF-8")
    text = _decode(raw, label)
    if not text.strip():
        raise DataError(label, "is empty", expected="a header line and one row per record")
    first = text.split("\n", 1)[0]
    if path.suffix.lower() in (".tsv", ".txt") or ("\t" in first and first.count("\t") >= first.count(",")):
        sep = "\t"
    else:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_values=[], skipinitialspace=False)
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise DataError(label, f"cannot be read as a table ({detail})",
                        expected="the same number of fields on every line") from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return frame


def _read_parquet(path: Path, label: str, columns: list[str] | None, few_values: Collection[str] = ()) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq  # local: only Parquet users pay for the import

    try:
        metadata = pq.read_metadata(path)  # the footer, parsed once and handed to the reader below
        schema = metadata.schema.to_arrow_schema()
        wanted = [c for c in schema.names if columns is None or c in columns]
        # Text columns with a few distinct values (channel, status, ...) stay dictionary-encoded
        # as Parquet stores them: categoricals, not a string object per row.
        text = (pa.types.is_string, pa.types.is_large_string)
        coded = [c for c in wanted if c in few_values and any(is_(schema.field(c).type) for is_ in text)]
        with pq.ParquetFile(path, metadata=metadata, read_dictionary=coded) as file:
            # Accounts are the unit of parallel work: Arrow's own threads would only compete.
            table = file.read(columns=wanted, use_threads=False)
        # Nullable booleans stay booleans (not Python objects), so they skip the text path.
        # Columns are taken one by one (no 2-D block copy); times arrive in the nanoseconds
        # every later step uses, converted once by Arrow.
        return table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get, use_threads=False,
                               split_blocks=True, coerce_temporal_nanoseconds=True)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(label, f"is not a readable Parquet file ({type(exc).__name__}: {exc})",
                        expected="a .parquet file written by pandas, pyarrow or DuckDB") from None


def read_table_file(path: Path, label: str | None = None, columns: list[str] | None = None,
                    few_values: Collection[str] = ()) -> pd.DataFrame:
    """Read one CSV/TSV/TXT/Parquet file as a raw frame (text cells, '' for empty).

    ``few_values`` names Parquet text columns to read as categoricals.
    """
    label = label or path.name
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, label, columns, few_values)
    return _read_text_table(path, label)


# ---------------------------------------------------------------------------------------------
# Values


def _rownums(frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> list[int]:
    """File row numbers (header is row 1) of a raw frame's rows where mask holds.

    A raw frame's index is the position of each data row in its file.
    """
    return [int(i) + 2 for i in frame.index.to_numpy()[np.asarray(mask, dtype=bool)]]


def _blank(series: pd.Series) -> pd.Series:
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
    else:
        codes, raw_uniques = pd.factorize(series, use_na_sentinel=True)
    uniques = [str(u).strip().lower() for u in raw_uniques]
    mapped = [mapping.get(u, _BAD) for u in uniques]
    bad_codes = [i for i, m in enumerate(mapped) if m is _BAD and uniques[i] != ""]
    bad = np.isin(codes, bad_codes) if bad_codes else None
    if bad is not None and bad.any():  # (an unused category may be misspelt: only rows count)
        found = list(dict.fromkeys(series[bad].astype(str).tolist()))
        raise DataError(label, "unknown value", column=column, rows=_rownums(frame, bad), found=found,
                        expected=expected)
    return codes, [None if m is _BAD else m for m in mapped]


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


def _to_datetime(series: pd.Series, tz: str, deadline: bool, label: str, column: str,
                 frame: pd.DataFrame, date_order: str | None = None) -> pd.Series:
    """ISO 8601 text to UTC instants, on the account's calendar where no offset is given.

    A bare date is the start of that local day, or its end (23:59:59) for a deadline column.
    ``date_order`` ('mdy', 'dmy', 'ymd') also accepts the short dates of Amazon's reports.
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return _localize(series, tz)
    text = series.astype("string").str.strip()
    blank = text.isna() | (text == "")
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    has_offset = text.str.contains(_OFFSET, regex=True).fillna(False) & ~blank
    if has_offset.any():
        # Offsets vary row to row; "Z" and "+00:00" mean the same instant.
        out[has_offset] = pd.to_datetime(text[has_offset], utc=True, format="ISO8601", errors="coerce")
    naive = ~blank & ~has_offset
    if naive.any():
        bare = text.str.fullmatch(_BARE_DATE).fillna(False) & naive
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        if date_order is not None and parsed.isna().any():
            retry = parsed.isna()
            parsed[retry] = pd.to_datetime(text[naive][retry], format="mixed", errors="coerce",
                                           dayfirst=date_order == "dmy", yearfirst=date_order == "ymd")
        parsed = parsed.astype("datetime64[ns]")
        if deadline:
            ends = bare[naive].to_numpy()
            parsed[ends] = parsed[ends] + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
        ok = parsed.notna()
        if ok.any():
            out[parsed.index[ok]] = _localize(parsed[ok], tz)
    bad = ~blank & out.isna()
    if bad.any():
        raise DataError(label, "cannot read as a date", column=column, rows=_rownums(frame, bad),
                        found=text[bad].tolist(), expected=EXPECTED["datetime"])
    return out


def _to_rating(series: pd.Series, label: str, frame: pd.DataFrame) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        numbers = series  # a typed column (Parquet) skips the text round trip
    else:
        numbers = pd.to_numeric(series.astype("string").str.strip(), errors="coerce")
    bad = numbers.isna() | ~numbers.isin([1, 2, 3, 4, 5])
    if bad.any():
        raise DataError(label, "rating out of range", column="rating", rows=_rownums(frame, bad),
                        found=series[bad].tolist(), expected=EXPECTED["rating"])
    return numbers.astype("int8")


def _typed(frame: pd.DataFrame, table: str, label: str, tz: str, date_order: str | None) -> pd.DataFrame:
    """Check and convert the canonical columns present in a raw frame."""
    out = {}
    for name, col in TABLES[table].items():
        if name not in frame.columns:
            continue
        series = frame[name]
        # Converted values are missing exactly where the cell was blank (a rating is checked
        # before, as its conversion refuses blanks itself).
        empty = _blank(series) if col.required and col.kind == "rating" else None
        if empty is None or not empty.any():
            out[name] = _convert(series, col, label, tz, frame, date_order)
            if col.required:
                empty = out[name].isna()
        if col.required and empty.any():
            raise DataError(label, "required value is empty", column=name, rows=_rownums(frame, empty),
                            expected="a value in every row")
    out["_row"] = frame.index.to_numpy() + 2
    out["_file"] = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), [label])  # one label, not n copies
    return pd.DataFrame(out, index=frame.index)


def _convert(series: pd.Series, col: Column, label: str, tz: str, frame: pd.DataFrame,
             date_order: str | None) -> pd.Series:
    kind = col.kind
    if kind in ("datetime", "deadline"):
        return _to_datetime(series, tz, kind == "deadline", label, col.name, frame, date_order)
    if kind == "bool":
        return _to_bool(series, label, col.name, frame)
    if kind == "rating":
        return _to_rating(series, label, frame)
    if kind in ("channel", "status", "kind", "decision"):
        # An order's channel and status are compared millions of times: categorical codes.
        return _map_values(series, VALUE_MAPS[kind], label, col.name, frame, EXPECTED[kind],
                           categorical=kind in ("channel", "status"))
    return _to_text(series, lower=kind == "lower")


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


def _to_text(series: pd.Series, lower: bool) -> pd.Series:
    """Trimmed text, blank as missing, through Arrow's kernels (no Python string per row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow_text = pd.api.types.is_string_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype)
    text = pa.array(series if arrow_text else series.astype("string"))
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if _may_need_trim(text):
        text = pc.utf8_trim_whitespace(text)
    if lower:
        text = pc.utf8_lower(text)
    empty = pc.equal(text, "")
    if pc.any(empty).as_py():
        text = pc.if_else(empty, pa.scalar(None, text.type), text)
    return pd.Series(pd.array(text, dtype="string"), index=series.index)


# ---------------------------------------------------------------------------------------------
# Sources: which files feed which table


@dataclass
class Source:
    path: Path
    table: str
    label: str
    columns: dict[str, str] = field(default_factory=dict)  # file header -> canonical column
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    date_order: str | None = None
    fmt: str | None = None


def _read_mapping(folder: Path) -> dict:
    path = folder / "mapping.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(_decode(path.read_bytes(), str(path)))
    except json.JSONDecodeError as exc:
        raise DataError(str(path), f"is not valid JSON (line {exc.lineno}: {exc.msg})",
                        expected="the layout shown in docs/data.md") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise DataError(str(path), "has no \"files\" object", expected='{"files": {"export.csv": {"table": "orders", ...}}}')
    for fname, spec in files.items():
        if not isinstance(spec, dict) or spec.get("table") not in TABLES:
            raise DataError(str(path), f"entry '{fname}' needs \"table\" set to one of {', '.join(TABLES)}")
        unknown = sorted(set(spec.get("columns", {}).values()) - set(TABLES[spec["table"]]))
        if unknown:
            raise DataError(str(path), f"entry '{fname}' maps to unknown columns {unknown}",
                            expected=f"columns of {spec['table']}: {', '.join(TABLES[spec['table']])}")
    return files


def _sources(folder: Path, account_id: str, marketplace: str | None, warnings: list[str]) -> list[Source]:
    mapping = _read_mapping(folder)
    found: list[Source] = []
    seen: dict[str, Path] = {}
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for name in sorted(set(mapping) - {p.name for p in files}):
        warnings.append(f"{account_id}/mapping.json names {name!r}, which is not in the folder (check the file name)")
    for path in files:
        label = f"{account_id}/{path.name}"
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if path.name in CONTROL_FILES:
            continue
        if path.name in mapping:
            spec = mapping[path.name]
            found.append(Source(path, spec["table"], label, dict(spec.get("columns", {})),
                                {k: {str(a).strip().lower(): b for a, b in v.items()}
                                 for k, v in spec.get("values", {}).items()},
                                dict(spec.get("defaults", {})),
                                spec.get("date_order"), fmt="mapping.json"))
            continue
        if suffix not in DATA_SUFFIXES:
            warnings.append(f"{label}: ignored (not .csv, .tsv, .txt or .parquet)")
            continue
        fmt = None
        if suffix != ".parquet":
            header = _read_header(path, label)
            required = {c.name for c in TABLES.get(stem, {}).values() if c.required}
            # An Amazon download saved as "Feedback.txt" is still Amazon's layout, not ours.
            if not (stem in TABLES and required <= {h.lower() for h in header}):
                fmt = formats.detect(header)
        if stem in TABLES and fmt is None:
            if stem in seen:
                raise DataError(label, f"a second file for table '{stem}' beside {seen[stem].name}",
                                expected="one file per table; remove or rename one")
            seen[stem] = path
            found.append(Source(path, stem, label))
            continue
        if suffix == ".parquet":
            warnings.append(f"{label}: ignored (not a perfkit table name; list it in mapping.json)")
            continue
        if fmt is None:
            warnings.append(f"{label}: ignored (not a perfkit table nor a known Amazon report; "
                            "describe it in mapping.json to load it)")
            continue
        found.append(Source(path, fmt.table, label, dict(fmt.columns), {}, dict(fmt.defaults),
                            formats.date_order(marketplace) if fmt.local_dates else None, fmt=fmt.name))
    return found


def _canonical_frame(src: Source, tz: str, keep: set[str] | None = None) -> pd.DataFrame:
    wanted = None
    if src.path.suffix.lower() == ".parquet":
        # Column pruning: Parquet reads only the canonical columns asked for (all by default).
        names = [c for c in TABLES[src.table] if keep is None or c in keep or TABLES[src.table][c].required]
        wanted = names + [k for k, v in src.columns.items() if v in names]
    few = {c for c, col in TABLES[src.table].items() if col.kind in FEW_VALUES or c in ("category", "carrier")}
    raw = read_table_file(src.path, src.label, wanted, few | {k for k, v in src.columns.items() if v in few})
    raw = raw.reset_index(drop=True)  # the index is each row's position in the file
    if src.columns:
        lower = {k.strip().lower(): v for k, v in src.columns.items()}
        rename = {c: lower[c.strip().lower()] for c in raw.columns if c.strip().lower() in lower}
        raw = raw.drop(columns=[v for v in rename.values() if v in raw.columns and v not in rename])
        raw = raw.rename(columns=rename)
    else:
        raw.columns = [c.strip().lower() for c in raw.columns]
    for column, spelled in src.values.items():
        if column in raw.columns:
            text = raw[column].astype("string").str.strip()
            raw[column] = text.str.lower().map(spelled).fillna(text)
    for column, value in src.defaults.items():
        if column not in raw.columns:
            raw[column] = value
        else:
            raw[column] = raw[column].mask(_blank(raw[column]), value)
    if src.fmt == formats.RETURNS.name:
        raw = _amazon_returns(raw)
    missing = [c.name for c in TABLES[src.table].values() if c.required and c.name not in raw.columns]
    if missing and src.table != "orders":
        raise DataError(src.label, "required column missing", column=missing[0],
                        expected=f"a header row with {', '.join(c for c in TABLES[src.table] if TABLES[src.table][c].required)}")
    if src.table == "orders" and "order_id" not in raw.columns:
        raise DataError(src.label, "required column missing", column="order_id",
                        expected="a header row naming order_id (or map your header in mapping.json)")
    return _typed(raw, src.table, src.label, tz, src.date_order)


def _amazon_returns(raw: pd.DataFrame) -> pd.DataFrame:
    """The Returns report: one row per item; its status is not yet the seller's decision."""
    raw = raw.copy()
    status = raw["decision"].astype("string").str.strip().str.lower()
    raw["decision"] = status.map(formats.RETURN_STATUS_DECISIONS).fillna("")
    if "return_id" not in raw.columns or _blank(raw["return_id"]).all():
        raw["return_id"] = raw["order_id"].astype("string") + "#" + raw["request_date"].astype("string")
    raw = raw.drop_duplicates(subset=["return_id"])
    return raw


# ---------------------------------------------------------------------------------------------
# Combining


def _merge_orders(orders: pd.DataFrame, codes: np.ndarray, n_files: int, warnings: list[str]) -> pd.DataFrame:
    """One row per order: rows repeating an order id are merged (``codes`` number the ids by first
    appearance, so the merged order ``i`` is the one with code ``i``)."""
    distinct = int(codes.max()) + 1 if len(codes) else 0
    if distinct == len(codes):
        return orders
    dup = pd.Series(codes).duplicated(keep=False).to_numpy()
    n_rows, n_orders = int(dup.sum()), len(np.unique(codes[dup]))
    if n_files == 1:
        warnings.append(f"{orders['_file'].iat[0]}: {n_rows} rows repeat {n_orders} order ids "
                        "(one row per item); merged into one order each")
    else:
        warnings.append(f"orders: {n_rows} rows from {n_files} files describe {n_orders} orders; "
                        "merged by order id")
    # Each column takes the first value any row gives for the order.
    return orders.groupby(codes, sort=True).first().reset_index(drop=True)


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
    return _typed(pd.DataFrame({c: pd.Series(dtype="string") for c in TABLES[table]}),
                  table, table, "UTC", None).iloc[0:0]


def _empty(table: str) -> pd.DataFrame:
    """A typed table with no rows (a copy: callers add columns)."""
    return _empty_table(table).copy()


def _absent(col: Column, index: pd.Index) -> pd.Series:
    """An all-missing column of the type the column would have had."""
    import pyarrow as pa

    n = len(index)
    if col.kind in ("datetime", "deadline"):
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if col.kind == "bool":
        return pd.Series(pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool)), index=index)
    return pd.Series(pd.array(pa.nulls(n, pa.large_string()), dtype="string"), index=index)


def _finish_orders(orders: pd.DataFrame, missing: list[str], keep: set[str] | None = None) -> pd.DataFrame:
    orders = orders.reset_index(drop=True)
    index = orders.index
    columns = {name: orders[name] if name in orders.columns else _absent(col, index)
               for name, col in TABLES["orders"].items()}
    # No tracking_valid column has a rule of its own (valid if a tracking id is present).
    missing += [f"orders.{name}" for name in TABLES["orders"] if name not in orders.columns
                and name not in ("product_name", "tracking_valid") and (keep is None or name in keep)]
    # Missing tracking_valid means "valid if a tracking id is present".
    columns["tracking_valid"] = columns["tracking_valid"].fillna(columns["tracking_id"].notna()).astype(bool)
    for flag in ("buyer_requested_cancel", "is_business_order"):
        columns[flag] = columns[flag].fillna(False).astype(bool)
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


def _finish_events(table: str, frame: pd.DataFrame, unknown: np.ndarray, warnings: list[str]) -> pd.DataFrame:
    for name, col in TABLES[table].items():
        if name not in frame.columns:
            frame[name] = _absent(col, frame.index)
    if table == "feedback":
        frame["removed"] = frame["removed"].fillna(False).astype(bool)
    if table == "chargebacks":
        frame["kind"] = frame["kind"].fillna("service")
    if table == "returns":
        for flag in ("rejection_valid", "negative_return_feedback"):
            frame[flag] = frame[flag].fillna(False).astype(bool)
        dup = frame["return_id"].duplicated(keep=False)
        if dup.any():
            files = frame.loc[dup, "_file"].iat[0]
            raise DataError(files, "duplicate return id", column="return_id",
                            rows=frame.loc[dup, "_row"].tolist(), found=frame.loc[dup, "return_id"].unique().tolist(),
                            expected="each return_id once per account")
    if unknown.any():
        examples = ", ".join(frame.loc[unknown, "order_id"].astype(str).unique()[:3])
        warnings.append(f"{table}: {int(unknown.sum())} rows name order ids not in the orders "
                        f"(e.g. {examples}); left out of every rate")
        frame = frame[~unknown]
    return frame.reset_index(drop=True)


MISSING_NOTES = {
    "feedback": "negative feedback is not counted in ODR",
    "claims": "A-to-z claims are not counted in ODR",
    "chargebacks": "chargebacks are not counted in ODR",
    "returns": "Return Dissatisfaction Rate has no data",
    "orders.latest_ship_date": "Late Shipment Rate has no data",
    "orders.ship_confirm_date": "Valid Tracking and Invoice Defect Rates have no data",
    "orders.latest_delivery_date": "On-Time Delivery Rate has no data",
    "orders.delivered_date": "every delivery counts as not delivered in On-Time Delivery Rate",
    "orders.tracking_id": "tracking validity comes from tracking_valid alone",
    "orders.is_business_order": "Invoice Defect Rate has no data",
    "orders.invoice_upload_date": "every business order counts as having no invoice",
    "orders.refund_date": "refunds are not counted",
    "orders.buyer_requested_cancel": "every cancellation counts as the seller's",
    "orders.category": "Valid Tracking Rate has no per-category figures",
    "orders.carrier": "drill-downs cannot name carriers",
}


def _read_account_json(folder: Path, account_id: str) -> dict:
    path = folder / "account.json"
    if not path.is_file():
        return {}
    label = f"{account_id}/account.json"
    try:
        meta = json.loads(_decode(path.read_bytes(), label))
    except json.JSONDecodeError as exc:
        raise DataError(label, f"is not valid JSON (line {exc.lineno}: {exc.msg})",
                        expected='{"name": "...", "marketplace": "US", "timezone": "America/Los_Angeles"}') from None
    if not isinstance(meta, dict):
        raise DataError(label, "must be a JSON object", expected='{"name": "...", "timezone": "..."}')
    tz = meta.get("timezone") or "UTC"
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise DataError(label, "unknown time zone", column="timezone", found=[tz],
                        expected="an IANA name such as America/Los_Angeles or Asia/Shanghai") from None
    return meta


def check_account_id(account_id: str, where: str = "account") -> str:
    """Refuse ids that could escape a folder when used as a file name."""
    if not ACCOUNT_ID.fullmatch(account_id or ""):
        raise PerfkitError(f"{where}: account id {account_id!r} is not a safe name; use 1 to 64 "
                           "letters, digits, '-' or '_' (rename the folder)")
    return account_id


def load_account(path: str | Path, columns: Collection[str] | None = None,
                 tables: Collection[str] | None = None) -> Account:
    """Load one account folder into typed tables; raises :class:`DataError` on bad input.

    ``columns`` (orders columns) and ``tables`` (optional tables) restrict what is read from
    Parquet files, for callers that compute only some metrics; what was not asked for is
    empty, not reported missing. With ``columns`` given, the free text of events (feedback
    comments, claim reasons) is not read either.
    """
    folder = Path(path)
    account_id = check_account_id(folder.name, str(folder))
    if not folder.is_dir():
        raise PerfkitError(f"{folder}: no such account folder; pass a folder holding orders.csv")
    meta = _read_account_json(folder, account_id)
    tz = str(meta.get("timezone") or "UTC")
    marketplace = meta.get("marketplace")
    warnings: list[str] = []
    missing: list[str] = []
    sources = _sources(folder, account_id, marketplace, warnings)
    by_table: dict[str, list[pd.DataFrame]] = {t: [] for t in TABLES}
    keep = None if columns is None else set(columns)
    for src in sources:
        if tables is not None and src.table != "orders" and src.table not in tables:
            continue
        if src.table == "orders":
            wanted = keep
        else:  # when pruning, the buyers' and claimants' free text (shown, never counted) stays unread
            wanted = None if keep is None else {c for c in TABLES[src.table] if c not in FREE_TEXT}
        by_table[src.table].append(_canonical_frame(src, tz, wanted))
    if not by_table["orders"]:
        raise DataError(f"{account_id}/orders.csv", "required file missing",
                        expected="orders.csv (or .tsv/.parquet, or an Amazon All Orders report) in the account folder")
    frames = by_table["orders"]
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
                warnings.append(f"{table}: {before - len(frame)} identical rows from several files counted once")
        events[table] = frame
    order_codes, event_orders = match_orders(orders["order_id"], [f["order_id"] for f in events.values()])
    orders = _merge_orders(orders, order_codes, len(by_table["orders"]), warnings)
    _require_order_columns(orders, by_table["orders"])
    orders = _finish_orders(orders, missing, keep)
    loaded = {"orders": orders}
    for (table, frame), pos in zip(events.items(), event_orders):
        frame["_order"] = pos  # the merged order's position, -1 for an id no order has
        loaded[table] = _finish_events(table, frame, pos < 0, warnings)
    for item in missing:
        warnings.append(f"missing input {item}: {MISSING_NOTES.get(item, 'not used')}")
    return Account(
        account_id=account_id,
        name=str(meta.get("name") or account_id),
        marketplace=marketplace,
        timezone=tz,
        missing=missing,
        warnings=warnings,
        sources=[f"{s.label} ({s.fmt or s.table})" for s in sources],
        path=folder,
        **loaded,
    )


def account_dirs(root: str | Path) -> list[Path]:
    """The account folders under a data root (sub-folders not starting with '.' or '_')."""
    base = Path(root)
    if not base.is_dir():
        raise PerfkitError(f"{base}: no such data folder; pass the folder that holds one folder per account")
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def select_account_dirs(root: str | Path, accounts: list[str] | None = None) -> list[Path]:
    """The folders of the chosen accounts (all when ``accounts`` is empty); unknown ids are refused."""
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


def load_accounts(root: str | Path, accounts: list[str] | None = None) -> Portfolio:
    """Load every account folder under ``root`` (or only ``accounts``); failures are collected."""
    base = Path(root)
    dirs = select_account_dirs(base, accounts)
    loaded: dict[str, Account] = {}
    failures: dict[str, str] = {}
    for d in dirs:
        try:
            loaded[d.name] = load_account(d)
        except PerfkitError as exc:
            failures[d.name] = str(exc)
    return Portfolio(base, loaded, failures)


__all__ = ["Account", "Portfolio", "load_account", "load_accounts", "account_dirs", "select_account_dirs",
           "read_table_file", "positions",
           "check_account_id"]
