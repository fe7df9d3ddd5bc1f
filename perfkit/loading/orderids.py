"""Order ids as Amazon prints them: invisible characters copied in by spreadsheets, web pages or
ERPs (zero-width spaces, NUL, byte-order marks, no-break spaces, other format and control
characters) are taken out, so that an id names the same order in every file.

Amazon's order ids are 3-7-7 digits (``123-1234567-1234567``): an id that becomes one once
its spaces are removed, its digits read as ASCII (NFKC: full-width ``１２３``) and its dashes
as ``-`` is written that way. Other ids (an ERP's own) only lose their invisible characters.
Every change is said, naming the file, the rows and the characters found.
"""
from __future__ import annotations

import re
import unicodedata

import pandas as pd

from perfkit.core.notes import Note, rows
from perfkit.loading.idmatch import utf8_buffers

AMAZON_ID = re.compile(r"\d{3}-\d{7}-\d{7}")
# Dashes a word processor or a web page puts where Amazon wrote "-".
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"), "-")
# Anything outside printable ASCII may need a look; most files have no such id at all.
_SUSPECT = r"[^\x21-\x7e]"
REFORMATTED = "inner spaces, full-width digits or other dashes"  # what clean_id names when nothing was invisible


def _invisible(ch: str) -> bool:
    # Cc: control (NUL, tab, ...); Cf: format (zero-width space U+200B, BOM U+FEFF, ...);
    # Zs/Zl/Zp: spaces of every width (no-break U+00A0, ...). None is ever part of an order id.
    return unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _named(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'CONTROL').lower()}"


def clean_id(text: str) -> tuple[str, list[str]]:
    """(the id as Amazon prints it, the characters that were taken out, named)."""
    found = [_named(ch) for ch in dict.fromkeys(text) if _invisible(ch) and ch != " "]
    amazon = unicodedata.normalize("NFKC", "".join(ch for ch in text if not _invisible(ch))).translate(_DASHES)
    if AMAZON_ID.fullmatch(amazon):
        out = amazon
    else:  # an id of the seller's own: ordinary inner spaces may belong to it
        out = "".join(ch for ch in text if ch == " " or not _invisible(ch)).strip()
    if out != text.strip() and not found:
        found = [REFORMATTED]
    return out, found


def normalise_ids(ids: pd.Series, label: str, column: str, notes: list[str] | None) -> pd.Series:
    """Ids (trimmed text, missing as NA, indexed by position in the file) with invisible
    characters taken out; one warning per file names the rows changed."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = pa.array(ids, type=pa.large_string())
    if isinstance(arrow, pa.ChunkedArray):
        arrow = arrow.combine_chunks()
    data, _ = utf8_buffers(arrow)
    if not ((data < 0x21) | (data > 0x7E)).any():  # one pass over the bytes: the usual, clean file
        return ids
    suspect = pc.match_substring_regex(arrow, _SUSPECT).fill_null(False).to_numpy(zero_copy_only=False)
    if not suspect.any():
        return ids
    out = ids.copy()
    changed, what, example = [], {}, None
    for i in suspect.nonzero()[0]:
        before = ids.iat[i]
        after, names = clean_id(before)
        if after == before:
            continue
        out.iat[i] = after or pd.NA
        changed.append(int(ids.index[i]) + 2)  # the header is row 1
        what.update(dict.fromkeys(names))
        example = example or (before, after)
    if changed and notes is not None:
        chars = [Note("reformatted") if w == REFORMATTED else w for w in what] or [Note("spaces")]
        notes.append(Note("ids_cleaned", label=label, **rows(changed), column=column, n=len(changed), chars=chars,
                          before=repr(example[0]), after=repr(example[1])))
    return out
