"""SIGKILL the tap at random moments; resuming from its last STATE loses no row."""

from __future__ import annotations

import random

import pytest
from tap_harness import record_ids, run_tap, run_until_killed, sandbox_config, tap_process

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
