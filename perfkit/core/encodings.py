"""Bytes to text: the one place that decides which encoding a data file is in."""
from __future__ import annotations

from perfkit.core.errors import DataError


# Java's charset names, as Amazon's report downloads state them in their Content-Type.
_DECLARED = {"cp1252": "cp1252", "windows-1252": "cp1252", "windows-31j": "cp932", "ms932": "cp932",
             "shift_jis": "cp932", "utf-8": "utf-8", "utf8": "utf-8", "iso-8859-1": "latin-1"}


def _declared(raw: bytes, name: str, declared: str) -> str:
    """Text in the charset its source declared (a download's Content-Type): decoded strictly."""
    import codecs

    codec = _DECLARED.get(declared.strip().lower(), declared.strip().lower())
    try:
        codecs.lookup(codec)
    except LookupError:
        raise DataError(name, f"declares charset {declared!r}, which perfkit does not know",
                        expected="UTF-8, Cp1252, Windows-31J or GB18030 text") from None
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise DataError(name, f"is not {declared} text as declared (undecodable byte at offset {exc.start})",
                        expected=f"a file in the {declared} it declares") from None
    return text[1:] if text.startswith("\ufeff") else text


def decode(raw: bytes, name: str, *, declared: str | None = None, marketplace: str | None = None) -> str:
    """Bytes to text: the ``declared`` charset (a download's Content-Type) when given, else UTF-8
    (BOM or not), UTF-16 (Excel "Unicode text") or GB18030/GBK. ``marketplace`` is accepted for
    the callers' sake; this version does not use it."""
    if declared:
        return _declared(raw, name, declared)
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
