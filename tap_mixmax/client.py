"""The one base stream, on the SDK's public hooks: paging, the cutoff, shaping and state."""

from __future__ import annotations

import functools
import json
import logging
import typing as t
from collections.abc import Callable, Iterable
from importlib import resources
from urllib.parse import urlsplit

import requests
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from typing_extensions import override

from tap_mixmax import errors, open_objects
from tap_mixmax.api import MixmaxAPI, TokenAuth, page_body, rows_of
from tap_mixmax.logs import stream_logger
from tap_mixmax.records import (
    ACCOUNT_FIELD,
    ACCOUNT_FIELD_SCHEMA,
    EXTRA_FIELD,
    EXTRA_FIELD_SCHEMA,
    MissingKeyError,
    RecordShaper,
)
from tap_mixmax.report import StreamNotes, counted
from tap_mixmax.retrying import Retrying
from tap_mixmax.sdk import PROGRESS_MARKER_NOTE, PROGRESS_MARKERS, SdkStream, utc_now
from tap_mixmax.settings import DEFAULT_API_URL, MAX_PAGE_SIZE
from tap_mixmax.stopping import raise_if_stopping
from tap_mixmax.sync_window import SyncWindow, open_window

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record
    from singer_sdk.tap_base import Tap

    from tap_mixmax.streams_run import StreamsRun

# What STATE says of a stream whose bookmark moves only at its end (the SDK's default
# note says progress is not resumable, which is not true of this tap).
RESUME_NOTE = (
    "The bookmark moves when the stream finishes; a sync resumed from this state re-reads "
    "the stream from replication_key_value and loses nothing."
)


@functools.cache
def load_schema(name: str) -> dict[str, t.Any]:
    """A stream's JSON schema from `tap_mixmax/schemas`, plus the `_extra` column."""
    text = resources.files("tap_mixmax.schemas").joinpath(f"{name}.json").read_text()
    schema: dict[str, t.Any] = json.loads(text)
    schema.setdefault("properties", {})[EXTRA_FIELD] = EXTRA_FIELD_SCHEMA
    return schema


def stream_schema(name: str, *, account_mode: bool) -> dict[str, t.Any]:
    """A stream's schema. With `accounts`, two users can see the same object (a shared
    sequence), so the account joins every record and its key."""
    schema = load_schema(name)
    if not account_mode:
        return schema
    schema = {**schema, "properties": {**schema["properties"]}}
    schema["properties"][ACCOUNT_FIELD] = ACCOUNT_FIELD_SCHEMA
    schema["required"] = [ACCOUNT_FIELD, *schema.get("required", [])]
    return schema


class CursorPaginator(BaseAPIPaginator[str | None]):
    """Mixmax's envelope: follow `next` while `hasNext` is true.

    `next` is present on the last page too (docs/mixmax-api.md 1.4), so the flag alone
    decides. `stop_early` lets an incremental stream stop at its cutoff. A cursor seen
    before in the same listing is an error: following it would loop forever.
    """

    def __init__(self, stop_early: Callable[[], bool]) -> None:
        super().__init__(None)
        self._stop_early = stop_early
        self._seen: set[str] = set()

    @override
    def has_more(self, response: requests.Response) -> bool:
        if not page_body(response).get("hasNext"):
            return False
        return not self._stop_early()

    @override
    def get_next(self, response: requests.Response) -> str | None:
        cursor = page_body(response).get("next")
        path = urlsplit(response.url).path
        if not isinstance(cursor, str) or not cursor:
            raise errors.MixmaxError(f"Mixmax said hasNext but sent no next cursor on {path}")
        if cursor in self._seen or cursor == self.current_value:
            raise errors.MixmaxError(
                f"Mixmax sent a next cursor on {path} that it had sent before in the same "
                f"listing (after {counted(len(self._seen) + 1, 'page')}); following it would "
                "loop forever"
            )
        self._seen.add(cursor)
        return cursor


class MixmaxStream(SdkStream):
    """Base for every Mixmax stream. Subclasses declare; this class does the work."""

    records_key: str | None = "results"  # None: the body is the record (or a bare array)
    optional_endpoint = True  # a 403/404 here means the plan lacks it: warn, emit nothing
    lookback_setting: str | None = None  # config key of days to re-read before the bookmark
    extra_params: t.ClassVar[dict[str, t.Any]] = {}  # sent with every request of the stream
    # RecordShaper already gives every record its schema's shape (timestamps converted,
    # unknown fields moved to _extra), so the SDK's per-field pass would only cost CPU.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    # Progress STATE this often; for newest-first streams it never moves the bookmark.
    STATE_MSG_FREQUENCY = 1000

    def __init__(self, tap: Tap, run: StreamsRun) -> None:
        self.run = run
        self.account = run.account
        schema = stream_schema(self.name, account_mode=run.account_mode)
        # The shaper keeps the object form; targets may be told of open objects as text.
        declared, self._finish = open_objects.declare(
            schema, tap.config.get(open_objects.OPEN_OBJECTS_SETTING, open_objects.AS_OBJECT)
        )
        super().__init__(tap, schema=declared)
        if run.account_mode:
            self.primary_keys = (ACCOUNT_FIELD, *(self.primary_keys or ()))
        self._account_logger = stream_logger(super().logger, self.account)
        # `account` is the tap's own column: a field of that name from Mixmax stays in _extra.
        self._shaper = RecordShaper(schema, reserved=frozenset({ACCOUNT_FIELD}))  # object form
        self.figures = run.report.figures_for(self.name)
        self.notes = StreamNotes(self.name, self.logger, self.figures)
        self.window = SyncWindow()  # each get_records opens its own
        self.extracted_at = utc_now()

    # singer-sdk 0.54 types it Logger, 0.55 LoggerAdapter: this is either (logs.stream_logger).
    @property
    @override
    def logger(self) -> logging.Logger | logging.LoggerAdapter[logging.Logger]:  # type: ignore[override]
        return self._account_logger  # with `accounts`, lines name the account

    # -- connection ---------------------------------------------------------------

    @property
    @override
    def url_base(self) -> str:
        return str(self.config.get("api_url", DEFAULT_API_URL)).rstrip("/")

    @property
    def api(self) -> MixmaxAPI:
        """The token's one API object, shared with the tap's other streams and lanes."""
        return self.run.api

    @functools.cached_property
    @override
    def user_agent(self) -> str:
        from tap_mixmax import __version__  # noqa: PLC0415

        return str(self.config.get("user_agent") or f"tap-mixmax/{__version__}")

    @property
    def page_size(self) -> int:
        return max(1, min(int(self.config.get("page_size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE))

    # -- requests: the SDK's public hooks, each handing over to the API object -----------

    @functools.cached_property
    def retrying(self) -> Retrying:
        """This stream's retries (built on first use: the tap builds its API after us)."""
        return self.api.retrying(self.name, self.logger, self.figures)

    @functools.cached_property
    @override
    def requests_session(self) -> requests.Session:
        return self.api.session(self.retrying, self.figures)

    @property
    @override
    def authenticator(self) -> TokenAuth:
        return self.api.auth

    @override
    def validate_response(self, response: requests.Response) -> None:
        self.api.validate(response, self.records_key, self.figures)

    @override
    def request_decorator(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        return self.retrying.decorate(func)

    # -- paging: newest-first lists stop at the window's cutoff ------------------------

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[t.Any]:
        if self.records_key is None:
            return SinglePagePaginator()
        return CursorPaginator(stop_early=self.window.page_was_before_cutoff)

    @classmethod
    def fixed_params(cls, config: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        """The parameters every page carries, whatever the cursor (`--doctor` reads them)."""
        return dict(cls.extra_params)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        if self.records_key is None:
            return self.fixed_params(self.config)
        params: dict[str, t.Any] = {**self.fixed_params(self.config), "limit": self.page_size}
        if next_page_token:
            params["next"] = next_page_token
        return params

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        # The envelope was checked in validate_response, before any retry decision.
        rows = t.cast(list[dict[str, t.Any]], rows_of(page_body(response), self.records_key))
        self.window.new_page(len(rows))  # post_process counts its rows in the window
        self.extracted_at = utc_now()  # a page is extracted at once
        return rows

    # -- records ---------------------------------------------------------------------

    @override
    def before_sync(self) -> None:
        raise_if_stopping()  # no stream starts after SIGTERM or Ctrl-C

    @override
    def after_sync(self, seconds: float) -> None:
        self.figures.seconds += seconds

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        self.run.check_connection()
        state = self.get_context_state(context)
        self.window = open_window(
            self.name,
            self.replication_key,
            state,
            config=self.config,
            lookback_setting=self.lookback_setting,
            logger=self.logger,
        )
        if self.window.key:
            # Said before the SDK's own note ("not resumable"), which is not true here.
            state.setdefault(PROGRESS_MARKERS, {PROGRESS_MARKER_NOTE: RESUME_NOTE})
        parent = self.parent_stream_type
        self.notes.starting(self.window.describe(parent.name if parent else None))  # type: ignore[misc]
        try:
            yield from self.request_records(context)  # the SDK calls post_process on each
        except (errors.NotFoundError, errors.ForbiddenError) as exc:
            if not self.optional_endpoint:
                raise
            self.skip_unavailable(exc, context)
        self.notes.kept_unknown(self._shaper.unknown_seen)
        self.notes.undated(self.window.rows_without_key, self.window.key)

    def skip_unavailable(self, exc: errors.MixmaxError, context: Context | None) -> None:
        """A top-level endpoint the account cannot use: one warning, no records."""
        self.logger.warning("Skipping stream %s: %s", self.name, exc)

    @override
    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        if context:  # a child row names its parent, e.g. an event's messageId
            for key, value in context.items():
                if key in self._shaper.known:
                    row.setdefault(key, value)
        try:
            record = self._shaper.shape(row)
        except MissingKeyError as missing:
            raise errors.MixmaxError(
                f"Mixmax sent a {self.name} row without its key {missing.key!r}: the tap "
                "cannot emit a row that no target could key"
            ) from None
        if self._finish is not None:
            record = self._finish(record)
        if self.account is not None:
            record[ACCOUNT_FIELD] = self.account
        if not self.window.admits(record):
            return None
        self.figures.rows += 1
        return record

    @override
    def moves_bookmark(self, record: Record) -> bool:
        return self.window.moves_bookmark(record)


class ChildStream(MixmaxStream):
    """A stream read once per parent record. State stays one entry, however many parents."""

    state_partitioning_keys: t.ClassVar[list[str]] = []

    @override
    def skip_unavailable(self, exc: errors.MixmaxError, context: Context | None) -> None:
        # The parent was deleted between its page and this request: skip it.
        self.logger.warning("Stream %s: skipping %s: %s", self.name, context, exc)
