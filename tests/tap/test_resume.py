"""SIGKILL the tap at random moments; resuming from its last STATE loses no row."""

from __future__ import annotations

import random
from typing import Any

import pytest
from tap_harness import record_ids, run_tap, run_until_killed, sandbox_config, tap_process

from tap_mixmax.client import MixmaxStream

KILLS_PER_STREAM = 3
# Lists need thousands of rows so that progress STATEs appear mid-stream; children cost a
# request per parent, so a small world keeps them quick.
SCALE = {"livefeed_events": "small", "sequence_recipients": "small"}
RESUMABLE = (
    "messages",
    "polls",
    "unsubscribes",
    "livefeed",
    "livefeed_events",
    "sequence_recipients",
)


def _last_state(messages: list[dict]) -> dict | None:
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1] if states else None


@pytest.mark.slow
@pytest.mark.parametrize("stream", RESUMABLE)
def test_kill_and_resume_loses_no_row(tmp_path, stream):
    from mixmax_sandbox import Sandbox

    rng = random.Random(f"kill-and-resume-{stream}")
    with Sandbox(seed=11, scale=SCALE.get(stream, "medium"), rate_limit=None) as sb:
        config = sandbox_config(sb, page_size=25)
        selected = {stream, "livefeed"} if stream == "livefeed_events" else {stream}
        selected |= {"sequences"} if stream == "sequence_recipients" else set()
        # A killed first sync, then a resumed one.
        complete = run_tap(config, streams=selected)
        total_lines = len(complete.messages)
        for _attempt in range(KILLS_PER_STREAM):
            kill_at = rng.randint(2, total_lines - 1)
            killed = run_until_killed(tap_process(tmp_path, config, streams=selected), kill_at)
            resumed = run_tap(config, streams=selected, state=_last_state(killed))
            union = record_ids(killed, stream) | set(resumed.ids(stream))
            missing = set(sb.ids(stream)) - union
            assert not missing, f"first sync killed at line {kill_at}: {len(missing)} rows lost"
        # An incremental sync killed after the world moved on, then resumed.
        baseline_state = complete.last_state
        sb.advance(days=3)
        incremental_lines = len(run_tap(config, streams=selected, state=baseline_state).messages)
        for _attempt in range(KILLS_PER_STREAM):
            kill_at = rng.randint(2, max(3, incremental_lines - 1))
            argv = tap_process(tmp_path, config, streams=selected, state=baseline_state)
            killed = run_until_killed(argv, kill_at)
            resumed = run_tap(config, streams=selected, state=_last_state(killed) or baseline_state)
            union = (
                set(complete.ids(stream)) | record_ids(killed, stream) | set(resumed.ids(stream))
            )
            missing = set(sb.ids(stream)) - union
            assert not missing, f"incremental sync killed at line {kill_at}: {len(missing)} lost"


def _mid_stream_bookmarks(messages: list[dict], stream: str) -> list[object]:
    """The stream's bookmark in every STATE written while its records were still coming."""
    last_record = max(
        i for i, m in enumerate(messages) if m["type"] == "RECORD" and m["stream"] == stream
    )
    return [
        m["value"]["bookmarks"].get(stream, {}).get("replication_key_value")
        for m in messages[:last_record]
        if m["type"] == "STATE"
    ]


@pytest.mark.parametrize("stream", ["messages", "unsubscribes"])
def test_the_bookmark_moves_only_when_the_stream_ends(stream):
    from mixmax_sandbox import Sandbox

    # More rows than the SDK's progress-STATE interval, so STATEs come mid-stream.
    rows: dict[str, Any] = {stream: 2 * MixmaxStream.STATE_MSG_FREQUENCY + 500}
    with Sandbox(seed=12, scale="tiny", rate_limit=None, **rows) as sb:
        config = sandbox_config(sb, page_size=100)
        first = run_tap(config, streams={stream})
        during = _mid_stream_bookmarks(first.messages, stream)
        assert during, "no STATE mid-stream: the test proves nothing"
        assert set(during) == {None}, "a first sync moved its bookmark before the end"
        old = first.final_state["bookmarks"][stream]["replication_key_value"]
        assert old
        sb.advance(days=2)
        # A resync from an old bookmark (lookback included) re-reads thousands of rows.
        stale = dict(first.final_state)
        stale["bookmarks"] = {stream: {**first.final_state["bookmarks"][stream]}}
        stale["bookmarks"][stream]["replication_key_value"] = "2000-01-01T00:00:00.000Z"
        second = run_tap(config, streams={stream}, state=stale)
        during = _mid_stream_bookmarks(second.messages, stream)
        assert during, "no STATE mid-stream: the test proves nothing"
        assert set(during) == {"2000-01-01T00:00:00.000Z"}
        assert second.final_state["bookmarks"][stream]["replication_key_value"] > old
