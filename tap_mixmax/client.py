"""The one base stream: auth, paging, pacing, retries and record shaping for Mixmax."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import random
import typing as t
from collections.abc import Callable, Generator, Iterable
from importlib import resources
from urllib.parse import urlparse

import backoff
import requests
from singer_sdk import RESTStream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator, OffsetPaginator, SinglePagePaginator

from tap_mixmax import errors
from tap_mixmax.accounts import ACCOUNT_FIELD, ACCOUNT_FIELD_SCHEMA
from tap_mixmax.pacing import RequestPacer, parse_retry_after
from tap_mixmax.records import (
    EXTRA_FIELD,
    EXTRA_FIELD_SCHEMA,
    RecordShaper,
    TimestampError,
    format_utc,
    normalize_timestamp,
    to_datetime,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record
    from singer_sdk.tap_base import Tap

DEFAULT_API_URL = "https://api.mixmax.com/v1"
TOKEN_HEADER = "X-API-Token"
MAX_PAGE_SIZE = 300  # docs/mixmax-api.md 1.4: MAX_LIMIT
DEFAULT_REQUEST_TIMEOUT = 60
DEFAULT_RETRY_BUDGET_SECONDS = 900
RETRY_BASE_SECONDS = 1.0
RETRY_MAX_WAIT_SECONDS = 60.0
# Retriable failures below the HTTP layer: dropped sockets, read timeouts, cut bodies.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
RETRIABLE_ERRORS = (errors.TransientAPIError, errors.MalformedPageError, errors.RateLimitedError)

_BODY_ATTR = "_mixmax_body"


def page_body(response: requests.Response) -> t.Any:
    """The parsed JSON of a response, parsed once (validation caches it)."""
    body = getattr(response, _BODY_ATTR, None)
    if body is None:
        body = response.json()
    return body


@functools.cache
def load_schema(name: str) -> dict[str, t.Any]:
    """A stream's JSON schema from `tap_mixmax/schemas`, plus the `_extra` column."""
    text = resources.files("tap_mixmax.schemas").joinpath(f"{name}.json").read_text()
    schema: dict[str, t.Any] = json.loads(text)
    schema.setdefault("properties", {})[EXTRA_FIELD] = EXTRA_FIELD_SCHEMA
    return schema


def _is_older(value: t.Any, cutoff: str) -> bool:
    """Whether a replication value is before the cutoff; unknown or unreadable is not."""
    try:
        normalized = normalize_timestamp(value)
    except TimestampError:
        return False
    return normalized is not None and normalized < cutoff


def _api_message(response: requests.Response) -> str:
    """Mixmax's own `message`, or the start of a non-JSON (proxy) body."""
    try:
        body = response.json()
    except ValueError:
        text = " ".join(response.text.split())
        return text[:120]
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return t.cast(str, body["message"])
    return ""


class CursorPaginator(BaseAPIPaginator[str | None]):
    """Mixmax's envelope: follow `next` while `hasNext` is true.

    `next` is present on the last page too (docs/mixmax-api.md 1.4), so the flag alone
    decides. `stop_early` lets an incremental stream stop at its cutoff.
    """

    def __init__(self, stop_early: Callable[[list[dict[str, t.Any]]], bool]) -> None:
        super().__init__(None)
        self._stop_early = stop_early

    def has_more(self, response: requests.Response) -> bool:
        body = page_body(response)
        if not body.get("hasNext"):
            return False
        return not self._stop_early(body.get("results") or [])

    def get_next(self, response: requests.Response) -> str | None:
        cursor = page_body(response).get("next")
        path = urlparse(response.url).path
        if not isinstance(cursor, str) or not cursor:
            raise errors.MixmaxError(f"Mixmax said hasNext but sent no next cursor on {path}")
        if cursor == self.current_value:
            # Following it would request the same page forever.
            raise errors.MixmaxError(f"Mixmax sent the same next cursor twice on {path}")
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
        super().__init__(tap, schema=schema)
        if account_mode:
            self.primary_keys = (ACCOUNT_FIELD, *(self.primary_keys or ()))
        self._account_logger = (
            super().logger.getChild(self.account) if self.account else super().logger
        )
        self._shaper = RecordShaper(self.schema)
        self._cutoff: str | None = None
        self._unknown_reported: set[str] = set()

    @property
    def logger(self) -> logging.Logger:
        return self._account_logger  # with `accounts`, lines name the account

    # -- connection ---------------------------------------------------------------

    @property
    def url_base(self) -> str:
        return str(self.config.get("api_url", DEFAULT_API_URL)).rstrip("/")

    @property
    def http_headers(self) -> dict[str, str]:
        # The token travels in this header only, never in a URL.
        return {TOKEN_HEADER: self._tap.api_token, "User-Agent": self.user_agent}  # type: ignore[attr-defined]

    @functools.cached_property
    def user_agent(self) -> str:
        from tap_mixmax import __version__  # noqa: PLC0415

        return str(self.config.get("user_agent") or f"tap-mixmax/{__version__}")

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT))

    @property
    def page_size(self) -> int:
        return max(1, min(int(self.config.get("page_size", MAX_PAGE_SIZE)), MAX_PAGE_SIZE))

    @property
    def pacer(self) -> RequestPacer:
        return t.cast(RequestPacer, self._tap.pacer)  # type: ignore[attr-defined]

    # -- requests, pacing and retries ----------------------------------------------------

    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        self.pacer.wait_for_slot()
        response = super()._request(prepared_request, context)
        return response

    def validate_response(self, response: requests.Response) -> None:
        self.pacer.observe(response.headers)
        status = response.status_code
        path = urlparse(response.url).path
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is not None:
                self.pacer.block_for(retry_after)
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
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise errors.MalformedPageError(
                f"Mixmax sent a page that is not valid JSON on {path}"
            ) from exc
        self.check_envelope(body, path)
        setattr(response, _BODY_ATTR, body)

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

    def request_decorator(self, func: t.Callable) -> t.Callable:
        budget = float(self.config.get("retry_budget_seconds", DEFAULT_RETRY_BUDGET_SECONDS))
        return backoff.on_exception(
            self._retry_waits,
            (*RETRIABLE_ERRORS, *TRANSPORT_ERRORS),
            max_time=budget,
            max_tries=None,
            jitter=None,  # _retry_waits jitters, but never shortens a Retry-After
            on_backoff=self._log_retry,
            on_giveup=self._give_up,
            logger=None,
        )(func)

    @staticmethod
    def _retry_waits() -> Generator[float, BaseException, None]:
        """Retry-After when Mixmax gives one; otherwise capped exponential with jitter."""
        failure = yield  # type: ignore[misc]
        attempt = 0
        while True:
            retry_after = getattr(failure, "retry_after", None)
            if retry_after is not None:
                wait = float(retry_after)
            else:
                ceiling = min(RETRY_MAX_WAIT_SECONDS, RETRY_BASE_SECONDS * 2**attempt)
                wait = random.uniform(ceiling / 2, ceiling)
                attempt += 1
            failure = yield wait

    def _log_retry(self, details: t.Mapping[str, t.Any]) -> None:
        failure = details.get("exception")
        reason = str(failure) if isinstance(failure, errors.MixmaxError) else type(failure).__name__
        self.logger.info(
            "Waiting %.1f s before retry %d of %s: %s",
            details.get("wait", 0.0),
            details.get("tries", 0),
            self.name,
            reason,
        )

    def _give_up(self, details: t.Mapping[str, t.Any]) -> None:
        failure = details.get("exception")
        if isinstance(failure, Exception) and isinstance(
            failure, RETRIABLE_ERRORS + TRANSPORT_ERRORS
        ):
            reason = str(failure) if isinstance(failure, errors.MixmaxError) else repr(failure)
            raise errors.MixmaxError(
                f"Mixmax kept failing for stream {self.name} after "
                f"{details.get('tries')} tries in {details.get('elapsed', 0):.0f} s: {reason}"
            ) from failure

    # -- paging ----------------------------------------------------------------------

    def get_new_paginator(self) -> BaseAPIPaginator[t.Any]:
        if self.records_key is None:
            return SinglePagePaginator()
        return CursorPaginator(stop_early=self._page_is_past_cutoff)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        if self.records_key is None:
            return {}
        params: dict[str, t.Any] = {"limit": self.page_size}
        if next_page_token:
            params["next"] = next_page_token
        return params

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        # The envelope was checked in validate_response, before any retry decision.
        return t.cast(list[dict[str, t.Any]], self.rows_of(page_body(response)))

    # -- incremental: newest-first lists with a client-side cutoff ---------------------------

    def _starting_cutoff(self, context: Context | None) -> str | None:
        """Oldest replication value this sync must emit: bookmark - lookback, or start_date."""
        if not self.replication_key:
            return None
        start_date = self.config.get("start_date")
        floor = to_datetime(start_date) if start_date else None
        state_value = self.get_starting_replication_key_value(context)
        cutoff = floor
        if state_value:
            cutoff = to_datetime(state_value) - dt.timedelta(days=self.lookback_days)
            if floor and floor > cutoff:
                cutoff = floor
        return None if cutoff is None else format_utc(cutoff)

    @property
    def lookback_days(self) -> float:
        if not self.lookback_setting:
            return 0.0
        return float(self.config.get(self.lookback_setting, 0))

    def _page_is_past_cutoff(self, rows: list[dict[str, t.Any]]) -> bool:
        """Newest first: once a whole page is older than the cutoff, the rest is too."""
        if self._cutoff is None or not rows or not self.replication_key:
            return False
        key, cutoff = self.replication_key, self._cutoff
        return all(_is_older(row.get(key), cutoff) for row in rows)

    # -- records ---------------------------------------------------------------------

    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        self._tap.check_connection()  # type: ignore[attr-defined]
        self._cutoff = self._starting_cutoff(context)
        try:
            yield from self.request_records(context)  # the SDK calls post_process on each
        except (errors.NotFoundError, errors.ForbiddenError) as exc:
            if not self.optional_endpoint:
                raise
            self.skip_unavailable(exc, context)
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

    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        if context:  # a child row names its parent, e.g. an event's messageId
            for key, value in context.items():
                if key in self._shaper.known:
                    row.setdefault(key, value)
        record = self._shaper.shape(row)
        if self.account is not None:
            record[ACCOUNT_FIELD] = self.account
        if self._cutoff is not None and self.replication_key:
            value = record.get(self.replication_key)
            if value is not None and value < self._cutoff:
                return None
        return record


class ChildStream(MixmaxStream):
    """A stream read once per parent record. State stays one entry, however many parents."""

    state_partitioning_keys: t.ClassVar[list[str]] = []

    def skip_unavailable(self, exc: errors.MixmaxError, context: Context | None) -> None:
        # The parent was deleted between its page and this request: skip it.
        self.logger.warning("Stream %s: skipping %s: %s", self.name, context, exc)


def capped_limit(page_size: int, cap: int, offset: int) -> int:
    """The largest limit Mixmax accepts at this offset (offset + limit <= cap)."""
    return max(1, min(page_size, cap - offset))


class CappedOffsetPaginator(OffsetPaginator):
    """Offset paging for bare arrays: stop on a short or empty page, or at the cap."""

    def __init__(self, page_size: int, cap: int, on_cap: Callable[[], None]) -> None:
        super().__init__(start_value=0, page_size=page_size)
        self.cap = cap
        self._on_cap = on_cap

    def limit_at(self, offset: int) -> int:
        return capped_limit(self.page_size, self.cap, offset)

    def has_more(self, response: requests.Response) -> bool:
        rows = page_body(response)
        offset = self.current_value
        if len(rows) < self.limit_at(offset):
            return False
        if offset + len(rows) >= self.cap:
            self._on_cap()
            return False
        return True


class OffsetChildStream(ChildStream):
    """A child list that returns a bare array and pages by `offset` up to a hard cap."""

    records_key = None
    offset_cap = 10_000  # docs/mixmax-api.md 2.2: recipients stop at 10,000 records
    extra_params: t.ClassVar[dict[str, t.Any]] = {}

    def get_new_paginator(self) -> CappedOffsetPaginator:
        return CappedOffsetPaginator(self.page_size, self.offset_cap, self._warn_cap)

    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        offset = int(next_page_token or 0)
        limit = capped_limit(self.page_size, self.offset_cap, offset)
        return {**self.extra_params, "offset": offset, "limit": limit}

    def _warn_cap(self) -> None:
        self.logger.warning(
            "Stream %s: %s reached Mixmax's cap of %d rows; rows past it cannot be read",
            self.name,
            self.context,
            self.offset_cap,
        )


logging.getLogger("backoff").setLevel(logging.CRITICAL)
