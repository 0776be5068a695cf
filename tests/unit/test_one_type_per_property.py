"""Every property the tap discovers has exactly one non-null JSON type, at any depth.

A union (`["string", "object"]`, anyOf, oneOf, allOf) makes targets that create one column
per property pick a column type that some values cannot enter: pipelinewise-target-postgres
and target-duckdb make a JSON column and then refuse a bare string (issue 14). Both modes
are checked, since `accounts` adds the `account` column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tap_mixmax.tap import TapMixmax

COMBINATORS = ("anyOf", "oneOf", "allOf", "not")
MODES: dict[str, dict[str, Any]] = {
    "api_token": {"api_token": "x"},
    "accounts": {
        "accounts": [{"name": "ana", "api_token": "x"}, {"name": "ben", "api_token": "y"}]
    },
}


def schema_nodes(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, schema) of the node and every schema below it, whatever the keyword."""
    yield where, schema
    for name, prop in (schema.get("properties") or {}).items():
        yield from schema_nodes(prop, f"{where}.{name}")
    for pattern, prop in (schema.get("patternProperties") or {}).items():
        yield from schema_nodes(prop, f"{where}{{{pattern}}}")
    for keyword in ("items", "additionalProperties", "additionalItems", "contains"):
        sub = schema.get(keyword)
        if isinstance(sub, dict):
            yield from schema_nodes(sub, f"{where}.{keyword}")
        elif isinstance(sub, list):  # tuple-form items
            for index, item in enumerate(sub):
                yield from schema_nodes(item, f"{where}.{keyword}[{index}]")
    for keyword in COMBINATORS:
        sub = schema.get(keyword)
        for index, option in enumerate(sub if isinstance(sub, list) else [sub] if sub else []):
            yield from schema_nodes(option, f"{where}.{keyword}[{index}]")


def unions(schema: dict[str, Any], where: str) -> list[str]:
    """Every node that is not exactly one non-null type, with the reason."""
    found = []
    for location, node in schema_nodes(schema, where):
        for keyword in COMBINATORS:
            if keyword in node:
                found.append(f"{location}: {keyword}")
        declared = node.get("type")
        kinds = [declared] if isinstance(declared, str) else list(declared or [])
        real = [kind for kind in kinds if kind != "null"]
        if len(real) != 1:
            found.append(f"{location}: type {declared!r}")
    return found


def discovered(config: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(stream, schema) as `--discover` prints them and as SCHEMA messages carry them."""
    tap = TapMixmax(config=config, validate_config=False, setup_mapper=False)
    catalog = [(entry["tap_stream_id"], entry["schema"]) for entry in tap.catalog_dict["streams"]]
    emitted = [(f"{name} (SCHEMA)", stream.schema) for name, stream in tap.streams.items()]
    return catalog + emitted


@pytest.mark.parametrize("mode", MODES)
def test_every_discovered_property_has_one_non_null_type(mode):
    schemas = discovered(MODES[mode])
    assert len(schemas) == 58, [name for name, _ in schemas]  # 29 streams, twice
    found = [problem for name, schema in schemas for problem in unions(schema, name)]
    assert not found, "\n".join(found)


def test_accounts_mode_adds_a_single_typed_account_column():
    schemas = discovered(MODES["accounts"])
    assert schemas, "nothing discovered: the check would prove nothing"
    for name, schema in schemas:
        assert schema["properties"]["account"]["type"] in ("string", ["string"]), name


# The check itself must see a union wherever one could hide.
HIDDEN: dict[str, dict[str, Any]] = {
    "property": {"properties": {"a": {"type": ["string", "object", "null"]}}},
    "array items": {
        "properties": {"a": {"type": "array", "items": {"type": ["string", "number"]}}}
    },
    "items of items": {
        "properties": {
            "a": {"type": "array", "items": {"type": "array", "items": {"type": ["a", "b"]}}}
        }
    },
    "additionalProperties": {"additionalProperties": {"type": ["boolean", "integer"]}},
    "patternProperties": {"patternProperties": {"^x": {"type": ["boolean", "object"]}}},
    "nested object": {
        "properties": {
            "a": {"type": "object", "properties": {"b": {"type": ["integer", "boolean"]}}}
        }
    },
    "anyOf": {"properties": {"a": {"anyOf": [{"type": "string"}, {"type": "object"}]}}},
    "oneOf": {"properties": {"a": {"oneOf": [{"type": "string"}]}}},
    "allOf": {"properties": {"a": {"type": "string", "allOf": [{"type": "string"}]}}},
    "no type": {"properties": {"a": {"description": "anything"}}},
    "only null": {"properties": {"a": {"type": "null"}}},
}


@pytest.mark.parametrize("where", HIDDEN)
def test_the_check_finds_a_union_at_every_depth(where):
    assert unions({"type": "object", **HIDDEN[where]}, "s")


def test_the_check_accepts_one_type_plus_null():
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"type": "array", "items": {"type": ["object", "null"], "properties": {}}},
            "c": {"type": ["object", "null"], "additionalProperties": {"type": "integer"}},
        },
    }
    assert unions(schema, "s") == []
