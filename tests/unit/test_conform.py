"""Type-driven shaping: each value takes its property's declared type when nothing is lost,
else becomes null with its raw value in `_extra` (issue 21).

The rows below are typed as the live-API evidence shows them (docs/mixmax-api.md, "Field
sources"): what the tap did with them before this shaper is in real-api-evidence.md §6.
"""

from __future__ import annotations

import math

import jsonschema
import pytest

from tap_mixmax.client import load_schema
from tap_mixmax.records import (
    EXTRA_FIELD,
    CoercionError,
    MissingKeyError,
    RecordShaper,
    to_boolean,
    to_number,
    to_text,
    to_whole,
    unwrap,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), (1, True), (0, False), (1.0, True), (0.0, False),
     ("true", True), ("false", False)],
)  # fmt: skip
def test_zero_one_and_their_words_are_booleans(raw, expected):
    assert to_boolean(raw) is expected


@pytest.mark.parametrize("raw", [2, -1, 0.5, "1", "True", "yes", "", [], {}, float("nan")])
def test_anything_else_is_not_a_boolean(raw):
    with pytest.raises(CoercionError):
        to_boolean(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(7, 7), (7.0, 7), (-0.0, 0), ("7", 7), ("-2", -2), ("7.0", 7), ("1e3", 1000),
     (1e20, 10**20), (str(10**30), 10**30)],
)  # fmt: skip
def test_whole_numbers_and_their_text_are_integers(raw, expected):
    value = to_whole(raw)
    assert value == expected and type(value) is int


@pytest.mark.parametrize(
    "raw",
    [True, 7.5, "7.5", "07", "0x1", " 7", "1e999", "9007199254740993.0", float("inf"),
     float("nan"), None, [7], {"n": 7}],
)  # fmt: skip
def test_what_no_integer_can_hold_exactly_is_refused(raw):
    with pytest.raises(CoercionError):
        to_whole(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, 3), (2.5, 2.5), ("2.5", 2.5), ("-3", -3), ("1e-3", 0.001), (10**30, 10**30)],
)
def test_numbers_and_numeric_text_are_numbers(raw, expected):
    assert to_number(raw) == expected


@pytest.mark.parametrize("raw", [True, "NaN", "1e999", "2,5", "", float("nan"), -math.inf, []])
def test_non_numbers_and_non_finite_numbers_are_refused(raw):
    with pytest.raises(CoercionError):
        to_number(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("x", "x"), (42, "42"), (1.5, "1.5"), (-0.25, "-0.25")]
)
def test_a_number_in_a_text_field_becomes_its_text(raw, expected):
    assert to_text(raw) == expected


@pytest.mark.parametrize("raw", [True, None, {"a": 1}, ["a"], float("nan")])
def test_booleans_and_containers_are_not_text(raw):
    with pytest.raises(CoercionError):
        to_text(raw)


def test_unwrap_takes_the_one_key_and_nothing_else():
    assert unwrap("enabled", {"enabled": True}) is True
    for raw in ({"enabled": True, "other": 1}, {"on": True}, True, ["enabled"]):
        with pytest.raises(CoercionError):
            unwrap("enabled", raw)


# ------------------------------------------------------------- rows as live rows send them
def validator(stream: str) -> jsonschema.Draft7Validator:
    checker = jsonschema.FormatChecker()
    assert "date-time" in checker.checkers  # rfc3339-validator, or every string passes
    return jsonschema.Draft7Validator(load_schema(stream), format_checker=checker)


LIVE_FEED_ROW = {
    "_id": "feed1",
    "sent": 1768478400000,
    "lastEventAt": 1768482000000,
    "numOpens": 3,
    "numClicks": 1,
    "numDownloads": 0,
    "includeInTeamLiveFeed": 1,
    "showContentTeamFeed": 0,
    "trackingMuted": 0,
    "wasReplied": 1,
    "wasBounced": 0,
    "wasAccepted": 0,
    "wasDeclined": 0,
    "wasTentative": 0,
    "wasDeliveredWithTrackedOpens": 1,
    "wasSentViaMixmax": 1,
}


def test_a_live_feed_row_typed_as_live_rows_are_is_valid_and_loses_nothing():
    record = RecordShaper(load_schema("livefeed")).shape(dict(LIVE_FEED_ROW))
    assert list(validator("livefeed").iter_errors(record)) == []
    assert (record["numOpens"], record["numClicks"], record["numDownloads"]) == (3, 1, 0)
    assert record["wasReplied"] is True and record["trackingMuted"] is False
    assert record["wasDeliveredWithTrackedOpens"] is True and record["wasSentViaMixmax"] is True
    assert record["includeInTeamLiveFeed"] == 1
    assert record[EXTRA_FIELD] is None


def test_a_flag_no_boolean_can_hold_is_kept_in_extra():
    record = RecordShaper(load_schema("livefeed")).shape({**LIVE_FEED_ROW, "wasBounced": 2})
    assert record["wasBounced"] is None and record[EXTRA_FIELD] == {"wasBounced": 2}
    assert validator("livefeed").is_valid(record)


def test_numeric_stage_windows_are_kept_and_clock_text_goes_to_extra():
    row = {
        "_id": "r1",
        "stages": [
            {"scheduleBetween": {"start": 9, "end": 17.5, "timezone": "Europe/Paris"}},
            {"scheduleBetween": {"start": "09:00", "end": "17", "timezone": "UTC"}},
        ],
    }
    record = RecordShaper(load_schema("sequence_recipients")).shape(row)
    windows = [stage["scheduleBetween"] for stage in record["stages"]]
    assert windows == [
        {"start": 9, "end": 17.5, "timezone": "Europe/Paris"},
        {"start": None, "end": 17, "timezone": "UTC"},
    ]
    assert record[EXTRA_FIELD] == {"stages[1].scheduleBetween.start": "09:00"}
    assert validator("sequence_recipients").is_valid(record)


@pytest.mark.parametrize(
    ("stream", "key"),
    [("messages", "created"), ("polls", "created"), ("unsubscribes", "createdAt"),
     ("livefeed", "sent")],
)  # fmt: skip
@pytest.mark.parametrize("raw", ["Thu, 15 Jan 2026 12:00:00 GMT", "soon", True, {"$date": 1}])
def test_an_unreadable_replication_key_is_null_and_the_record_still_valid(stream, key, raw):
    record = RecordShaper(load_schema(stream)).shape({"_id": "a", key: raw})
    assert record[key] is None and record[EXTRA_FIELD] == {key: raw}
    assert list(validator(stream).iter_errors(record)) == []


def test_shared_object_is_declared_and_the_documented_list_arrives_wrapped():
    shaper = RecordShaper(load_schema("snippets"))
    users = [{"userId": "u1", "email": "ana@example.com", "role": "read-only", "accepted": True}]
    live = shaper.shape({"_id": "a", "shared": {"users": users, "teams": []}})
    assert live["shared"] == {"users": users, "teams": []}
    listed = [{"userEmail": "ana@example.com", "confirmed": True}]
    documented = shaper.shape({"_id": "b", "shared": listed})
    assert documented["shared"] == {"users": listed} and documented[EXTRA_FIELD] is None
    assert validator("snippets").is_valid(live) and validator("snippets").is_valid(documented)


def test_meeting_type_integrations_are_booleans_and_queues_numbers():
    shaper = RecordShaper(load_schema("meeting_types"))
    record = shaper.shape(
        {
            "_id": "a",
            "integrations": {"zoom": {"enabled": True}, "hangoutsMeet": False},
            "roundRobinQueue": [1001, "2002", "u1"],
        }
    )
    assert record["integrations"] == {"zoom": True, "hangoutsMeet": False}
    assert record["roundRobinQueue"] == [1001, 2002, None]
    assert record[EXTRA_FIELD] == {"roundRobinQueue[2]": "u1"}
    assert validator("meeting_types").is_valid(record)


def test_a_key_that_is_not_text_becomes_its_text_and_a_missing_one_is_refused():
    shaper = RecordShaper(load_schema("messages"))
    assert shaper.shape({"_id": 42})["_id"] == "42"
    assert shaper.shape({"_id": {"$oid": "5f1d"}})["_id"] == '{"$oid":"5f1d"}'
    for row in ({}, {"_id": None}):
        with pytest.raises(MissingKeyError):
            shaper.shape(row)


def test_fields_the_tap_fills_itself_are_kept_in_extra_when_mixmax_sends_them():
    schema = {**load_schema("messages")}
    schema["properties"] = {**schema["properties"], "account": {"type": ["string"]}}
    shaper = RecordShaper(schema, reserved=frozenset({"account"}))
    record = shaper.shape({"_id": "a", "account": "theirs", EXTRA_FIELD: {"x": 1}})
    assert "account" not in record
    assert record[EXTRA_FIELD] == {"account": "theirs", EXTRA_FIELD: {"x": 1}}


def test_unknown_nested_fields_stay_where_they_are():
    record = RecordShaper(load_schema("messages")).shape(
        {"_id": "a", "from": {"email": "a@b.c", "brandNew": [1, {"x": None}]}}
    )
    assert record["from"] == {"email": "a@b.c", "brandNew": [1, {"x": None}]}
    assert record[EXTRA_FIELD] is None


def test_nan_or_infinity_where_a_number_belongs_is_kept_as_text_in_extra():
    row = {"_id": "r1", "stages": [{"scheduleBetween": {"start": math.nan, "end": math.inf}}]}
    record = RecordShaper(load_schema("sequence_recipients")).shape(row)
    assert record["stages"][0]["scheduleBetween"] == {"start": None, "end": None}
    assert record[EXTRA_FIELD] == {
        "stages[0].scheduleBetween.start": "NaN",
        "stages[0].scheduleBetween.end": "Infinity",
    }
