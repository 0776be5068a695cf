"""Stream lanes: several stream families at once, one pace, one valid Singer output."""

from __future__ import annotations

import collections
import random

import pytest
from tap_harness import (
    TapOutput,
    assert_last_state_is_the_newest,
    record_ids,
    run_tap,
    run_tap_process,
    run_until_killed,
    run_until_terminated,
    sandbox_config,
    tap_process,
)

from tap_mixmax.pacing import RequestPacer

FAMILIES = {
    "messages": "messages",
    "polls": "polls",
    "sequences": "sequences",
    "sequence_recipients": "sequences",
    "livefeed": "livefeed",
    "livefeed_events": "livefeed",
}
STREAMS = set(FAMILIES)


def sandbox_with(**kwargs):
    from mixmax_sandbox import Sandbox

    return Sandbox(**{"seed": 9, "scale": "small", "rate_limit": None, **kwargs})


def family_of(path: str) -> str | None:
    if path.startswith("/v1/sequences"):
        return "sequences"
    if path.startswith("/v1/livefeed"):
        return "livefeed"
    for family in ("messages", "polls"):
        if path == f"/v1/{family}":
            return family
    return None


def family_runs(sb) -> list[str]:
    """The order in which families were requested, with repeats collapsed."""
    families = [family_of(r.path) for r in sb.requests]
    ordered = [f for f in families if f is not None]
    return [f for i, f in enumerate(ordered) if i == 0 or ordered[i - 1] != f]


def assert_exact(output: TapOutput, sb) -> None:
    assert all(sb.ids(stream) for stream in STREAMS), "nothing to compare"
    for stream in STREAMS:
        ids = output.ids(stream)
        assert len(ids) == len(set(ids)), f"duplicates in {stream}"
        assert set(ids) == set(sb.ids(stream)), stream


@pytest.mark.slow
def test_lanes_interleave_families_and_lose_nothing():
    with sandbox_with() as sb:
        # Slow answers make the lanes overlap, as a slow API would.
        sb.add_fault("slow", probability=1.0, seed=1, times=0, delay=0.05)
        output = run_tap(sandbox_config(sb, page_size=20, max_parallel_streams=3), streams=STREAMS)
        assert_exact(output, sb)
        runs = family_runs(sb)
        assert len(runs) > len(set(runs)), f"families ran one after another: {runs}"


def test_one_lane_syncs_one_family_after_another():
    with sandbox_with() as sb:
        output = run_tap(sandbox_config(sb, page_size=20, max_parallel_streams=1), streams=STREAMS)
        assert_exact(output, sb)
        runs = family_runs(sb)
        assert len(runs) == len(set(runs)), f"families interleaved: {runs}"


def test_lanes_share_one_pacer_and_schema_goes_out_once(monkeypatch):
    slots: collections.Counter[int] = collections.Counter()  # pacer -> requests it let go
    original = RequestPacer.wait_for_slot

    def spy(self):
        slots[id(self)] += 1
        return original(self)

    monkeypatch.setattr(RequestPacer, "wait_for_slot", spy)
    with sandbox_with() as sb:
        output = run_tap(sandbox_config(sb, max_parallel_streams=4), streams=STREAMS)
        assert_exact(output, sb)
        sent = len(sb.requests)
    assert len(slots) == 1, "lanes must share the token's pacer"
    # Every request the sandbox saw waited for that pacer: no lane went around it.
    assert sum(slots.values()) == sent > len(STREAMS)
    schemas = [m["stream"] for m in output.messages if m["type"] == "SCHEMA"]
    assert sorted(schemas) == sorted(STREAMS)


def test_the_final_state_holds_every_lanes_bookmark_and_no_other():
    with sandbox_with() as sb:
        config = sandbox_config(sb, max_parallel_streams=3)
        first = run_tap(config, streams=STREAMS)
        bookmarks = first.final_state["bookmarks"]
        for stream in ("messages", "polls", "livefeed"):
            assert bookmarks[stream]["replication_key_value"], stream
        # An unselected stream's bookmark from the input is carried, untouched.
        state = {"bookmarks": {**bookmarks, "unsubscribes": {"replication_key_value": "X"}}}
        sb.advance(days=1)
        second = run_tap(config, streams=STREAMS, state=state)
        final = second.final_state["bookmarks"]
        assert final["unsubscribes"] == {"replication_key_value": "X"}
        assert (
            final["messages"]["replication_key_value"]
            > bookmarks["messages"]["replication_key_value"]
        )


@pytest.mark.slow
def test_a_failing_lane_lets_the_others_finish_then_fails_in_one_line(tmp_path):
    with sandbox_with() as sb:
        sb.add_fault("500", path="/polls", times=0)  # polls never succeeds
        config = sandbox_config(sb, max_parallel_streams=2, retry_budget_seconds=2)
        result = run_tap_process(tap_process(tmp_path, config, streams=STREAMS))
        assert result.returncode == 1
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("tap-mixmax: error: Mixmax kept failing for stream polls"), last
        assert "Traceback" not in result.stderr
        output = TapOutput.parse(result.stdout)
        for stream in STREAMS - {"polls"}:
            assert set(output.ids(stream)) == set(sb.ids(stream)), stream
        bookmarks = output.final_state["bookmarks"]
        assert bookmarks["messages"]["replication_key_value"]
        assert "replication_key_value" not in bookmarks.get("polls", {})


@pytest.mark.parametrize("users", [True, False], ids=["users-lane-first", "users-me-first"])
def test_a_bad_token_costs_one_request_with_lanes(tmp_path, users):
    # With users selected, its lane proves the token; without, one /users/me does.
    streams = STREAMS | {"users"} if users else STREAMS
    with sandbox_with() as sb:
        config = sandbox_config(sb, api_token="wrong", max_parallel_streams=4)
        result = run_tap_process(tap_process(tmp_path, config, streams=streams))
        assert result.returncode == 1
        assert "Mixmax rejected the API token" in result.stderr.strip().splitlines()[-1]
        assert len(sb.requests) == 1


@pytest.mark.slow
def test_kill_and_resume_with_lanes_loses_no_row(tmp_path):
    rng = random.Random("lanes-kill")
    with sandbox_with(scale="medium", seed=13) as sb:
        streams = {"messages", "polls", "unsubscribes", "livefeed", "livefeed_events"}
        config = sandbox_config(sb, page_size=25, max_parallel_streams=3)
        complete = run_tap(config, streams=streams)
        total = len(complete.messages)
        for _ in range(4):
            kill_at = rng.randint(2, total - 1)
            killed = run_until_killed(tap_process(tmp_path, config, streams=streams), kill_at)
            states = [m["value"] for m in killed if m["type"] == "STATE"]
            resumed = run_tap(config, streams=streams, state=states[-1] if states else None)
            for stream in streams:
                union = record_ids(killed, stream) | set(resumed.ids(stream))
                missing = set(sb.ids(stream)) - union
                assert not missing, f"killed at line {kill_at}: {len(missing)} {stream} lost"


def test_records_of_each_stream_follow_its_schema_message():
    with sandbox_with() as sb:
        output = run_tap(sandbox_config(sb, max_parallel_streams=3), streams=STREAMS)
    seen_schema: set[str] = set()
    counts: collections.Counter[str] = collections.Counter()
    for message in output.messages:
        if message["type"] == "SCHEMA":
            seen_schema.add(message["stream"])
        elif message["type"] == "RECORD":
            assert message["stream"] in seen_schema, message["stream"]
            counts[message["stream"]] += 1
    assert set(counts) == STREAMS


@pytest.mark.slow
def test_sigterm_stops_every_lane_at_once_and_the_last_state_covers_its_records(tmp_path):
    lanes = 3
    with sandbox_with(scale="medium", seed=13) as sb:
        sb.add_fault("slow", probability=1.0, seed=1, times=0, delay=0.02)
        streams = {"messages", "polls", "unsubscribes", "livefeed", "livefeed_events"}
        config = sandbox_config(sb, page_size=25, max_parallel_streams=lanes, lookback_days=0)
        argv = tap_process(tmp_path, config, streams=streams)
        messages, heard = run_until_terminated(argv, after_lines=1500)
        after = [r for r in sb.requests if r.time > heard]
        assert len(after) <= 2 * lanes, f"{len(after)} requests after SIGTERM: lanes went on"
        assert messages[-1]["type"] == "STATE", "the last word must be the state"
        assert_last_state_is_the_newest(messages)
        sb.clear_faults()
        resumed = run_tap(config, streams=streams, state=messages[-1]["value"])
        for stream in streams:
            union = record_ids(messages, stream) | set(resumed.ids(stream))
            assert set(sb.ids(stream)) <= union, f"{stream}: rows lost after SIGTERM"
