"""Text from the data made safe to print: control characters shown, never obeyed.

A category, an account name or an order id can hold an escape sequence (``\\x1b[2J`` clears
the screen, ``\\x1b]8;;`` makes a link), a bidirectional override that reverses what follows,
or an invisible character. Printed as is, the terminal would obey it; here each such character
is written as its code (``\\x1b``, ``\\u202e``), so the reader sees what the file holds.
"""
from __future__ import annotations

import re

# C0 (but tab and line feed) and C1 controls, DEL, zero-width and bidirectional formatting marks.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
                     "\ufff9-\ufffb]")


def _code(match: re.Match) -> str:
    n = ord(match.group())
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def printable(text: object, one_line: bool = False) -> str:
    """``text`` with every control or invisible formatting character written as its code; with
    ``one_line`` line breaks too (a value with a newline must not add a line of its own)."""
    shown = _UNSAFE.sub(_code, str(text))
    return shown.replace("\n", "\\n") if one_line else shown
