"""Bytes to text: the one place that decides which encoding a data file is in.

The order, for every file read from an account folder and every report pulled from Amazon:

1. a byte-order mark (UTF-8, UTF-16), or UTF-16 without one (a zero in every other byte);
2. strict UTF-8 (what the US downloads, perfkit's own files and most tools write);
3. the encoding the file is declared in: mapping.json's ``"encoding"``, or the ``charset`` of a
   pulled report's ``Content-Type`` (``Cp1252``, ``Windows-31J``, ...); bytes that are not in
   it are refused, never read another way;
4. the candidates of the account's marketplace (``[encodings]`` in the policy: Windows-1252 in
   Europe, Windows-31J in Japan, GB18030 for the Chinese ERP exports agencies keep everywhere).
   When more than one candidate decodes the bytes, charset-normalizer (the detector requests
   uses) chooses among them; when it cannot tell, the marketplace's order decides and the
   choice comes back with a doubt: both readings of one value, for a warning.

Bytes no candidate reads are refused with the byte offset, the encodings tried and how to name
the encoding in mapping.json.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from perfkit.core.errors import DataError
from perfkit.core.notes import Note
from perfkit.core.policy import encoding_candidates, read_policy

# How Amazon, Java, .NET and spreadsheets spell an encoding -> the Python codec that reads it.
# Amazon's "Shift_JIS" is Microsoft's Windows-31J (cp932: NEC and IBM extensions, ～ as U+FF5E),
# ISO-8859-1 downloads carry Windows-1252's €, „ and – in 0x80-0x9F (as browsers read them), and
# GBK/GB2312 files are read by their superset GB18030.
ALIASES = {
    "cp1252": "cp1252", "windows1252": "cp1252", "xcp1252": "cp1252", "iso88591": "cp1252",
    "latin1": "cp1252", "l1": "cp1252", "usascii": "cp1252", "ascii": "cp1252",
    "cp932": "cp932", "windows31j": "cp932", "ms932": "cp932", "shiftjis": "cp932", "sjis": "cp932",
    "xsjis": "cp932", "mskanji": "cp932", "csshiftjis": "cp932", "cswindows31j": "cp932",
    "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "euccn": "gb18030",
    "utf8": "utf-8", "utf16": "utf-16", "utf16le": "utf-16-le", "utf16be": "utf-16-be",
}
NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16",
         "cp1252": "Windows-1252", "cp932": "Windows-31J (Shift_JIS)", "gb18030": "GB18030"}
DETECTOR_SAMPLE = 64 * 1024  # bytes of non-ASCII lines the detector looks at (it samples anyway)


def how_to_name(name: str, encoding: str = "windows-1252") -> str:
    """What to do about a file read in the wrong encoding, or in none."""
    file = name.replace("\\", "/").rsplit("/", 1)[-1]
    return Note("how_to_name", file=file, encoding=encoding)


@dataclass(frozen=True)
class Decoded:
    """A file's text, the codec that read it, and a doubt when another reading was possible."""

    text: str
    encoding: str  # a Python codec name: "utf-8", "cp1252", "cp932", "gb18030", "utf-16"
    doubt: str | None = None  # one line for a warning: both readings of one value

    @property
    def name(self) -> str:
        """The encoding as people know it ("Windows-1252")."""
        return display_name(self.encoding)


def display_name(encoding: str) -> str:
    return NAMES.get(encoding, encoding)


def codec(declared: str) -> str | None:
    """The Python codec for an encoding name as Amazon, mapping.json or a browser spells it
    (``Cp1252``, ``windows-1252``, ``Windows-31J``, ``Shift_JIS``, ``UTF-8``); None if unknown."""
    key = re.sub(r"[^a-z0-9]", "", declared.strip().strip('"').lower())
    if key in ALIASES:
        return ALIASES[key]
    try:
        return codecs.lookup(declared.strip()).name
    except LookupError:
        return None


def charset(content_type: str | None) -> str | None:
    """The ``charset`` of an HTTP ``Content-Type`` (``text/plain; charset=Cp1252`` -> ``Cp1252``),
    as the pull hands it to :func:`decode`'s ``declared``; None when there is none."""
    found = re.search(r"charset\s*=\s*\"?([^\";\s]+)", content_type or "", re.IGNORECASE)
    return found.group(1) if found else None


def decode(raw: bytes, name: str, *, declared: str | None = None, marketplace: str | None = None) -> str:
    """The text of ``raw`` (a file called ``name``), in the encoding decided as the module says;
    :class:`DataError` when it cannot be read. ``declared``: an encoding name as Amazon's
    ``Content-Type`` or mapping.json writes it; ``marketplace``: the account's (``DE``, ``JP``)."""
    return read_text(raw, name, declared=declared, marketplace=marketplace).text


def read_text(raw: bytes, name: str, *, declared: str | None = None, marketplace: str | None = None,
              table: dict[str, tuple[str, ...]] | None = None) -> Decoded:
    """Like :func:`decode`, with the encoding used and any doubt about it (for ``perfkit check``);
    ``table`` is the policy's ``[encodings]`` (default: the default policy's)."""
    unicode = _unicode(raw, name)
    if unicode is not None:
        return unicode
    try:
        return Decoded(raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as exc:
        not_utf8 = exc.start
    if declared is not None:
        return _declared(raw, name, declared)
    candidates = encoding_candidates(marketplace, table)
    readings: dict[str, str] = {}
    failures: dict[str, UnicodeDecodeError] = {}
    for enc in candidates:
        try:
            readings[enc] = raw.decode(enc)
        except UnicodeDecodeError as exc:
            failures[enc] = exc
    if not readings:
        raise _refused(name, raw, not_utf8, failures, marketplace)
    return _choose(raw, name, readings, marketplace, table)


def _unicode(raw: bytes, name: str) -> Decoded | None:
    """UTF-8 with a BOM, UTF-16 with or without one; binary data refused; None for anything else."""
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return Decoded(raw[3:].decode("utf-8"), "utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(name, f"starts with a UTF-8 mark but byte {exc.start + 3} is not UTF-8",
                            expected="a file saved as UTF-8 throughout") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return Decoded(raw.decode("utf-16"), "utf-16")
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
                    return Decoded(raw.decode(enc), enc)
                except UnicodeDecodeError:
                    break
        raise DataError(name, "is not a text table (it contains binary data, perhaps an image or "
                        "a spreadsheet renamed)", expected="CSV/TSV text or a .parquet file")
    return None


def _declared(raw: bytes, name: str, declared: str) -> Decoded:
    enc = codec(declared)
    if enc is None:
        raise DataError(name, f"its declared encoding {declared!r} is not one perfkit knows",
                        expected="an encoding name such as windows-1252, windows-31j, gb18030 or utf-8")
    try:
        return Decoded(raw.decode(enc), enc)
    except UnicodeDecodeError as exc:
        raise DataError(name, f"is declared {display_name(enc)} ({declared!r}) but byte {_byte(raw, exc.start)} at "
                        f"offset {exc.start} is not {display_name(enc)}",
                        expected="the encoding the file is really in (or remove the declaration)") from None


def _byte(raw: bytes, offset: int) -> str:
    return f"0x{raw[offset]:02X}" if offset < len(raw) else "end of file"


def _refused(name: str, raw: bytes, first: int, failures: dict[str, UnicodeDecodeError],
             marketplace: str | None) -> DataError:
    where = f"a {marketplace} account" if marketplace else "an account without a marketplace"
    tried = " nor ".join(f"{display_name(enc)} (byte {_byte(raw, exc.start)} at offset {exc.start})"
                         for enc, exc in failures.items())
    return DataError(name, f"cannot be read as text: byte {_byte(raw, first)} at offset {first} is not UTF-8, "
                     f"and the file is neither {tried}, the encodings tried for {where}", expected=how_to_name(name))


NON_ASCII_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")


def _sample(raw: bytes) -> bytes:
    """The distinct lines that are not plain ASCII (the only ones where encodings differ), up to a
    limit: the detector then judges the words that matter, not a megabyte of order ids."""
    seen: dict[bytes, None] = {}
    size = 0
    for match in NON_ASCII_LINE.finditer(raw):
        line = match.group().rstrip(b"\r")
        if line not in seen:
            seen[line] = None
            size += len(line) + 1
            if size > DETECTOR_SAMPLE:
                break
    return b"\n".join(seen)


def _detected(sample: bytes, encodings: list[str]) -> list[str]:
    """The encodings among ``encodings`` the detector finds plausible for the sample, best first."""
    from charset_normalizer import from_bytes  # local: only files that are not UTF-8 pay for it

    return [m.encoding for m in from_bytes(sample, cp_isolation=encodings, explain=False) if m.encoding in encodings]


def _choose(raw: bytes, name: str, readings: dict[str, str], marketplace: str | None,
            table: dict[str, tuple[str, ...]] | None = None) -> Decoded:
    """One reading among those that decode: the detector's, else the marketplace's first."""
    order = list(readings)  # the marketplace's order of preference
    sample = _sample(raw)
    ranked = _detected(sample, order)
    if ranked:
        best = ranked[0]
        other = next((e for e in ranked[1:] if readings[e] != readings[best]), None)
        doubt = _both(name, readings, best, other, marketplace, "why_both_plausible") if other else None
        return Decoded(readings[best], best, doubt)
    first = order[0]
    other = next((e for e in order[1:] if readings[e] != readings[first]), None)
    if other is not None:
        return Decoded(readings[first], first,
                       _both(name, readings, first, other, marketplace, "why_undecided"))
    return Decoded(readings[first], first, _unlike(raw, name, sample, readings, first, marketplace, table))


def _unlike(raw: bytes, name: str, sample: bytes, readings: dict[str, str], only: str, marketplace: str | None,
            table: dict[str, tuple[str, ...]] | None = None) -> str:
    """The doubt about the only reading, which the detector rejects (a Japanese file in a US account
    decodes as GB18030, into nonsense): the other marketplaces' encoding it looks like, if any."""
    others = [e for e in all_candidates(table) if e not in readings]
    for enc in _detected(sample, others):
        try:
            theirs = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        return _both(name, {**readings, enc: theirs}, only, enc, marketplace,
                     "why_first_unlikely")
    return Note("encoding_unlikely", only=display_name(only), how=how_to_name(name))


def all_candidates(table: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """Every encoding any marketplace lists (in ``table``, default: the default policy's), each once."""
    table = read_policy().encodings if table is None else table
    return list(dict.fromkeys(e for names in table.values() for e in names))


def _both(name: str, readings: dict[str, str], chosen: str, other: str, marketplace: str | None, why: str) -> str:
    # ``why`` is the key of the note saying why both readings are in doubt
    """One line naming both readings of the first value they differ in (repr: buyers' words may
    hold control characters, and this line goes to a terminal)."""
    mine, theirs = _first_difference(readings[chosen], readings[other])
    both = dict(chosen=display_name(chosen), other=display_name(other), why=Note(why), mine=repr(mine),
                theirs=repr(theirs), how=how_to_name(name, other))
    return Note("encoding_both_market", marketplace=marketplace, **both) if marketplace else Note("encoding_both", **both)


def _first_difference(a: str, b: str) -> tuple[str, str]:
    """The first cell (tab, comma or semicolon separated) where two readings differ, shortened."""
    for line_a, line_b in zip(a.splitlines(), b.splitlines()):
        if line_a == line_b:
            continue
        for cell_a, cell_b in zip(re.split(r"[\t,;]", line_a), re.split(r"[\t,;]", line_b)):
            if cell_a != cell_b:
                return cell_a.strip()[:60], cell_b.strip()[:60]
        return line_a[:60], line_b[:60]
    return a[:60], b[:60]
