"""Org-wide sync against a sandbox that serves several users with shared data."""

from __future__ import annotations

import collections
import json

import pytest
from tap_harness import (
    TapOutput,
    record_ids,
    run_tap,
    run_tap_process,
    run_until_killed,
    run_until_terminated,
    sandbox_config,
    tap_process,
)

from tap_mixmax.accounts import account_state, accounts_in_state
from tap_mixmax.pacing import RequestPacer

USERS = 3
CORE = {"sequences", "sequence_recipients", "messages", "livefeed", "livefeed_events"}
SHARED = ("sequences", "snippets", "teams")


def org(users: int = USERS, **kwargs):
    from mixmax_sandbox import Sandbox

    return Sandbox(**{"seed": 21, "scale": "tiny", "users": users, "rate_limit": None, **kwargs})


def name(index: int) -> str:
    return f"user{index}"


def accounts_config(sb, indexes=None, **overrides) -> dict:
    config = sandbox_config(sb, **overrides)
    config.pop("api_token")
    indexes = range(len(sb.tokens)) if indexes is None else indexes
    config["accounts"] = [{"name": name(i), "api_token": sb.tokens[i]} for i in indexes]
    return config


def ids_by_account(output: TapOutput, stream: str) -> dict[str, list[str]]:
    by_account: dict[str, list[str]] = collections.defaultdict(list)
    for record in output.records[stream]:
        by_account[record["account"]].append(record["_id"])
    return by_account


def bookmark(state: dict, account: str, stream: str) -> str | None:
    entry = account_state(state, account)["bookmarks"].get(stream, {})
    return entry.get("replication_key_value")


KEYS = {
    "team_members": ("teamId", "memberId"),
    "appointment_links": ("userId",),
    "snippet_tag_snippets": ("snippetTagId", "_id"),
}


def keys_of(records: list[dict], stream: str) -> list[tuple]:
    fields = KEYS.get(stream, ("_id",))
    return [tuple(record[field] for field in fields) for record in records]


def test_each_account_gets_exactly_what_its_token_sees():
    with org() as sb:
        output = run_tap(accounts_config(sb))
        streams = set(output.records)
        assert len(streams) >= 20, f"only {sorted(streams)} synced"
        for stream in streams:
            for index in range(USERS):
                mine = [r for r in output.records[stream] if r["account"] == name(index)]
                got = keys_of(mine, stream)
                assert len(got) == len(set(got)), f"duplicates in {stream} for {name(index)}"
                expected = keys_of(sb.records(stream, user=index), stream)
                assert set(got) == set(expected), (stream, index)
        for stream in SHARED:
            shared = set(sb.shared_ids(stream))
            assert shared, f"the sandbox shares no {stream}: the test proves nothing"
            seen_by = collections.Counter(
                record["_id"] for record in output.records[stream] if record["_id"] in shared
            )
            assert all(count >= 2 for count in seen_by.values()), stream
            assert set(seen_by) == shared, stream


def test_keys_lead_with_the_account_so_shared_rows_do_not_collide():
    with org() as sb:
        output = run_tap(accounts_config(sb), streams={"sequences", "team_members"})
        schemas = output.schemas()
        assert schemas["sequences"]["key_properties"] == ["account", "_id"]
        assert schemas["team_members"]["key_properties"] == ["account", "teamId", "memberId"]
        assert "account" in schemas["sequences"]["schema"]["required"]
        keys = [(r["account"], r["_id"]) for r in output.records["sequences"]]
        assert len(keys) == len(set(keys))
        assert len({r["_id"] for r in output.records["sequences"]}) < len(keys), "nothing shared"
        schema_messages = [m for m in output.messages if m["type"] == "SCHEMA"]
        assert len(schema_messages) == len({m["stream"] for m in schema_messages}), "SCHEMA twice"


def test_bookmarks_are_per_account_and_never_move_another():
    with org() as sb:
        streams = {"messages", "livefeed"}
        first = run_tap(accounts_config(sb, [0, 1]), streams=streams)
        state = first.last_state
        assert state is not None
        before = {i: bookmark(state, name(i), "messages") for i in (0, 1)}
        assert all(before.values())
        sb.advance(days=2)
        # Only user1 syncs: user0's bookmark is carried, untouched.
        second = run_tap(accounts_config(sb, [1]), streams=streams, state=state)
        state = second.final_state
        assert bookmark(state, name(0), "messages") == before[0]
        moved, since = bookmark(state, name(1), "messages"), before[1]
        assert moved and since and moved > since
        assert set(ids_by_account(second, "messages")) == {name(1)}
        # user2 joins: a first sync from the start for it, an incremental one for user0.
        third = run_tap(accounts_config(sb, [0, 1, 2]), streams=streams, state=state)
        by_account = ids_by_account(third, "messages")
        assert set(by_account[name(2)]) == set(sb.ids("messages", user=2))
        assert len(by_account[name(0)]) < len(sb.ids("messages", user=0)), "user0 re-read all"
        new_for_user0 = set(sb.ids("messages", user=0)) - set(
            ids_by_account(first, "messages")[name(0)]
        )
        assert new_for_user0, "advance added no messages for user0"
        assert new_for_user0 <= set(by_account[name(0)])
        final = third.final_state
        assert all(bookmark(final, name(i), "messages") for i in range(3))


def test_a_revoked_account_is_reported_and_the_others_sync(tmp_path):
    with org() as sb:
        sb.revoke(1)
        config = accounts_config(sb)
        streams = {"messages", "sequences"}
        result = run_tap_process(tap_process(tmp_path, config, streams=streams))
        assert result.returncode == 1
        last_line = result.stderr.strip().splitlines()[-1]
        assert last_line.startswith(
            "tap-mixmax: error: 1 of 3 accounts failed (the others synced): user1: "
            "Mixmax rejected the API token (401"
        ), last_line
        assert "Traceback" not in result.stderr
        output = TapOutput.parse(result.stdout)
        for index in (0, 2):
            got = ids_by_account(output, "messages")[name(index)]
            assert set(got) == set(sb.ids("messages", user=index))
        assert name(1) not in ids_by_account(output, "messages")
        state = output.final_state
        assert bookmark(state, name(0), "messages") and bookmark(state, name(2), "messages")
        assert bookmark(state, name(1), "messages") is None

        tolerant = {**config, "tolerate_revoked_tokens": True}
        result = run_tap_process(tap_process(tmp_path, tolerant, streams=streams))
        assert result.returncode == 0, result.stderr[-2000:]
        assert "1 of 3 accounts skipped (tolerate_revoked_tokens): user1" in result.stderr


@pytest.mark.slow
def test_a_token_revoked_mid_sync_fails_only_its_account(tmp_path):
    import threading

    with org(scale="small") as sb:
        done = threading.Event()

        def revoke_user1_after_a_few_requests() -> None:
            while not done.wait(0.005):
                if sum(1 for r in sb.requests if r.user == 1) >= 5:
                    sb.revoke(1)
                    return

        watcher = threading.Thread(target=revoke_user1_after_a_few_requests)
        watcher.start()
        config = accounts_config(sb, page_size=10, max_parallel_accounts=USERS)
        streams = {"messages", "sequences", "sequence_recipients"}
        try:
            result = run_tap_process(tap_process(tmp_path, config, streams=streams))
        finally:
            done.set()
            watcher.join()
        assert [r for r in sb.requests if r.status == 401], "never revoked: the test proves nothing"
        assert result.returncode == 1
        last_line = result.stderr.strip().splitlines()[-1]
        assert last_line.startswith("tap-mixmax: error: 1 of 3 accounts failed"), last_line
        assert "user1: Mixmax rejected the API token" in last_line
        output = TapOutput.parse(result.stdout)
        for stream in streams:
            by_account = ids_by_account(output, stream)
            for index in (0, 2):
                assert set(by_account[name(index)]) == set(sb.ids(stream, user=index)), stream


@pytest.mark.slow
def test_accounts_sync_concurrently_and_each_within_its_own_server_limit():
    # One lane per account: none has a request in flight when its window fills, so the
    # rate headers alone keep every account free of 429s.
    with org(rate_limit=8, rate_window=1.0) as sb:
        config = accounts_config(
            sb, page_size=5, max_parallel_accounts=USERS, max_parallel_streams=1
        )
        output = run_tap(config, streams={"messages", "sequences", "sequence_recipients"})
        for index in range(USERS):
            got = ids_by_account(output, "sequence_recipients")[name(index)]
            assert set(got) == set(sb.ids("sequence_recipients", user=index))
        users = [r.user for r in sb.requests if r.user is not None]
        first, last = users.index(0), len(users) - 1 - users[::-1].index(0)
        assert {1, 2} <= set(users[first:last]), "accounts ran one after another"
        too_many = collections.Counter(r.user for r in sb.requests if r.status == 429)
        assert not too_many, too_many
        answered = collections.Counter(r.user for r in sb.requests if r.status == 200)
        assert min(answered.values()) > 2 * 8, "too few requests per user to fill a window"


def test_one_account_at_a_time_when_asked():
    with org() as sb:
        config = accounts_config(sb, page_size=5, max_parallel_accounts=1)
        run_tap(config, streams={"messages"})
        users = [r.user for r in sb.requests if r.user is not None]
        runs = [user for i, user in enumerate(users) if i == 0 or users[i - 1] != user]
        assert sorted(runs) == [0, 1, 2], f"accounts interleaved: {runs}"


def test_each_account_has_a_pacer_of_its_own(monkeypatch):
    slots: collections.Counter[int] = collections.Counter()  # pacer -> requests it let go
    original = RequestPacer.wait_for_slot

    def spy(self):
        slots[id(self)] += 1
        return original(self)

    monkeypatch.setattr(RequestPacer, "wait_for_slot", spy)
    with org() as sb:
        run_tap(accounts_config(sb), streams={"messages", "snippets"})
        per_user = collections.Counter(r.user for r in sb.requests)
    assert None not in per_user and len(per_user) == USERS
    # One pacer per account, each letting go exactly that account's requests (as the
    # sandbox logged them): a pacer shared by two accounts, or a request that skipped its
    # account's pacer, changes these counts.
    assert len(slots) == USERS, "an account without a pacer of its own"
    assert sorted(slots.values()) == sorted(per_user.values())


def test_no_account_token_reaches_output_or_logs(tmp_path):
    with org() as sb:
        config = accounts_config(sb)
        sb.revoke(2)  # its token shows up in a failure path too
        argv = tap_process(tmp_path, config, streams={"messages", "sequences", "users"})
        result = run_tap_process(argv, env={"TAP_MIXMAX_LOG_LEVEL": "DEBUG", "LOGLEVEL": "DEBUG"})
        assert result.returncode == 1
        assert "DEBUG" in result.stderr or "INFO" in result.stderr
        for token in sb.tokens:
            assert token not in result.stdout
            assert token not in result.stderr
        about = run_tap_process([argv[0], "--about", "--config", argv[2]])
        for token in sb.tokens:
            assert token not in about.stdout + about.stderr


KILL_POINTS = (0.15, 0.5, 0.85, 0.95)


@pytest.mark.slow
def test_kill_and_resume_accounts_loses_no_row(tmp_path):
    with org(scale="small", messages=1200) as sb:
        streams = {"messages", "livefeed", "livefeed_events"}
        # No lookback: a resume re-reads nothing it was not told to.
        config = accounts_config(sb, page_size=10, lookback_days=0, livefeed_activity_days=0)
        complete = run_tap(config, streams=streams)
        total = len(complete.messages)
        resumed_from_progress = 0
        for fraction in KILL_POINTS:
            kill_at = int(total * fraction)
            killed = run_until_killed(tap_process(tmp_path, config, streams=streams), kill_at)
            states = [m["value"] for m in killed if m["type"] == "STATE"]
            state = states[-1] if states else None
            if state and any(
                bookmark(state, name(i), stream)
                for i in range(USERS)
                for stream in ("messages", "livefeed")
            ):
                resumed_from_progress += 1
            resumed = run_tap(config, streams=streams, state=state)
            for stream in ("messages", "livefeed", "livefeed_events"):
                for index in range(USERS):
                    union = record_ids(killed, stream, name(index))
                    union |= set(ids_by_account(resumed, stream)[name(index)])
                    missing = set(sb.ids(stream, user=index)) - union
                    assert not missing, f"killed at line {kill_at}: {len(missing)} {stream} lost"
        assert resumed_from_progress, "no kill landed after a bookmark: the test proves little"


@pytest.mark.slow
def test_sigterm_stops_every_account_and_the_last_state_covers_its_records(tmp_path):
    with org(scale="small", messages=1200) as sb:
        sb.add_fault("slow", probability=1.0, seed=1, times=0, delay=0.02)
        streams = {"messages", "livefeed", "livefeed_events"}
        config = accounts_config(sb, page_size=10, lookback_days=0, livefeed_activity_days=0)
        argv = tap_process(tmp_path, config, streams=streams)
        messages, heard = run_until_terminated(argv, after_lines=1000)
        # Once the tap heard the stop: at most what each lane of each account had in flight.
        after = [r for r in sb.requests if r.time > heard]
        assert len(after) <= 2 * USERS * 2, f"{len(after)} requests after SIGTERM"
        assert messages[-1]["type"] == "STATE", "the last word must be the state"
        sb.clear_faults()
        resumed = run_tap(config, streams=streams, state=messages[-1]["value"])
        for stream in streams:
            for index in range(USERS):
                union = record_ids(messages, stream, name(index))
                union |= set(ids_by_account(resumed, stream)[name(index)])
                assert set(sb.ids(stream, user=index)) <= union, f"{stream}/{index}: rows lost"


@pytest.mark.slow
def test_two_hundred_accounts_in_one_process():
    users = 200
    with org(users=users) as sb:
        config = accounts_config(sb, max_parallel_accounts=8)
        output = run_tap(config, streams={"users", "sequences", "messages"})
        for stream in ("sequences", "messages"):
            by_account = ids_by_account(output, stream)
            for index in range(users):
                assert sorted(by_account[name(index)]) == sorted(sb.ids(stream, user=index))
        state = output.final_state
        assert sorted(accounts_in_state(state)) == sorted(name(i) for i in range(users))
        assert all(bookmark(state, name(i), "messages") for i in range(users))


def test_discovery_with_accounts_shows_the_account_key(tmp_path):
    with org() as sb:
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps(accounts_config(sb)))
        from tap_harness import TAP_EXECUTABLE

        result = run_tap_process([TAP_EXECUTABLE, "--config", str(config_path), "--discover"])
        assert result.returncode == 0, result.stderr[-2000:]
        catalog = json.loads(result.stdout)
        assert catalog["streams"], "an empty catalog: the check would prove nothing"
        for entry in catalog["streams"]:
            assert entry["key_properties"][0] == "account", entry["tap_stream_id"]


def test_connection_test_reads_as_the_first_account(tmp_path):
    with org() as sb:
        argv = tap_process(tmp_path, accounts_config(sb), extra_args=("--test",))
        result = run_tap_process(argv)
        assert result.returncode == 0, result.stderr[-2000:]
        records = TapOutput.parse(result.stdout).records
        assert records, "the connection test emitted no record"
        accounts = {r["account"] for rows in records.values() for r in rows}
        assert accounts == {name(0)}
