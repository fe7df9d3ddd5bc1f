"""Finding sources: which file of an account folder feeds which table, and how.

perfkit's own table names (``orders.csv``), Amazon's report downloads (recognised by their
headers, :mod:`perfkit.loading.formats`) and any export described in ``mapping.json`` each become a
:class:`Source`; :func:`canonical_frame` reads one into the canonical columns.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from perfkit.loading import formats
from perfkit.core import timezones
from perfkit.loading.converting import blank, typed
from perfkit.core.errors import DataError
from perfkit.core.notes import Note
from perfkit.loading.reading import DATA_SUFFIXES, read_header, read_table_file
from perfkit.core.encodings import Decoded, codec, decode
from perfkit.loading.schema import TABLES

CONTROL_FILES = ("account.json", "mapping.json")
# Column kinds whose values are a few spellings: read from Parquet as categoricals.
FEW_VALUES = ("channel", "status", "kind", "decision", "lower", "bool", "policy_category", "notice_status")


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
    timezone: str | None = None  # the zone of the file's times without an offset (else the account's)
    encoding: str | None = None  # mapping.json's "encoding" for the file (else decided by the marketplace)
    marketplace: str | None = None  # the account's: which encodings a file that is not UTF-8 may be in
    report: str | None = None  # the English name of the Amazon report it is, whatever its titles' language
    encodings: dict[str, tuple[str, ...]] | None = None  # the policy's [encodings] (None: the default policy's)
    quotes: bool = True  # '"' opens a quoted field (CSV); Amazon's flat files have no quoting


MAPPING_KEYS = {"table", "columns", "values", "defaults", "date_order", "timezone", "encoding"}
DATE_ORDERS = ("mdy", "dmy", "ymd")


def _text_map(value: object, where: str, what: str) -> dict[str, str]:
    """A JSON object of text to text, or a DataError saying where it is not."""
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise DataError(where, f"\"{what}\" must be an object of text to text", expected=f'"{what}": {{"...": "..."}}')
    return value


def _check_entry(fname: str, spec: object, where: str) -> None:
    """One mapping.json entry against its schema: keys, types, known columns, zones, orders."""
    here = f"{where} entry '{fname}'"
    if isinstance(spec, dict) and "encoding" in spec:
        if not isinstance(spec["encoding"], str) or codec(spec["encoding"]) is None:
            raise DataError(here, f"unknown encoding {spec['encoding']!r}",
                            expected="an encoding name such as windows-1252, windows-31j (Shift_JIS), gb18030 or utf-8")
        if set(spec) == {"encoding"}:  # only the encoding: the file is still recognised by its headers
            return
    if not isinstance(spec, dict) or spec.get("table") not in TABLES:
        raise DataError(where, f"entry '{fname}' needs \"table\" set to one of {', '.join(TABLES)}")
    unknown = sorted(set(spec) - MAPPING_KEYS)
    if unknown:
        raise DataError(here, f"unknown key {unknown[0]!r}", expected=f"keys among {', '.join(sorted(MAPPING_KEYS))}")
    table = TABLES[spec["table"]]
    columns = _text_map(spec.get("columns", {}), here, "columns")
    bad = sorted(set(columns.values()) - set(table))
    if bad:
        raise DataError(where, f"entry '{fname}' maps to unknown columns {bad}",
                        expected=f"columns of {spec['table']}: {', '.join(table)}")
    values = spec.get("values", {})
    if not isinstance(values, dict):
        raise DataError(here, "\"values\" must be an object of column to {spelling: value}")
    for column, spelled in values.items():
        if column not in table:
            raise DataError(here, f"\"values\" names unknown column {column!r}", expected=", ".join(table))
        _text_map(spelled, here, f"values.{column}")
    for column in _text_map(spec.get("defaults", {}), here, "defaults"):
        if column not in table:
            raise DataError(here, f"\"defaults\" names unknown column {column!r}", expected=", ".join(table))
    if spec.get("date_order") is not None and spec["date_order"] not in DATE_ORDERS:
        raise DataError(here, f"date_order {spec['date_order']!r} is not one of {', '.join(DATE_ORDERS)}")
    zone = spec.get("timezone")
    if zone is not None and not timezones.is_zone(zone):
        raise DataError(here, f"unknown time zone {zone!r}",
                        expected="an IANA name such as Asia/Shanghai (the zone the file's times are written in)")


def read_mapping(folder: Path) -> dict:
    """mapping.json's "files", checked against its schema (docs/data.md) before any file is read."""
    path = folder / "mapping.json"
    if not path.is_file():
        return {}
    where = f"{folder.name}/mapping.json"
    try:
        data = json.loads(decode(path.read_bytes(), where))
    except RecursionError:
        raise DataError(where, "is nested too deeply to be a mapping", expected="the layout shown in docs/data.md") from None
    except json.JSONDecodeError as exc:
        raise DataError(where, f"is not valid JSON (line {exc.lineno}: {exc.msg})",
                        expected="the layout shown in docs/data.md") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise DataError(where, "has no \"files\" object", expected='{"files": {"export.csv": {"table": "orders", ...}}}')
    unknown = sorted(set(data) - {"files"})
    if unknown:
        raise DataError(where, f"unknown key {unknown[0]!r}", expected='only "files" at the top level')
    for fname, spec in files.items():
        _check_entry(fname, spec, where)
    return files


def find_sources(folder: Path, account_id: str, marketplace: str | None, warnings: list[str],
                 encodings: dict[str, tuple[str, ...]] | None = None) -> list[Source]:
    mapping = read_mapping(folder)
    found: list[Source] = []
    seen: dict[str, Path] = {}
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    for name in sorted(set(mapping) - {p.name for p in files}):
        warnings.append(Note("mapping_names_absent", account=account_id, name=repr(name)))
    for path in files:
        label = f"{account_id}/{path.name}"
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if path.name in CONTROL_FILES:
            continue
        spec = mapping.get(path.name, {})
        encoding = spec.get("encoding")
        if "table" in spec:
            found.append(Source(path, spec["table"], label, dict(spec.get("columns", {})),
                                {k: {str(a).strip().lower(): b for a, b in v.items()}
                                 for k, v in spec.get("values", {}).items()},
                                dict(spec.get("defaults", {})),
                                spec.get("date_order"), fmt="mapping.json", timezone=spec.get("timezone"),
                                encoding=encoding, marketplace=marketplace, encodings=encodings))
            continue
        if suffix not in DATA_SUFFIXES:
            warnings.append(Note("ignored_suffix", label=label))
            continue
        fmt = None
        if suffix != ".parquet":
            header = read_header(path, label, marketplace, encoding, encodings)
            required = {c.name for c in TABLES.get(stem, {}).values() if c.required}
            # An Amazon download saved as "Feedback.txt" is still Amazon's layout, not ours.
            if not (stem in TABLES and required <= {h.lower() for h in header}):
                fmt = formats.detect(header)
        if stem in TABLES and fmt is None:
            if stem in seen:
                raise DataError(label, f"a second file for table '{stem}' beside {seen[stem].name}",
                                expected="one file per table; remove or rename one")
            seen[stem] = path
            found.append(Source(path, stem, label, encoding=encoding, marketplace=marketplace, encodings=encodings))
            continue
        if suffix == ".parquet":
            warnings.append(Note("ignored_parquet", label=label))
            continue
        if fmt is None:
            warnings.append(Note("unrecognised", label=label, header=header_text(header)))
            continue
        found.append(Source(path, fmt.table, label, dict(fmt.columns), {}, dict(fmt.defaults),
                            fmt.date_order or (_date_order(marketplace) if fmt.local_dates else None), fmt=fmt.name,
                            encoding=encoding, marketplace=marketplace, report=fmt.report, encodings=encodings,
                            quotes=fmt.quotes))
    return found


def header_text(header: list[str], limit: int = 8) -> str:
    """A file's first column names as a user can read them in one line (quoted: a header is the
    file's own text, control characters and all)."""
    shown = ", ".join(repr(h.strip()[:40]) for h in header[:limit])
    return shown + (f", +{len(header) - limit} more" if len(header) > limit else "") if header else "empty"


def _date_order(marketplace: str | None) -> str:
    """How a report's short dates are ordered: by the marketplace, or "ask" when none is given."""
    return formats.date_order(marketplace) if marketplace else "ask"


def canonical_frame(src: Source, tz: str, keep: set[str] | None = None,
                    notes: list[str] | None = None, read: dict[str, Decoded] | None = None) -> pd.DataFrame:
    """One source's rows in the canonical columns, typed (``notes`` collects loading warnings,
    ``read`` how each file that is not UTF-8 was decoded)."""
    wanted = None
    if keep is not None or src.path.suffix.lower() == ".parquet":
        # Column pruning: only the canonical columns asked for (all by default) are read.
        names = [c for c in TABLES[src.table] if keep is None or c in keep or TABLES[src.table][c].required]
        wanted = names + [k for k, v in src.columns.items() if v in names]
    few = {c for c, col in TABLES[src.table].items() if col.kind in FEW_VALUES or c in ("category", "carrier")}
    raw = read_table_file(src.path, src.label, wanted, few | {k for k, v in src.columns.items() if v in few},
                          marketplace=src.marketplace, encoding=src.encoding, read=read, encodings=src.encodings,
                          quotes=src.quotes)
    raw = raw.reset_index(drop=True)  # the index is each row's position in the file
    if src.columns and src.fmt == "mapping.json":
        # A header named in mapping.json that the file lacks is a typo, not an empty column.
        have = {c.strip().lower() for c in raw.columns}
        absent = [k for k, v in src.columns.items() if k.strip().lower() not in have
                  and (wanted is None or v in wanted)]
        if absent:
            raise DataError(src.label, f"mapping.json names header {absent[0]!r}, which the file does not have",
                            column=absent[0], expected="one of the file's headers: " + ", ".join(map(str, raw.columns[:12])))
    if src.columns:
        lower = {k.strip().lower(): v for k, v in src.columns.items()}
        rename = {c: lower[c.strip().lower()] for c in raw.columns if c.strip().lower() in lower}
        _refuse_two_sources(raw.columns, rename, src.label)
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
            raw[column] = raw[column].mask(blank(raw[column]), value)
    if src.report == formats.ALL_ORDERS.name and "item_cancelled" in raw.columns:
        raw["item_cancelled"] = (raw["item_cancelled"].astype("string").str.strip().str.lower()
                                 .isin(["cancelled", "canceled"]).map({True: "true", False: "false"}))
    if src.report == formats.ALL_ORDERS.name and "cancelled_at" in raw.columns and "order_status" in raw.columns:
        # last-updated-date dates a cancellation only on a cancelled order; elsewhere it is any update.
        cancelled = raw["order_status"].astype("string").str.strip().str.lower().str.startswith("cancel")
        raw["cancelled_at"] = raw["cancelled_at"].where(cancelled.fillna(False).astype(bool))
    if src.report == formats.RETURNS.name:
        raw = _amazon_returns(raw)
    elif src.report == formats.FBA_RETURNS.name:
        raw = _returns_with_ids(raw)
    missing = [c.name for c in TABLES[src.table].values() if c.required and c.name not in raw.columns]
    if missing and src.table != "orders":
        raise DataError(src.label, "required column missing", column=missing[0],
                        expected=f"a header row with {', '.join(c for c in TABLES[src.table] if TABLES[src.table][c].required)}")
    if src.table == "orders" and "order_id" not in raw.columns:
        raise DataError(src.label, "required column missing", column="order_id",
                        expected="a header row naming order_id (or map your header in mapping.json)")
    return typed(raw, src.table, src.label, src.timezone or tz, src.date_order, notes)


def _refuse_two_sources(headers, rename: dict[str, str], label: str) -> None:
    """Two of a file's headers that would fill one column (``purchase-date`` mapped to
    purchase_date beside a ``purchase_date`` of its own, or two headers mapped to it): which one
    holds the dates is not for perfkit to guess."""
    mapped = set(rename.values())
    filled: dict[str, str] = {}
    for header in headers:
        target = rename.get(header, header)  # an unmapped header keeps its name
        if target not in mapped:
            continue
        if target in filled:
            raise DataError(label, f"headers {filled[target]!r} and {header!r} both fill column '{target}'",
                            column=target, expected="one of them only: remove the other column, or map it "
                                                    "elsewhere in mapping.json")
        filled[target] = header


def _amazon_returns(raw: pd.DataFrame) -> pd.DataFrame:
    """The Returns report: one row per item; its status is not yet the seller's decision."""
    raw = raw.copy()
    status = raw["decision"].astype("string").str.strip().str.lower()
    raw["decision"] = status.map(formats.RETURN_STATUS_DECISIONS).fillna("")
    if "rejection_valid" in raw.columns:  # "In policy" Y/N: rejecting an out-of-policy return is valid
        in_policy = raw["rejection_valid"].astype("string").str.strip().str.lower()
        raw["rejection_valid"] = in_policy.map({"n": "true", "no": "true", "false": "true",
                                                "y": "false", "yes": "false", "true": "false"}).fillna("")
    return _returns_with_ids(raw)


def _returns_with_ids(raw: pd.DataFrame) -> pd.DataFrame:
    """Amazon's returns downloads: a row without its own id (RMA, licence plate) is named by its order
    and request time; a request repeated for several units counts once."""
    raw = raw.copy()
    fallback = raw["order_id"].astype("string") + "#" + raw["request_date"].astype("string")
    if "return_id" not in raw.columns:
        raw["return_id"] = fallback
    else:
        raw["return_id"] = raw["return_id"].mask(blank(raw["return_id"]), fallback)
    raw = raw.drop_duplicates(subset=["return_id"])
    return raw
