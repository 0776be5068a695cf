"""The data: id and timestamp formats, determinism, the live feed, and time moving."""

from __future__ import annotations

import datetime as dt
import re

from sandbox_http import get, walk

from mixmax_sandbox import Sandbox
from mixmax_sandbox.ids import METEOR_ALPHABET

HEX = re.compile(r"^[0-9a-f]{24}$")
METEOR = re.compile(rf"^[{METEOR_ALPHABET}]{{17}}$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def is_ms(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 1e12


def test_id_formats(sb):
    for resource in ("messages", "teams", "livefeed"):
        ids = sb.ids(resource)
        assert ids and all(METEOR.match(i) for i in ids), resource
    for resource in [
        "sequences",
        "sequence_recipients",
        "snippets",
        "snippet_tags",
        "livefeed_events",
        "insights_reports",
        "rules",
        "rule_actions",
        "sequence_folders",
        "code_snippets",
        "meeting_types",
        "polls",
        "qa",
        "yesno",
        "file_requests",
        "unsubscribes",
        "meeting_invites",
    ]:
        ids = sb.ids(resource)
        assert ids and all(HEX.match(i) for i in ids), resource
    assert METEOR.match(sb.records("users")[0]["_id"])


TIMESTAMPED = (
    "messages", "sequences", "sequence_recipients", "unsubscribes", "meeting_invites", "teams",
    "rules", "rule_actions", "meeting_types", "code_snippets", "insights_reports",
    "sequence_folders", "snippets", "snippet_tags", "polls", "qa", "yesno", "file_requests",
    "livefeed", "livefeed_events",
)  # fmt: skip


def test_timestamp_formats(sb):
    empty = [resource for resource in TIMESTAMPED if not sb.records(resource)]
    assert not empty, f"no rows in {empty}: their formats would go unchecked"
    messages = sb.records("messages")
    assert all(is_ms(m["created"]) and is_ms(m["updatedAt"]) for m in messages)
    assert all(is_ms(m["sent"]) for m in messages if "sent" in m)
    sequences = sb.records("sequences")
    assert all(ISO.match(s["updatedAt"]) for s in sequences)
    assert sum(is_ms(s["createdAt"]) for s in sequences) >= 1
    assert sum(isinstance(s["createdAt"], str) for s in sequences) >= len(sequences) * 0.8
    assert all(is_ms(r["createdAt"]) for r in sb.records("sequence_recipients"))
    assert all(ISO.match(u["createdAt"]) for u in sb.records("unsubscribes"))
    assert all(isinstance(i["creationDate"], float) for i in sb.records("meeting_invites"))
    for resource, field in [
        ("teams", "createdAt"), ("rules", "modifiedAt"), ("rule_actions", "createdAt"),
        ("meeting_types", "createdAt"), ("code_snippets", "createdAt"),
        ("insights_reports", "createdAt"), ("sequence_folders", "savedAt"),
    ]:  # fmt: skip
        assert all(ISO.match(r[field]) for r in sb.records(resource)), resource
    for resource, field in [
        ("snippets", "savedAt"), ("snippet_tags", "createdAt"), ("polls", "created"),
        ("qa", "creationDate"), ("yesno", "created"), ("file_requests", "timestamp"),
        ("livefeed", "sent"), ("livefeed_events", "timestamp"),
    ]:  # fmt: skip
        assert all(is_ms(r[field]) for r in sb.records(resource)), resource


def test_messages_mix_states_and_livefeed_rows_are_the_sent_ones(sb):
    messages = sb.records("messages")
    sent = {m["_id"] for m in messages if "sent" in m}
    assert any("scheduled" in m for m in messages)
    assert any("sendingError" in m and "sent" not in m for m in messages)
    assert len(messages) - len(sent) > 20
    feed = sb.records("livefeed")
    assert {row["messageId"] for row in feed} == sent
    with_events = sum(1 for row in feed if row["lastEventAt"])
    assert 0.3 * len(feed) < with_events < 0.8 * len(feed)
    assert all(row["includeInTeamLiveFeed"] in (0, 1) for row in feed)


def test_records_are_what_the_api_serves(sb, http):
    rows, _ = walk(http, sb, "/snippets", limit=300)
    assert rows == sb.records("snippets")
    seq = sb.records("sequences")[0]["_id"]
    api = get(http, sb, f"/sequences/{seq}/recipients", limit=300, includeVariables="true")
    assert api.json() == [r for r in sb.records("sequence_recipients") if r["sequenceId"] == seq]


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = Sandbox(seed=9), Sandbox(seed=9), Sandbox(seed=10)
    for resource in ("messages", "sequences", "sequence_recipients", "livefeed_events", "teams"):
        assert a.records(resource) == b.records(resource), resource
        assert a.ids(resource) != c.ids(resource), resource
    assert a.advance(2) == b.advance(2)
    assert a.records("livefeed") == b.records("livefeed")
    assert a.now == b.now == dt.datetime(2026, 1, 17, 12, tzinfo=dt.timezone.utc)


def test_livefeed_from_and_sent_filters_and_stats(sb, http):
    feed = sb.records("livefeed")
    me = sb.records("users")[0]
    everyone, _ = walk(http, sb, "/livefeed", limit=300, query="from:everyone")
    assert [r["_id"] for r in everyone] == [r["_id"] for r in feed]
    mine, _ = walk(http, sb, "/livefeed", limit=300, query="from:me")
    assert mine and all(r["userId"] == me["_id"] for r in mine)
    assert len(mine) < len(everyone)
    default, _ = walk(http, sb, "/livefeed", limit=300)
    assert default == mine
    other = next(r["fromEmail"] for r in feed if r["userId"] != me["_id"])
    theirs, _ = walk(http, sb, "/livefeed", limit=300, query=f"from:{other}")
    assert theirs and {r["fromEmail"] for r in theirs} == {other}
    # sent: whole UTC days, both ends inclusive.
    day = dt.datetime.fromtimestamp(feed[10]["sent"] / 1000, tz=dt.timezone.utc).date()
    start, end = day - dt.timedelta(days=20), day
    q = f"from:everyone sent:{start:%m/%d/%Y}-{end:%m/%d/%Y} is:opened"
    window, pages = walk(http, sb, "/livefeed", limit=5, query=q)
    lo = dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone.utc).timestamp() * 1000
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.timezone.utc)
    expected = [r["_id"] for r in feed if lo <= r["sent"] < hi.timestamp() * 1000]
    assert [r["_id"] for r in window] == expected and expected
    stats = pages[0]["stats"]
    assert stats["sent"] == len(expected)
    assert stats["opened"] == sum(1 for r in feed if r["_id"] in expected and r["numOpens"])
    assert set(stats) >= {
        "sent", "delivered", "opened", "clicked", "downloaded", "replied", "bounced",
        "accepted", "declined", "tentative", "recipients", "percentages",
    }  # fmt: skip
    assert get(http, sb, "/livefeed", query="sent:13/45/2026-01/01/2026").status_code == 400


def test_livefeed_events_are_capped_at_200_newest(sb, http):
    feed = sb.records("livefeed")
    capped = [row for row in feed if row["numOpens"] > 200]
    assert capped, "no message has more than 200 events"
    message_id = capped[0]["messageId"]
    events, pages = walk(http, sb, "/livefeed/events", limit=300, messageId=message_id)
    assert len(events) == 200 and len(pages) == 1
    small, pages = walk(http, sb, "/livefeed/events", limit=7, messageId=message_id)
    assert small == events and len(pages) == 29
    every = sb.world.events_of(sb.world.message(message_id))
    assert [e["_id"] for e in events] == [e.id for e in reversed(every)][:200]
    assert all(
        e["type"] in ("opened", "clicked", "downloaded", "replied", "bounced") for e in events
    )
    assert get(http, sb, "/livefeed/events").status_code == 400
    unknown = get(http, sb, "/livefeed/events", messageId="nope").json()
    assert unknown["results"] == [] and "next" not in unknown
    clicked = [e for e in sb.records("livefeed_events") if e["type"] == "clicked"]
    assert clicked and all("linkUrl" in e for e in clicked)
    assert all("linkUrl" not in e for e in sb.records("livefeed_events") if e["type"] != "clicked")


def test_advance_makes_new_and_changed_rows(fresh, http):
    before = {r: {x["_id"]: x for x in fresh.records(r)} for r in (
        "messages", "livefeed", "livefeed_events", "unsubscribes", "polls", "sequences",
        "sequence_recipients", "snippets",
    )}  # fmt: skip
    now = fresh.now
    summary = fresh.advance(days=1.0)
    assert fresh.now == now + dt.timedelta(days=1)
    after = {r: {x["_id"]: x for x in fresh.records(r)} for r in before}
    for resource in before:
        new = set(after[resource]) - set(before[resource])
        changed = {i for i in before[resource] if after[resource].get(i) != before[resource][i]}
        assert set(summary["new"].get(resource, [])) == new, resource
        assert set(summary["changed"].get(resource, [])) == changed, resource
        assert new or changed, resource
    for resource in ("messages", "livefeed", "sequences", "snippets", "polls"):
        assert summary["changed"].get(resource), f"advance changed no {resource}"
    # Drafts that became sent keep `created`, get `sent`, and move `updatedAt`.
    for msg_id in summary["changed"]["messages"]:
        old, new_row = before["messages"][msg_id], after["messages"][msg_id]
        assert old["created"] == new_row["created"] and "sent" not in old and "sent" in new_row
        assert new_row["updatedAt"] > old["updatedAt"]
    # Events landed on a message sent about three weeks earlier.
    cutoff = (now - dt.timedelta(days=7)).timestamp() * 1000
    old_rows = [i for i in summary["changed"]["livefeed"] if after["livefeed"][i]["sent"] < cutoff]
    assert old_rows
    assert all(after["livefeed"][i]["lastEventAt"] > now.timestamp() * 1000 for i in old_rows)
    # Recipients added to old sequences move their updatedAt; snippets' savedAt moves.
    for seq_id in summary["changed"]["sequences"]:
        assert after["sequences"][seq_id]["updatedAt"] > before["sequences"][seq_id]["updatedAt"]
    for snippet_id in summary["changed"]["snippets"]:
        assert after["snippets"][snippet_id]["savedAt"] > before["snippets"][snippet_id]["savedAt"]
    # Votes on existing polls.
    assert summary["changed"]["polls"]
    # The API serves the new rows at once.
    first = get(http, fresh, "/messages", limit=300).json()["results"]
    assert {m["_id"] for m in first} >= set(summary["new"]["messages"])


def test_control_api(fresh, http):
    control = fresh.control_url
    counts = http.get(f"{control}/counts", timeout=10).json()
    assert counts["messages"] == len(fresh.ids("messages"))
    assert http.get(f"{control}/ids/sequences", timeout=10).json()["ids"] == fresh.ids("sequences")
    records = http.get(f"{control}/records/polls", timeout=10).json()["records"]
    assert records == fresh.records("polls")
    summary = http.post(f"{control}/advance", json={"days": 2}, timeout=30).json()
    assert summary["now"].startswith("2026-01-17")
    assert http.get(f"{control}/ids/nothing", timeout=10).status_code == 404
    assert fresh.requests == []  # control calls are not logged


def test_scales_and_overrides():
    medium = Sandbox(seed=1, scale="medium")
    assert len(medium.ids("messages")) == 5_000 and len(medium.ids("sequences")) == 40
    custom = Sandbox(seed=1, messages=2_000)
    assert len(custom.ids("messages")) == 2_000
