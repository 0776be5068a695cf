"""Org-wide sync: one single-account tap per entry of `accounts`, run concurrently.

Each account is a complete tap of its own (its token, its pacer, its streams), writing
through one SharedOutput (tap_mixmax/parallel.py). The merged state keeps, per stream,
one SDK partition per account (`{"context": {"account": name}, ...}`), so an account's
bookmarks only ever move with that account's own records.
"""

from __future__ import annotations

import dataclasses
import logging
import typing as t
from collections.abc import Callable, Mapping, Sequence

from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message

from tap_mixmax import errors
from tap_mixmax.checks import Account
from tap_mixmax.parallel import PartWriter, SharedOutput, State, SyncsAll, run_parts
from tap_mixmax.records import ACCOUNT_FIELD
from tap_mixmax.report import counted
from tap_mixmax.stopping import SyncStopped, raise_if_stopping


@dataclasses.dataclass(frozen=True)
class AccountFailure:
    account: str
    reason: str
    revoked: bool  # Mixmax rejected the token (401), or the user lost API access (403)


def split_state(state: Mapping[str, t.Any]) -> dict[str, State]:
    """Each account's single-account state, cut out of the merged state in one pass."""
    states: dict[str, State] = {}
    for stream, entry in (state.get("bookmarks") or {}).items():
        for partition in entry.get("partitions") or []:
            name = (partition.get("context") or {}).get(ACCOUNT_FIELD)
            if isinstance(name, str):
                bookmarks = states.setdefault(name, {"bookmarks": {}})["bookmarks"]
                bookmarks[stream] = {k: v for k, v in partition.items() if k != "context"}
    return states


def account_state(state: Mapping[str, t.Any], name: str) -> State:
    """One account's single-account state, cut out of the merged state."""
    return split_state(state).get(name) or {"bookmarks": {}}


def accounts_in_state(state: Mapping[str, t.Any]) -> list[str]:
    return list(split_state(state))


def merged_state(states: Mapping[str, Mapping[str, t.Any]]) -> dict[str, t.Any]:
    """The whole sync's state: per stream, one partition per account."""
    bookmarks: dict[str, dict[str, list[dict[str, t.Any]]]] = {}
    for name, state in states.items():
        for stream, entry in (state.get("bookmarks") or {}).items():
            partition = {"context": {ACCOUNT_FIELD: name}, **entry}
            bookmarks.setdefault(stream, {"partitions": []})["partitions"].append(partition)
    return {"bookmarks": bookmarks}


def accounts_output(
    writer: GenericSingerWriter[t.Any, Message], state: Mapping[str, t.Any]
) -> SharedOutput:
    """The shared output of an org-wide sync, starting from the input state.

    Accounts no longer configured keep their bookmarks, for when they come back.
    """
    return SharedOutput(writer, split_state(state), merged_state)


# Builds one account's tap from the account, its own state and its writer.
AccountTapFactory = Callable[[Account, State, PartWriter], SyncsAll]


class AccountsSync:
    """Runs every account's sync, at most `parallel` at a time, and reports the failures."""

    def __init__(
        self,
        accounts: Sequence[Account],
        output: SharedOutput,
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
        self._started: set[str] = set()  # set.add is atomic: the parts' threads share it

    def run(self) -> list[AccountFailure]:
        """Sync every account; raise one MixmaxError at the end if any must fail the run."""
        self.logger.info(
            "Syncing %s, %d at a time", counted(len(self.accounts), "account"), self.parallel
        )
        try:
            futures = run_parts(
                self.output, self._sync_one, self.accounts, parallel=self.parallel, name="account"
            )
        except SyncStopped:
            self._report_not_started()
            raise
        finally:
            self.output.close()
        failures = [failure for future in futures if (failure := future.result()) is not None]
        self._report(failures)
        return failures

    def _report_not_started(self) -> None:
        waiting = [account.name for account in self.accounts if account.name not in self._started]
        if waiting:
            shown = ", ".join(waiting[:5]) + (", ..." if len(waiting) > 5 else "")
            self.logger.info(
                "%d of %s had not started (%s); the rerun with the last STATE syncs them",
                len(waiting),
                counted(len(self.accounts), "account"),
                shown,
            )

    def _sync_one(self, account: Account) -> AccountFailure | None:
        # Taken from the queue after a stop (before the pool's cancel): it never starts.
        raise_if_stopping()
        self._started.add(account.name)
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
        # Accounts that failed alike (a host none could reach) share one mention of it.
        names_by_reason: dict[str, list[str]] = {}
        for failure in failures:
            names_by_reason.setdefault(failure.reason, []).append(failure.account)
        summary = "; ".join(
            f"{', '.join(names)}: {reason}" for reason, names in names_by_reason.items()
        )
        tolerated = self.tolerate_revoked and all(failure.revoked for failure in failures)
        if tolerated and len(failures) < len(self.accounts):
            self.logger.warning(
                "%d of %s skipped (tolerate_revoked_tokens): %s",
                len(failures),
                counted(len(self.accounts), "account"),
                summary,
            )
            return
        others = " (the others synced)" if len(failures) < len(self.accounts) else ""
        raise errors.MixmaxError(
            f"{len(failures)} of {counted(len(self.accounts), 'account')} failed{others}: {summary}"
        )
