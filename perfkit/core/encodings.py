"""Bytes to text: the one place that decides which encoding a data file is in."""
from __future__ import annotations

from perfkit.core.errors import DataError


def decode(raw: bytes, name: str) -> str:
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
