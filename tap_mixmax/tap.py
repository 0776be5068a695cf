"""tap-mixmax: configuration, the list of streams, and the command line."""

from __future__ import annotations

import functools
import ipaddress
import logging
import sys
import typing as t
from urllib.parse import urlparse

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_mixmax import errors, streams
from tap_mixmax.accounts import (
    DEFAULT_PARALLEL_ACCOUNTS,
    Account,
    AccountsSync,
    accounts_output,
    parse_accounts,
)
from tap_mixmax.client import (
    DEFAULT_API_URL,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_BUDGET_SECONDS,
    MAX_PAGE_SIZE,
)
from tap_mixmax.lanes import (
    CONNECTION_STREAM,
    DEFAULT_PARALLEL_STREAMS,
    LanesSync,
    lanes_state,
    stream_families,
)
from tap_mixmax.output import StateFlushingWriter
from tap_mixmax.pacing import RequestPacer
from tap_mixmax.parallel import Part, PartWriter, SharedOutput, State
from tap_mixmax.records import TimestampError, to_datetime

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

MIXMAX_RATE_LIMIT_PER_MINUTE = 120  # docs/mixmax-api.md 1.5
LOOPBACK_NAMES = frozenset({"localhost"})


# The tap's own settings. The SDK appends its built-in ones to `config_jsonschema` in place,
# so docs and tests read this list.
SETTINGS = th.PropertiesList(
    th.Property(
        "api_token",
        th.StringType,
        secret=True,
        title="API token",
        description="Mixmax API token (Settings > Integrations > API). Sent only in the "
        "X-API-Token header. Required unless `accounts` is set.",
    ),
    th.Property(
        "accounts",
        th.ArrayType(
            th.ObjectType(
                th.Property(
                    "name",
                    th.StringType,
                    required=True,
                    description="Unique name; becomes the `account` column and keys state.",
                ),
                th.Property(
                    "api_token",
                    th.StringType,
                    required=True,
                    secret=True,
                    description="That user's Mixmax API token.",
                ),
            )
        ),
        secret=True,
        title="Accounts",
        description="Instead of `api_token`: one `{name, api_token}` per Mixmax user. "
        "Accounts sync concurrently, each within its own rate limit; every record gets an "
        "`account` column, which joins the primary key.",
    ),
    th.Property(
        "max_parallel_accounts",
        th.IntegerType,
        default=DEFAULT_PARALLEL_ACCOUNTS,
        title="Max parallel accounts",
        description="With `accounts`: how many accounts sync at the same time.",
    ),
    th.Property(
        "tolerate_revoked_tokens",
        th.BooleanType,
        default=False,
        title="Tolerate revoked tokens",
        description="With `accounts`: an account whose token Mixmax rejects is reported as a "
        "warning and the sync still succeeds (it fails if every account is rejected).",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=DEFAULT_API_URL,
        title="API URL",
        description="Base URL of the Mixmax API. Must be https, except on a loopback "
        "host (the bundled sandbox).",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Nothing older is emitted for incremental streams; the live feed's "
        "`sent:` window starts here on the first sync.",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType,
        default=7,
        title="Lookback days",
        description="How far before the bookmark messages and polls are re-read, to catch "
        "drafts sent and votes cast after creation.",
    ),
    th.Property(
        "livefeed_activity_days",
        th.IntegerType,
        default=30,
        title="Live-feed activity days",
        description="Live-feed rows sent this long before the bookmark are re-read on "
        "every sync, because opens, clicks and replies keep arriving for weeks.",
    ),
    th.Property(
        "page_size",
        th.IntegerType,
        default=MAX_PAGE_SIZE,
        title="Page size",
        description=f"Rows per request, 1 to {MAX_PAGE_SIZE} (Mixmax's maximum).",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType,
        default=DEFAULT_REQUEST_TIMEOUT,
        title="Request timeout",
        description="Seconds to wait for a response before retrying the request.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User agent",
        description="User-Agent header to send (default `tap-mixmax/<version>`).",
    ),
    th.Property(
        "max_requests_per_minute",
        th.IntegerType,
        default=MIXMAX_RATE_LIMIT_PER_MINUTE,
        title="Max requests per minute",
        description="Client-side pace. Lower it when other tools share the token's "
        "limit of 120 requests per minute.",
    ),
    th.Property(
        "max_parallel_streams",
        th.IntegerType,
        default=DEFAULT_PARALLEL_STREAMS,
        title="Max parallel streams",
        description="How many top-level streams (each with its children) sync at once, "
        "sharing the token's pace. More keeps the rate limit busy when Mixmax answers "
        "slowly; 1 syncs one stream after another.",
    ),
    th.Property(
        "retry_budget_seconds",
        th.IntegerType,
        default=DEFAULT_RETRY_BUDGET_SECONDS,
        title="Retry budget (seconds)",
        description="How long one request may keep retrying 429s, 5xx answers and network "
        "failures before the sync fails.",
    ),
    th.Property(
        "recipients_skip_unchanged_sequences",
        th.BooleanType,
        default=False,
        title="Skip unchanged sequences' recipients",
        description="Read recipients only of sequences that gained a recipient since the "
        "last sync. Saves requests; misses recipients' state changes in other sequences "
        "until the next full pass.",
    ),
    th.Property(
        "recipients_full_pass_days",
        th.IntegerType,
        default=7,
        title="Recipients full pass (days)",
        description="With recipients_skip_unchanged_sequences, read every sequence's "
        "recipients again this often.",
    ),
)


class TapMixmax(Tap):
    """Singer tap for the Mixmax REST API."""

    name = "tap-mixmax"
    message_writer_class = StateFlushingWriter

    config_jsonschema = SETTINGS.to_dict()

    def __init__(self, *args: t.Any, part: Part | None = None, **kwargs: t.Any) -> None:
        # Set before the SDK builds the streams: an account's tap tags its records.
        self.part = part or Part()
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            details = "; ".join(exc.errors) if exc.errors else str(exc)
            raise errors.ConfigError(f"invalid config: {details}") from None
        if kwargs.get("validate_config", True):
            check_config(self.config)
        rpm = self.config.get("max_requests_per_minute", MIXMAX_RATE_LIMIT_PER_MINUTE)
        self.pacer = self.part.pacer or RequestPacer(int(rpm))
        # A lane starts after its account's token was proven.
        self._connection_checked = self.part.streams is not None

    def discover_streams(self) -> list[Stream]:
        every: list[Stream] = [stream_type(self) for stream_type in streams.STREAM_TYPES]
        only = self.part.streams
        return every if only is None else [stream for stream in every if stream.name in only]

    @property
    def syncs_accounts(self) -> bool:
        """Whether this is the whole run's tap of an `accounts` config."""
        return self.part.account is None and bool(self.config.get("accounts"))

    @functools.cached_property
    def account(self) -> str | None:
        """The account this tap's own streams read as and tag their records with.

        An account's tap: its own. The whole run's tap with `accounts`: the first one,
        for when its streams are synced directly (`--test`, the SDK's test suite).
        """
        if self.syncs_accounts:
            return parse_accounts(self.config)[0].name
        return self.part.account

    @property
    def account_mode(self) -> bool:
        """Whether records carry an `account` column (and keys start with it)."""
        return self.part.account is not None or bool(self.config.get("accounts"))

    # The SDK marks sync_all final. With `accounts`, the one stream loop becomes one per
    # account (tap_mixmax/accounts.py); within an account, a few stream families run at
    # once (tap_mixmax/lanes.py). Each part is a tap of its own, syncing the SDK's way.
    def sync_all(self) -> None:  # type: ignore[misc]
        if self.syncs_accounts:
            self._sync_accounts()
            return
        parallel = int(self.config.get("max_parallel_streams", DEFAULT_PARALLEL_STREAMS))
        families = stream_families(self.streams.values()) if self.part.streams is None else {}
        if parallel > 1 and len(families) > 1:
            self._sync_lanes(families, parallel)
            return
        super().sync_all()

    def _sync_lanes(self, families: dict[str, frozenset[str]], parallel: int) -> None:
        # lanes_state and every lane take copies of their own.
        state = dict(self.state)
        output = SharedOutput(self.message_writer, {}, lanes_state(state, families))
        if CONNECTION_STREAM not in families:
            self.check_connection()  # one /users/me before the lanes fan out
        LanesSync(
            families, output, state, self._lane_tap, parallel=parallel, logger=self.logger
        ).run()

    def _sync_accounts(self) -> None:
        AccountsSync(
            parse_accounts(self.config),
            accounts_output(self.message_writer, self.state),
            self._account_tap,
            parallel=int(self.config.get("max_parallel_accounts", DEFAULT_PARALLEL_ACCOUNTS)),
            tolerate_revoked=bool(self.config.get("tolerate_revoked_tokens")),
            logger=self.logger,
        ).run()

    @functools.cached_property
    def api_token(self) -> str:
        """The token of `account` (the whole run's tap with `accounts`: the first one's)."""
        if self.syncs_accounts:
            return parse_accounts(self.config)[0].api_token
        return str(self.config.get("api_token") or "")

    def _lane_tap(self, family: frozenset[str], state: State, writer: PartWriter) -> TapMixmax:
        """A tap for one stream family of this account, sharing its pacer and catalog."""
        return TapMixmax(
            config=dict(self.config),
            catalog=self.input_catalog,
            state=state,
            message_writer=writer,
            part=Part(account=self.account, streams=family, pacer=self.pacer),
        )

    def _account_tap(self, account: Account, state: State, writer: PartWriter) -> TapMixmax:
        """A single-account tap for one entry of `accounts`, sharing this one's catalog."""
        config = {key: value for key, value in self.config.items() if key != "accounts"}
        config["api_token"] = account.api_token
        return TapMixmax(
            config=config,
            catalog=self.input_catalog,
            state=state,
            message_writer=writer,
            part=Part(account=account.name),
        )

    def check_connection(self) -> None:
        """Fail fast, with one clear line, on a bad token or a plan without API access.

        The `users` stream (first in the sync order) is the check when selected;
        otherwise one `/users/me` request is made before the first stream syncs.
        """
        if self._connection_checked:
            return
        self._connection_checked = True
        users = t.cast(streams.UsersStream, self.streams[streams.UsersStream.name])
        if not users.selected:
            for _ in users.request_records(None):
                break


def check_config(config: t.Mapping[str, t.Any]) -> None:
    """Checks JSON Schema cannot express; raises ConfigError with one clear sentence."""
    accounts = parse_accounts(config)
    has_token = bool(str(config.get("api_token") or "").strip())
    if accounts and has_token:
        raise errors.ConfigError("invalid config: set api_token or accounts, not both")
    if not accounts and not has_token:
        raise errors.ConfigError("invalid config: api_token is empty (set api_token or accounts)")
    if accounts and config.get("emit_activate_version_messages"):
        raise errors.ConfigError(
            "invalid config: emit_activate_version_messages cannot be used with accounts "
            "(one account's table version would delete the other accounts' rows)"
        )
    if int(config.get("max_parallel_streams", DEFAULT_PARALLEL_STREAMS)) < 1:
        raise errors.ConfigError("invalid config: max_parallel_streams must be at least 1")
    if int(config.get("max_parallel_accounts", DEFAULT_PARALLEL_ACCOUNTS)) < 1:
        raise errors.ConfigError("invalid config: max_parallel_accounts must be at least 1")
    url = urlparse(str(config.get("api_url", DEFAULT_API_URL)))
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise errors.ConfigError(
            f"invalid config: api_url must be an http(s) URL, not {url.geturl()!r}"
        )
    if url.scheme == "http" and not is_loopback(url.hostname):
        raise errors.ConfigError(
            "invalid config: api_url must use https (plain http is only allowed for a "
            "loopback host such as the bundled sandbox)"
        )
    if config.get("start_date"):
        try:
            to_datetime(config["start_date"])
        except TimestampError:
            raise errors.ConfigError(
                f"invalid config: start_date {config['start_date']!r} is not an ISO-8601 date"
            ) from None
    if not 1 <= int(config.get("page_size", MAX_PAGE_SIZE)) <= MAX_PAGE_SIZE:
        raise errors.ConfigError(f"invalid config: page_size must be 1 to {MAX_PAGE_SIZE}")
    if int(config.get("max_requests_per_minute", MIXMAX_RATE_LIMIT_PER_MINUTE)) < 1:
        raise errors.ConfigError("invalid config: max_requests_per_minute must be at least 1")


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def main() -> None:
    """Console entry point: the SDK's CLI, with every known failure as one line."""
    try:
        TapMixmax.cli()
    except errors.MixmaxError as exc:
        logging.getLogger(TapMixmax.name).debug("failure detail", exc_info=True)
        sys.stderr.write(f"tap-mixmax: error: {exc}\n")
        sys.exit(1)
