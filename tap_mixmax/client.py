"""The one base stream: auth, paging, pacing, retries and record shaping for Mixmax."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
import typing as t
from collections.abc import Callable, Iterable
from importlib import resources
from urllib.parse import urlsplit

import requests
from singer_sdk import RESTStream
from singer_sdk.helpers._state import PROGRESS_MARKER_NOTE, PROGRESS_MARKERS
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

from tap_mixmax import errors, open_objects
from tap_mixmax.accounts import ACCOUNT_FIELD, ACCOUNT_FIELD_SCHEMA
from tap_mixmax.checks import bookmark_datetime
from tap_mixmax.logs import stream_logger
from tap_mixmax.pacing import RequestPacer, parse_retry_after
from tap_mixmax.records import (
    EXTRA_FIELD,
    EXTRA_FIELD_SCHEMA,
    MissingKeyError,
    RecordShaper,
    format_utc,
    to_datetime,
)
from tap_mixmax.redact import MASK, secret_forms
from tap_mixmax.report import StreamFigures, SyncReport, counted
from tap_mixmax.retrying import Retrying
from tap_mixmax.sdk import request_duration_log_args
from tap_mixmax.stopping import raise_if_stopping
from tap_mixmax.transport import Transport

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record
    from singer_sdk.tap_base import Tap

DEFAULT_API_URL = "https://api.mixmax.com/v1"
TOKEN_HEADER = "X-API-Token"
MAX_PAGE_SIZE = 300  # docs/mixmax-api.md 1.4: MAX_LIMIT
DEFAULT_REQUEST_TIMEOUT = 60
DEFAULT_RETRY_BUDGET_SECONDS = 900
# A page of 300 messages with long HTML bodies is a few MB; a compression bomb is refused
# at this size (decoded), which bounds what one answer can cost in memory.
DEFAULT_MAX_RESPONSE_MEGABYTES = 128
# A bookmark this far past our clock is a mistake, not clock skew.
FUTURE_BOOKMARK_TOLERANCE = dt.timedelta(hours=1)
# What STATE says of a stream whose bookmark moves only at its end (the SDK's default
# note says progress is not resumable, which is not true of this tap).
RESUME_NOTE = (
    "The bookmark moves when the stream finishes; a sync resumed from this state re-reads "
    "the stream from replication_key_value and loses nothing."
)
# The longest server message quoted in an error line.
MESSAGE_EXCERPT_CHARS = 160

_BODY_ATTR = "_mixmax_body"


def page_body(response: requests.Response) -> t.Any:
    """The parsed JSON of a response, parsed once (validation caches it)."""
    return getattr(response, _BODY_ATTR)


@functools.cache
def load_schema(name: str) -> dict[str, t.Any]:
    """A stream's JSON schema from `tap_mixmax/schemas`, plus the `_extra` column."""
    text = resources.files("tap_mixmax.schemas").joinpath(f"{name}.json").read_text()
    schema: dict[str, t.Any] = json.loads(text)
    schema.setdefault("properties", {})[EXTRA_FIELD] = EXTRA_FIELD_SCHEMA
    return schema


def one_line(text: str, limit: int = MESSAGE_EXCERPT_CHARS) -> str:
    """Server text as one short line (it may hold newlines, HTML, anything)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _api_message(response: requests.Response) -> str:
    """Mixmax's own `message`, or the start of a non-JSON (proxy) body."""
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return one_line(response.text)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return one_line(body["message"])
    return ""


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


class MixmaxStream(RESTStream[t.Any]):
    """Base for every Mixmax stream. Subclasses declare; this class does the work."""

    records_key: str | None = "results"  # None: the body is the record (or a bare array)
    optional_endpoint = True  # a 403/404 here means the plan lacks it: warn, emit nothing
    lookback_setting: str | None = None  # config key of days to re-read before the bookmark
    # RecordShaper already gives every record its schema's shape (timestamps converted,
    # unknown fields moved to _extra), so the SDK's per-field pass would only cost CPU.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    # Progress STATE this often; for newest-first streams it never moves the bookmark.
    STATE_MSG_FREQUENCY = 1000

    def __init__(self, tap: Tap) -> None:
        schema = load_schema(self.name)
        # With `accounts`, two users can see the same object (a shared sequence): the
        # account joins the record and its key.
        self.account: str | None = getattr(tap, "account", None)
        account_mode = bool(getattr(tap, "account_mode", False))
        if account_mode:
            schema = {**schema, "properties": {**schema["properties"]}}
            schema["properties"][ACCOUNT_FIELD] = ACCOUNT_FIELD_SCHEMA
            schema["required"] = [ACCOUNT_FIELD, *schema.get("required", [])]
        # The shaper keeps the object form; targets may be told of open objects as text.
        declared, self._finish = open_objects.declare(
            schema, tap.config.get(open_objects.OPEN_OBJECTS_SETTING, open_objects.AS_OBJECT)
        )
        super().__init__(tap, schema=declared)
        if account_mode:
            self.primary_keys = (ACCOUNT_FIELD, *(self.primary_keys or ()))
        self._account_logger = stream_logger(super().logger, self.account)
        # `account` is the tap's own column: a field of that name from Mixmax stays in _extra.
        self._shaper = RecordShaper(schema, reserved=frozenset({ACCOUNT_FIELD}))  # object form
        self._transport = Transport(self.url_base, max_body_bytes=self.max_response_bytes)
        self._token_forms = secret_forms(self.api_token)
        report: SyncReport | None = getattr(tap, "report", None)
        self.figures = report.figures_for(self.name) if report else StreamFigures()
        self._report = report
        self._cutoff: str | None = None
        self._bookmark: str | None = None
        self._bookmark_key: str | None = None
        self._page_rows = 0
        self._rows_in_window = 0
        self._rows_without_key = 0
        self._unknown_reported: set[str] = set()
        self._schema_written = False
        self._extracted_at = utc_now()

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
    def api_token(self) -> str:
        return str(self._tap.api_token)  # type: ignore[attr-defined]

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        # The token travels in this header only, never in a URL.
        return {TOKEN_HEADER: self.api_token, "User-Agent": self.user_agent}

    @functools.cached_property
    @override
    def user_agent(self) -> str:
        from tap_mixmax import __version__  # noqa: PLC0415

        return str(self.config.get("user_agent") or f"tap-mixmax/{__version__}")

    @property
    @override
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT))

    @property
    def max_response_bytes(self) -> int:
        megabytes = self.config.get("max_response_megabytes", DEFAULT_MAX_RESPONSE_MEGABYTES)
        return int(float(megabytes) * 2**20)

    @property
    def retry_budget(self) -> float:
        return float(self.config.get("retry_budget_seconds", DEFAULT_RETRY_BUDGET_SECONDS))

    @property
    def page_size(self) -> int:
        return max(1, min(int(self.config.get("page_size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE))

    @property
    def pacer(self) -> RequestPacer:
        return t.cast(RequestPacer, self._tap.pacer)  # type: ignore[attr-defined]

    @property
    @override
    def requests_session(self) -> requests.Session:
        return self._transport.session

    # -- requests, pacing and retries ----------------------------------------------------

    @functools.cached_property
    def retrying(self) -> Retrying:
        """This stream's retries (built on first use: the tap sets its pacer after us)."""
        return Retrying(
            stream=self.name,
            budget=self.retry_budget,
            first_contact=self._tap.first_contact,  # type: ignore[attr-defined]
            pacer=self.pacer,
            origin=self._transport.origin,
            logger=self.logger,
            figures=self.figures,
        )

    @override
    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None = None
    ) -> requests.Response:
        self.retrying.first_contact.before_try()
        self.pacer.wait_for_slot()
        self.figures.requests += 1
        if self._report is not None:
            self._report.request_sent()
        response = self._transport.send(
            prepared_request, timeout=self.timeout, deadline=self.retrying.deadline()
        )
        self.retrying.first_contact.answer_received()
        self._write_request_duration_log(
            endpoint=self.path, response=response, **request_duration_log_args(context)
        )
        self.validate_response(response)
        return response

    @override
    def validate_response(self, response: requests.Response) -> None:
        self.pacer.observe(response.headers)
        status = response.status_code
        path = urlsplit(response.url).path
        if status == 429:
            self.figures.rate_limited += 1
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise errors.RateLimitedError(f"rate limited on {path}", retry_after)
        if status >= 500:
            raise errors.TransientAPIError(
                f"Mixmax answered {status} {response.reason} on {path}: {_api_message(response)}"
            )
        if status == 401:
            raise errors.AuthError(
                f"Mixmax rejected the API token (401 on {path}): it is missing or wrong. "
                f"Create one at {errors.TOKEN_HELP_URL} and set api_token."
            )
        if status == 403:
            raise errors.ForbiddenError(
                f"Mixmax refused access (403 on {path}): the token lacks access, or the "
                f"Mixmax plan has no API access. {_api_message(response)}".rstrip()
            )
        if status == 404:
            raise errors.NotFoundError(f"Mixmax has no {path} (404): {_api_message(response)}")
        if status >= 400:
            raise errors.BadRequestError(
                f"Mixmax refused a request the tap built ({status} on {path}): "
                f"{_api_message(response)}"
            )
        body = self.parse_page(response.content, path)
        self.check_envelope(body, path)
        setattr(response, _BODY_ATTR, body)

    def parse_page(self, content: bytes, path: str) -> t.Any:
        """A page's JSON, with any echo of the token masked before a row is read."""
        for form in self._token_forms:
            if form in content:
                content = content.replace(form, MASK.encode())
        try:
            return json.loads(content)
        except RecursionError:
            raise errors.MalformedPageError(
                f"Mixmax sent a page nested too deeply to read on {path}"
            ) from None
        except ValueError as exc:
            raise errors.MalformedPageError(
                f"Mixmax sent a page that is not valid JSON on {path}"
            ) from exc

    def rows_of(self, body: t.Any) -> list[t.Any] | None:
        """The rows of a page body, or None when the envelope has no list of them."""
        if self.records_key is None:
            return body if isinstance(body, list) else [body]
        rows = body.get(self.records_key) if isinstance(body, dict) else None
        return rows if isinstance(rows, list) else None

    def check_envelope(self, body: t.Any, path: str) -> None:
        """A page we cannot read whole is retried, never half-used."""
        rows = self.rows_of(body)
        if rows is None:
            raise errors.MalformedPageError(
                f"Mixmax sent a page without a '{self.records_key}' list on {path}"
            )
        if not all(isinstance(row, dict) for row in rows):
            raise errors.MalformedPageError(f"Mixmax sent a row that is not an object on {path}")

    @override
    def request_decorator(self, func: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
        return self.retrying.decorate(func)

    # -- paging ----------------------------------------------------------------------

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[t.Any]:
        if self.records_key is None:
            return SinglePagePaginator()
        return CursorPaginator(stop_early=self._page_was_before_cutoff)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        if self.records_key is None:
            return {}
        params: dict[str, t.Any] = {"limit": self.page_size}
        if next_page_token:
            params["next"] = next_page_token
        return params

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        # The envelope was checked in validate_response, before any retry decision.
        rows = t.cast(list[dict[str, t.Any]], self.rows_of(page_body(response)))
        self._page_rows, self._rows_in_window = len(rows), 0  # post_process counts
        self._extracted_at = utc_now()  # a page is extracted at once
        return rows

    # -- incremental: newest-first lists with a client-side cutoff ---------------------------

    def _read_bookmark(self, context: Context | None) -> str | None:
        """The state's bookmark, normalised; one in the future is pulled back to now."""
        state = self.get_context_state(context)
        raw = state.get("replication_key_value")
        if raw is None or not self.replication_key:
            return None
        bookmark = bookmark_datetime(self.name, raw)
        now = dt.datetime.now(dt.timezone.utc)
        if bookmark > now + FUTURE_BOOKMARK_TOLERANCE:
            self.logger.warning(
                "Stream %s: the bookmark %s is in the future; syncing from now instead, "
                "and the bookmark is reset to now",
                self.name,
                format_utc(bookmark),
            )
            bookmark = now
            state["replication_key_value"] = format_utc(now)
        return format_utc(bookmark)

    def _starting_cutoff(self) -> str | None:
        """Oldest replication value this sync must emit: bookmark - lookback, or start_date."""
        if not self.replication_key:
            return None
        start_date = self.config.get("start_date")
        floor = to_datetime(start_date) if start_date else None
        cutoff = floor
        if self._bookmark:
            cutoff = to_datetime(self._bookmark) - dt.timedelta(days=self.lookback_days)
            if floor and floor > cutoff:
                cutoff = floor
        return None if cutoff is None else format_utc(cutoff)

    @property
    def lookback_days(self) -> float:
        if not self.lookback_setting:
            return 0.0
        return float(self.config.get(self.lookback_setting, 0))

    def _page_was_before_cutoff(self) -> bool:
        """Newest first: once a whole page is older than the cutoff, the rest is too."""
        return self._cutoff is not None and self._page_rows > 0 and self._rows_in_window == 0

    # -- records ---------------------------------------------------------------------

    @override  # type: ignore[misc]  # @final in the SDK: tap_mixmax/sdk.py says why
    def sync(self, context: Context | None = None) -> None:
        raise_if_stopping()  # no stream starts after SIGTERM or Ctrl-C
        started = time.monotonic()
        try:
            super().sync(context)
        finally:
            self.figures.seconds += time.monotonic() - started

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        self._tap.check_connection()  # type: ignore[attr-defined]
        self._bookmark_key = self.replication_key  # read once: the SDK's is a property
        self._bookmark = self._read_bookmark(context)
        self._cutoff = self._starting_cutoff()
        if self.replication_key:
            # Said before the SDK's own note ("not resumable"), which is not true here.
            self.get_context_state(context).setdefault(
                PROGRESS_MARKERS, {PROGRESS_MARKER_NOTE: RESUME_NOTE}
            )
        if not self.figures.started:
            self.figures.started = True
            self.logger.info("Stream %s: %s", self.name, self.describe_sync(context))
        try:
            yield from self.request_records(context)  # the SDK calls post_process on each
        except (errors.NotFoundError, errors.ForbiddenError) as exc:
            if not self.optional_endpoint:
                raise
            self.skip_unavailable(exc, context)
        self._report_unknown_fields()
        if self._rows_without_key:
            self.logger.warning(
                "Stream %s: %s had no readable %s: emitted, without moving the bookmark",
                self.name,
                counted(self._rows_without_key, "row"),
                self.replication_key,
            )
            self._rows_without_key = 0

    def describe_sync(self, context: Context | None) -> str:
        """How this stream syncs, for its start line."""
        if not self.replication_key:
            parent = self.parent_stream_type
            return f"full table, per {parent.name} row" if parent else "full table"  # type: ignore[misc]
        if not self._cutoff:
            return f"incremental on {self.replication_key}, every row (no bookmark, no start_date)"
        origin = "start_date; no bookmark yet"
        if self._bookmark:
            origin = f"bookmark {self._bookmark}"
            if self.lookback_days:
                origin += f" minus {self.lookback_setting} {self.lookback_days:g}"
        return f"incremental on {self.replication_key}, from {self._cutoff} ({origin})"

    def _report_unknown_fields(self) -> None:
        new_unknown = self._shaper.unknown_seen - self._unknown_reported
        if new_unknown:  # once per field and stream, however many parents a child has
            self.logger.warning(
                "Stream %s: kept unknown fields %s in %s",
                self.name,
                sorted(new_unknown),
                EXTRA_FIELD,
            )
            self._unknown_reported |= new_unknown

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
        if self._bookmark_key is not None:
            value = record.get(self._bookmark_key)
            if value is None:
                self._rows_without_key += 1  # kept: we cannot tell its age
            elif self._cutoff is not None and value < self._cutoff:
                return None  # both RFC 3339 UTC, fixed width: they compare as text
            self._rows_in_window += 1
        self.figures.rows += 1
        return record

    @override
    def _process_record(
        self,
        record: Record,
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        # The SDK's work here is for child streams and partition keys; most streams have
        # neither, and it would copy a context for every row.
        if self.child_streams or partition_context:
            super()._process_record(record, child_context, partition_context)

    @override
    def _write_schema_message(self) -> None:
        # The SDK writes it at every sync() call, i.e. once per parent row for a child
        # stream: once is what the Singer spec asks, and each costs a whole schema.
        if not self._schema_written:
            self._schema_written = True
            super()._write_schema_message()

    @functools.cached_property
    def _records_go_out_as_they_are(self) -> bool:
        # The common case, made cheap: every field selected and the SDK's one default map,
        # so its walk for deselected fields, its map and its type conformance (off here:
        # the shaper already gave the record its schema's shape) would only cost CPU.
        maps = self.stream_maps
        return (
            all(self.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    @override
    def _write_record_message(self, record: Record) -> None:
        if not self._records_go_out_as_they_are:
            super()._write_record_message(record)
            return
        self._tap.write_message(
            RecordMessage(
                stream=self.name,
                record=record,
                version=self._stream_version,
                time_extracted=self._extracted_at,
            )
        )
        self.state_manager.is_flushed = False

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        # Full table: no bookmark to move. And a row without a readable replication value
        # must not move (or break) the bookmark.
        if self._bookmark_key is None or latest_record.get(self._bookmark_key) is None:
            return
        super()._increment_stream_state(latest_record, context=context)


class ChildStream(MixmaxStream):
    """A stream read once per parent record. State stays one entry, however many parents."""

    state_partitioning_keys: t.ClassVar[list[str]] = []

    @override
    def skip_unavailable(self, exc: errors.MixmaxError, context: Context | None) -> None:
        # The parent was deleted between its page and this request: skip it.
        self.logger.warning("Stream %s: skipping %s: %s", self.name, context, exc)
