"""An organisation sandbox: a token per user, own data per user, rows shared within teams."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time

import pytest
import requests

from mixmax_sandbox import Sandbox
from mixmax_sandbox.api import LISTS
from mixmax_sandbox.ids import to_ms
from mixmax_sandbox.org import SHARED_RESOURCES
from mixmax_sandbox.world import DEFAULT_SORT_FIELD, SORT_FIELDS

USERS = 7  # teams [0-3] and [3-6]: user 3 is in both, users 0 and 6 share nothing
SEED = 11


@pytest.fixture(scope="module")
def org():
    """A read-only tiny organisation without a rate limit (do not advance or revoke)."""
    with Sandbox(seed=SEED, scale="tiny", users=USERS, rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def get(session, sb, path, user=0, **params) -> requests.Response:
    headers = {"X-API-Token": sb.tokens[user]}
    return session.get(f"{sb.url}{path}", params=params, headers=headers, timeout=30)


def walk(session, sb, path, user, limit) -> list[dict]:
    """Every row of a list, following `next` while hasNext."""
    rows, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **({"next": cursor} if cursor else {})}
        response = get(session, sb, path, user, **params)
        assert response.status_code == 200, response.text
        page = response.json()
        rows.extend(page["results"])
        pages += 1
        assert len(page["results"]) <= limit
        if not page["hasNext"]:
            return rows
        cursor = page["next"]
        assert pages < 1000


def user_teams(session, sb, user) -> set[str]:
    """The ids of the teams whose /members list `user` (read over HTTP)."""
    me = sb.user_ids[user]
    teams = set()
    for team_id in sb.ids("teams", user=user):
        members = get(session, sb, f"/teams/{team_id}/members", user, limit=300).json()
        if any(m.get("userId") == me for m in members["results"]):
            teams.add(team_id)
    return teams


# ------------------------------------------------------------------ users and tokens
def test_each_user_has_a_token_and_a_me_of_their_own(org, http):
    assert len(org.tokens) == len(set(org.tokens)) == USERS
    assert org.tokens[0] == org.token
    assert len(set(org.user_ids)) == USERS
    emails = set()
    for user in range(USERS):
        me = get(http, org, "/users/me", user).json()
        assert me["_id"] == org.user_ids[user]
        assert org.records("users", user=user) == [me]
        emails.add(me["email"])
        prefs = get(http, org, "/userpreferences/me", user).json()
        assert prefs["userId"] == me["_id"]
        link = get(http, org, "/appointmentlinks/me", user).json()
        assert link["userId"] == me["_id"]
        assert org.requests[-1].user == user
    assert len(emails) == USERS
    listed = http.get(f"{org.control_url}/users", timeout=10).json()["users"]
    assert listed == [
        {"index": i, "id": org.user_ids[i], "email": org.records("users", user=i)[0]["email"],
         "token": org.tokens[i]}
        for i in range(USERS)
    ]  # fmt: skip


def test_tokens_are_deterministic_and_follow_a_chosen_token():
    assert Sandbox(seed=4, users=3).tokens == Sandbox(seed=4, users=3).tokens
    assert Sandbox(seed=4, users=3).tokens != Sandbox(seed=5, users=3).tokens
    assert Sandbox(seed=4, users=3).tokens[0] == Sandbox(seed=4).token
    assert Sandbox(seed=4, users=3, token="mine").tokens == ["mine", "mine-u1", "mine-u2"]
    assert Sandbox(seed=4).tokens == [Sandbox(seed=4).token]
    with pytest.raises(ValueError):
        Sandbox(users=0)


def test_own_data_is_distinct_per_user_and_user_0_is_the_single_user_world(org):
    single = Sandbox(seed=SEED, scale="tiny")
    for resource in ("messages", "polls", "unsubscribes", "rules", "livefeed", "qa"):
        per_user = [set(org.ids(resource, user=u)) for u in range(USERS)]
        assert all(per_user), resource
        assert sum(map(len, per_user)) == len(set().union(*per_user)), f"{resource} overlap"
        assert org.ids(resource, user=0) == single.ids(resource)
    # Shared resources: user 0's own rows are the single-user rows; the rest is shared.
    shared = set(org.shared_ids("sequences"))
    own = [i for i in org.ids("sequences", user=0) if i not in shared]
    assert own == single.ids("sequences")


def test_unknown_and_missing_tokens_and_users(org, http):
    assert get(http, org, "/users/me", 0).status_code == 200
    bad = http.get(f"{org.url}/users/me", headers={"X-API-Token": org.token + "x"}, timeout=10)
    assert bad.status_code == 401 and org.requests[-1].user is None
    assert http.get(f"{org.url}/users/me", timeout=10).status_code == 401
    assert org.requests[-1].user is None
    with pytest.raises(IndexError):
        org.ids("messages", user=USERS)
    missing = http.get(f"{org.control_url}/ids/messages", params={"user": USERS}, timeout=10)
    assert missing.status_code == 404


# ------------------------------------------------------------------ revocation and limits
def test_a_revoked_token_is_401_and_the_others_still_work(http):
    with Sandbox(seed=2, scale="tiny", users=3, rate_limit=None) as sb:
        sb.revoke(1)
        revoked = get(http, sb, "/messages", 1)
        assert revoked.status_code == 401
        assert revoked.json()["message"].startswith("Invalid API token")
        assert sb.requests[-1].user is None and sb.requests[-1].status == 401
        for user in (0, 2):
            assert get(http, sb, "/messages", user).status_code == 200
            assert sb.requests[-1].user == user
        sb.restore(1)
        assert get(http, sb, "/messages", 1).status_code == 200
        # The same through the control API.
        control = http.post(f"{sb.control_url}/revoke", json={"user": 2}, timeout=10)
        assert control.json() == {"user": 2, "revoked": True}
        assert get(http, sb, "/users/me", 2).status_code == 401
        assert get(http, sb, "/users/me", 0).status_code == 200
        http.post(f"{sb.control_url}/restore", json={"user": 2}, timeout=10)
        assert get(http, sb, "/users/me", 2).status_code == 200
        assert (
            http.post(f"{sb.control_url}/revoke", json={"user": 9}, timeout=10).status_code == 404
        )


def test_each_user_has_a_rate_limit_window_of_their_own(http):
    with Sandbox(seed=2, scale="tiny", users=3, rate_limit=3, rate_window=30.0) as sb:
        remaining = [
            int(get(http, sb, "/users/me", 0).headers["X-RateLimit-Remaining"]) for _ in range(3)
        ]
        assert remaining == [2, 1, 0]
        limited = get(http, sb, "/users/me", 0)
        assert limited.status_code == 429 and sb.requests[-1].user == 0
        other = get(http, sb, "/users/me", 1)
        assert other.status_code == 200, "user 1 shares user 0's window"
        assert other.headers["X-RateLimit-Remaining"] == "2"
        assert get(http, sb, "/users/me", 2).headers["X-RateLimit-Remaining"] == "2"
        assert get(http, sb, "/users/me", 0).status_code == 429


# ------------------------------------------------------------------ sharing
def test_shared_rows_are_the_same_for_every_member_and_absent_for_others(org, http):
    for resource in SHARED_RESOURCES:
        shared = org.shared_ids(resource)
        assert shared, f"nothing shared in {resource}"
        seen_by: dict[str, list[int]] = {row_id: [] for row_id in shared}
        rows: dict[str, dict] = {}
        for user in range(USERS):
            id_field = "memberId" if resource == "team_members" else "_id"
            for row in org.records(resource, user=user):
                row_id = row[id_field]
                if row_id in seen_by:
                    seen_by[row_id].append(user)
                    assert rows.setdefault(row_id, row) == row, f"{resource} differs by user"
        assert all(len(users) >= 2 for users in seen_by.values()), resource
        assert all(len(users) < USERS for users in seen_by.values()), f"{resource} seen by all"
    # Users 0 and 6 are in no common team: none of user 6's shared sequences for user 0.
    mine = set(org.ids("sequences", user=0))
    other = [i for i in org.ids("sequences", user=6) if i in set(org.shared_ids("sequences"))]
    assert other and not mine & set(other)
    for seq_id in other:
        assert get(http, org, f"/sequences/{seq_id}", 0).status_code == 404
        assert get(http, org, f"/sequences/{seq_id}/recipients", 0).status_code == 404
        assert get(http, org, f"/sequences/{seq_id}/recipients", 6).status_code == 200


def test_visibility_follows_team_membership(org, http):
    """An independent oracle: the shared rows a user sees are those of the teams whose
    /members list that user, and each team lists real users with their userIds."""
    teams_of = {user: user_teams(http, org, user) for user in range(USERS)}
    assert len(teams_of[3]) > len(teams_of[0]), "user 3 should be in two teams"
    shared_teams = set(org.shared_ids("teams"))
    shared_snippets_checked = 0
    for user in range(USERS):
        assert teams_of[user] & shared_teams, f"user {user} in no shared team"
        for team_id in teams_of[user] & shared_teams:
            members = get(http, org, f"/teams/{team_id}/members", user).json()["results"]
            assert {m["userId"] for m in members} <= set(org.user_ids)
        shared_sequences = set(org.shared_ids("sequences"))
        expected = {
            row["_id"]
            for row in org.records("sequences", user=user)
            if row["_id"] in shared_sequences
        }
        by_team = {
            seq_id
            for other in range(USERS)
            for row in org.records("sequences", user=other)
            if (seq_id := row["_id"]) in shared_sequences
            and {t["_id"] for t in row["shared"]["teams"]} & teams_of[user]
        }
        assert expected == by_team, user
        email = org.records("users", user=user)[0]["email"]
        for snippet in org.records("snippets", user=user):
            if snippet["_id"] in set(org.shared_ids("snippets")):
                emails = {u["email"] for u in snippet["shared"]["users"]}
                assert snippet["userId"] == org.user_ids[user] or email in emails
                assert {t["_id"] for t in snippet["shared"]["teams"]} & teams_of[user]
                shared_snippets_checked += 1
    assert shared_snippets_checked, "no user sees a shared snippet: the check proves nothing"


def test_shared_sequence_recipients_are_identical_for_every_member(org, http):
    shared = set(org.shared_ids("sequences"))
    checked = 0
    for seq_id in shared:
        viewers = [u for u in range(USERS) if seq_id in org.ids("sequences", user=u)]
        assert len(viewers) >= 2
        bodies = [
            get(http, org, f"/sequences/{seq_id}/recipients", u, limit=300,
                includeVariables="true").json()
            for u in viewers
        ]  # fmt: skip
        assert all(body == bodies[0] for body in bodies[1:])
        assert bodies[0], "a shared sequence without recipients"
        owner = next(r for r in org.records("sequences", user=viewers[0]) if r["_id"] == seq_id)
        assert {row["userId"] for row in bodies[0]} == {owner["userId"]}
        assert all("variables" in row for row in bodies[0])
        for limit in (1, 7, 300):
            rows, offset = [], 0
            while True:
                page = get(http, org, f"/sequences/{seq_id}/recipients", viewers[-1],
                           offset=offset, limit=limit).json()  # fmt: skip
                rows.extend(page)
                offset += len(page)
                if len(page) < limit:
                    break
            assert [r["_id"] for r in rows] == [r["_id"] for r in bodies[0]]
        checked += 1
    assert checked >= 2
    # The records of sequence_recipients follow the same rows.
    for user in (0, 3):
        ids = org.ids("sequence_recipients", user=user)
        assert [r["_id"] for r in org.records("sequence_recipients", user=user)] == ids
        seen_shared = shared & set(org.ids("sequences", user=user))
        assert seen_shared, f"user {user} sees no shared sequence: the check proves nothing"
        for seq_id in seen_shared:
            served = get(http, org, f"/sequences/{seq_id}/recipients", user, limit=300).json()
            assert {r["_id"] for r in served} <= set(ids)


# ------------------------------------------------------------------ paging
def sort_key(resource: str, row: dict) -> tuple[int, str]:
    field = SORT_FIELDS.get(resource, DEFAULT_SORT_FIELD)
    id_field = "memberId" if resource == "team_members" else "_id"
    return to_ms(row[field]), row[id_field]


@pytest.mark.parametrize("limit", [1, 7, 300])
def test_paging_over_merged_lists_returns_exactly_what_the_user_sees(org, http, limit):
    for user in (0, 3, 6):
        for segment, resource in LISTS.items():
            rows = walk(http, org, f"/{segment}", user, limit)
            ids = [row["_id"] for row in rows]
            assert ids == org.ids(resource, user=user), (segment, user, limit)
            keys = [sort_key(resource, row) for row in rows]
            assert keys == sorted(keys, reverse=True), f"{segment} not newest first"
        rules = walk(http, org, "/rules", user, limit)
        assert [r["_id"] for r in rules] == org.ids("rules", user=user)
        assert org.ids("teams", user=user), f"user {user} in no team: members go unchecked"
        for team_id in org.ids("teams", user=user):
            members = []
            cursor = None
            while True:
                params = {"limit": limit, **({"next": cursor} if cursor else {})}
                page = get(http, org, f"/teams/{team_id}/members", user, **params).json()
                members.extend(page["results"])
                if not page["hasNext"]:
                    break
                cursor = page["next"]
            expected = [
                r["memberId"] for r in org.records("team_members", user=user)
                if r["teamId"] == team_id
            ]  # fmt: skip
            assert [m["memberId"] for m in members] == expected


def test_previous_cursor_walks_a_merged_list_back(org, http):
    user = 3  # in two teams: own and shared snippets of both interleave
    pages, cursor = [], None
    while True:
        page = get(http, org, "/snippets", user, limit=2, **({"next": cursor} if cursor else {}))
        pages.append(page.json())
        if not pages[-1]["hasNext"]:
            break
        cursor = pages[-1]["next"]
    assert len(pages) > 3
    forward = [row["_id"] for page in pages for row in page["results"]]
    assert forward == org.ids("snippets", user=user)
    backward = [row["_id"] for row in pages[-1]["results"]]
    cursor = pages[-1]["previous"]
    while True:
        page = get(http, org, "/snippets", user, limit=2, previous=cursor).json()
        backward = [row["_id"] for row in page["results"]] + backward
        if not page["hasPrevious"]:
            break
        cursor = page["previous"]
    assert backward == forward


# ------------------------------------------------------------------ time
def test_advance_grows_own_and_shared_data(http):
    with Sandbox(seed=8, scale="tiny", users=5, rate_limit=None) as sb:
        grown_resources = ("messages", "sequence_recipients", "snippets")
        before = {u: {r: set(sb.ids(r, user=u)) for r in grown_resources} for u in range(5)}
        shared_before = {r: set(sb.shared_ids(r)) for r in ("sequence_recipients", "snippets")}
        recipients_before = {
            seq_id: len(get(http, sb, f"/sequences/{seq_id}/recipients", 3, limit=300).json())
            for seq_id in sb.shared_ids("sequences")
        }
        summary = sb.advance(days=1)
        assert set(summary) >= {"now", "days", "advances", "new", "changed", "counts", "users"}
        assert [entry["user"] for entry in summary["users"]] == list(range(5))
        assert summary["new"] == summary["users"][0]["new"]
        for user in range(5):
            new = summary["users"][user]["new"]
            now = {r: set(sb.ids(r, user=user)) for r in before[user]}
            grown = now["messages"] - before[user]["messages"]
            assert grown and grown == set(new["messages"]), user
            assert set(new["sequence_recipients"]) == (
                now["sequence_recipients"] - before[user]["sequence_recipients"]
            )
            assert set(new["snippets"]) == now["snippets"] - before[user]["snippets"]
        for resource, ids in shared_before.items():
            gained = set(sb.shared_ids(resource)) - ids
            assert gained, f"no new shared {resource}"
            assert gained <= set(summary["shared"]["new"][resource])
            for user in range(5):
                mine = gained & set(sb.ids(resource, user=user))
                assert mine == set(summary["users"][user]["new"].get(resource, [])) & gained
        # A shared sequence gained recipients, visible to every member alike.
        after = {
            seq_id: get(http, sb, f"/sequences/{seq_id}/recipients", 3, limit=300).json()
            for seq_id in sb.shared_ids("sequences")
        }
        assert any(len(after[s]) > n for s, n in recipients_before.items())
        grown_seq = next(s for s, n in recipients_before.items() if len(after[s]) > n)
        members = [user for user in range(5) if grown_seq in sb.ids("sequences", user=user)]
        assert len(members) >= 2, f"{grown_seq} is seen by {members}: the check proves little"
        for user in members:
            assert get(http, sb, f"/sequences/{grown_seq}/recipients", user,
                       limit=300).json() == after[grown_seq]  # fmt: skip
        # Paging still returns exactly the merged list after the change.
        for user in (0, 3):
            assert [r["_id"] for r in walk(http, sb, "/snippets", user, 3)] == sb.ids(
                "snippets", user=user
            )


def test_advance_is_deterministic_per_seed():
    first = Sandbox(seed=8, scale="tiny", users=4).advance(days=2)
    second = Sandbox(seed=8, scale="tiny", users=4).advance(days=2)
    assert first == second


# ------------------------------------------------------------------ one user is unchanged
# Digests of ids and records at seed 7, scale small, taken before organisations existed.
SINGLE_USER_IDS = {
    "messages": (150, "72e8783a7b38d7ba"),
    "sequences": (12, "8e90dd82e59f915c"),
    "sequence_recipients": (1602, "a8bf33d602371fee"),
    "snippets": (40, "d6f945784a599751"),
    "teams": (2, "c56150db82ee4c17"),
    "team_members": (7, "11c5f3b0a2af5d12"),
    "livefeed_events": (364, "837ff503b65245bc"),
    "users": (1, "820dab7be4b498a2"),
    "snippet_tags": (6, "bdabb9e90aee4caa"),
    "sequence_folders": (4, "4ed760ee3e977a69"),
}
# Re-taken when fields got their second shapes (issue 14: snippets' `shared`, recipients'
# `hasOpens`...), when some sequence stages got replies (issue 17), and when the default
# shapes became those live rows show (issue 21: `shared` objects, numeric
# `scheduleBetween` and 0/1 `hasOpens`); only those fields changed, every id and the
# advance stayed the same.
SINGLE_USER_RECORDS = "6845c87ef9de3e08"
SINGLE_USER_ADVANCE = "4badde0542096c87"
SINGLE_USER_TOKEN = "sbx_5884ec5f7af0f1f5f5d1cd764c6eab72"


def digest(data) -> str:
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def test_one_user_is_exactly_the_sandbox_of_before():
    sb = Sandbox(seed=7, scale="small")
    assert sb.token == SINGLE_USER_TOKEN and sb.tokens == [SINGLE_USER_TOKEN]
    for resource, (count, expected) in SINGLE_USER_IDS.items():
        ids = sb.ids(resource)
        assert (len(ids), digest(",".join(ids))) == (count, expected), resource
        assert sb.ids(resource, user=0) == ids
    records = [
        sb.records(r)
        for r in ("sequences", "snippets", "teams", "team_members", "sequence_recipients", "users")
    ]
    assert digest(json.dumps(records, sort_keys=True)) == SINGLE_USER_RECORDS
    assert sb.shared_ids("sequences") == []
    summary = sb.advance(2)
    assert "users" not in summary
    assert digest(json.dumps(summary, sort_keys=True)) == SINGLE_USER_ADVANCE


# ------------------------------------------------------------------ scale
def test_two_hundred_tiny_users_build_and_serve(http):
    started = time.perf_counter()
    sb = Sandbox(seed=42, scale="tiny", users=200, rate_limit=None)
    built = time.perf_counter() - started
    print(f"\nusers=200 tiny: built in {built:.2f} s")
    with sb:
        for user in (0, 101, 199):
            assert get(http, sb, "/users/me", user).json()["_id"] == sb.user_ids[user]
            rows = walk(http, sb, "/sequences", user, 300)
            assert [r["_id"] for r in rows] == sb.ids("sequences", user=user)
            assert set(rows[0]) >= {"_id", "userId", "createdAt", "stages"}
        counts = sb.counts(user=199)
        assert counts["messages"] == 12 and counts["teams"] >= 2
        assert len(sb.shared_ids("teams")) == 67


def test_cli_serves_several_users(tmp_path):
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mixmax_sandbox", "--port", "0", "--seed", "3", "--scale",
         "tiny", "--users", "4", "--ready-file", str(ready)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("Mixmax sandbox serving ")
        assert lines[1].startswith("API token: sbx_")
        assert lines[2].startswith("Users: 4 ")
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        expected = Sandbox(seed=3, scale="tiny", users=4)
        assert info["tokens"] == expected.tokens and info["token"] == expected.tokens[0]
        me = requests.get(
            f"{info['url']}/users/me", headers={"X-API-Token": info["tokens"][3]}, timeout=10
        ).json()
        assert me["_id"] == expected.user_ids[3]
        ids = requests.get(
            f"{info['control_url']}/ids/sequences", params={"user": 3}, timeout=10
        ).json()["ids"]
        assert ids == expected.ids("sequences", user=3)
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    bad = subprocess.run(
        [sys.executable, "-m", "mixmax_sandbox", "--users", "0"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert bad.returncode == 2


def test_request_records_carry_the_user_and_the_receipt_time(org, http):
    org.clear_requests()
    before = time.monotonic()
    get(http, org, "/messages", 5)
    get(http, org, "/messages", 2)
    first, second = org.requests[-2:]
    assert (first.user, second.user) == (5, 2)
    assert before <= first.time <= second.time <= time.monotonic()
    logged = http.get(f"{org.control_url}/requests", timeout=10).json()["requests"]
    assert [r["user"] for r in logged[-2:]] == [5, 2]
