"""The report kernel's start-up cost (issue 24 item 4): what a per-account page pays beyond the floor."""
from __future__ import annotations

import subprocess
import sys

SNIPPET = """
import sys
from perfkit.analysis.amazon_json import import_jsonschema
js = import_jsonschema()
errors = list(js.Draft7Validator({"type": "object"}).iter_errors([]))
print(len(errors), "rfc3987_syntax" in sys.modules)
"""


def test_jsonschema_is_imported_without_the_iri_grammar():
    # rfc3987_syntax compiles a lark grammar at import (seconds in every report kernel); we never
    # pass a format_checker, so it is kept out, and jsonschema still validates: one type error for [].
    res = subprocess.run([sys.executable, "-c", SNIPPET], capture_output=True, text=True, check=True)
    assert res.stdout.split() == ["1", "False"]
