"""`open_objects_as`: open objects stay objects by default, or become their JSON text.

Through the real `tap-mixmax` command, the whole catalog, in `api_token` and `accounts`
mode, on a sandbox whose rows all carry a field the schema does not know (so `_extra` is
filled in every row): with `json_text`, every open object of every schema is declared a
string, each record validates against its SCHEMA, and each text reads back as the very
object the default run emitted.
"""

from __future__ import annotations

import json
import typing as t

import jsonschema
import pytest
from tap_harness import TapOutput, run_tap_process, sandbox_config, tap_process

from mixmax_sandbox import Sandbox
from tap_mixmax.client import load_schema
from tap_mixmax.open_objects import (
    AS_JSON_TEXT,
    OPEN_OBJECTS_SETTING,
    declare,
    is_open_object,
    open_object_paths,
)
from tap_mixmax.streams import STREAM_TYPES

# One unknown field per stream that has rows in the small world: `_extra` is never empty.
EXTRA_FIELDS = tuple(f"{stream.name}.surprise" for stream in STREAM_TYPES)


def values_at(record: t.Any, path: str) -> list[t.Any]:
    """The values at a path such as `stages[].data` (every item of an array)."""
    values = [record]
    for part in path.split("."):
        name, is_array = part.removesuffix("[]"), part.endswith("[]")
        values = [v.get(name) for v in values if isinstance(v, dict)]
        if is_array:
            values = [item for v in values if isinstance(v, list) for item in v]
    return values


def test_every_schema_declares_its_open_objects_as_text_and_nothing_else():
    paths_seen: set[str] = set()
    for stream in STREAM_TYPES:
        schema = load_schema(stream.name)
        paths = open_object_paths(schema)
        assert "_extra" in paths, stream.name
        paths_seen.update(f"{stream.name}.{p}" for p in paths)
        as_text, finish = declare(schema, AS_JSON_TEXT)
        assert finish is not None
        assert open_object_paths(as_text) == []  # none left, at any depth
        for path in paths:
            node = as_text
            for part in path.replace("[]", ".[]").split("."):
                node = node["items"] if part == "[]" else node["properties"][part]
            assert node["type"] == ["string", "null"], (stream.name, path)
            assert node["contentMediaType"] == "application/json"
        # Everything else is declared exactly as before.
        assert {
            k for k in as_text["properties"] if as_text["properties"][k] != schema["properties"][k]
        } == {p.split(".")[0].removesuffix("[]") for p in paths}
        assert declare(schema, "object") == (schema, None)
    # The ones the issue names are among them.
    assert {"sequence_recipients.variables", "rules.filterObject"} <= paths_seen


def test_nested_open_objects_and_arrays_of_them_become_text_in_place():
    schema = {
        "type": "object",
        "properties": {
            "plain": {"type": ["string", "null"]},
            "stages": {
                "type": ["array", "null"],
                "items": {
                    "type": ["object", "null"],
                    "properties": {"data": {"type": ["object", "null"]}, "n": {"type": "integer"}},
                },
            },
            "tags": {"type": "array", "items": {"type": "object"}},
        },
    }
    as_text, finish = declare(schema, AS_JSON_TEXT)
    assert finish is not None
    assert not is_open_object(as_text["properties"]["tags"]["items"])
    assert as_text["properties"]["tags"]["items"]["type"] == "string"
    record = {
        "plain": "x",
        "stages": [{"data": {"é": [1, None]}, "n": 1}, {"data": None, "n": 2}, None],
        "tags": [{"a": 1}, {}],
    }
    finished = finish(json.loads(json.dumps(record)))
    assert finished == {
        "plain": "x",
        "stages": [{"data": '{"é":[1,null]}', "n": 1}, {"data": None, "n": 2}, None],
        "tags": ['{"a":1}', "{}"],
    }
    jsonschema.validate(finished, as_text)


def sync(tmp_path, config: dict[str, t.Any], name: str) -> TapOutput:
    workdir = tmp_path / name
    workdir.mkdir()
    done = run_tap_process(tap_process(workdir, config))
    assert done.returncode == 0, done.stderr[-3000:]
    return TapOutput.parse(done.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["api_token", "accounts"])
def test_json_text_through_the_command_reads_back_as_the_default_objects(tmp_path, mode):
    with Sandbox(
        seed=11, scale="tiny", users=2, rate_limit=None, drift={"extra_fields": EXTRA_FIELDS}
    ) as sb:
        config = sandbox_config(sb)
        if mode == "accounts":
            del config["api_token"]
            config["accounts"] = [
                {"name": f"rep{i}", "api_token": token} for i, token in enumerate(sb.tokens)
            ]
        default = sync(tmp_path, config, "default")
        text = sync(tmp_path, {**config, OPEN_OBJECTS_SETTING: AS_JSON_TEXT}, "text")

    assert default.records.keys() == text.records.keys()
    compared, filled = 0, set()
    for stream, schema_message in text.schemas().items():
        schema = schema_message["schema"]
        assert open_object_paths(schema) == [], stream
        paths = open_object_paths(default.schemas()[stream]["schema"])
        keys = schema_message["key_properties"]
        by_key = {tuple(r[k] for k in keys): r for r in default.records[stream]}
        assert len(by_key) == len(text.records[stream]), stream
        for after in text.records[stream]:
            before = by_key[tuple(after[k] for k in keys)]
            jsonschema.validate(after, schema)
            for path in paths:
                for obj, encoded in zip(
                    values_at(before, path), values_at(after, path), strict=True
                ):
                    assert (None if encoded is None else json.loads(encoded)) == obj
                    compared += obj is not None
            if after["_extra"] is not None and "surprise" in json.loads(after["_extra"]):
                filled.add(stream)
    assert compared > 100
    # Rule actions arrive inside their rules (expand=actions), which the drift does not touch.
    assert filled == set(text.records) - {"rule_actions"}
