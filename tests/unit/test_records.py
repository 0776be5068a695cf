"""Record shaping: every timestamp form becomes one RFC 3339 form; nothing is dropped."""

import pytest

from tap_mixmax.records import (
    EXTRA_FIELD,
    RecordShaper,
    TimestampError,
    datetime_paths,
    normalize_timestamp,
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

    assert sorted(normalized) == [normalize_timestamp(v) for v in sorted(values, key=to_datetime)]


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
