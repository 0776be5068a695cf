"""The test harness itself: a misspelt stream name fails instead of reading no rows."""

from __future__ import annotations

import json

import pytest
from tap_harness import TapOutput


def _output(*messages: dict) -> TapOutput:
    return TapOutput.parse("\n".join(json.dumps(m) for m in messages))


OUTPUT = _output(
    {"type": "SCHEMA", "stream": "emails", "schema": {}, "key_properties": []},
    {"type": "RECORD", "stream": "emails", "record": {"_id": "a"}},
    {"type": "RECORD", "stream": "sequences", "record": {"_id": "s"}},
)


def test_rows_of_the_streams_that_sent_them():
    assert OUTPUT.records["emails"] == [{"_id": "a"}]
    assert OUTPUT.ids("sequences") == ["s"]
    assert set(OUTPUT.records) == {"emails", "sequences"}
    assert "sequences" in OUTPUT.records


def test_a_stream_of_the_tap_that_sent_nothing_has_no_rows():
    assert OUTPUT.records["messages"] == []
    assert "messages" not in OUTPUT.records
    assert OUTPUT.records.get("messages") is None
    assert OUTPUT.records.get("messages", []) == []


@pytest.mark.parametrize("read", ["item", "get", "ids"])
def test_a_misspelt_stream_raises(read):
    with pytest.raises(KeyError, match="mesages"):
        if read == "item":
            OUTPUT.records["mesages"]
        elif read == "get":
            OUTPUT.records.get("mesages", [])
        else:
            OUTPUT.ids("mesages")
