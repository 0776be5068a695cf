"""The rest of the read API: exact ids over many small pages, and decoded rule filters."""

from __future__ import annotations

import json

import pytest
from request_counts import full_sync_minimum, requests_by_stream
from tap_harness import STREAM_PATHS, run_tap, sandbox_config

from tap_mixmax.streams import REFERENCE_STREAMS

KEYS = {"team_members": ("teamId", "memberId"), "appointment_links": ("userId",)}
NAMES = [stream.name for stream in REFERENCE_STREAMS]


@pytest.fixture(scope="module")
def small_pages(shared_sandbox):
    shared_sandbox.clear_requests()
    output = run_tap(sandbox_config(shared_sandbox, page_size=2), streams=set(NAMES))
    return output, list(shared_sandbox.requests)


@pytest.mark.parametrize("stream", NAMES)
def test_exact_rows_over_pages_of_two(shared_sandbox, small_pages, stream):
    output, _ = small_pages
    keys = KEYS.get(stream, ("_id",))
    emitted = [tuple(r[k] for k in keys) for r in output.records[stream]]
    expected = [tuple(r[k] for k in keys) for r in shared_sandbox.records(stream)]
    assert expected
    assert len(emitted) == len(set(emitted))
    assert set(emitted) == set(expected)


def test_pages_of_two_cost_exactly_the_fewest_requests(shared_sandbox, small_pages):
    _, made = small_pages
    expected = full_sync_minimum(shared_sandbox, page_size=2)
    counts = requests_by_stream(made, STREAM_PATHS)
    # users: the one connection check before the lanes fan out.
    assert dict(counts) == {"users": 1, **{s: expected[s] for s in NAMES if expected[s]}}
    assert min(counts[s] for s in ("snippet_tags", "rules", "qa")) > 1, "paging not exercised"


def test_child_streams_page_within_several_parents(shared_sandbox, small_pages):
    _, made = small_pages
    member_pages: dict[str, int] = {}
    for request in made:
        if request.path.endswith("/members"):
            member_pages[request.path] = member_pages.get(request.path, 0) + 1
    assert len(member_pages) == len(shared_sandbox.ids("teams")) > 1
    assert any(pages > 1 for pages in member_pages.values())


def test_rule_actions_come_embedded_without_a_request_per_rule(small_pages):
    output, made = small_pages
    assert output.records["rule_actions"]
    assert not [r for r in made if r.path.endswith("/actions")]
    rules_pages = [r for r in made if r.path == "/v1/rules"]
    assert rules_pages and all(r.query.get("expand") == "actions" for r in rules_pages)


def test_rule_filters_are_decoded_and_kept_raw(shared_sandbox, small_pages):
    output, _ = small_pages
    raw = {r["_id"]: r["filter"] for r in shared_sandbox.records("rules")}
    rules = output.records["rules"]
    assert rules and len(rules) == len(raw), "no rule synced: the check would prove nothing"
    for rule in rules:
        assert rule["filter"] == raw[rule["_id"]]
        assert rule["filterObject"] == json.loads(raw[rule["_id"]])
