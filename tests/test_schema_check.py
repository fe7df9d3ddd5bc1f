"""perfkit's own draft 7 check (analysis/schema_check.py) against jsonschema itself, the reference:
the same errors (path, keyword, its value, message), in the same order, on Amazon's examples, the
sample accounts' kept reports and thousands of broken variants of them."""
import copy
import json
import random
from pathlib import Path

import pytest

from perfkit.analysis.amazon_json import _schema, import_jsonschema, validate
from perfkit.analysis.schema_check import Validator
from perfkit.core.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "data" / "sample").glob("*/amazon-performance/*.json")) + [
    ROOT / "tests" / "fixtures" / "accountHealthReport-2020-11-18-example.json"]
# values of every JSON kind and the edges of the type checker (1.0 is an integer, True is not)
ODD_VALUES = ["x", "", 0, 7, 1.0, 0.25, -3, True, False, None, [], [1, "a"], {}, {"status": "GOOD"},
              "SUSPENDED", "GOOD", 10**15]


def reference(data: object) -> list[tuple]:
    validator = import_jsonschema().Draft7Validator(_schema())
    return [(tuple(e.absolute_path), e.validator, e.validator_value, e.message) for e in validator.iter_errors(data)]


def ours(data: object) -> list[tuple]:
    return [(e.path, e.validator, e.validator_value, e.message) for e in Validator(_schema()).iter_errors(data)]


def nodes(data: object, path: tuple = ()) -> list[tuple]:
    """Every path into ``data`` (the root included)."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += nodes(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += nodes(value, (*path, i))
    return found


def mutate(data: object, rng: random.Random) -> object:
    """A copy of ``data`` with one to four nodes replaced, deleted or grown."""
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 4)):
        paths = nodes(data)
        path = rng.choice(paths)
        if not path:
            data = rng.choice(ODD_VALUES) if rng.random() < 0.05 else data
            continue
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.5:
            parent[path[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif action < 0.8:
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], list):
            parent[path[-1]].append(copy.deepcopy(rng.choice(ODD_VALUES)))
        else:
            parent[path[-1]] = [parent[path[-1]]]
    return data


def seeds() -> list:
    return list(_schema()["examples"]) + [json.loads(p.read_text("utf-8")) for p in SAMPLES]


def test_the_seeds_are_real_reports():
    # Amazon's one published example (in the schema and as a fixture) plus the four kept reports
    # of the two sample accounts.
    assert len(seeds()) == 6
    # Amazon's example breaks its own rules: SUSPENDED is not in its enum, and its one entry
    # lacks 5 of the keys it calls required; the same 6 errors in both
    assert ours(_schema()["examples"][0]) == reference(_schema()["examples"][0])
    assert [e[1] for e in ours(_schema()["examples"][0])] == ["enum"] + ["required"] * 5


@pytest.mark.parametrize("seed", range(4))
def test_same_errors_as_jsonschema_on_broken_reports(seed):
    rng = random.Random(seed)
    kinds = set()
    for _ in range(600):
        data = mutate(rng.choice(seeds()), rng)
        expected = reference(data)
        assert ours(data) == expected, json.dumps(data)[:2000]
        kinds.update(e[1] for e in expected)
    # the variants did break every kind of rule the schema has
    assert {"type", "required", "enum"} <= kinds


def test_additional_items_and_tuples_as_jsonschema():
    # Amazon's schema has no tuple ``items``; the keyword is still checked as jsonschema does.
    schema = {"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": False}
    data = ["a", "b", 3, None]
    got = [(e.path, e.validator, e.message) for e in Validator(schema).iter_errors(data)]
    want = [(tuple(e.absolute_path), e.validator, e.message)
            for e in import_jsonschema().Draft7Validator(schema).iter_errors(data)]
    assert got == want == [((1,), "type", "'b' is not of type 'integer'"),
                           ((), "additionalItems", "Additional items are not allowed (3, None were unexpected)")]


@pytest.mark.parametrize("schema, why", [
    ({"type": "object", "minProperties": 1}, "minProperties"),
    ({"properties": {"a": {"pattern": "x"}}}, "pattern"),
    ({"$ref": "https://example.com/s.json"}, "only references inside"),
    ({"$ref": "#/definitions/Nope"}, "points at nothing"),
    ({"type": "decimal"}, "unknown type"),
    ({"enum": [1, 2]}, "enums of strings"),
])
def test_a_schema_beyond_the_supported_keywords_is_refused(schema, why):
    # a newer copy of Amazon's schema with a keyword this check lacks must not be checked by halves
    with pytest.raises(ValueError, match=why):
        Validator(schema)


def test_validate_messages_unchanged():
    # Amazon's example lacks 5 required keys; 2 more deleted make 7 (one warning line), then
    # its status outside the enum, then a wrong type
    data = copy.deepcopy(_schema()["examples"][0])
    entry = data["performanceMetrics"][0]
    del entry["marketplaceId"], entry["lateShipmentRate"]
    warnings = validate(data, "r.json")
    assert warnings == [
        "r.json: 7 key(s) Amazon's schema calls required are missing (read without them): "
        "performanceMetrics[0].marketplaceId, performanceMetrics[0].lateShipmentRate, "
        "performanceMetrics[0].preFulfillmentCancellationRate, performanceMetrics[0].warningStates, "
        "performanceMetrics[0].restrictedProductPolicyViolations, "
        "performanceMetrics[0].suspectedIntellectualPropertyViolations, performanceMetrics[0].documentRequests",
        "r.json: accountStatuses[2].status: 'SUSPENDED' is not one of ['NORMAL', 'AT_RISK', 'DEACTIVATED']",
    ]
    entry["orderDefectRate"]["afn"]["orderCount"] = "12"
    with pytest.raises(DataError) as exc:
        validate(data, "r.json")
    assert "performanceMetrics[0].orderDefectRate.afn.orderCount" in str(exc.value)
    assert '"12"' in str(exc.value) and "integer" in str(exc.value)


def test_the_kernel_does_not_import_jsonschema(tmp_path):
    # the check runs without jsonschema, so a report kernel no longer pays its import
    import subprocess
    import sys

    code = ("import sys, json, pathlib; from perfkit.analysis.amazon_json import validate; "
            f"validate(json.loads(pathlib.Path({str(SAMPLES[0])!r}).read_text()), 'x'); "
            "print('jsonschema' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
