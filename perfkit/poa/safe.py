"""Buyer-written text made inert wherever the POA shows it: Markdown, HTML, CSV and the terminal.

A feedback comment or a claim reason is written by a stranger. In the draft it must read as the
buyer's words and nothing else (no link, no heading, no HTML tag, no terminal escape); in the
evidence CSV a cell starting with ``=``, ``+``, ``-`` or ``@`` must not run as a spreadsheet
formula.
"""
from __future__ import annotations

import re

import pandas as pd

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # terminal escapes and other control characters
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")  # what can open emphasis, code, a link or a table cell mid-line
_ENTITY = re.compile(r"&(?=#?\w+;)")  # an ampersand that would start an HTML entity


def plain(text: object) -> str:
    """One line of text without control characters (a newline becomes a space)."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    return _CONTROL.sub("", str(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")).strip()


def md_text(text: object) -> str:
    """Untrusted text for Markdown: HTML tags and entities made literal, Markdown's own characters
    backslashed (the text always sits inside a line, never at its start)."""
    text = _ENTITY.sub("&amp;", plain(text)).replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", text)


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: a leading ``=``, ``+``, ``-`` or ``@`` is quoted with ``'``."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub("", value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def csv_frame(frame: pd.DataFrame, text_columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` with every text cell of ``text_columns`` made inert (:func:`csv_cell`)."""
    out = frame.copy()
    for column in text_columns:
        if column in out.columns:
            out[column] = out[column].map(csv_cell)
    return out
