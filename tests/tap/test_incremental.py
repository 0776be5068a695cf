"""Incremental syncs against a sandbox whose world moves on."""

from __future__ import annotations

import datetime as dt

from tap_harness import run_tap, sandbox_config

from tap_mixmax.records import normalize_timestamp

INCREMENTAL = ("messages", "polls", "unsubscribes", "livefeed")


def _count(requests_made, path_suffix: str) -> int:
    return sum(1 for r in requests_made if r.path.endswith(path_suffix))


def test_rerun_without_changes_costs_at_most_two_requests_per_incremental_stream(sandbox):
    config = sandbox_config(sandbox)
    first = run_tap(config, streams=set(INCREMENTAL))
    sandbox.clear_requests()
    second = run_tap(config, streams=set(INCREMENTAL), state=first.last_state)
    made = list(sandbox.requests)
    for stream in ("messages", "polls", "unsubscribes", "livefeed"):
        assert _count(made, f"/v1/{stream}") <= 2, stream
    # Nothing new happened, so nothing newer than the bookmarks may be missing, and
    # the state is unchanged.
    assert second.last_state["bookmarks"]["messages"] == first.last_state["bookmarks"]["messages"]


def test_rerun_after_time_moves_picks_up_every_new_and_changed_row(sandbox):
    config = sandbox_config(sandbox)
    streams = {*INCREMENTAL, "livefeed_events", "sequences", "sequence_recipients", "snippets"}
    first = run_tap(config, streams=streams)
    before = {s: {r["_id"]: r for r in sandbox.records(s)} for s in streams}
    sandbox.advance(days=1)
    sandbox.clear_requests()
    second = run_tap(config, streams=streams, state=first.last_state)
    for stream in streams:
        now = {r["_id"]: r for r in sandbox.records(stream)}
        new_or_changed = {i for i, r in now.items() if before[stream].get(i) != r}
        assert new_or_changed or stream in {"unsubscribes"}, f"advance changed no {stream}"
        emitted = set(second.ids(stream))
        missing = new_or_changed - emitted
        assert not missing, f"{stream}: {len(missing)} new or changed rows not re-emitted"
        # And the union of both runs is exactly the sandbox now.
        assert set(first.ids(stream)) | emitted == set(now), stream
    # Incremental streams stay cheap: one day of changes fits in a page or two.
    made = list(sandbox.requests)
    for stream in ("messages", "polls", "unsubscribes"):
        assert _count(made, f"/v1/{stream}") <= 2, stream


def test_event_on_an_old_message_arrives_in_the_next_sync(sandbox):
    config = sandbox_config(sandbox)
    streams = {"livefeed", "livefeed_events"}
    first = run_tap(config, streams=streams)
    bookmark = first.last_state["bookmarks"]["livefeed"]["replication_key_value"]
    sandbox.advance(days=1)
    new_events = set(sandbox.ids("livefeed_events")) - set(first.ids("livefeed_events"))
    assert new_events, "the sandbox advance made no events"
    second = run_tap(config, streams=streams, state=first.last_state)
    assert new_events <= set(second.ids("livefeed_events"))
    # Some of them belong to a message sent more than a week before the bookmark.
    sent_by_message = {
        r["messageId"]: normalize_timestamp(r["sent"]) for r in sandbox.records("livefeed")
    }
    week_before = normalize_timestamp(
        dt.datetime.fromisoformat(bookmark.replace("Z", "+00:00")) - dt.timedelta(days=7)
    )
    old = [
        e
        for e in second.records["livefeed_events"]
        if e["_id"] in new_events and sent_by_message[e["messageId"]] < week_before
    ]
    assert old, "no new event on an old message: the test proves nothing"


def test_livefeed_asks_for_everyone_and_a_sent_window_once_bookmarked(sandbox):
    config = sandbox_config(sandbox, livefeed_activity_days=30)
    first = run_tap(config, streams={"livefeed"})
    sandbox.clear_requests()
    run_tap(config, streams={"livefeed"}, state=first.last_state)
    query = next(r.query for r in sandbox.requests if r.path.endswith("/livefeed"))
    assert "from:everyone" in query["q"]
    bookmark = dt.datetime.fromisoformat(
        first.last_state["bookmarks"]["livefeed"]["replication_key_value"].replace("Z", "+00:00")
    )
    start = (bookmark - dt.timedelta(days=31)).strftime("%m/%d/%Y")
    assert f"sent:{start}-" in query["q"]


def test_start_date_bounds_incremental_streams(sandbox):
    cut = dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)
    config = sandbox_config(sandbox, start_date=cut.isoformat())
    output = run_tap(config, streams=set(INCREMENTAL))
    keys = {
        "messages": "created",
        "polls": "created",
        "unsubscribes": "createdAt",
        "livefeed": "sent",
    }
    for stream, key in keys.items():
        expected = {
            r["_id"]
            for r in sandbox.records(stream)
            if normalize_timestamp(r[key]) >= normalize_timestamp(cut)
        }
        assert expected, f"no {stream} after the start date: the test proves nothing"
        assert set(output.ids(stream)) == expected, stream
