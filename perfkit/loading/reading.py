"""Reading files: CSV, TSV/TXT (in any encoding :mod:`perfkit.core.encodings` decides) and Parquet
into raw frames.

A raw frame holds the file's own headers and text cells ('' for empty); its index is each
row's position in the file, so every later error can name the file's rows.
"""
from __future__ import annotations

import io
from collections.abc import Collection
from pathlib import Path

import pandas as pd

from perfkit.core.encodings import Decoded, read_text
from perfkit.core.errors import DataError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
DATA_SUFFIXES = TEXT_SUFFIXES + (".parquet",)


MAGIC = (b"\x89PNG", b"PK\x03\x04", b"%PDF", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0")
HEAD = 65536  # bytes read to recognise a file before reading all of it


def refuse_binary(head: bytes, name: str) -> None:
    """Fail before reading a whole file when its first bytes show it is not text: an image, a PDF,
    a spreadsheet, or zero bytes (UTF-16 text has zeros in every other byte only)."""
    if head.startswith(MAGIC):
        raise DataError(name, "is not a text table (it is an image, PDF or spreadsheet such as .xlsx/.xls)",
                        expected="CSV/TSV text; save the sheet as CSV UTF-8")
    sample = head[:4096]
    if b"\x00" not in sample or sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return
    half = max(len(sample) // 2, 1)
    odd, even = sample[1::2].count(0) / half, sample[0::2].count(0) / half
    if not ((odd > 0.4 and even < 0.1) or (even > 0.4 and odd < 0.1)):
        raise DataError(name, "is not a text table (it contains binary data such as zero bytes)",
                        expected="CSV/TSV text or a .parquet file")


def read_header(path: Path, label: str, marketplace: str | None = None, encoding: str | None = None,
                encodings: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """The header names of a text table, reading only its first 64 KiB (decoded as the account's
    marketplace says in the policy's ``encodings``: a Japanese report's titles are Windows-31J)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD)
    except OSError as exc:
        raise unreadable(label, exc) from None
    refuse_binary(head, label)
    if len(head) == HEAD and b"\n" not in head:
        raise DataError(label, f"has no line break in its first {HEAD // 1024} KiB, so no header line",
                        expected="a header line and one row per line")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:4096].count(0) > 0:
        head = head[: len(head) - len(head) % 2]  # whole UTF-16 code units only
    elif len(head) == HEAD and b"\n" in head:
        head = head[: head.rindex(b"\n") + 1]  # no multi-byte character cut in half
    try:
        text = read_text(head, label, declared=encoding, marketplace=marketplace, table=encodings).text
    except (DataError, UnicodeDecodeError):
        text = read_text(path.read_bytes(), label, declared=encoding, marketplace=marketplace, table=encodings).text
    first = text.split("\n", 1)[0].rstrip("\r")
    sep = _separator(path, first)
    return [c.strip().strip('"').lstrip("\ufeff") for c in first.split(sep)]


def _read_text_table(path: Path, label: str, columns: Collection[str] | None = None,
                     read: dict[str, Decoded] | None = None, marketplace: str | None = None,
                     encoding: str | None = None, encodings: dict[str, tuple[str, ...]] | None = None,
                     quotes: bool = True) -> pd.DataFrame:
    with open(path, "rb") as fh:
        refuse_binary(fh.read(HEAD), label)  # before the whole file is read
    raw = path.read_bytes()
    utf8 = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    frame = None
    if not raw.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" not in raw[:4096]:
        # UTF-8 goes to Arrow as it is (Arrow checks the encoding: anything else falls through).
        head = utf8[:HEAD].split(b"\n", 1)[0].decode("utf-8", errors="replace")
        quotes = quotes or _quoted(head, _separator(path, head))
        if "\ufffd" not in head:  # a header in another encoding is checked once decoded, below
            refuse_duplicate_headers(_names(head, _separator(path, head), quotes), label)
        frame = _arrow_csv(utf8, head, _separator(path, head), columns, quotes)
    if frame is None:
        decoded = read_text(raw, label, declared=encoding, marketplace=marketplace, table=encodings)
        if read is not None and decoded.encoding != "utf-8":
            read[label] = decoded
        text = decoded.text
        if not text.strip():
            raise DataError(label, "is empty", expected="a header line and one row per record")
        first = text.split("\n", 1)[0]
        sep = _separator(path, first)
        quotes = quotes or _quoted(first, sep)
        refuse_duplicate_headers(_names(first, sep, quotes), label)
        frame = _arrow_csv(text.encode("utf-8"), first, sep, columns, quotes)
    if frame is None:  # anything Arrow does not read exactly like pandas: the pandas reader decides
        # pandas pads a short row and guesses at a long one: a row cut off (a truncated download)
        # or shifted is refused here, named, before it becomes data.
        refuse_ragged_rows(text, sep, label, quotes)
        try:
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                                na_values=[], skipinitialspace=False, quoting=_quoting(quotes))
        except (pd.errors.ParserError, ValueError) as exc:
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise DataError(label, f"cannot be read as a table ({detail})",
                            expected="the same number of fields on every line") from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    return frame


def _quoted(first: str, sep: str) -> bool:
    """Whether a file's '"' are quoting, not text, though its report has none: a comma-separated
    file (a comma in a value must be quoted), or a header line written with quotes (a report saved
    again by a spreadsheet)."""
    return sep != "\t" or first.lstrip("\ufeff").startswith('"')


def _quoting(quotes: bool) -> int:
    import csv

    return csv.QUOTE_MINIMAL if quotes else csv.QUOTE_NONE


def _names(first: str, sep: str, quotes: bool = True) -> list[str]:
    import csv

    try:
        return next(csv.reader([first.rstrip("\r")], delimiter=sep, quoting=_quoting(quotes)))
    except (csv.Error, StopIteration):
        return []


def refuse_duplicate_headers(names: list[str], label: str) -> None:
    """Two columns with one header (in any case: headers are matched without case) would leave
    one of them unread."""
    seen: dict[str, str] = {}
    for name in names:
        folded = name.strip().lstrip("\ufeff").lower()
        if folded and folded in seen:
            twice = repr(name) if name == seen[folded] else f"{seen[folded]!r} and {name!r}"
            raise DataError(label, f"two columns have the header {twice}", column=name.strip(),
                            expected="one column per header; rename or remove one of them")
        seen[folded] = name


def refuse_ragged_rows(text: str, sep: str, label: str, quotes: bool = True) -> None:
    """Fail on the first row with fewer or more fields than the header (blank lines aside)."""
    import csv

    reader = csv.reader(io.StringIO(text), delimiter=sep, quoting=_quoting(quotes))
    try:
        width = len(next(reader))
        for n, record in enumerate(reader, start=2):  # the header is row 1
            if record and len(record) != width:
                what = "fewer" if len(record) < width else "more"
                raise DataError(label, f"has {len(record)} fields where the header has {width} ({what}: "
                                "a row cut off, as by an interrupted download, or a separator in an unquoted value)",
                                rows=[n], expected=f"{width} fields on every row; download or export the file again")
    except (csv.Error, StopIteration):
        return  # the pandas reader names what the csv module cannot read


def _separator(path: Path, first: str) -> str:
    """Tab, comma or semicolon (European Excel saves "CSV" with semicolons), from the header line."""
    if path.suffix.lower() in (".tsv", ".txt") or ("\t" in first and first.count("\t") >= first.count(",")):
        return "\t"
    return ";" if first.count(";") > first.count(",") else ","


def _arrow_csv(data: bytes, first: str, sep: str, columns: Collection[str] | None = None,
               quotes: bool = True) -> pd.DataFrame | None:
    """A text table through Arrow's CSV reader (every cell as text, '' for empty), or None when
    the file needs the pandas reader (duplicate headers, short or long rows, odd quoting).
    With ``columns`` (names in any case) only those columns are converted.

    Arrow reads the bytes without a Python string per cell, several times faster than pandas.
    """
    import csv

    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        names = next(csv.reader([first.rstrip("\r")], delimiter=sep, quoting=_quoting(quotes)))
    except (csv.Error, StopIteration):
        return None
    if len(set(names)) != len(names) or "" in names:
        return None
    include = names
    if columns is not None:
        lower = {c.strip().lower() for c in columns}
        include = [n for n in names if n.strip().lower().lstrip("\ufeff") in lower]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=quotes,
                                             quote_char='"' if quotes else False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in include},
                                                 include_columns=include,
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get, use_threads=False)


def _read_parquet(path: Path, label: str, columns: list[str] | None, few_values: Collection[str] = ()) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq  # local: only Parquet users pay for the import

    try:
        metadata = pq.read_metadata(path)  # the footer, parsed once and handed to the reader below
        schema = metadata.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise _unreadable_parquet(label, exc) from None
    refuse_duplicate_headers(schema.names, label)
    wanted = [c for c in schema.names if columns is None or c in columns]
    for name in wanted:
        if pa.types.is_nested(schema.field(name).type):  # struct, list, map: no cell of a table
            raise DataError(label, f"is a nested Parquet column ({schema.field(name).type}), not a table cell",
                            column=name, expected="a column of text, numbers, dates or booleans "
                                                  "(flatten it before exporting)")
    try:
        # Text columns with a few distinct values (channel, status, ...) stay dictionary-encoded
        # as Parquet stores them: categoricals, not a string object per row.
        text = (pa.types.is_string, pa.types.is_large_string)
        coded = [c for c in wanted if c in few_values and any(is_(schema.field(c).type) for is_ in text)]
        with pq.ParquetFile(path, metadata=metadata, read_dictionary=coded) as file:
            # Accounts are the unit of parallel work: Arrow's own threads would only compete.
            table = file.read(columns=wanted, use_threads=False)
    except Exception as exc:
        raise _unreadable_parquet(label, exc) from None
    table = pa.table({name: _plain_column(table.column(name), name, label) for name in table.column_names})
    try:
        # Nullable booleans stay booleans (not Python objects), so they skip the text path.
        # Columns are taken one by one (no 2-D block copy); times arrive in the nanoseconds
        # every later step uses, converted once by Arrow.
        return table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get, use_threads=False,
                               split_blocks=True, coerce_temporal_nanoseconds=True)
    except Exception as exc:
        raise _unreadable_parquet(label, exc) from None


def _unreadable_parquet(label: str, exc: Exception) -> DataError:
    return DataError(label, f"is not a readable Parquet file ({type(exc).__name__}: {exc})",
                     expected="a .parquet file written by pandas, pyarrow or DuckDB")


# pandas' nanosecond range, in microseconds (a later date, such as 9999-12-31, is read as text).
_NS_LOW, _NS_HIGH = -9_223_372_036_854_775, 9_223_372_036_854_775
_UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _plain_column(column, name: str, label: str):
    """A Parquet column as the text reader would have given it where the types differ in meaning.

    - BINARY (Hive and Impala write strings so) is UTF-8 text, or refused naming the row;
    - a date, or a time-zone-free timestamp that is midnight in every row (what pandas writes for
      a date), is the date's text, "2026-03-03": a whole local day, as in a CSV, so a deadline
      is the end of that day and a 9999-12-31 placeholder is read as in a CSV;
    - other timestamps beyond pandas' range (year 9999) become their ISO text for the same reason.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        try:
            return pc.cast(column, pa.large_string())  # Arrow checks the UTF-8 as it casts
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = column.to_pylist()
            bad = next(i for i, v in enumerate(values) if v is not None and not _utf8(v))
            raise DataError(label, "BINARY values that are not UTF-8 text", column=name, rows=[bad + 2],
                            found=[values[bad][:40]], expected="text columns written as UTF-8 strings") from None
    if pa.types.is_date(kind):
        return pc.cast(column, pa.string())
    if not pa.types.is_timestamp(kind) or len(column) == 0:
        return column
    raw = column.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    per_us = {"s": 1e-6, "ms": 1e-3, "us": 1.0, "ns": 1e3}[kind.unit]
    in_range = bool(((raw / per_us >= _NS_LOW) & (raw / per_us <= _NS_HIGH)).all())
    if kind.tz is None and column.null_count < len(column) and not (raw % _UNITS_PER_DAY[kind.unit]).any():
        return pc.strftime(column, format="%Y-%m-%d")
    if in_range:
        return column
    utc = kind.tz is not None  # formatted as the UTC instant it is
    text = pc.strftime(column.cast(pa.timestamp(kind.unit, "UTC")) if utc else column, format="%Y-%m-%dT%H:%M:%S")
    text = pc.replace_substring_regex(text, r"\.0+$", "")  # whole seconds without a fraction
    return pc.binary_join_element_wise(text, "Z", "") if utc else text


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def read_table_file(path: Path, label: str | None = None, columns: list[str] | None = None,
                    few_values: Collection[str] = (), *, marketplace: str | None = None,
                    encoding: str | None = None, read: dict[str, Decoded] | None = None,
                    encodings: dict[str, tuple[str, ...]] | None = None, quotes: bool = True) -> pd.DataFrame:
    """Read one CSV/TSV/TXT/Parquet file as a raw frame (text cells, '' for empty).

    ``few_values`` names Parquet text columns to read as categoricals. A text file that is not
    UTF-8 is decoded by ``encoding`` (mapping.json's) or the ``marketplace``'s candidates; ``read``
    then records how (label -> :class:`~perfkit.core.encodings.Decoded`); ``encodings`` is the
    policy's ``[encodings]`` (default: the default policy's). ``quotes=False`` reads '"'
    as text (Amazon's flat files), unless the header line itself is quoted.
    """
    label = label or path.name
    try:
        if path.suffix.lower() == ".parquet":
            return _read_parquet(path, label, columns, few_values)
        return _read_text_table(path, label, columns, read, marketplace, encoding, encodings, quotes)
    except OSError as exc:  # permissions, a file removed while reading, a disk error
        raise unreadable(label, exc) from None


def unreadable(label: str, exc: OSError) -> DataError:
    return DataError(label, f"cannot be read ({exc.strerror or exc})",
                     expected="a file perfkit's user may read (check its permissions)")
