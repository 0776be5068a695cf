"""The accounts plumbing without HTTP: config checks, state split/merge, the shared output."""

from __future__ import annotations

import io
import json
import logging
import threading
from typing import Any

import pytest
from singer_sdk.singerlib.encoding.simple import RecordMessage, SchemaMessage, StateMessage

from tap_mixmax import accounts, errors, parallel
from tap_mixmax.accounts import (
    AccountsSync,
    account_state,
    accounts_output,
    merged_state,
)
from tap_mixmax.checks import Account, check_config, parse_accounts
from tap_mixmax.tap import TapMixmax

GOOD = {"api_url": "https://api.mixmax.com/v1"}
TWO = [{"name": "alice", "api_token": "tok-a"}, {"name": "bob", "api_token": "tok-b"}]


class ListWriter:
    """A message writer that keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[object] = []

    def write_message(self, message: object) -> None:
        self.messages.append(message)

    def serialize_message(self, message: object) -> str:
        return json.dumps(message.to_dict())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"accounts": TWO, "api_token": "x"}, "set api_token or accounts, not both"),
        ({}, "api_token is empty (set api_token or accounts)"),
        ({"accounts": [{"name": " ", "api_token": "x"}]}, "accounts[0] has no name"),
        ({"accounts": [{"name": "a", "api_token": ""}]}, "account 'a' has an empty api_token"),
        ({"accounts": [TWO[0], TWO[0]]}, "account name 'alice' is used twice"),
        (
            {"accounts": TWO, "emit_activate_version_messages": True},
            "emit_activate_version_messages cannot be used with accounts",
        ),
        ({"accounts": TWO, "max_parallel_accounts": 0}, "max_parallel_accounts must be at least 1"),
    ],
)
def test_bad_accounts_config_is_one_clear_line(config, message):
    with pytest.raises(errors.ConfigError, match=r"^invalid config: ") as caught:
        check_config({**GOOD, **config})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "tok-" not in str(caught.value), "a token reached an error message"


def test_accounts_alone_is_a_valid_config_and_keys_gain_account():
    tap = TapMixmax(config={**GOOD, "accounts": TWO})
    assert parse_accounts(tap.config) == [Account("alice", "tok-a"), Account("bob", "tok-b")]
    assert tap.streams, "no streams: the loop below would prove nothing"
    for stream in tap.streams.values():
        assert stream.primary_keys[0] == "account", stream.name
        assert "account" in stream.schema["properties"], stream.name
        assert "account" in stream.schema["required"], stream.name
    sequences = tap.streams["sequences"]
    assert tuple(sequences.primary_keys) == ("account", "_id")
    assert tuple(tap.streams["team_members"].primary_keys) == ("account", "teamId", "memberId")


def test_single_token_mode_has_no_account_column():
    tap = TapMixmax(config={**GOOD, "api_token": "x"})
    assert tuple(tap.streams["sequences"].primary_keys) == ("_id",)
    assert "account" not in tap.streams["sequences"].schema["properties"]


def test_accounts_tokens_are_secret_in_the_settings():
    accounts_schema = TapMixmax.config_jsonschema["properties"]["accounts"]
    token = accounts_schema["items"]["properties"]["api_token"]
    assert token.get("secret") is True
    assert accounts_schema.get("secret") is True


def test_account_repr_hides_the_token():
    assert "tok-a" not in repr(Account("alice", "tok-a"))


def test_state_split_and_merge_round_trip():
    states: dict[str, dict[str, Any]] = {
        "alice": {"bookmarks": {"messages": {"replication_key_value": "2026-01-02"}}},
        "bob": {
            "bookmarks": {
                "messages": {"replication_key_value": "2026-03-04"},
                "sequences": {"recipients_pass": {"lastFullPass": "x"}},
            }
        },
    }
    merged = merged_state(states)
    partitions = merged["bookmarks"]["messages"]["partitions"]
    assert {"context": {"account": "alice"}, "replication_key_value": "2026-01-02"} in partitions
    assert account_state(merged, "alice") == states["alice"]
    assert account_state(merged, "bob") == states["bob"]
    assert account_state(merged, "carol") == {"bookmarks": {}}
    assert accounts.accounts_in_state(merged) == ["alice", "bob"]


def test_output_sends_each_schema_once_and_merges_states(monkeypatch):
    monkeypatch.setattr(parallel, "STATE_INTERVAL_PER_PART_SECONDS", 0.0)
    writer = ListWriter()
    input_state = merged_state(
        {"gone": {"bookmarks": {"messages": {"replication_key_value": "1"}}}}
    )
    output = accounts_output(writer, input_state)  # type: ignore[arg-type]
    schema = SchemaMessage("messages", {"properties": {}}, ["account", "_id"])
    for name in ("alice", "bob"):
        output.write(name, SchemaMessage("messages", {"properties": {}}, ["account", "_id"]))
        output.write(name, RecordMessage("messages", {"_id": "1", "account": name}))
    live = {"bookmarks": {"messages": {"replication_key_value": "2"}}}
    output.write("alice", StateMessage(live))
    live["bookmarks"]["messages"]["replication_key_value"] = "changed later by the tap"
    output.close()
    kinds = [type(m).__name__ for m in writer.messages]
    assert kinds == ["SchemaMessage", "RecordMessage", "RecordMessage", "StateMessage"]
    assert writer.messages[0] == schema
    state = writer.messages[-1].value  # type: ignore[attr-defined]
    assert account_state(state, "alice") == {
        "bookmarks": {"messages": {"replication_key_value": "2"}}
    }
    # An account that is no longer configured keeps its bookmark.
    assert account_state(state, "gone") == {
        "bookmarks": {"messages": {"replication_key_value": "1"}}
    }


def test_merged_states_are_throttled_by_size_but_the_last_always_goes_out(monkeypatch):
    monkeypatch.setattr(parallel, "STATE_INTERVAL_PER_PART_SECONDS", 3600.0)
    monkeypatch.setattr(parallel, "STATE_MAX_INTERVAL_SECONDS", 3600.0)
    writer = ListWriter()
    output = accounts_output(writer, {})  # type: ignore[arg-type]
    for value in ("1", "2", "3"):
        output.write("alice", StateMessage({"bookmarks": {"m": {"replication_key_value": value}}}))
    output.close()
    states = [m.value for m in writer.messages if isinstance(m, StateMessage)]
    assert [account_state(s, "alice")["bookmarks"]["m"] for s in states] == [
        {"replication_key_value": "1"},  # nothing was written yet: out at once
        {"replication_key_value": "3"},  # the last, at close
    ]


def test_the_state_interval_grows_with_the_parts_up_to_a_second():
    output = accounts_output(ListWriter(), {})  # type: ignore[arg-type]
    for index in range(3):
        output.write(f"a{index}", StateMessage({"bookmarks": {}}))
    assert output._state_interval() == pytest.approx(3 * parallel.STATE_INTERVAL_PER_PART_SECONDS)
    for index in range(1000):
        output.write(f"b{index}", StateMessage({"bookmarks": {}}))
    assert output._state_interval() == parallel.STATE_MAX_INTERVAL_SECONDS


class FakeTap:
    def __init__(self, behaviour: Exception | None, started: threading.Barrier | None) -> None:
        self.behaviour = behaviour
        self.started = started

    def sync_all(self) -> None:
        if self.started is not None:
            self.started.wait(timeout=1)  # every account must be running at once
        if self.behaviour is not None:
            raise self.behaviour


def run_sync(behaviours: dict[str, Exception | None], *, parallel=4, tolerate=False, barrier=None):
    taps = {name: FakeTap(b, barrier) for name, b in behaviours.items()}
    sync = AccountsSync(
        [Account(name, f"tok-{name}") for name in behaviours],
        accounts_output(ListWriter(), {}),  # type: ignore[arg-type]
        lambda account, state, writer: taps[account.name],
        parallel=parallel,
        tolerate_revoked=tolerate,
        logger=logging.getLogger("test"),
    )
    return sync.run()


def test_accounts_run_concurrently_up_to_the_limit():
    barrier = threading.Barrier(3)
    assert run_sync({"a": None, "b": None, "c": None}, parallel=3, barrier=barrier) == []
    with pytest.raises(errors.MixmaxError, match="3 of 3 accounts failed"):
        # Two at a time cannot all meet at a barrier of three.
        run_sync({"a": None, "b": None, "c": None}, parallel=2, barrier=threading.Barrier(3))


def test_a_revoked_account_fails_the_run_at_the_end_in_one_line():
    revoked = errors.AuthError("Mixmax rejected the API token (401 on /v1/users/me)")
    with pytest.raises(errors.MixmaxError) as caught:
        run_sync({"alice": None, "bob": revoked, "carol": None})
    assert str(caught.value) == (
        "1 of 3 accounts failed (the others synced): "
        "bob: Mixmax rejected the API token (401 on /v1/users/me)"
    )


def test_accounts_that_fail_alike_share_one_mention_of_the_cause():
    unreachable = errors.UnreachableError("cannot connect to 127.0.0.1:9 (Connection refused)")
    with pytest.raises(errors.MixmaxError) as caught:
        run_sync({"alice": unreachable, "bob": unreachable, "carol": None})
    assert str(caught.value) == (
        "2 of 3 accounts failed (the others synced): "
        "alice, bob: cannot connect to 127.0.0.1:9 (Connection refused)"
    )
    with pytest.raises(errors.MixmaxError, match=r"^1 of 1 account failed: alice: "):
        run_sync({"alice": unreachable})


def test_tolerated_revoked_accounts_only_warn(caplog):
    revoked = errors.AuthError("rejected")
    with caplog.at_level(logging.WARNING):
        failures = run_sync({"alice": None, "bob": revoked}, tolerate=True)
    assert [f.account for f in failures] == ["bob"]
    assert "1 of 2 accounts skipped (tolerate_revoked_tokens): bob: rejected" in caplog.text


def test_tolerance_covers_revoked_tokens_only_and_never_every_account():
    with pytest.raises(errors.MixmaxError, match="1 of 2 accounts failed"):
        run_sync({"alice": None, "bob": errors.MixmaxError("kept failing")}, tolerate=True)
    revoked = errors.AuthError("rejected")
    with pytest.raises(errors.MixmaxError, match="2 of 2 accounts failed"):
        run_sync({"alice": revoked, "bob": revoked}, tolerate=True)


def test_an_unexpected_error_in_one_account_does_not_stop_the_others(caplog):
    with (
        caplog.at_level(logging.INFO),
        pytest.raises(errors.MixmaxError, match="bob: unexpected KeyError"),
    ):
        run_sync({"alice": None, "bob": KeyError("x"), "carol": None})
    assert "Account alice synced" in caplog.text
    assert "Account carol synced" in caplog.text
    stopped = [r for r in caplog.records if "stopped on an unexpected error" in r.getMessage()]
    # Logged with its traceback (formatted, and masked, as the record is made).
    assert stopped and "Traceback" in (stopped[0].exc_text or ""), "a bug keeps its traceback"


def test_output_is_thread_safe_under_many_writers(monkeypatch):
    monkeypatch.setattr(parallel, "STATE_INTERVAL_PER_PART_SECONDS", 0.0)
    raw = io.StringIO()

    class StreamWriter(ListWriter):
        def write_message(self, message: object) -> None:
            raw.write(self.serialize_message(message) + "\n")

    output = accounts_output(StreamWriter(), {})  # type: ignore[arg-type]

    def account(name: str) -> None:
        state: dict = {"bookmarks": {"m": {}}}
        for index in range(300):
            output.write(name, RecordMessage("m", {"_id": str(index), "account": name}))
            state["bookmarks"]["m"]["replication_key_value"] = str(index)
            output.write(name, StateMessage(state))

    threads = [threading.Thread(target=account, args=(f"u{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    output.close()
    seen: dict[str, int] = {}
    bookmarks_checked = 0
    for line in raw.getvalue().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            record = message["record"]
            seen[record["account"]] = int(record["_id"])
        else:  # every STATE covers only records already written
            for name in accounts.accounts_in_state(message["value"]):
                value = account_state(message["value"], name)["bookmarks"]["m"]
                assert int(value["replication_key_value"]) <= seen[name]
                bookmarks_checked += 1
    assert seen == {f"u{i}": 299 for i in range(4)}
    assert bookmarks_checked, "no STATE held a bookmark: the check would prove nothing"
