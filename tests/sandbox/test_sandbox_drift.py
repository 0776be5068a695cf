"""Drift: the sandbox breaking one guess of the reference at a time (for `--doctor`)."""

from __future__ import annotations

import email.utils

import pytest
from sandbox_http import get, walk

from mixmax_sandbox import Sandbox
from mixmax_sandbox.__main__ import build_parser, drift_of
from mixmax_sandbox.drift import Drift, resource_of
from mixmax_sandbox.shapes import (
    LIVEFEED_COUNTERS,
    LIVEFEED_FLAGS,
    LIVEFEED_LIVE_ONLY,
    MEETING_TYPE_LIVE_ONLY,
    preference_fields,
)

EMPTY_WINDOW = "from:everyone sent:01/01/2001-01/02/2001"


def drifted(**drift):
    return Sandbox(seed=42, scale="small", rate_limit=None, drift=drift)


def test_no_drift_by_default_serves_the_reference(sb, http):
    # The live feed reads `query`, as Airbyte's connector sends it; `q` is not read.
    assert get(http, sb, "/livefeed", query=EMPTY_WINDOW).json()["results"] == []
    assert get(http, sb, "/livefeed", q=EMPTY_WINDOW).json()["results"]
    assert "actions" in get(http, sb, "/rules", expand="actions").json()["results"][0]
    assert len(get(http, sb, "/messages", limit=300).json()["results"]) == 150


def test_live_feed_reads_its_search_string_from_the_chosen_parameter(http):
    with drifted(livefeed_query_param="search") as sb:
        assert get(http, sb, "/livefeed", search=EMPTY_WINDOW).json()["results"] == []
        # `query` is now an unknown parameter: the feed is unfiltered (the user's own mail).
        assert get(http, sb, "/livefeed", query=EMPTY_WINDOW).json()["results"]


def test_the_docs_guess_q_is_a_drift(http):
    with drifted(livefeed_query_param="q") as sb:
        assert get(http, sb, "/livefeed", q=EMPTY_WINDOW).json()["results"] == []
        assert get(http, sb, "/livefeed", query=EMPTY_WINDOW).json()["results"]


def test_events_read_the_message_from_the_chosen_parameter(http):
    with drifted(events_message_param="message") as sb:
        message = next(r["messageId"] for r in sb.records("livefeed") if r["lastEventAt"])
        assert get(http, sb, "/livefeed/events", message=message).json()["results"]
        refused = get(http, sb, "/livefeed/events", messageId=message)
        assert refused.status_code == 400
        assert refused.json() == {"message": "The message parameter is required"}


def test_a_lower_page_cap_applies_to_lists_and_recipients(http):
    with drifted(max_limit=40) as sb:
        page = get(http, sb, "/messages", limit=300).json()
        assert len(page["results"]) == 40 and page["hasNext"] is True
        sequence = max(sb.ids("sequences"), key=lambda s: len(sb.world.sequences[s].recipients))
        assert len(get(http, sb, f"/sequences/{sequence}/recipients", limit=300).json()) == 40
        assert len(get(http, sb, "/messages").json()["results"]) == 40  # default 50 capped too


def test_recipients_can_clamp_silently_and_lists_are_untouched(http):
    with drifted(recipients_max_limit=50) as sb:
        sequence = max(sb.ids("sequences"), key=lambda s: len(sb.world.sequences[s].recipients))
        path = f"/sequences/{sequence}/recipients"
        first = get(http, sb, path, limit=300, offset=0)
        assert first.status_code == 200 and len(first.json()) == 50
        assert set(first.headers) & {"Link", "X-Total-Count"} == set()  # nothing says so
        after = get(http, sb, path, limit=300, offset=50).json()
        assert len(after) == 50 and {r["_id"] for r in after}.isdisjoint(
            r["_id"] for r in first.json()
        )
        assert len(get(http, sb, path, limit=20).json()) == 20  # a smaller limit is honoured
        assert len(get(http, sb, "/messages", limit=300).json()["results"]) == 150


def test_rules_can_ignore_expand_and_envelopes_can_drop_their_flags(http):
    with drifted(rules_expand=False, paging_flags=False) as sb:
        page = get(http, sb, "/rules", expand="actions").json()
        assert "actions" not in page["results"][0]
        assert "hasNext" not in page and "hasPrevious" not in page and "next" in page


def test_an_optional_field_is_left_out_of_about_half_the_rows_always_the_same(http):
    with drifted(optional_fields=("unsubscribes.userId",)) as sb:
        first = get(http, sb, "/unsubscribes", limit=300).json()["results"]
        again = get(http, sb, "/unsubscribes", limit=7).json()["results"]
        polls = get(http, sb, "/polls", limit=300).json()["results"]
    without = {row["_id"] for row in first if "userId" not in row}
    assert 0 < len(without) < len(first)
    assert {row["_id"] for row in again if "userId" not in row} == without & {
        row["_id"] for row in again
    }  # whatever the page, the same rows
    assert all("userId" in row for row in polls)


def test_timestamp_styles_and_extra_fields_rewrite_only_their_resource(http):
    styles = {
        "messages.created": "rfc2822",
        "snippets.createdAt": "seconds",
        "rules.createdAt": "ms",
    }
    with drifted(timestamp_styles=styles, extra_fields=("polls.mood",)) as sb:
        served = get(http, sb, "/messages", limit=1).json()["results"][0]
        truth = sb.records("messages")[0]
        moment = email.utils.parsedate_to_datetime(served["created"])
        assert int(moment.timestamp() * 1000) == truth["created"] // 1000 * 1000
        assert served["updatedAt"] == truth["updatedAt"]  # other fields untouched
        snippet = get(http, sb, "/snippets", limit=1).json()["results"][0]
        assert snippet["createdAt"] == sb.records("snippets")[0]["createdAt"] // 1000
        assert isinstance(get(http, sb, "/rules", limit=1).json()["results"][0]["createdAt"], int)
        assert get(http, sb, "/polls", limit=1).json()["results"][0]["mood"] is True
        assert "mood" not in sb.records("polls")[0]  # the world itself is unchanged
        assert "mood" not in get(http, sb, "/yesno", limit=1).json()["results"][0]


def test_by_default_rows_take_the_shapes_live_rows_show(sb, http):
    """docs/mixmax-api.md, "Field sources": what the live-API connectors saw (R1, R8)."""
    feed = walk(http, sb, "/livefeed", limit=300, query="from:everyone")[0]
    flags = [row[f] for row in feed for f in (*LIVEFEED_FLAGS, *LIVEFEED_LIVE_ONLY)]
    assert {type(v) for v in flags} == {int} and set(flags) == {0, 1}
    assert all({"numOpens", "numClicks", "numDownloads"} <= row.keys() for row in feed)
    assert not any(set(LIVEFEED_COUNTERS.values()) & row.keys() for row in feed)
    windows = [s["scheduleBetween"] for r in sb.records("sequence_recipients") for s in r["stages"]]
    assert windows and all((w["start"], w["end"]) == (9, 17) for w in windows)
    assert all(type(s["shared"]) is dict for s in get(http, sb, "/snippets").json()["results"])
    tags = get(http, sb, "/snippettags").json()["results"]
    assert tags and all(type(tag["shared"]) is dict for tag in tags)
    types = get(http, sb, "/meetingtypes").json()["results"]
    assert all(type(v) is bool for t in types for v in t["integrations"].values())
    queues = [m for t in types for m in t["roundRobinQueue"]]
    assert queues and all(type(m) is int for m in queues)
    assert all(t.keys() >= MEETING_TYPE_LIVE_ONLY for t in types)
    assert len(preference_fields()) == 36
    assert preference_fields().keys() <= get(http, sb, "/userpreferences/me").json().keys()
    unsubscribes = get(http, sb, "/unsubscribes").json()["results"]
    assert all(row["orgId"] and row["sequenceId"] for row in unsubscribes)


def test_documented_shapes_are_a_drift_of_the_same_rows(sb, http):
    with drifted(shapes="documented") as old:
        feed = walk(http, old, "/livefeed", limit=300, query="from:everyone")[0]
        assert [r["_id"] for r in feed] == [r["_id"] for r in sb.records("livefeed")]
        served = {r["_id"]: r for r in sb.records("livefeed")}
        for row in feed:
            truth = served[row["_id"]]
            assert row["numOpen"] == truth["numOpens"] and "numOpens" not in row
            assert all(row[f] is bool(truth[f]) for f in LIVEFEED_FLAGS)
            assert not LIVEFEED_LIVE_ONLY & row.keys()
        seq = sb.records("sequences")[0]["_id"]
        stages = [
            s
            for r in get(http, old, f"/sequences/{seq}/recipients", limit=300).json()
            for s in r["stages"]
        ]
        assert stages and all(s["scheduleBetween"]["start"] == "09:00" for s in stages)
        assert {type(s["hasOpens"]) for s in stages} == {bool}
        snippets = get(http, old, "/snippets", limit=300).json()["results"]
        assert all(type(s["shared"]) is list for s in snippets)
        assert any(s["shared"] for s in snippets), "no shared snippet: the list form is empty"
        types = get(http, old, "/meetingtypes").json()["results"]
        assert all(type(v) is dict for t in types for v in t["integrations"].values())
        assert all(type(m) is str for t in types for m in t["roundRobinQueue"])
        assert not any(MEETING_TYPE_LIVE_ONLY & t.keys() for t in types)
        prefs = get(http, old, "/userpreferences/me").json()
        assert not preference_fields().keys() & prefs.keys()
        assert "orgId" not in get(http, old, "/unsubscribes").json()["results"][0]
        assert old.records("livefeed") == sb.records("livefeed")  # the world is unchanged


def test_reset_as_an_http_date(http):
    with Sandbox(seed=1, reset_style="http_date") as sb:
        reset = get(http, sb, "/users/me").headers["X-RateLimit-Reset"]
        assert email.utils.parsedate_to_datetime(reset).tzinfo is not None


def test_paths_map_to_resources():
    assert resource_of("/livefeed") == "livefeed"
    assert resource_of("/livefeed/events") == "livefeed_events"
    assert resource_of("/sequences/abc/recipients") == "sequence_recipients"
    assert resource_of("/rules") == resource_of("/rules/abc") == "rules"
    assert resource_of("/rules/abc/actions") == "rule_actions"
    assert resource_of("/snippettags") == "snippet_tags"
    assert resource_of("/users/me") == "users"
    assert resource_of("/nothing") is None


def test_command_line_flags_build_the_drift():
    args = build_parser().parse_args(
        ["--livefeed-query-param", "search", "--events-message-param", "message",
         "--max-limit", "100", "--recipients-max-limit", "50", "--no-rules-expand",
         "--no-paging-flags",
         "--timestamp-style", "messages.created=rfc2822", "--extra-field", "polls.mood",
         "--optional-field", "unsubscribes.userId", "--shapes", "documented"]
    )  # fmt: skip
    assert drift_of(args) == Drift(
        livefeed_query_param="search",
        events_message_param="message",
        max_limit=100,
        recipients_max_limit=50,
        rules_expand=False,
        paging_flags=False,
        timestamp_styles={"messages.created": "rfc2822"},
        extra_fields=("polls.mood",),
        optional_fields=("unsubscribes.userId",),
        shapes="documented",
    )
    assert drift_of(build_parser().parse_args([])) == Drift()


@pytest.mark.parametrize(
    "bad",
    [{"max_limit": 301}, {"recipients_max_limit": 0},
     {"timestamp_styles": {"messages.created": "roman"}},
     {"timestamp_styles": {"created": "ms"}}, {"extra_fields": ("mood",)},
     {"shapes": "guessed"}],
)  # fmt: skip
def test_bad_drift_is_refused(bad):
    with pytest.raises(ValueError):
        Drift(**bad)


def test_value_styles_rewrite_values_at_any_depth_and_leave_the_world_alone(http):
    styles = {
        "livefeed.wasReplied": "number",
        "sequence_recipients.stages[].opens": "text",
        "polls.title": "object",
    }
    with drifted(value_styles=styles) as sb:
        truth = sb.records("livefeed")
        feed = get(http, sb, "/livefeed", limit=300).json()["results"]
        assert {row["wasReplied"] for row in feed} <= {0, 1} and feed
        sequence = max(sb.ids("sequences"), key=lambda s: len(sb.world.sequences[s].recipients))
        rows = get(http, sb, f"/sequences/{sequence}/recipients", limit=50).json()
        opens = [stage["opens"] for row in rows for stage in row["stages"] if "opens" in stage]
        assert opens and all(isinstance(value, str) and value.isdigit() for value in opens)
        poll = get(http, sb, "/polls", limit=1).json()["results"][0]
        assert poll["title"] == {"value": sb.records("polls")[0]["title"]}
        assert sb.records("livefeed") == truth  # the world itself is unchanged


def test_value_styles_from_the_command_line():
    args = build_parser().parse_args(["--value-style", "livefeed.wasReplied=number"])
    assert drift_of(args).value_styles == {"livefeed.wasReplied": "number"}
    with pytest.raises(ValueError, match="value style"):
        Drift(value_styles={"livefeed.wasReplied": "roman"})
