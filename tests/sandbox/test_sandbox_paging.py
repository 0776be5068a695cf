"""The standard envelope: order, limits, cursors, flags and previous paging."""

from __future__ import annotations

import base64
import json

import pytest
from sandbox_http import get, walk

from mixmax_sandbox.ids import to_ms

LISTS = [
    ("/messages", "messages", "created"),
    ("/sequences", "sequences", "createdAt"),
    ("/snippets", "snippets", "createdAt"),
    ("/polls", "polls", "created"),
    ("/unsubscribes", "unsubscribes", "createdAt"),
    ("/meetinginvites", "meeting_invites", "creationDate"),
    ("/qa", "qa", "creationDate"),
    ("/yesno", "yesno", "created"),
    ("/filerequests", "file_requests", "timestamp"),
    ("/snippettags", "snippet_tags", "createdAt"),
    ("/teams", "teams", "createdAt"),
    ("/rules", "rules", "createdAt"),
    ("/sequencefolders", "sequence_folders", "createdAt"),
    ("/codesnippets", "code_snippets", "createdAt"),
    ("/meetingtypes", "meeting_types", "createdAt"),
    ("/insightsreports", "insights_reports", "createdAt"),
]


@pytest.mark.parametrize("limit", [1, 7, 50, 300, 1000])
def test_messages_page_to_exhaustion_with_each_limit(sb, http, limit):
    rows, pages = walk(http, sb, "/messages", limit=limit)
    ids = [r["_id"] for r in rows]
    assert ids == sb.ids("messages")
    assert len(ids) == len(set(ids))
    per_page = min(limit, 300)
    assert all(len(p["results"]) <= per_page for p in pages)
    assert len(pages) == -(-len(ids) // per_page)  # the peek ends an exact multiple too
    last = pages[-1]
    if last["results"]:
        assert last["hasNext"] is False and "next" in last and "previous" in last


@pytest.mark.parametrize(("path", "resource", "field"), LISTS)
def test_every_list_is_newest_first_and_complete(sb, http, path, resource, field):
    rows, _ = walk(http, sb, path, limit=2 if resource in ("teams", "rules") else 7)
    assert [r["_id"] for r in rows] == sb.ids(resource)
    keys = [(to_ms(r[field]), r["_id"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    assert rows, resource


def test_default_limit_is_50_and_non_numeric_limit_is_ignored(sb, http):
    assert len(get(http, sb, "/messages").json()["results"]) == 50
    assert len(get(http, sb, "/messages", limit="lots").json()["results"]) == 50
    assert len(get(http, sb, "/messages", limit=0).json()["results"]) == 1
    assert len(get(http, sb, "/messages", limit=-5).json()["results"]) == 1


def test_first_page_flags_and_cursor_shape(sb, http):
    page = get(http, sb, "/messages", limit=10).json()
    assert page["hasNext"] is True and page["hasPrevious"] is False
    text = base64.urlsafe_b64decode(page["next"] + "=" * (-len(page["next"]) % 4)).decode()
    value, ident = json.loads(text)
    last = page["results"][-1]
    assert value == last["created"] and ident == last["_id"]  # Meteor id: a plain string
    assert "=" not in page["next"]
    seq = get(http, sb, "/sequences", limit=1).json()
    value, ident = json.loads(base64.urlsafe_b64decode(seq["next"] + "==").decode())
    assert ident == {"$oid": seq["results"][0]["_id"]}
    assert isinstance(value, int) or set(value) == {"$date"}


def test_next_is_present_on_the_last_page_and_an_empty_page_has_no_cursors(sb, http):
    _, pages = walk(http, sb, "/polls", limit=300)
    assert len(pages) == 1 and pages[0]["hasNext"] is False and "next" in pages[0]
    empty = get(http, sb, "/polls", next=pages[0]["next"]).json()
    assert empty["results"] == [] and "next" not in empty and "previous" not in empty
    assert empty["hasNext"] is False and empty["hasPrevious"] is True


def test_previous_paging_walks_back_to_the_first_page(sb, http):
    first = get(http, sb, "/messages", limit=20).json()
    second = get(http, sb, "/messages", limit=20, next=first["next"]).json()
    third = get(http, sb, "/messages", limit=20, next=second["next"]).json()
    assert second["hasPrevious"] is True
    back = get(http, sb, "/messages", limit=20, previous=third["previous"]).json()
    assert [r["_id"] for r in back["results"]] == [r["_id"] for r in second["results"]]
    assert back["hasNext"] is True and back["hasPrevious"] is True
    start = get(http, sb, "/messages", limit=20, previous=back["previous"]).json()
    assert [r["_id"] for r in start["results"]] == [r["_id"] for r in first["results"]]
    assert start["hasPrevious"] is False and start["hasNext"] is True


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "WzFd", "eyJhIjoxfQ", "WyJ4IiwxXQ"])
def test_malformed_cursor_is_a_400(sb, http, cursor):
    for param in ("next", "previous"):
        response = get(http, sb, "/messages", **{param: cursor})
        assert response.status_code == 400
        assert "message" in response.json()


def test_members_and_actions_use_the_envelope_and_expand_embeds_actions(sb, http):
    team = max(sb.records("teams"), key=lambda t: len(t["users"]))
    rows, pages = walk(http, sb, f"/teams/{team['_id']}/members", limit=2)
    assert len(pages) > 1
    assert {r["memberId"] for r in rows} == {
        m["memberId"] for m in sb.records("team_members") if m["teamId"] == team["_id"]
    }
    assert any("email" in r and "userId" not in r for r in rows)
    rules = get(http, sb, "/rules", expand="actions", limit=300).json()["results"]
    assert rules and any(rule["actions"] for rule in rules), "no rule with actions to check"
    by_rule: dict[str, set[str]] = {}
    for action in sb.records("rule_actions"):
        by_rule.setdefault(action["ruleId"], set()).add(action["_id"])
    for rule in rules:
        assert {a["_id"] for a in rule["actions"]} == by_rule.get(rule["_id"], set())
        assert isinstance(rule["filter"], str) and json.loads(rule["filter"])
        actions, _ = walk(http, sb, f"/rules/{rule['_id']}/actions", limit=2)
        assert {a["_id"] for a in actions} == by_rule.get(rule["_id"], set())
    assert get(http, sb, "/teams/nope/members").status_code == 404


def test_singletons_are_bare_objects_and_unknown_paths_404(sb, http):
    me = get(http, sb, "/users/me").json()
    assert set(me) == {"_id", "email", "name", "createdAt", "timezone"}
    assert get(http, sb, "/userpreferences/me").json()["userId"] == me["_id"]
    assert get(http, sb, "/appointmentlinks/me").json()["userId"] == me["_id"]
    missing = get(http, sb, "/nothing-here")
    assert missing.status_code == 404 and missing.json()["message"].startswith("Not found.")
