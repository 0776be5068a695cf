"""tap-mixmax: configuration and the list of streams; how one run syncs them."""

from __future__ import annotations

import functools
import logging
import time
import typing as t

import click
from singer_sdk.exceptions import ConfigValidationError
from typing_extensions import override

from tap_mixmax import errors, streams
from tap_mixmax.api import MixmaxAPI, RetryPolicy
from tap_mixmax.checks import (
    JsonFile,
    check_config,
    check_selection,
    check_state,
    normalize_config,
    parse_accounts,
    read_json_object,
)
from tap_mixmax.first_contact import FirstContact
from tap_mixmax.logs import show_metrics, tame_library_logs
from tap_mixmax.output import StateFlushingWriter
from tap_mixmax.pacing import RequestPacer
from tap_mixmax.page_sizes import OffsetLimits
from tap_mixmax.parallel import Part
from tap_mixmax.parts import PartsRunner
from tap_mixmax.redact import redact
from tap_mixmax.report import SyncReport, _duration, counted
from tap_mixmax.sdk import ConfigInput, SdkTap
from tap_mixmax.settings import (
    DEFAULT_API_URL,
    DEFAULT_MAX_RESPONSE_MEGABYTES,
    DEFAULT_PARALLEL_STREAMS,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RETRY_BUDGET_SECONDS,
    MIXMAX_RATE_LIMIT_PER_MINUTE,
    SETTINGS,
)
from tap_mixmax.stopping import (
    SyncStopped,
    run_supervised,
    signal_name,
    signal_number,
)
from tap_mixmax.streams_run import StreamsRun

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

__all__ = ["SETTINGS", "TapMixmax"]


class TapMixmax(SdkTap):
    """Singer tap for the Mixmax REST API."""

    name = "tap-mixmax"
    message_writer_class = StateFlushingWriter

    config_jsonschema = SETTINGS.to_dict()

    def __init__(self, *args: t.Any, part: Part | None = None, **kwargs: t.Any) -> None:
        # Set before the SDK builds the streams: an account's tap tags its records, and
        # every stream counts into the run's one report.
        self.part = part or Part()
        self.report = self.part.report or SyncReport(logging.getLogger(self.name))
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            details = "; ".join(exc.errors) if exc.errors else str(exc)
            raise errors.ConfigError(redact(f"invalid config: {details}")) from None
        if kwargs.get("validate_config", True):
            check_config(self.config)
        # Only the streams this run syncs: another stream's bookmark is carried, untouched.
        check_state(self.state, [s.name for s in self.streams.values() if s.selected])
        if self.is_whole_run and self.input_catalog is not None:
            check_selection(self.input_catalog.to_dict(), self.streams, self.logger)
        show_metrics(bool(self.config.get("log_metrics")))
        tame_library_logs()
        rpm = int(self.config.get("max_requests_per_minute", MIXMAX_RATE_LIMIT_PER_MINUTE))
        # A lane paces by its account's API object; a tap of its own builds the pacer.
        api = self.part.api
        self.pacer = api.pacer if api is not None else RequestPacer(rpm, logger=self.account_logger)
        self.report.watch_pacer(self.pacer)
        # A lane starts after its account's token was proven (or is the lane proving it).
        self._connection_checked = self.part.streams is not None
        self.first_contact = self.part.first_contact or FirstContact()

    @override
    def normalize_config(self, config: dict[str, t.Any]) -> dict[str, t.Any]:
        # Secrets are registered for masking, and tokens and `accounts` are read as users
        # write them, before the SDK's JSON Schema check quotes any value.
        return normalize_config(config)

    @override
    def discover_streams(self) -> list[Stream]:
        only = self.part.streams  # a lane builds its own family only
        run = StreamsRun(
            account=self.account,
            account_mode=self.account_mode,
            report=self.report,
            check_connection=self.check_connection,
            api_of=lambda: self.api,
        )
        return [
            stream_type(self, run)
            for stream_type in streams.STREAM_TYPES
            if only is None or vars(stream_type)["name"] in only
        ]

    @property
    def is_whole_run(self) -> bool:
        """Whether this is the run's own tap (not one account's, nor one lane's)."""
        return self.part.account is None and self.part.streams is None

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
    def account_logger(self) -> logging.Logger:
        logger: logging.Logger = self.logger
        return logger.getChild(self.part.account) if self.part.account else logger

    @property
    def account_mode(self) -> bool:
        """Whether records carry an `account` column (and keys start with it)."""
        return self.part.account is not None or bool(self.config.get("accounts"))

    # In place of the SDK's sync_all (tap_mixmax/sdk.py): the run's tap is supervised and
    # summed up here; tap_mixmax/parts.py splits it into accounts' and lanes' taps.
    @override
    def run_sync(self) -> None:
        parts = PartsRunner(self, TapMixmax)
        if not self.is_whole_run:
            parts.sync()
            return
        started = time.monotonic()
        self.logger.info("%s", self._run_line())
        try:
            run_supervised(parts.sync)
        except SyncStopped:
            signum = signal_number()
            reason = signal_name(signum) if signum else "a stop"
            self.report.log_summary(
                f"Stopped by {reason} after {_duration(time.monotonic() - started)}: the "
                "last STATE covers every record written before it; rerun with it to resume"
            )
            raise
        except BaseException:
            self.report.log_summary(f"Sync failed after {_duration(time.monotonic() - started)}")
            raise
        totals = self.report.by_stream().values()
        self.report.log_summary(
            f"Sync finished in {_duration(time.monotonic() - started)}: "
            f"{counted(sum(f.rows for f in totals), 'row')}, "
            f"{counted(sum(f.requests for f in totals), 'request')}"
        )

    def _run_line(self) -> str:
        selected = [s.name for s in self.streams.values() if s.selected]
        accounts = len(parse_accounts(self.config)) if self.syncs_accounts else 0
        target = counted(accounts, "account") if self.syncs_accounts else None
        parallel = int(self.config.get("max_parallel_streams", DEFAULT_PARALLEL_STREAMS))
        rpm = int(self.config.get("max_requests_per_minute", MIXMAX_RATE_LIMIT_PER_MINUTE))
        pace = f"at most {rpm} requests/min" + (" per account" if target else "")
        return (
            f"Syncing {counted(len(selected), 'stream')} from "
            f"{self.config.get('api_url', DEFAULT_API_URL)}"
            f"{f' for {target}' if target else ''}, {parallel} at a time, {pace}"
        )

    @functools.cached_property
    def api(self) -> MixmaxAPI:
        """The token's one API object: a lane uses its account's, whose pace it shares."""
        if self.part.api is not None:
            return self.part.api
        megabytes = self.config.get("max_response_megabytes", DEFAULT_MAX_RESPONSE_MEGABYTES)
        return MixmaxAPI(
            str(self.config.get("api_url", DEFAULT_API_URL)).rstrip("/"),
            self.api_token,
            policy=RetryPolicy(
                budget_seconds=float(
                    self.config.get("retry_budget_seconds", DEFAULT_RETRY_BUDGET_SECONDS)
                ),
                request_timeout=float(self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT)),
            ),
            pacer=self.pacer,
            first_contact=self.first_contact,
            offset_limits=OffsetLimits(self.account_logger),
            max_body_bytes=int(float(megabytes) * 2**20),
            report=self.report,
        )

    @functools.cached_property
    def api_token(self) -> str:
        """The token of `account` (the whole run's tap with `accounts`: the first one's)."""
        if self.syncs_accounts:
            return parse_accounts(self.config)[0].api_token
        return str(self.config.get("api_token") or "")

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

    # -- the command line: files are read here, so a mistake is one line naming the file

    @classmethod
    @override
    def cb_config(
        cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]
    ) -> ConfigInput:
        config: dict[str, t.Any] = {}
        for path in value:
            if path != "ENV":
                config |= read_json_object(path, "config")
        return ConfigInput(config=config, parse_env="ENV" in value)

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        command = super().get_singer_command()
        for param in command.params:
            if param.name in ("catalog", "state"):
                param.type = JsonFile(param.name)
        # Handled before the SDK's CLI (tap_mixmax/cli.py); listed so --help shows it.
        command.params.append(
            click.Option(
                ["--doctor"],
                is_flag=True,
                expose_value=False,
                help="Check a real account against what the tap assumes, in about 40 "
                "requests, and print a report safe to paste into a bug report "
                "(`tap-mixmax --doctor --help` for its options).",
            )
        )
        return command
