"""Incremental syncs against a sandbox whose world moves on."""

from __future__ import annotations

import datetime as dt

from request_counts import events_requested, incremental_minimum, requests_by_stream
from tap_harness import STREAM_PATHS, run_tap, sandbox_config

from tap_mixmax.records import normalize_timestamp

INCREMENTAL = ("messages", "polls", "unsubscribes", "livefeed")


# Small pages, so that reading down to bookmark - lookback spans several of them.
PAGE = 20


def present(timestamp: str | None) -> str:
    """A normalized timestamp that must be there (None does not compare)."""
    assert timestamp is not None, "a timestamp is missing"
    return timestamp


def minimum(sb, requests_made, state: dict) -> tuple[dict, set[str]]:
    return incremental_minimum(
        sb.records,
        requests_made,
        state,
        PAGE,
        served_events=lambda message: len(sb.world.served_events(message)),
    )


def test_rerun_without_changes_costs_exactly_the_fewest_requests(sandbox):
    config = sandbox_config(sandbox, page_size=PAGE)
    streams = {*INCREMENTAL, "livefeed_events"}
    first = run_tap(config, streams=streams)
    sandbox.clear_requests()
    second = run_tap(config, streams=streams, state=first.last_state)
    made = list(sandbox.requests)
    expected, active = minimum(sandbox, made, first.final_state)
    assert dict(requests_by_stream(made, STREAM_PATHS)) == {
        "users": 1,  # the connection check
        **{stream: n for stream, n in expected.items() if n},
    }
    assert expected["messages"] > 1, "the lookback fits in one page: the count proves little"
    # Events only of messages whose last event is not older than the last sync's bookmark.
    assert events_requested(made) == active
    # Nothing new happened, so the state is unchanged.
    for stream in INCREMENTAL:
        assert second.final_state["bookmarks"][stream] == first.final_state["bookmarks"][stream]


def test_rerun_after_time_moves_picks_up_every_new_and_changed_row(sandbox):
    config = sandbox_config(sandbox, page_size=PAGE)
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
    # Incremental streams read only what changed: exactly down to bookmark - lookback.
    made = list(sandbox.requests)
    expected, active = minimum(sandbox, made, first.final_state)
    counts = requests_by_stream(made, STREAM_PATHS)
    assert {stream: counts[stream] for stream in expected} == expected
    # Events are read for the rows with new activity, and only for them.
    assert events_requested(made) == active
    emitted_feed = second.records["livefeed"]
    assert 0 < len(active) < len(emitted_feed), "no row with and without new activity"


def test_event_on_an_old_message_arrives_in_the_next_sync(sandbox):
    config = sandbox_config(sandbox)
    streams = {"livefeed", "livefeed_events"}
    first = run_tap(config, streams=streams)
    bookmark = first.final_state["bookmarks"]["livefeed"]["replication_key_value"]
    sandbox.advance(days=1)
    new_events = set(sandbox.ids("livefeed_events")) - set(first.ids("livefeed_events"))
    assert new_events, "the sandbox advance made no events"
    second = run_tap(config, streams=streams, state=first.last_state)
    assert new_events <= set(second.ids("livefeed_events"))
    # Some of them belong to a message sent more than a week before the bookmark.
    sent_by_message = {
        r["messageId"]: normalize_timestamp(r["sent"]) for r in sandbox.records("livefeed")
    }
    week_before = present(
        normalize_timestamp(
            dt.datetime.fromisoformat(bookmark.replace("Z", "+00:00")) - dt.timedelta(days=7)
        )
    )
    old = [
        e
        for e in second.records["livefeed_events"]
        if e["_id"] in new_events and present(sent_by_message[e["messageId"]]) < week_before
    ]
    assert old, "no new event on an old message: the test proves nothing"


def test_livefeed_asks_for_everyone_and_a_sent_window_once_bookmarked(sandbox):
    config = sandbox_config(sandbox, livefeed_activity_days=30)
    first = run_tap(config, streams={"livefeed"})
    sandbox.clear_requests()
    run_tap(config, streams={"livefeed"}, state=first.last_state)
    query = next(r.query for r in sandbox.requests if r.path.endswith("/livefeed"))
    assert "from:everyone" in query["query"]
    bookmark = dt.datetime.fromisoformat(
        first.final_state["bookmarks"]["livefeed"]["replication_key_value"].replace("Z", "+00:00")
    )
    start = (bookmark - dt.timedelta(days=31)).strftime("%m/%d/%Y")
    assert f"sent:{start}-" in query["query"]


def test_the_live_feed_search_goes_where_livefeed_query_param_says():
    from mixmax_sandbox import Sandbox

    drift = {"livefeed_query_param": "q"}
    with Sandbox(seed=42, scale="small", rate_limit=None, drift=drift) as sb:
        config = sandbox_config(sb, livefeed_query_param="q")
        first = run_tap(config, streams={"livefeed"})
        sb.clear_requests()
        second = run_tap(config, streams={"livefeed"}, state=first.last_state)
        feed = [r for r in sb.requests if r.path == "/v1/livefeed"]
        assert feed and all("sent:" in r.query["q"] and "query" not in r.query for r in feed)
        # The window was read: the second sync re-read far fewer rows than the whole feed.
        assert 0 < len(second.records["livefeed"]) < len(sb.records("livefeed")) / 2


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
            if present(normalize_timestamp(r[key])) >= present(normalize_timestamp(cut))
        }
        assert expected, f"no {stream} after the start date: the test proves nothing"
        assert set(output.ids(stream)) == expected, stream
