"""The part runner on its own: which parts a tap's sync becomes, and what each shares.

The lanes and accounts tests prove the parts sync right against the sandbox; these pin
the runner's choices with a fake tap, so a wrong branch names itself.
"""

from __future__ import annotations

import dataclasses
import logging
import typing as t

import pytest
from singer_sdk.singerlib.encoding.simple import StateMessage

from tap_mixmax.first_contact import FirstContact
from tap_mixmax.parallel import Part
from tap_mixmax.parts import PartsRunner
from tap_mixmax.stopping import SyncStopped


@dataclasses.dataclass
class FakeStream:
    name: str
    child_streams: list[FakeStream] = dataclasses.field(default_factory=list)
    parent_stream_type: type | None = None
    selected: bool = True
    has_selected_descendents: bool = False


class Writer:
    def __init__(self) -> None:
        self.messages: list[t.Any] = []

    def write_message(self, message: t.Any) -> None:
        self.messages.append(message)


class FakeTap:
    def __init__(
        self,
        names: t.Sequence[str],
        config: dict[str, t.Any] | None = None,
        part: Part | None = None,
    ) -> None:
        self.config = {"max_parallel_streams": 4, **(config or {})}
        children = {"sequences": [FakeStream("sequence_recipients", parent_stream_type=object)]}
        self.streams = {name: FakeStream(name, children.get(name, [])) for name in names}
        self.part = part or Part()
        self.report = t.cast(t.Any, "the run's report")
        self.first_contact = FirstContact()
        self.message_writer = Writer()
        self.logger = logging.getLogger("test-parts")
        self.state: dict[str, t.Any] = {"bookmarks": {"messages": {"replication_key_value": 1}}}
        self.input_catalog = None
        self.account = "alice" if self.part.account is None else self.part.account
        self.api = t.cast(t.Any, "alice's API object")
        self.syncs_accounts = self.part.account is None and bool(self.config.get("accounts"))
        self.own_syncs = 0
        self.connection_checks = 0
        self.raise_on_sync: BaseException | None = None

    def sync_streams(self) -> None:
        self.own_syncs += 1
        if self.raise_on_sync is not None:
            raise self.raise_on_sync

    def check_connection(self) -> None:
        self.connection_checks += 1

    def sync_all(self) -> None:
        raise AssertionError("the runner syncs its tap through sync_streams")


class Parts:
    """The tap factory: records each part it is asked for; the parts sync nothing."""

    def __init__(self) -> None:
        self.built: list[dict[str, t.Any]] = []

    def __call__(self, **kwargs: t.Any) -> t.Any:
        self.built.append(kwargs)
        return self

    def sync_all(self) -> None:
        pass


def run(tap: FakeTap) -> Parts:
    parts = Parts()
    PartsRunner(t.cast(t.Any, tap), parts).sync()
    return parts


def test_one_family_syncs_its_own_streams_and_builds_no_part():
    tap = FakeTap(["sequences"])
    assert run(tap).built == []
    assert tap.own_syncs == 1


def test_each_family_gets_a_lane_that_shares_the_accounts_api_object():
    tap = FakeTap(["sequences", "messages", "snippets"])
    built = run(tap).built
    assert tap.own_syncs == 0
    families = sorted(sorted(kwargs["part"].streams) for kwargs in built)
    assert families == [["messages"], ["sequence_recipients", "sequences"], ["snippets"]]
    for kwargs in built:
        part = kwargs["part"]
        assert part.api == "alice's API object" and part.account == "alice"
        assert part.report == tap.report and part.first_contact is tap.first_contact
        assert kwargs["config"] == tap.config and kwargs["config"] is not tap.config
    # No users lane to prove the token: one /users/me before the lanes fan out.
    assert tap.connection_checks == 1


def test_a_users_lane_proves_the_token_itself():
    tap = FakeTap(["users", "messages"])
    built = run(tap).built
    assert [sorted(kwargs["part"].streams) for kwargs in built] == [["users"], ["messages"]]
    assert tap.connection_checks == 0


@pytest.mark.parametrize(
    ("names", "config", "part"),
    [
        (["messages", "snippets"], {"max_parallel_streams": 1}, None),
        (["messages", "snippets"], {}, Part(account="alice", streams=frozenset({"messages"}))),
    ],
    ids=["one-at-a-time", "already-a-lane"],
)
def test_no_lanes_when_one_at_a_time_or_already_a_lane(names, config, part):
    tap = FakeTap(names, config, part)
    assert run(tap).built == []
    assert tap.own_syncs == 1


def test_each_account_gets_a_tap_of_its_own_token_and_api_object():
    accounts = [{"name": "alice", "api_token": "tok-a"}, {"name": "bob", "api_token": "tok-b"}]
    tap = FakeTap(["messages", "snippets"], {"accounts": accounts, "api_token": "x"})
    built = run(tap).built
    assert tap.own_syncs == 0
    assert sorted((k["part"].account, k["config"]["api_token"]) for k in built) == [
        ("alice", "tok-a"),
        ("bob", "tok-b"),
    ]
    for kwargs in built:
        assert "accounts" not in kwargs["config"]
        assert kwargs["part"].api is None  # its own: its own pace and token
        assert kwargs["part"].streams is None  # the account's tap makes its own lanes


def test_a_stop_in_a_tap_of_its_own_writes_its_newest_state_last():
    tap = FakeTap(["messages"])
    tap.raise_on_sync = SyncStopped()
    with pytest.raises(SyncStopped):
        run(tap)
    assert tap.message_writer.messages, "no STATE written on the stop"
    last = tap.message_writer.messages[-1]
    assert isinstance(last, StateMessage) and last.value == tap.state
