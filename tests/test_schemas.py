"""The stream schemas in `tap_mixmax/schemas`: valid, keyed, and every timestamp a date-time.

The tap converts every `format: date-time` value (epoch ms or ISO) to RFC 3339 before
emitting it (`tap_mixmax.records`), so a timestamp typed anything else would reach the
target raw. These checks read the files alone: no sandbox, no network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tap_mixmax.records import COERCE_KEYWORD, EXTRA_FIELD, schema_nodes
from tap_mixmax.streams import STREAM_TYPES

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "tap_mixmax" / "schemas"
SCHEMA_FILES = sorted(SCHEMAS_DIR.glob("*.json"))
STREAM_NAMES = sorted(stream.name for stream in STREAM_TYPES)
# Set as a class attribute on incremental streams only (elsewhere it is the SDK's property).
REPLICATION_KEYS = {
    stream.name: stream.replication_key
    for stream in STREAM_TYPES
    if isinstance(stream.replication_key, str)
}

# Streams whose rows have no `_id`:
NO_ID = {
    # /appointmentlinks/me is `{userId, name}` (docs/mixmax-api.md 2.10); keyed by `userId`.
    "appointment_links",
    # /teams/:id/members rows carry `memberId`; keyed by (`teamId`, `memberId`).
    "team_members",
}

# Property names that always hold a timestamp, besides every name ending in `At`.
TIMESTAMP_NAMES = {"created", "sent", "timestamp", "creationDate"}

# (stream, dotted path) of properties that match the rule above but are not timestamps.
# `[]` stands for array items. Keep each entry commented with the reason.
NOT_TIMESTAMPS: set[tuple[str, str]] = set()

# (stream, dotted path) of timestamps whose names the rule above does not catch.
OTHER_TIMESTAMPS = {
    ("messages", "scheduled"),
    ("teams", "users[].dateAccepted"),
    ("teams", "users[].dateInvited"),
    ("meeting_invites", "timeslots[].start"),
    ("meeting_invites", "timeslots[].end"),
}


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _walk(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(dotted path, property name, property schema) at every depth."""
    for name, prop in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, name, prop
        yield from _walk(prop, f"{path}.")
        items = prop.get("items")
        if isinstance(items, dict):
            yield from _walk(items, f"{path}[].")


def _is_timestamp_name(name: str) -> bool:
    return name.endswith("At") or name in TIMESTAMP_NAMES


def test_one_schema_file_per_stream() -> None:
    assert [path.stem for path in SCHEMA_FILES] == STREAM_NAMES
    named = {stream for stream, _ in NOT_TIMESTAMPS | OTHER_TIMESTAMPS}
    assert named <= set(STREAM_NAMES), f"exceptions for unknown streams: {named}"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_schema_is_valid_draft7(path: Path) -> None:
    schema = _load(path)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["properties"], f"{path.stem} has no properties"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_schema_has_id(path: Path) -> None:
    schema = _load(path)
    if path.stem in NO_ID:
        assert "required" not in schema
        return
    assert schema["properties"]["_id"] == {"type": "string"}
    assert schema.get("required") == ["_id"]


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_every_timestamp_is_a_date_time(path: Path) -> None:
    stream = path.stem
    walked = list(_walk(_load(path)))
    wrong = [
        where
        for where, name, prop in walked
        if _is_timestamp_name(name)
        and (stream, where) not in NOT_TIMESTAMPS
        and (prop.get("format") != "date-time" or "string" not in _types(prop))
    ]
    assert not wrong, f"{stream}: timestamps not typed as date-time strings: {wrong}"
    # An exception that no longer matches a property is stale: remove it.
    paths = {where for where, _, _ in walked}
    stale = [where for name, where in NOT_TIMESTAMPS if name == stream and where not in paths]
    assert not stale, f"stale exceptions for {stream}: {stale}"


@pytest.mark.parametrize(("stream", "where"), sorted(OTHER_TIMESTAMPS))
def test_other_timestamps_are_date_times(stream: str, where: str) -> None:
    props = {p: prop for p, _, prop in _walk(_load(SCHEMAS_DIR / f"{stream}.json"))}
    assert props[where] == {"type": ["string", "null"], "format": "date-time"}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_nullability(path: Path) -> None:
    """Only a required key is non-null: any other value, replication keys and array items
    included, may be missing or unreadable, and the tap then emits null (issue 21)."""
    stream = path.stem
    schema = _load(path)
    required = set(schema.get("required", []))
    assert required <= {"_id"}, f"{stream}: only _id may be required, not {required}"
    nodes = [(where, prop) for where, _, prop in _walk(schema) if where not in required]
    nodes += [(f"{where}[]", prop["items"]) for where, _, prop in _walk(schema) if "items" in prop]
    assert nodes, f"{stream} has no properties: the check would prove nothing"
    for where, prop in nodes:
        assert "null" in _types(prop), f"{stream}: {where} is not nullable"
    key = REPLICATION_KEYS.get(stream)
    if key:
        prop = schema["properties"][key]
        assert prop == {"type": ["string", "null"], "format": "date-time"}, f"{stream}: {key}"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_schema_stays_open(path: Path) -> None:
    """No closed objects, no `required` below the top, and no `_extra` (the tap adds it)."""
    schema = _load(path)
    assert EXTRA_FIELD not in schema["properties"]
    nodes = [schema, *(prop for _, _, prop in _walk(schema))]
    nodes += [prop["items"] for prop in nodes if isinstance(prop.get("items"), dict)]
    for node in nodes:
        assert node.get("additionalProperties", True) is not False, path.stem
        # (a list: a property may be *named* `required`, as in meeting_invites.customFields)
        assert node is schema or not isinstance(node.get("required"), list), path.stem


def test_every_coercion_says_what_mixmax_sends() -> None:
    """The README's coercions table is these descriptions: none may be missing."""
    coercions = [
        (path.stem, where, node)
        for path in SCHEMA_FILES
        for where, node in schema_nodes(_load(path))
        if COERCE_KEYWORD in node
    ]
    assert coercions, "no schema coerces anything: the check would prove nothing"
    for stream, where, node in coercions:
        description = node.get("description", "")
        # What Mixmax sends, and how it arrives.
        assert "Mixmax" in description and "arrive" in description, f"{stream}: {where}"
