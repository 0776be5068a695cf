"""Fields Mixmax sends in several shapes reach the target in one: the sandbox sends every
shape each schema coerces, by default (the shapes live rows show) or in its `documented`
drift (the shapes the docs guessed), and the tap's records hold only the declared type.

The coerced paths come from the schemas (`x-coerce`), so a coercion added later is checked
here too, and fails until the sandbox sends its other shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from tap_harness import run_tap, sandbox_config

from mixmax_sandbox import Sandbox
from mixmax_sandbox.shapes import documented
from tap_mixmax.client import load_schema
from tap_mixmax.records import ARRAY_ITEMS, COERCE_KEYWORD, declared_type, location, schema_nodes
from tap_mixmax.streams import STREAM_TYPES

PYTHON_TYPES = {
    "string": str,
    "integer": int,
    "object": dict,
    "array": list,
    "boolean": bool,
}
KEYS = {
    "team_members": ("teamId", "memberId"),
    "appointment_links": ("userId",),
    "snippet_tag_snippets": ("snippetTagId", "_id"),
}
COERCED = [
    (stream.name, path, node)
    for stream in STREAM_TYPES
    for path, node in schema_nodes(load_schema(stream.name))
    if COERCE_KEYWORD in node
]


def values_at(node: Any, path: tuple[str, ...], where: str = "") -> Iterator[tuple[str, Any]]:
    """(location, value) of every non-null value at `path` below `node`."""
    if not path:
        if node is not None:
            yield where, node
        return
    head, rest = path[0], path[1:]
    if head == ARRAY_ITEMS:
        for index, item in enumerate(node if isinstance(node, list) else []):
            yield from values_at(item, rest, f"{where}[{index}]")
    elif isinstance(node, dict) and head in node:
        yield from values_at(node[head], rest, f"{where}.{head}")


def of_type(value: Any, json_type: str) -> bool:
    # bool is an int in Python; JSON keeps them apart.
    return type(value) is PYTHON_TYPES[json_type]


def kept(raw: Any, emitted: Any, spec: str) -> bool:
    """Whether the emitted value still holds all of the raw one, as `spec` promises."""
    if spec == "json-text":
        return emitted == raw if isinstance(raw, str) else json.loads(emitted) == raw
    if spec == "integer":
        return emitted == int(raw)
    if spec == "array":
        return emitted == (raw if isinstance(raw, list) else [raw])
    name, key = spec.split(":", 1)
    if name == "unwrap":  # unwrap:<key>
        return emitted == (raw[key] if isinstance(raw, dict) else raw)
    return emitted == (raw if isinstance(raw, dict) else {key: raw})  # object:<key>


STREAMS = {name for name, _, _ in COERCED} | {"sequences"}  # recipients need their parent


def served(sandbox: Any, stream: str, shapes: str) -> list[dict[str, Any]]:
    rows = sandbox.records(stream)
    return [documented(stream, row) for row in rows] if shapes == "documented" else rows


@pytest.fixture(scope="module")
def synced(shared_sandbox):
    """(raw rows, emitted records) of each stream, for both shapes of the same world."""
    with Sandbox(seed=7, scale="small", rate_limit=None, drift={"shapes": "documented"}) as old:
        both = {}
        for shapes, sandbox in (("evidenced", shared_sandbox), ("documented", old)):
            records = run_tap(sandbox_config(sandbox), streams=STREAMS).records
            both[shapes] = {s: (served(sandbox, s, shapes), records[s]) for s in STREAMS}
        return both


def test_the_schemas_coerce_eleven_fields_and_the_enhancement_category():
    # The unions of issue 14 but roundRobinQueue[], a number since issue 21 (tests/unit),
    # and integration_enhancements.category (issue 21).
    assert len(COERCED) == 12, [(name, path) for name, path, _ in COERCED]


@pytest.mark.parametrize(
    ("stream", "path", "node"), COERCED, ids=[f"{s}:{'.'.join(p)}" for s, p, _ in COERCED]
)
def test_every_shape_arrives_and_leaves_as_the_declared_type(synced, stream, path, node):
    declared = declared_type(node)
    assert declared, node
    key = KEYS.get(stream, ("_id",))
    raw_kinds, pairs = set(), 0
    for shapes, by_stream in synced.items():
        raw_rows, records = by_stream[stream]
        emitted = {tuple(r[k] for k in key): r for r in records}
        assert len(emitted) == len(raw_rows), (shapes, stream)
        for raw_row in raw_rows:
            row = emitted[tuple(raw_row[k] for k in key)]
            raw_values = dict(values_at(raw_row, path))
            out_values = dict(values_at(row, path))
            assert raw_values.keys() == out_values.keys(), (shapes, stream, raw_row["_id"])
            for where, raw in raw_values.items():
                raw_kinds.add("declared" if of_type(raw, declared) else type(raw).__name__)
                out = out_values[where]
                assert of_type(out, declared), f"{stream}{where}: {out!r} is not {declared}"
                assert kept(raw, out, node[COERCE_KEYWORD]), f"{stream}{where}: {raw!r} -> {out!r}"
                pairs += 1
            if shapes == "evidenced":
                assert row["_extra"] is None, row["_extra"]
            else:  # other documented shapes may land there, never the coerced field's
                coerced = location([step for step in path if step != ARRAY_ITEMS])
                kept_where = [re.sub(r"\[\d+\]", "", where) for where in row["_extra"] or {}]
                assert not any(w.startswith(coerced) for w in kept_where), row["_extra"]
    # The sandbox must send the declared shape and at least one other, or this proves little.
    assert "declared" in raw_kinds and len(raw_kinds) >= 2, f"{stream} sent only {raw_kinds}"
    assert pairs
