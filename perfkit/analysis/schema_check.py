"""A JSON Schema (draft 7) check of the few keywords Amazon's Seller Performance schema uses, with
jsonschema's own messages, paths and order.

Importing jsonschema (attrs compiling its classes, referencing, rpds) and building its validator
cost about 0.1 s of CPU in every report kernel, more than the check itself on a page's two or three
kept reports. The schema needs only ``type``, ``properties``, ``required``, ``enum``, ``items``,
``additionalItems`` and local ``$ref``; :class:`Validator` implements exactly those as jsonschema
4's ``Draft7Validator`` does (its ``_keywords``/``_legacy_keywords``: a ``$ref`` hides its
siblings, keywords run in the schema's order, ``integer`` takes ``1.0`` but never ``True``) and
refuses, when built, a schema with any other keyword, so a newer copy of Amazon's schema cannot be
checked by halves in silence. ``tests/test_schema_check.py`` compares it with jsonschema on
Amazon's examples and thousands of broken variants.
"""
from __future__ import annotations

import numbers
from collections.abc import Iterator
from dataclasses import dataclass

# what each keyword checks, in jsonschema's words; annotations check nothing
KEYWORDS = frozenset({"type", "properties", "required", "enum", "items", "additionalItems", "$ref"})
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "examples", "default",
                         "definitions"})
TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})


@dataclass(frozen=True)
class SchemaError:
    """One failed check, as jsonschema's ``ValidationError`` names it."""

    path: tuple[str | int, ...]  # jsonschema's ``absolute_path``
    validator: str  # the keyword that failed (never ``$ref``: the keyword behind it)
    validator_value: object
    instance: object
    message: str


def is_type(instance: object, kind: str) -> bool:
    """jsonschema's draft 7 type checker."""
    if kind == "object":
        return isinstance(instance, dict)
    if kind == "array":
        return isinstance(instance, list)
    if kind == "string":
        return isinstance(instance, str)
    if kind == "boolean":
        return isinstance(instance, bool)
    if kind == "null":
        return instance is None
    if isinstance(instance, bool):  # True is no number in JSON
        return False
    if kind == "integer":
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    return isinstance(instance, numbers.Number)  # "number"


def _extras(extras: list) -> str:
    """jsonschema's ``_utils.extras_msg``."""
    verb = "was" if len(extras) == 1 else "were"
    return f"{', '.join(repr(extra) for extra in extras)} {verb}"


class Validator:
    """Validate instances against ``schema`` (a draft 7 schema made only of :data:`KEYWORDS`).

    Raises ValueError when built on a schema using anything else (another keyword, a remote
    ``$ref``, an unknown type, an enum of non-strings), naming where.
    """

    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self._check_schema(schema, "#")
        for name, sub in schema.get("definitions", {}).items():
            self._check_schema(sub, f"#/definitions/{name}")

    def _resolve(self, ref: str) -> object:
        if not ref.startswith("#/"):
            raise ValueError(f"$ref {ref!r}: only references inside the schema are supported")
        node: object = self.schema
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                raise ValueError(f"$ref {ref!r} points at nothing in the schema")
            node = node[part]
        return node

    def _check_schema(self, schema: object, where: str) -> None:
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            raise ValueError(f"{where}: a schema must be an object or a boolean")
        unknown = sorted(set(schema) - KEYWORDS - ANNOTATIONS)
        if unknown:
            raise ValueError(f"{where}: keyword(s) {', '.join(unknown)} not supported by perfkit's schema check")
        if "$ref" in schema:
            self._resolve(schema["$ref"])
        kinds = schema.get("type", [])
        for kind in [kinds] if isinstance(kinds, str) else kinds:
            if kind not in TYPES:
                raise ValueError(f"{where}: unknown type {kind!r}")
        if not all(isinstance(v, str) for v in schema.get("enum", [])):
            raise ValueError(f"{where}: only enums of strings are supported")
        for name, sub in schema.get("properties", {}).items():
            self._check_schema(sub, f"{where}/properties/{name}")
        items = schema.get("items", True)
        for i, sub in enumerate(items) if isinstance(items, list) else [("", items)]:
            self._check_schema(sub, f"{where}/items" + (f"/{i}" if i != "" else ""))
        self._check_schema(schema.get("additionalItems", True), f"{where}/additionalItems")

    def iter_errors(self, instance: object) -> Iterator[SchemaError]:
        """Every failed check, in the order jsonschema yields them."""
        yield from self._descend(instance, self.schema, ())

    def _descend(self, instance: object, schema: object, path: tuple) -> Iterator[SchemaError]:
        if schema is True:
            return
        if schema is False:
            yield SchemaError(path, "false", False, instance, f"False schema does not allow {instance!r}")
            return
        assert isinstance(schema, dict)
        if "$ref" in schema:  # draft 7: a $ref's siblings are ignored
            yield from self._descend(instance, self._resolve(schema["$ref"]), path)
            return
        for keyword, value in schema.items():
            if keyword == "type":
                kinds = [value] if isinstance(value, str) else value
                if not any(is_type(instance, kind) for kind in kinds):
                    shown = ", ".join(repr(kind) for kind in kinds)
                    yield SchemaError(path, keyword, value, instance, f"{instance!r} is not of type {shown}")
            elif keyword == "enum":
                if not (isinstance(instance, str) and instance in value):
                    yield SchemaError(path, keyword, value, instance, f"{instance!r} is not one of {value!r}")
            elif keyword == "required" and isinstance(instance, dict):
                for name in value:
                    if name not in instance:
                        yield SchemaError(path, keyword, value, instance, f"{name!r} is a required property")
            elif keyword == "properties" and isinstance(instance, dict):
                for name, sub in value.items():
                    if name in instance:
                        yield from self._descend(instance[name], sub, (*path, name))
            elif keyword == "items" and isinstance(instance, list):
                pairs = zip(range(len(instance)), value) if isinstance(value, list) else \
                    ((i, value) for i in range(len(instance)))
                for i, sub in pairs:
                    yield from self._descend(instance[i], sub, (*path, i))
            elif keyword == "additionalItems" and isinstance(instance, list):
                items = schema.get("items", {})
                if isinstance(items, dict):  # every item is checked by ``items`` already
                    continue
                n = len(items)
                if isinstance(value, dict):
                    for i in range(n, len(instance)):
                        yield from self._descend(instance[i], value, (*path, i))
                elif not value and len(instance) > n:
                    yield SchemaError(path, keyword, value, instance,
                                      f"Additional items are not allowed ({_extras(instance[n:])} unexpected)")
