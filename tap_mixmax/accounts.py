"""Org-wide sync: one single-account tap per entry of `accounts`, run concurrently.

Each account is a complete tap of its own (its token, its pacer, its streams), so the
single-account path stays the only sync logic. All of them write through one
`AccountsOutput`, which sends each stream's SCHEMA once, passes RECORDs through and turns
every account's STATE into one state for the whole sync: per stream, one SDK partition
per account (`{"context": {"account": name}, ...}`). An account's bookmarks therefore
only ever move with that account's own records.
"""

from __future__ import annotations

import concurrent.futures
import copy
import dataclasses
import logging
import threading
import time
import typing as t
from collections.abc import Callable, Mapping, Sequence

from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message, SchemaMessage, StateMessage

from tap_mixmax import errors

ACCOUNT_FIELD = "account"
ACCOUNT_FIELD_SCHEMA: dict[str, t.Any] = {"type": ["string"]}
DEFAULT_PARALLEL_ACCOUNTS = 4
# A merged STATE carries every account, so it is written at most this often (and once
# at the end). Skipping one only means a resumed sync re-reads a little more.
STATE_MIN_INTERVAL_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Account:
    name: str
    api_token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class AccountFailure:
    account: str
    reason: str
    revoked: bool  # Mixmax rejected the token (401), or the user lost API access (403)


def parse_accounts(config: Mapping[str, t.Any]) -> list[Account]:
    """The `accounts` setting, checked: names unique and non-empty, tokens non-empty."""
    accounts: list[Account] = []
    for index, entry in enumerate(config.get("accounts") or []):
        name = str(entry.get("name") or "").strip()
        token = str(entry.get("api_token") or "").strip()
        if not name:
            raise errors.ConfigError(f"invalid config: accounts[{index}] has no name")
        if not token:
            raise errors.ConfigError(f"invalid config: account {name!r} has an empty api_token")
        if any(account.name == name for account in accounts):
            raise errors.ConfigError(f"invalid config: account name {name!r} is used twice")
        accounts.append(Account(name, token))
    return accounts


def account_state(state: Mapping[str, t.Any], name: str) -> dict[str, t.Any]:
    """One account's single-account state, cut out of the merged state."""
    bookmarks: dict[str, t.Any] = {}
    for stream, entry in (state.get("bookmarks") or {}).items():
        for partition in entry.get("partitions") or []:
            if partition.get("context") == {ACCOUNT_FIELD: name}:
                bookmarks[stream] = {k: v for k, v in partition.items() if k != "context"}
    return {"bookmarks": bookmarks}


def accounts_in_state(state: Mapping[str, t.Any]) -> list[str]:
    names: dict[str, None] = {}
    for entry in (state.get("bookmarks") or {}).values():
        for partition in entry.get("partitions") or []:
            name = (partition.get("context") or {}).get(ACCOUNT_FIELD)
            if isinstance(name, str):
                names[name] = None
    return list(names)


def merged_state(states: Mapping[str, Mapping[str, t.Any]]) -> dict[str, t.Any]:
    """The whole sync's state: per stream, one partition per account."""
    bookmarks: dict[str, dict[str, list[dict[str, t.Any]]]] = {}
    for name, state in states.items():
        for stream, entry in (state.get("bookmarks") or {}).items():
            partition = {"context": {ACCOUNT_FIELD: name}, **entry}
            bookmarks.setdefault(stream, {"partitions": []})["partitions"].append(partition)
    return {"bookmarks": bookmarks}


class AccountsOutput:
    """The one stdout of an org-wide sync, shared by every account's thread."""

    def __init__(
        self, writer: GenericSingerWriter[t.Any, Message], state: Mapping[str, t.Any]
    ) -> None:
        self._writer = writer
        self._lock = threading.Lock()
        # Accounts no longer configured keep their bookmarks, for when they come back.
        self._states = {name: account_state(state, name) for name in accounts_in_state(state)}
        self._schemas: dict[str, SchemaMessage] = {}
        self._state_written_at = float("-inf")
        self._state_pending = False

    def writer_for(self, account: str) -> AccountWriter:
        return AccountWriter(self, account)

    def state_of(self, account: str) -> dict[str, t.Any]:
        """The account's bookmarks as of the last STATE it wrote (or the input state)."""
        with self._lock:
            return copy.deepcopy(self._states.get(account) or {"bookmarks": {}})

    def serialize(self, message: Message) -> t.Any:
        return self._writer.serialize_message(message)

    def write(self, account: str, message: Message) -> None:
        with self._lock:
            if isinstance(message, StateMessage):
                # A copy: the account's thread goes on changing its live state.
                self._states[account] = copy.deepcopy(dict(message.value))
                self._state_pending = True
                if time.monotonic() - self._state_written_at >= STATE_MIN_INTERVAL_SECONDS:
                    self._write_state()
                return
            if isinstance(message, SchemaMessage):
                if self._schemas.get(message.stream) == message:
                    return  # every account sends the same SCHEMA; once is enough
                self._schemas[message.stream] = message
            self._writer.write_message(message)

    def close(self) -> None:
        """Write the final STATE, covering every record written."""
        with self._lock:
            if self._state_pending:
                self._write_state()

    def _write_state(self) -> None:
        self._writer.write_message(StateMessage(value=merged_state(self._states)))
        self._state_written_at = time.monotonic()
        self._state_pending = False


class AccountWriter(GenericSingerWriter[t.Any, Message]):
    """The message writer of one account's tap: everything goes to the shared output."""

    def __init__(self, output: AccountsOutput, account: str) -> None:
        self._output = output
        self._account = account

    def serialize_message(self, message: Message) -> t.Any:
        return self._output.serialize(message)

    def write_message(self, message: Message) -> None:
        self._output.write(self._account, message)


class SyncsAll(t.Protocol):
    def sync_all(self) -> None: ...


# Builds one account's tap from the account, its own state and its writer.
AccountTapFactory = Callable[[Account, dict[str, t.Any], AccountWriter], SyncsAll]


class AccountsSync:
    """Runs every account's sync, at most `parallel` at a time, and reports the failures."""

    def __init__(
        self,
        accounts: Sequence[Account],
        output: AccountsOutput,
        new_tap: AccountTapFactory,
        *,
        parallel: int,
        tolerate_revoked: bool,
        logger: logging.Logger,
    ) -> None:
        self.accounts = accounts
        self.output = output
        self.new_tap = new_tap
        self.parallel = max(1, min(parallel, len(accounts)))
        self.tolerate_revoked = tolerate_revoked
        self.logger = logger

    def run(self) -> list[AccountFailure]:
        """Sync every account; raise one MixmaxError at the end if any must fail the run."""
        self.logger.info("Syncing %d accounts, %d at a time", len(self.accounts), self.parallel)
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=self.parallel, thread_name_prefix="account"
        ) as pool:
            outcomes = list(pool.map(self._sync_one, self.accounts))
        self.output.close()
        failures = [failure for failure in outcomes if failure is not None]
        self._report(failures)
        return failures

    def _sync_one(self, account: Account) -> AccountFailure | None:
        state = self.output.state_of(account.name)
        try:
            self.new_tap(account, state, self.output.writer_for(account.name)).sync_all()
        except (errors.AuthError, errors.ForbiddenError) as exc:
            return self._failed(account, str(exc), revoked=True)
        except errors.MixmaxError as exc:
            return self._failed(account, str(exc), revoked=False)
        except Exception as exc:  # a bug: keep the other accounts going, show the trace
            self.logger.exception("Account %s stopped on an unexpected error", account.name)
            return self._failed(account, f"unexpected {type(exc).__name__}: {exc}", revoked=False)
        self.logger.info("Account %s synced", account.name)
        return None

    def _failed(self, account: Account, reason: str, *, revoked: bool) -> AccountFailure:
        self.logger.error("Account %s failed, the others go on: %s", account.name, reason)
        return AccountFailure(account.name, reason, revoked)

    def _report(self, failures: list[AccountFailure]) -> None:
        if not failures:
            return
        summary = "; ".join(f"{failure.account}: {failure.reason}" for failure in failures)
        tolerated = self.tolerate_revoked and all(failure.revoked for failure in failures)
        if tolerated and len(failures) < len(self.accounts):
            self.logger.warning(
                "%d of %d accounts skipped (tolerate_revoked_tokens): %s",
                len(failures),
                len(self.accounts),
                summary,
            )
            return
        raise errors.MixmaxError(
            f"{len(failures)} of {len(self.accounts)} accounts failed "
            f"(the others synced): {summary}"
        )
