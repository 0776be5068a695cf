"""The record fast path (sdk.SdkStream._write_record_message) writes what the SDK would.

client.py writes a plain record itself instead of calling the SDK's record building
(selection walk, type conformance, stream maps). That is only right while the SDK's own
path would write the same message: these compare the two on the same shaped records, in
the configurations that take the fast path and in those that must not. A new SDK that
builds records differently (another field, another copy, another side effect) fails here
instead of being bypassed in silence.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from tap_harness import catalog_for

from tap_mixmax.client import MixmaxStream
from tap_mixmax.sdk import SdkStream
from tap_mixmax.tap import TapMixmax

BASE_CONFIG = {"api_url": "http://127.0.0.1:9/v1", "api_token": "tok_fast_path_1234"}
# Streams with nested objects, a child (its parent's key joins the row) and a singleton.
STREAMS = ("messages", "sequence_recipients", "livefeed", "users")
SAMPLE_ROWS = 4


def _deselect(stream: str, field: str) -> dict[str, Any]:
    catalog = catalog_for(None, BASE_CONFIG)
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == stream)
    (node,) = [m for m in entry["metadata"] if m["breadcrumb"] == ["properties", field]]
    node["metadata"]["selected"] = False
    return catalog


# name: (extra config, catalog or None, does the fast path apply?)
VARIANTS: dict[str, tuple[dict[str, Any], Any, bool]] = {
    "defaults": ({}, None, True),
    "activate-version": ({"emit_activate_version_messages": True}, None, True),
    "a-deselected-field": ({}, lambda stream: _deselect(stream, "_extra"), False),
    "a-stream-map": ({"stream_maps": {s: {"_extra": None} for s in STREAMS}}, None, False),
    "an-alias": ({"stream_maps": {s: {"__alias__": f"{s}_x"} for s in STREAMS}}, None, False),
    "a-copy-of-the-stream": (
        {"stream_maps": {f"{s}_copy": {"__source__": s} for s in STREAMS}},
        None,
        False,
    ),
    "flattening": ({"flattening_enabled": True, "flattening_max_depth": 1}, None, False),
}


@pytest.fixture(scope="module")
def raw_rows() -> dict[str, list[dict[str, Any]]]:
    from mixmax_sandbox import Sandbox

    sandbox = Sandbox(seed=3, scale="small")  # its data only: nothing is served
    rows = {stream: sandbox.records(stream)[:SAMPLE_ROWS] for stream in STREAMS}
    assert all(rows.values()), {stream: len(found) for stream, found in rows.items()}
    return rows


def _stream(variant: str, name: str) -> MixmaxStream:
    extra, catalog, _ = VARIANTS[variant]
    config = {**BASE_CONFIG, **extra}
    tap = TapMixmax(config=config, catalog=catalog(name) if catalog else None)
    stream = tap.streams[name]
    assert isinstance(stream, MixmaxStream)
    stream._stream_version = 1_700_000_000 if extra.get("emit_activate_version_messages") else None
    return stream


def _shaped(stream: MixmaxStream, row: dict[str, Any]) -> dict[str, Any]:
    parent = {"sequenceId": row["sequenceId"]} if stream.name == "sequence_recipients" else None
    record = stream.post_process(copy.deepcopy(row), parent)
    assert record is not None
    return record


def _written(stream: MixmaxStream, record: dict[str, Any], write: Any) -> tuple[list, dict]:
    """The messages one write sends, and what it changed on the stream and its state."""
    messages: list[Any] = []
    stream._tap.write_message = messages.append  # type: ignore[misc, assignment]  # a spy on the @final writer
    stream.state_manager.is_flushed = True
    before = dict(vars(stream)), dict(vars(stream.state_manager))
    write(copy.deepcopy(record))
    after = dict(vars(stream)), dict(vars(stream.state_manager))
    changed = {
        f"{owner}.{key}": value
        for owner, old, new in (("stream", before[0], after[0]), ("state", before[1], after[1]))
        for key, value in new.items()
        if key not in old or old[key] is not value
    }
    return messages, changed


@pytest.mark.parametrize("name", STREAMS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_fast_path_writes_what_the_sdk_would(raw_rows, variant, name):
    stream = _stream(variant, name)
    expected_fast = VARIANTS[variant][2]
    assert stream._records_go_out_as_they_are is expected_fast, variant
    sdk_write = super(SdkStream, stream)._write_record_message
    compared = 0
    for row in raw_rows[name]:
        record = _shaped(stream, row)
        ours, our_changes = _written(stream, record, stream._write_record_message)
        theirs, their_changes = _written(stream, record, sdk_write)
        assert ours and len(ours) == len(theirs), (variant, name)
        for mine, sdk in zip(ours, theirs, strict=True):
            assert type(mine) is type(sdk)
            # Ours is when the page arrived, the SDK's when the row is written.
            assert isinstance(mine.time_extracted, dt.datetime) and mine.time_extracted.tzinfo
            assert mine.time_extracted <= sdk.time_extracted
            assert {**mine.to_dict(), "time_extracted": None} == {
                **sdk.to_dict(),
                "time_extracted": None,
            }
        assert our_changes == their_changes, (variant, name)
        compared += 1
    assert compared == len(raw_rows[name])


def test_the_fast_path_is_taken_by_default():
    """Else every comparison above would compare the SDK's path with itself."""
    taken = [name for name in STREAMS if _stream("defaults", name)._records_go_out_as_they_are]
    assert taken == list(STREAMS)
