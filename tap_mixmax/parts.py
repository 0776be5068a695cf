"""How one tap's sync splits into parts, each a tap of its own syncing the SDK's way.

With `accounts`, the run's tap syncs one account's tap per entry (accounts.py). Within
an account, a few stream families run at once, one lane's tap each (lanes.py). A tap
that is a lane, or has one family to sync, syncs its streams itself.
"""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Callable, Mapping

from singer_sdk.singerlib.encoding.simple import StateMessage

from tap_mixmax.accounts import AccountsSync, accounts_output
from tap_mixmax.checks import Account, parse_accounts
from tap_mixmax.lanes import CONNECTION_STREAM, LanesSync, lanes_state, stream_families
from tap_mixmax.parallel import Part, PartWriter, SharedOutput, State, SyncsAll
from tap_mixmax.settings import DEFAULT_PARALLEL_ACCOUNTS, DEFAULT_PARALLEL_STREAMS
from tap_mixmax.stopping import SyncStopped, last_word

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import TapState
    from singer_sdk.singerlib import Catalog
    from singer_sdk.singerlib.encoding.base import GenericSingerWriter
    from singer_sdk.singerlib.encoding.simple import Message
    from singer_sdk.streams import Stream

    from tap_mixmax.api import MixmaxAPI
    from tap_mixmax.first_contact import FirstContact
    from tap_mixmax.report import SyncReport


class PartTap(SyncsAll, t.Protocol):
    """What the runner reads of a tap (TapMixmax), and what each part shares with it."""

    part: Part
    report: SyncReport
    first_contact: FirstContact
    message_writer: GenericSingerWriter[t.Any, Message]

    @property
    def logger(self) -> logging.Logger: ...

    @property
    def config(self) -> Mapping[str, t.Any]: ...
    @property
    def input_catalog(self) -> Catalog | None: ...
    @property
    def state(self) -> TapState: ...
    @property
    def streams(self) -> dict[str, Stream]: ...
    @property
    def account(self) -> str | None: ...
    @property
    def api(self) -> MixmaxAPI: ...
    @property
    def syncs_accounts(self) -> bool: ...

    def sync_streams(self) -> None: ...
    def check_connection(self) -> None: ...


# The tap class: builds a part from a config, catalog, state, writer and `part`.
TapFactory = Callable[..., PartTap]


class PartsRunner:
    """Syncs one tap: through its accounts' taps, its lanes' taps, or its own streams."""

    def __init__(self, tap: PartTap, new_tap: TapFactory) -> None:
        self.tap = tap
        self.new_tap = new_tap

    def sync(self) -> None:
        tap = self.tap
        if tap.syncs_accounts:
            self._sync_accounts()
            return
        parallel = int(tap.config.get("max_parallel_streams", DEFAULT_PARALLEL_STREAMS))
        families = stream_families(tap.streams.values()) if tap.part.streams is None else {}
        if parallel > 1 and len(families) > 1:
            self._sync_lanes(families, parallel)
            return
        try:
            tap.sync_streams()
        except SyncStopped:
            if not isinstance(tap.message_writer, PartWriter):
                # One stream after another in this thread: its state is the newest.
                with last_word():
                    tap.message_writer.write_message(StateMessage(value=tap.state))
            raise

    def _sync_lanes(self, families: dict[str, frozenset[str]], parallel: int) -> None:
        tap = self.tap
        # lanes_state and every lane take copies of their own.
        state = dict(tap.state)
        output = SharedOutput(tap.message_writer, {}, lanes_state(state, families))
        if CONNECTION_STREAM not in families:
            tap.check_connection()  # one /users/me before the lanes fan out
        LanesSync(
            families, output, state, self.lane_tap, parallel=parallel, logger=tap.logger
        ).run()

    def _sync_accounts(self) -> None:
        config = self.tap.config
        AccountsSync(
            parse_accounts(config),
            accounts_output(self.tap.message_writer, self.tap.state),
            self.account_tap,
            parallel=int(config.get("max_parallel_accounts", DEFAULT_PARALLEL_ACCOUNTS)),
            tolerate_revoked=bool(config.get("tolerate_revoked_tokens")),
            logger=self.tap.logger,
        ).run()

    def lane_tap(self, family: frozenset[str], state: State, writer: PartWriter) -> PartTap:
        """A tap for one stream family of this account, sharing its API object and pace."""
        tap = self.tap
        return self.new_tap(
            config=dict(tap.config),
            catalog=tap.input_catalog,
            state=state,
            message_writer=writer,
            part=Part(
                account=tap.account,
                streams=family,
                report=tap.report,
                first_contact=tap.first_contact,
                api=tap.api,
            ),
        )

    def account_tap(self, account: Account, state: State, writer: PartWriter) -> PartTap:
        """A single-account tap for one entry of `accounts`: its token, its own API object."""
        tap = self.tap
        config = {key: value for key, value in tap.config.items() if key != "accounts"}
        config["api_token"] = account.api_token
        return self.new_tap(
            config=config,
            catalog=tap.input_catalog,
            state=state,
            message_writer=writer,
            part=Part(account=account.name, report=tap.report, first_contact=tap.first_contact),
        )
