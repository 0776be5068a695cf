"""The core streams against the real sandbox: exact ids, types, order, and few requests."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter

import jsonschema
import pytest
from request_counts import full_sync_minimum, requests_by_stream
from tap_harness import STREAM_PATHS, run_tap, sandbox_config

from tap_mixmax.streams import CORE_STREAMS, STREAM_TYPES

ALL_STREAMS = [stream.name for stream in STREAM_TYPES]
INCREMENTAL = {
    "messages": "created",
    "polls": "created",
    "unsubscribes": "createdAt",
    "livefeed": "sent",
}
# Streams whose rows carry no timestamp at all.
UNDATED = {
    "users",
    "appointment_links",
    "user_preferences",
    "integration_commands",
    "integration_enhancements",
    "integration_sidebars",
}
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
KEYS = {
    "team_members": ("teamId", "memberId"),
    "appointment_links": ("userId",),
    "snippet_tag_snippets": ("snippetTagId", "_id"),
}


def key_of(stream: str, record: dict) -> tuple:
    return tuple(record[k] for k in KEYS.get(stream, ("_id",)))


def sandbox_keys(sb, stream: str) -> list[tuple]:
    return [key_of(stream, r) for r in sb.records(stream)]


@pytest.fixture(scope="module")
def full_sync(shared_sandbox):
    shared_sandbox.clear_requests()
    output = run_tap(sandbox_config(shared_sandbox))
    return output, list(shared_sandbox.requests)


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_full_sync_emits_exactly_the_sandbox_rows_once(shared_sandbox, full_sync, stream):
    output, _ = full_sync
    emitted = [key_of(stream, r) for r in output.records[stream]]
    expected = sandbox_keys(shared_sandbox, stream)
    assert expected, f"the sandbox has no {stream} rows, so this test would prove nothing"
    assert len(emitted) == len(set(emitted)), f"duplicates in {stream}"
    assert set(emitted) == set(expected)


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_records_match_their_schema_and_come_after_it(full_sync, stream):
    output, _ = full_sync
    schema_seen = False
    validator = None
    validated = 0
    for message in output.messages:
        if message.get("stream") != stream:
            continue
        if message["type"] == "SCHEMA":
            schema_seen = True
            validator = jsonschema.Draft7Validator(
                message["schema"], format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
            )
        elif message["type"] == "RECORD":
            assert schema_seen, f"{stream} RECORD before its SCHEMA"
            assert validator is not None
            validator.validate(message["record"])
            validated += 1
            # The sandbox only sends documented fields: anything in _extra is schema drift.
            assert message["record"]["_extra"] is None, message["record"]["_extra"]
    assert validated, f"no {stream} record was validated"


def _datetime_values(schema: dict, value, path=""):
    if value is None:
        return
    if schema.get("format") == "date-time":
        yield path, value
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            yield from _datetime_values(sub, value.get(name), f"{path}.{name}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            yield from _datetime_values(schema["items"], item, f"{path}[]")


@pytest.mark.parametrize("stream", ALL_STREAMS)
def test_every_timestamp_is_rfc3339_utc(full_sync, stream):
    output, _ = full_sync
    schema = output.schemas()[stream]["schema"]
    assert output.records[stream], f"no {stream} record: the check would prove nothing"
    seen = 0
    for record in output.records[stream]:
        for path, value in _datetime_values(schema, record):
            seen += 1
            assert RFC3339.match(value), f"{stream}{path}={value!r}"
    assert seen or stream in UNDATED


def test_full_sync_pages_at_300_and_reads_every_recipient_page(shared_sandbox, full_sync):
    _, requests_made = full_sync
    lists = [r for r in requests_made if "limit" in r.query]
    assert lists and all(r.query["limit"] == "300" for r in lists)
    # Every recipient request asks for variables, and starts right after the rows served.
    recipient_requests = [r for r in requests_made if r.path.endswith("/recipients")]
    assert all(r.query.get("includeVariables") == "true" for r in recipient_requests)
    per_sequence: dict[str, list[int]] = {}
    for r in recipient_requests:
        per_sequence.setdefault(r.path.split("/")[-2], []).append(int(r.query["offset"]))
    assert any(max(offsets) >= 300 for offsets in per_sequence.values()), "no sequence spans pages"
    counts = Counter(row["sequenceId"] for row in shared_sandbox.records("sequence_recipients"))
    for sequence, offsets in per_sequence.items():
        assert offsets[0] == 0
        for before, after in itertools.pairwise(offsets):
            assert after == before + min(300, counts[sequence] - before), (sequence, offsets)


def test_full_sync_uses_exactly_the_fewest_requests(shared_sandbox, full_sync):
    """Per stream: ceil(rows/300) pages of each list (one if empty), recipients by offset
    until a short page, one page per team's members and per message with activity, rule
    actions embedded in /rules; nothing more."""
    _, requests_made = full_sync
    made = requests_by_stream(requests_made, STREAM_PATHS)
    expected = full_sync_minimum(shared_sandbox)
    assert dict(made) == {stream: n for stream, n in expected.items() if n}
    assert sum(made.values()) > 2 * len(ALL_STREAMS), "too small a sandbox to count pages"
    # No request is ever repeated: every path+query pair is unique.
    signatures = [(r.path, tuple(sorted(r.query.items()))) for r in requests_made]
    assert len(signatures) == len(set(signatures))


CORE = [stream.name for stream in CORE_STREAMS]
SMALL_PAGE = 37  # not a divisor of any count here: short last pages and several pages


def test_every_list_is_read_to_its_end_in_exactly_the_fewest_pages(shared_sandbox):
    shared_sandbox.clear_requests()
    output = run_tap(sandbox_config(shared_sandbox, page_size=SMALL_PAGE), streams=set(CORE))
    made = requests_by_stream(shared_sandbox.requests, STREAM_PATHS)
    expected = full_sync_minimum(shared_sandbox, SMALL_PAGE)
    assert dict(made) == {stream: expected[stream] for stream in CORE}
    assert made["messages"] > 2, "messages fit in two pages: paging is barely exercised"
    assert made["sequence_recipients"] > len(shared_sandbox.ids("sequences"))
    for stream in CORE:
        assert sorted(output.ids(stream)) == sorted(shared_sandbox.ids(stream)), stream


def test_state_does_not_grow_with_parents(full_sync):
    output, _ = full_sync
    bookmarks = output.last_state["bookmarks"]
    state_text = json.dumps(output.last_state)
    children = {
        "sequence_recipients": "sequenceId",
        "livefeed_events": "messageId",
        "team_members": "teamId",
        "rule_actions": "ruleId",
    }
    for child, parent_key in children.items():
        parents = {record[parent_key] for record in output.records[child]}
        assert len(parents) > 1, f"{child} came from {len(parents)} parents: this proves nothing"
        assert "partitions" not in bookmarks.get(child, {}), bookmarks.get(child)
        assert not [parent for parent in parents if parent in state_text], f"{child} per parent"


def test_incremental_streams_bookmark_their_newest_row(full_sync):
    output, _ = full_sync
    bookmarks = output.last_state["bookmarks"]
    for stream, key in INCREMENTAL.items():
        newest = max(r[key] for r in output.records[stream])
        assert bookmarks[stream]["replication_key"] == key
        assert bookmarks[stream]["replication_key_value"] == newest
        assert "progress_markers" not in bookmarks[stream]
