"""Record shaping: one type per property, one RFC 3339 form per timestamp, nothing dropped."""

import pytest

from tap_mixmax.records import (
    EXTRA_FIELD,
    CoercionError,
    RecordShaper,
    TimestampError,
    coercion_paths,
    datetime_paths,
    normalize_timestamp,
    to_integer,
    to_json_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1478284647090, "2016-11-04T18:37:27.090Z"),  # epoch ms (messages.created sample)
        (1478284647.09, "2016-11-04T18:37:27.090Z"),  # epoch seconds
        (1478284647, "2016-11-04T18:37:27.000Z"),
        ("1478284647090", "2016-11-04T18:37:27.090Z"),  # ms sent as a string
        ("2016-10-30T01:14:07.790Z", "2016-10-30T01:14:07.790Z"),  # sequences sample
        ("2016-10-30T03:14:07.790+02:00", "2016-10-30T01:14:07.790Z"),
        ("2016-10-30T01:14:07", "2016-10-30T01:14:07.000Z"),  # naive means UTC
        ("2016-10-30", "2016-10-30T00:00:00.000Z"),
        (None, None),
    ],
)
def test_every_timestamp_form_becomes_rfc3339_utc(raw, expected):
    assert normalize_timestamp(raw) == expected


@pytest.mark.parametrize("raw", ["yesterday", "", True, {"$date": 1}, 10**20])
def test_unreadable_timestamps_raise(raw):
    with pytest.raises(TimestampError):
        normalize_timestamp(raw)


def test_normalized_strings_sort_chronologically():
    values = [1478284647090, "2016-10-30T01:14:07.790Z", 1478284647, "2020-01-01T00:00:00+05:00"]
    normalized = [normalize_timestamp(v) for v in values]
    from tap_mixmax.records import to_datetime

    assert None not in normalized
    assert sorted(text for text in normalized if text is not None) == [
        normalize_timestamp(v) for v in sorted(values, key=to_datetime)
    ]


SCHEMA = {
    "type": "object",
    "properties": {
        "_id": {"type": "string"},
        "created": {"type": ["string", "null"], "format": "date-time"},
        "stages": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {"sentAt": {"type": ["string", "null"], "format": "date-time"}},
            },
        },
        "owner": {
            "type": ["object", "null"],
            "properties": {"joinedAt": {"type": ["string", "null"], "format": "date-time"}},
        },
        "_extra": {"type": ["object", "null"]},
    },
}


def test_datetime_paths_reach_nested_objects_and_arrays():
    assert sorted(datetime_paths(SCHEMA)) == sorted(
        [("created",), ("stages", "[]", "sentAt"), ("owner", "joinedAt")]
    )


def test_shaper_converts_nested_timestamps_and_keeps_unknown_fields():
    shaper = RecordShaper(SCHEMA)
    record = shaper.shape(
        {
            "_id": "a",
            "created": 1478284647090,
            "stages": [{"sentAt": 1478284647090}, {"sentAt": None}, {}],
            "owner": {"joinedAt": "2016-10-30T01:14:07.790Z", "newNested": 1},
            "brandNew": {"x": 1},
        }
    )
    assert record["created"] == "2016-11-04T18:37:27.090Z"
    assert record["stages"] == [{"sentAt": "2016-11-04T18:37:27.090Z"}, {"sentAt": None}, {}]
    assert record["owner"] == {"joinedAt": "2016-10-30T01:14:07.790Z", "newNested": 1}
    assert record[EXTRA_FIELD] == {"brandNew": {"x": 1}}
    assert "brandNew" not in record
    assert shaper.unknown_seen == {"brandNew"}


def test_shaper_keeps_an_unreadable_timestamp_in_extra_instead_of_failing():
    record = RecordShaper(SCHEMA).shape({"_id": "a", "created": "not a date", "stages": None})
    assert record["created"] is None
    assert record[EXTRA_FIELD] == {"created": "not a date"}


def test_shaper_sets_extra_to_null_when_nothing_is_unknown():
    assert RecordShaper(SCHEMA).shape({"_id": "a"})[EXTRA_FIELD] is None


# --------------------------------------------------------------------------- coercions
COERCED = {
    "type": "object",
    "properties": {
        "_id": {"type": "string"},
        "error": {"type": ["string", "null"], "x-coerce": "json-text"},
        "shared": {
            "type": ["array", "null"],
            "x-coerce": "array",
            "items": {"type": "object", "properties": {"userEmail": {"type": ["string", "null"]}}},
        },
        "integrations": {
            "type": ["object", "null"],
            "properties": {
                "zoom": {
                    "type": ["object", "null"],
                    "x-coerce": "object:enabled",
                    "properties": {"enabled": {"type": ["boolean", "null"]}},
                }
            },
        },
        "queue": {"type": ["array", "null"], "items": {"type": "string", "x-coerce": "json-text"}},
        "stages": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "hasOpens": {"type": ["integer", "null"], "x-coerce": "integer"},
                    "sentAt": {"type": ["string", "null"], "format": "date-time"},
                },
            },
        },
        "answers": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "respondents": {
                        "type": ["array", "null"],
                        "items": {
                            "type": ["object", "null"],
                            "x-coerce": "object:email",
                            "properties": {
                                "email": {"type": ["string", "null"]},
                                "respondedAt": {"type": ["string", "null"], "format": "date-time"},
                            },
                        },
                    }
                },
            },
        },
    },
}


def test_coercions_give_every_property_its_one_type_at_any_depth():
    record = RecordShaper(COERCED).shape(
        {
            "_id": "a",
            "error": {"code": 550, "message": "no such user"},
            "shared": {"users": [], "teams": []},
            "integrations": {"zoom": True},
            "queue": ["u1", 42, 1.5],
            "stages": [{"hasOpens": True}, {"hasOpens": False}, {"hasOpens": 3}, {}],
            "answers": [
                {"respondents": ["ana@example.com", {"email": "ben@example.com"}, None]},
                {"respondents": [{"email": "cy@example.com", "respondedAt": 1478284647090}]},
            ],
        }
    )
    assert record["error"] == '{"code":550,"message":"no such user"}'
    assert record["shared"] == [{"users": [], "teams": []}]
    assert record["integrations"] == {"zoom": {"enabled": True}}
    assert record["queue"] == ["u1", "42", "1.5"]
    assert [stage.get("hasOpens") for stage in record["stages"]] == [1, 0, 3, None]
    assert record["answers"][0]["respondents"] == [
        {"email": "ana@example.com"},
        {"email": "ben@example.com"},
        None,
    ]
    # A coerced item's own timestamps are still normalised.
    assert record["answers"][1]["respondents"][0]["respondedAt"] == "2016-11-04T18:37:27.090Z"
    assert record[EXTRA_FIELD] is None  # every coercion above kept everything


def test_values_already_of_the_declared_type_are_left_alone():
    raw = {
        "_id": "a",
        "error": "550 5.1.1 no such user",
        "shared": [{"userEmail": "ana@example.com"}],
        "integrations": {"zoom": {"enabled": False}},
        "queue": ["u1"],
        "stages": [{"hasOpens": 2}],
        "answers": [{"respondents": [{"email": "ana@example.com"}]}],
    }
    expected = {**raw, EXTRA_FIELD: None}
    assert RecordShaper(COERCED).shape(dict(raw)) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, 1), (False, 0), (7, 7), (7.0, 7), ("7", 7), ("-2", -2)],
)
def test_flag_or_counter_becomes_an_integer(raw, expected):
    value = to_integer(raw)
    assert value == expected and type(value) is int


@pytest.mark.parametrize("raw", [1.5, "07", "yes", "", float("nan"), [1], {"n": 1}])
def test_a_value_no_integer_can_hold_is_refused(raw):
    with pytest.raises(CoercionError):
        to_integer(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("text", "text"),
        ({"b": 1, "a": [True, None]}, '{"b":1,"a":[true,null]}'),  # key order kept
        (["x", 1], '["x",1]'),
        (12, "12"),
        (False, "false"),
        ("é", "é"),
    ],
)
def test_json_text_keeps_text_and_serialises_the_rest(raw, expected):
    assert to_json_text(raw) == expected


def test_lossy_coercions_keep_the_raw_value_in_extra_under_its_location():
    record = RecordShaper(COERCED).shape(
        {
            "_id": "a",
            "shared": "everyone",
            "integrations": {"zoom": ["on"]},
            "stages": [{"hasOpens": 1}, {"hasOpens": "many"}, {"hasOpens": 2.5}],
            "answers": [{"respondents": [{"email": "x"}]}, {"respondents": [[1, 2]]}],
        }
    )
    assert record["shared"] is None
    # Wrapped as the coercion says, then its own field refuses what it cannot hold.
    assert record["integrations"] == {"zoom": {"enabled": None}}
    assert [stage["hasOpens"] for stage in record["stages"]] == [1, None, None]
    assert record["answers"][1]["respondents"] == [{"email": None}]
    assert record[EXTRA_FIELD] == {
        "shared": "everyone",
        "integrations.zoom.enabled": ["on"],
        "stages[1].hasOpens": "many",
        "stages[2].hasOpens": 2.5,
        "answers[1].respondents[0].email": [1, 2],
    }


def test_unreadable_timestamps_in_arrays_are_kept_one_key_per_item():
    record = RecordShaper(SCHEMA).shape(
        {"_id": "a", "stages": [{"sentAt": "soon"}, {"sentAt": 1478284647090}, {"sentAt": "later"}]}
    )
    assert [stage["sentAt"] for stage in record["stages"]] == [
        None,
        "2016-11-04T18:37:27.090Z",
        None,
    ]
    assert record[EXTRA_FIELD] == {"stages[0].sentAt": "soon", "stages[2].sentAt": "later"}


@pytest.mark.parametrize(
    "prop",
    [
        {"type": ["string", "null"], "x-coerce": "to-text"},  # unknown name
        {"type": ["object", "null"], "x-coerce": "object:"},  # no key to wrap into
        {"type": ["integer", "null"], "x-coerce": "json-text"},  # makes a string
        {"type": ["string", "object", "null"], "x-coerce": "json-text"},  # still a union
    ],
)
def test_a_coercion_that_cannot_give_the_declared_type_is_a_schema_error(prop):
    with pytest.raises(ValueError, match="x-coerce"):
        RecordShaper({"type": "object", "properties": {"field": prop}})


def test_every_stream_schema_names_known_coercions_of_its_own_types():
    from tap_mixmax.client import load_schema
    from tap_mixmax.streams import STREAM_TYPES

    found = {
        (stream.name, ".".join(path))
        for stream in STREAM_TYPES
        for path, _ in coercion_paths(load_schema(stream.name))
    }
    # The unions of issue 14, less roundRobinQueue[]: numbers since issue 21, whose numeric
    # text the type-driven conversion reads without a coercion of its own; and the
    # enhancement's category (issue 21), an object or text kept as JSON text.
    assert found == {
        ("sequence_recipients", "stages.[].hasOpens"),
        ("sequence_recipients", "stages.[].hasLinks"),
        ("sequence_recipients", "stages.[].hasFiles"),
        ("messages", "errorResponse"),
        ("snippets", "shared"),
        ("snippet_tags", "shared"),
        ("meeting_types", "integrations.zoom"),
        ("meeting_types", "integrations.hangoutsMeet"),
        ("meeting_invites", "timeslots.[].events.[].customFields.[]"),
        ("meeting_invites", "additionalGuests.[]"),
        ("yesno", "answers.[].respondents.[]"),
        ("integration_enhancements", "category"),
    }
