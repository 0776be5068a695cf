"""No record ever breaks its schema: every stream's row path, fed arbitrary JSON at every
path, emits records that validate against the discovered schema (Draft 7, formats
checked), in `api_token` and `accounts` modes alike, and loses nothing on the way.

The rows are generated from each schema: at every declared path a value of the declared
shape (whose own children are generated the same way), or any JSON at all, biased
towards the values a conversion has to judge (0/1, "true", numeric text, whole floats,
NaN, dates in every form). Unknown fields join at the top, where `_extra` must keep them,
and inside objects, where they stay. What the tap writes is what is checked: the record
as its msgspec encoder serialises it, read back.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from singer_sdk.contrib.msgspec import encoder

from tap_mixmax.errors import MixmaxError
from tap_mixmax.records import ACCOUNT_FIELD, EXTRA_FIELD, location, raw_value
from tap_mixmax.tap import TapMixmax

MODES = {
    "api_token": {"api_token": "x"},
    "accounts": {
        "accounts": [{"name": "ana", "api_token": "x"}, {"name": "ben", "api_token": "y"}]
    },
}
# Values that sit on the edge of a lossless conversion, mixed into the arbitrary ones.
EDGES = st.sampled_from(
    [0, 1, 2, -1, 0.0, 1.0, 1.5, 2.0**60, 1e300, 1478284647090, 1478284647, 10**30,
     float("nan"), float("inf"), True, False, "", "0", "1", "07", "42", "-3", "1.5", "1e3",
     "1e999", "true", "false", "True", "yes", "09:00", "NaN", "2026-01-15T12:00:00Z",
     "2026-01-15", "Thu, 15 Jan 2026 12:00:00 GMT", "1478284647090", "not a date",
     {"$date": 1}, {"enabled": True}, {"enabled": 1, "other": 2}, [], [None], {}]
)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | EDGES
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
NAMES = st.text(max_size=10) | st.sampled_from([EXTRA_FIELD, ACCOUNT_FIELD, "_id", "Unknown"])


def shaped(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of the node's declared shape, whose children are anything in turn."""
    if isinstance(node.get("items"), dict):
        return st.lists(value_for(node["items"]), max_size=3)
    props = node.get("properties")
    if props:
        known = st.fixed_dictionaries({}, optional={k: value_for(p) for k, p in props.items()})
        unknown = st.dictionaries(st.text(max_size=6), ANY_JSON, max_size=2)
        return st.builds(lambda a, b: {**b, **a}, known, unknown)
    return ANY_JSON


def value_for(node: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.one_of(shaped(node), ANY_JSON)


def rows_for(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    props = {k: v for k, v in schema["properties"].items() if k not in (EXTRA_FIELD, ACCOUNT_FIELD)}
    known = st.fixed_dictionaries({}, optional={k: value_for(p) for k, p in props.items()})
    unknown = st.dictionaries(NAMES, ANY_JSON, max_size=3)
    return st.builds(lambda a, b: {**b, **a}, known, unknown)


def wire(value: Any) -> Any:
    """A value as the tap writes it and a target reads it (NaN and Infinity are null)."""
    return json.loads(encoder.encode(value))


def assert_nothing_lost(node: dict[str, Any], raw: Any, out: Any, trail: list, extra: dict) -> None:
    """Every raw value the record no longer holds is in `_extra`, under its location."""
    if raw is None:
        return
    if out is None:
        assert location(trail) in extra, f"{location(trail)}: {raw!r} was dropped"
        assert extra[location(trail)] == wire(raw_value(raw))
        return
    if isinstance(raw, dict) and isinstance(out, dict):
        for name, prop in (node.get("properties") or {}).items():
            if name in raw:
                assert_nothing_lost(prop, raw[name], out.get(name), [*trail, name], extra)
    elif isinstance(raw, list) and isinstance(out, list) and isinstance(node.get("items"), dict):
        assert len(raw) == len(out)
        for index, (a, b) in enumerate(zip(raw, out, strict=True)):
            assert_nothing_lost(node["items"], a, b, [*trail, index], extra)
    # Otherwise a conversion changed the container (tests/unit/test_conform.py).


CASES = [
    (mode, entry["tap_stream_id"])
    for mode, config in MODES.items()
    for entry in TapMixmax(config=config, validate_config=False).catalog_dict["streams"]
]


@pytest.fixture(scope="module", params=list(MODES))
def tap(request):
    return TapMixmax(config=MODES[request.param], validate_config=False, setup_mapper=False)


@pytest.mark.parametrize("stream", sorted({name for _, name in CASES}))
def test_every_record_validates_against_its_schema_whatever_mixmax_sends(tap, stream):
    entry = next(e for e in tap.catalog_dict["streams"] if e["tap_stream_id"] == stream)
    checker = jsonschema.FormatChecker()
    assert "date-time" in checker.checkers, "rfc3339-validator is missing: date-times unchecked"
    validator = jsonschema.Draft7Validator(entry["schema"], format_checker=checker)
    target = tap.streams[stream]
    required = [k for k in entry["schema"].get("required", []) if k != ACCOUNT_FIELD]
    reserved = {EXTRA_FIELD, ACCOUNT_FIELD}

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rows_for(entry["schema"]))
    def check(row: dict[str, Any]) -> None:
        raw = copy.deepcopy(row)
        if any(raw.get(key) is None for key in required):
            with pytest.raises(MixmaxError, match="without its key"):
                target.post_process(row)
            return
        record = target.post_process(row)
        assert record is not None
        sent = wire(record)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(sent)]
        assert not errors, errors
        extra = sent[EXTRA_FIELD] or {}
        for name, value in raw.items():
            if name in reserved or name not in entry["schema"]["properties"]:
                assert extra[name] == wire(value), name  # unknown: kept whole
            else:
                prop = entry["schema"]["properties"][name]
                # On the wire: a NaN kept where a number belongs would arrive as null.
                assert_nothing_lost(prop, value, sent.get(name), [name], extra)

    check()


def test_every_stream_is_checked_in_both_modes():
    assert {mode for mode, _ in CASES} == set(MODES)
    assert len(CASES) == 2 * len({name for _, name in CASES}) >= 48


def test_the_check_fails_on_a_record_that_breaks_its_schema():
    """The validator used above does see a wrong type and an unreadable date-time."""
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": ["boolean", "null"]},
            "t": {"type": "string", "format": "date-time"},
        },
    }
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    assert not validator.is_valid({"a": 1})
    assert not validator.is_valid({"t": "yesterday"})
    assert validator.is_valid({"a": True, "t": "2026-01-15T12:00:00.000Z"})
