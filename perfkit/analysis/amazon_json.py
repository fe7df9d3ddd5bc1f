"""Read Amazon's Seller Performance report JSON safely and check it against Amazon's published schema.

Nothing of a report is used or kept before it passes here. Two guards run before and while
parsing: nesting deeper than :data:`MAX_DEPTH` (Python's parser would hit its recursion limit)
and numbers with more than :data:`MAX_DIGITS` digits or out of float range (Python refuses
ints over 4300 digits with a bare ValueError). Then the payload is checked against Amazon's
schema (``schemas/accountHealthReport-2020-11-18.json``, copied from
amzn/selling-partner-api-models) by :mod:`perfkit.analysis.schema_check` (jsonschema's draft 7
rules and messages for the keywords that schema uses, without importing jsonschema in every
report kernel): a value of the wrong type (a date range given as text, ``mfn``
as a list, a count as a fraction) is refused, because reading it would mean guessing. A key the
schema calls required but that is missing, or a status outside its enum, is only a warning:
Amazon's own published example breaks both rules (``SUSPENDED`` is not in its enum).
"""
from __future__ import annotations

import json
import math
import re
import types
from functools import lru_cache
from importlib import resources

from perfkit.core.encodings import decode
from perfkit.core.errors import DataError
from perfkit.core.notes import Note
from perfkit.analysis.schema_check import Validator

MAX_DEPTH = 64  # Amazon's report nests 5 levels; 64 leaves room and stays far from recursion limits
MAX_DIGITS = 18  # digits of a whole number: no count of a seller needs more (int() refuses 4300+ itself)
MAX_FLOAT_CHARS = 64  # characters of a fraction: a double prints in at most 24
EXPECTED = Note("expected_sp_json")
SCHEMA = "accountHealthReport-2020-11-18.json"
_TOKENS = re.compile(r'"(?:\\.|[^"\\])*"|[\[\]{}]')


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, brackets inside strings ignored."""
    depth = deepest = 0
    for m in _TOKENS.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    return deepest


def load_json(raw: bytes, label: str) -> object:
    """The parsed report; a DataError naming the file for anything that is not sane JSON."""
    text = decode(raw, label)
    if nesting_depth(text) > MAX_DEPTH:
        raise DataError(label, Note("json_too_deep", n=MAX_DEPTH),
                        expected=EXPECTED)

    def number(token: str) -> float | int:
        is_float = any(c in token for c in ".eE")
        # a whole number is a count: no seller has 10**18 orders; a fraction may carry many
        # decimals (0.009216589861751152), only its length is bounded
        digits = len(token.lstrip("-"))
        if (not is_float and digits > MAX_DIGITS) or digits > MAX_FLOAT_CHARS:
            raise DataError(label, Note("json_digits", token=token[:20], digits=digits),
                            expected=EXPECTED)
        value = float(token) if is_float else int(token)
        if not math.isfinite(value):
            raise DataError(label, Note("json_out_of_range", token=token[:20]), expected=EXPECTED)
        return value

    def constant(token: str) -> float:
        raise DataError(label, Note("json_constant", token=token), expected=EXPECTED)

    try:
        return json.loads(text, parse_int=number, parse_float=number, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise DataError(label, Note("json_invalid", why=str(exc)), expected=EXPECTED) from None
    except RecursionError:  # defence in depth: the depth scan above should have caught it
        raise DataError(label, Note("json_nested"), expected=EXPECTED) from None


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(resources.files("perfkit.analysis").joinpath("schemas", SCHEMA).read_text("utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Validator:
    return Validator(_schema())


def _where(path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "(top level)"


def plain_text(text: object, limit: int = 200) -> str:
    """Report text safe for a terminal or a log line: control characters (escape sequences a
    hostile file could carry) removed, length bounded."""
    return "".join(c for c in str(text) if c.isprintable())[:limit]


# The optional packages jsonschema's format checks import when installed (jsonschema/_format.py).
# perfkit never asks for a format check (no ``format_checker``), so none of them is needed.
_FORMAT_PACKAGES = ("rfc3987_syntax", "rfc3987", "rfc3986_validator", "rfc3339_validator", "isoduration",
                    "webcolors", "jsonpointer", "uri_template", "fqdn", "idna")


def import_jsonschema() -> types.ModuleType:
    """jsonschema, imported without the optional packages of its format checks (for the batch's
    workers, where nbformat imports jsonschema; report kernels no longer import it, see
    :func:`validate`): when ``rfc3987_syntax`` is installed jsonschema compiles its IRI grammar
    at import (about 5 s per process), and the others (isoduration, which
    imports arrow, rfc3986_validator, ...) cost about 0.05-0.1 s more in every process, for format
    checks we never ask for (no ``format_checker``). A package already imported is left alone
    (it costs nothing then), and each is importable again afterwards."""
    import sys

    if "jsonschema" not in sys.modules:
        blocked = [name for name in _FORMAT_PACKAGES if name not in sys.modules]
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]  # an import of it raises ImportError
        try:
            import jsonschema
        finally:
            for name in blocked:
                del sys.modules[name]
        return jsonschema
    import jsonschema

    return jsonschema


def validate(data: object, label: str) -> list[str]:
    """Check ``data`` against Amazon's schema: a wrong type is refused (DataError naming the key),
    a missing required key or an unlisted status comes back as a warning. The check is
    :class:`perfkit.analysis.schema_check.Validator` (jsonschema's messages, in jsonschema's order)."""
    warnings: list[str] = []
    missing: list[str] = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path))):
        where = _where(error.path)
        if error.validator == "type":
            shown = plain_text(json.dumps(error.instance), 60)
            raise DataError(label, Note("schema_type", where=where, shown=shown, wants=str(error.validator_value)),
                            expected=EXPECTED)
        if error.validator == "required":  # one line for all: real reports leave many out
            missing.append(f"{where}.{error.message.split(chr(39))[1]}".removeprefix("(top level)."))
        else:
            warnings.append(f"{label}: {where}: {plain_text(error.message)}")
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        warnings.insert(0, f"{label}: {len(missing)} key(s) Amazon's schema calls required are missing "
                           f"(read without them): {shown}")
    return warnings
