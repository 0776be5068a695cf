"""One Mixmax API object per token: everything a request is, apart from what it asks for.

`MixmaxAPI` owns the transport (one origin, deadlines, bounded bodies: transport.py), the
token (its header, and its masking in every body before a row is read), the pacer
(pacing.py), the first-contact rule (first_contact.py), the retry policy, how an answer
is classified, and how a page's envelope is read. A sync's streams and lanes share one
per token; streams reach it only through the SDK's public hooks:

- `requests_session`: a `StreamSession`, whose `send` goes through `MixmaxAPI.send`;
- `authenticator`: `TokenAuth`, the token's one header;
- `request_decorator`: `MixmaxAPI.retrying(...)` (retrying.py);
- `validate_response`: `MixmaxAPI.validate`.
"""

from __future__ import annotations

import dataclasses
import json
import typing as t
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase
from typing_extensions import override

from tap_mixmax import errors
from tap_mixmax.first_contact import FirstContact
from tap_mixmax.pacing import RequestPacer, parse_retry_after
from tap_mixmax.redact import MASK, secret_forms
from tap_mixmax.retrying import Retrying
from tap_mixmax.transport import Transport

if t.TYPE_CHECKING:
    import logging

    from tap_mixmax.page_sizes import OffsetLimits
    from tap_mixmax.report import StreamFigures, SyncReport

TOKEN_HEADER = "X-API-Token"
# The longest server message quoted in an error line.
MESSAGE_EXCERPT_CHARS = 160
_BODY_ATTR = "_mixmax_body"

Logger = t.Union["logging.Logger", "logging.LoggerAdapter[logging.Logger]"]


def page_body(response: requests.Response) -> t.Any:
    """The parsed JSON of a response, parsed once (validation caches it)."""
    return getattr(response, _BODY_ATTR)


def one_line(text: str, limit: int = MESSAGE_EXCERPT_CHARS) -> str:
    """Server text as one short line (it may hold newlines, HTML, anything)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def api_message(response: requests.Response) -> str:
    """Mixmax's own `message`, or the start of a non-JSON (proxy) body."""
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return one_line(response.text)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return one_line(body["message"])
    return ""


def rows_of(body: t.Any, records_key: str | None) -> list[t.Any] | None:
    """The rows of a page body, or None when the envelope has no list of them.

    `records_key` None: the body is the record, or a bare array of them.
    """
    if records_key is None:
        return body if isinstance(body, list) else [body]
    rows = body.get(records_key) if isinstance(body, dict) else None
    return rows if isinstance(rows, list) else None


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How long requests may take and keep retrying (the deadlines, in one value)."""

    budget_seconds: float  # retry_budget_seconds: one request, all its tries and waits
    request_timeout: float  # request_timeout: one try, connect to last byte
    max_tries: int | None = None  # None: the budget alone bounds the tries (a sync's way)


class TokenAuth(AuthBase):
    """The token travels in this header only, never in a URL."""

    def __init__(self, token: str) -> None:
        self._token = token

    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[TOKEN_HEADER] = self._token
        return request

    @override
    def __repr__(self) -> str:
        return "TokenAuth(***)"


class MixmaxAPI:
    """The Mixmax API as one token sees it; shared by every stream and lane of the token."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        policy: RetryPolicy,
        pacer: RequestPacer,
        first_contact: FirstContact,
        offset_limits: OffsetLimits,
        max_body_bytes: int,
        report: SyncReport | None = None,
    ) -> None:
        self.transport = Transport(api_url, max_body_bytes=max_body_bytes)
        self.origin = self.transport.origin
        self.policy = policy
        self.pacer = pacer
        self.first_contact = first_contact
        self.offset_limits = offset_limits  # page sizes learnt, per token: clamps differ
        self.auth = TokenAuth(token)
        self._report = report
        self._token_forms = secret_forms(token)

    def retrying(self, stream: str, logger: Logger, figures: StreamFigures) -> Retrying:
        """One stream's retries (a stream runs in one thread: each has its own)."""
        return Retrying(
            stream=stream,
            budget=self.policy.budget_seconds,
            max_tries=self.policy.max_tries,
            first_contact=self.first_contact,
            pacer=self.pacer,
            origin=self.origin,
            logger=logger,
            figures=figures,
        )

    def session(self, retrying: Retrying, figures: StreamFigures) -> StreamSession:
        return StreamSession(self, retrying, figures)

    def send(
        self, request: requests.PreparedRequest, retrying: Retrying, figures: StreamFigures
    ) -> requests.Response:
        """One try: paced, counted, and within its deadline."""
        self.first_contact.before_try()
        self.pacer.wait_for_slot()
        figures.requests += 1
        if self._report is not None:
            self._report.request_sent()
        response = self.transport.send(
            request, timeout=self.policy.request_timeout, deadline=retrying.deadline()
        )
        self.first_contact.answer_received()
        return response

    def validate(
        self, response: requests.Response, records_key: str | None, figures: StreamFigures
    ) -> None:
        """Raise the error an answer means; else parse its page once, for page_body()."""
        path = urlsplit(response.url).path
        self.check_status(response, path, figures)
        body = self.parse_page(response.content, path)
        rows = rows_of(body, records_key)
        if rows is None:  # a page we cannot read whole is retried, never half-used
            raise errors.MalformedPageError(
                f"Mixmax sent a page without a '{records_key}' list on {path}"
            )
        if not all(isinstance(row, dict) for row in rows):
            raise errors.MalformedPageError(f"Mixmax sent a row that is not an object on {path}")
        setattr(response, _BODY_ATTR, body)

    def check_status(self, response: requests.Response, path: str, figures: StreamFigures) -> None:
        """The pace learns from every answer; then the error its status means, if any."""
        self.pacer.observe(response.headers)
        self.classify(response, path, figures)

    @staticmethod
    def classify(response: requests.Response, path: str, figures: StreamFigures) -> None:
        """The error an HTTP status means (errors.py says which are retried)."""
        status = response.status_code
        if status == 429:
            figures.rate_limited += 1
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise errors.RateLimitedError(f"rate limited on {path}", retry_after)
        if status >= 500:
            raise errors.TransientAPIError(
                f"Mixmax answered {status} {response.reason} on {path}: {api_message(response)}"
            )
        if status == 401:
            raise errors.AuthError(
                f"Mixmax rejected the API token (401 on {path}): it is missing or wrong. "
                f"Create one at {errors.TOKEN_HELP_URL} and set api_token."
            )
        if status == 403:
            raise errors.ForbiddenError(
                f"Mixmax refused access (403 on {path}): the token lacks access, or the "
                f"Mixmax plan has no API access. {api_message(response)}".rstrip()
            )
        if status == 404:
            raise errors.NotFoundError(f"Mixmax has no {path} (404): {api_message(response)}")
        if status >= 400:
            raise errors.BadRequestError(
                f"Mixmax refused a request the tap built ({status} on {path}): "
                f"{api_message(response)}"
            )

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


class StreamSession(requests.Session):
    """What the SDK sends through: each request goes by the API's transport and pace.

    The SDK prepares requests with it (headers, the authenticator) and calls `send`; the
    redirects and the timeout are the transport's (one origin, one deadline), so the
    SDK's `allow_redirects` and `timeout` are not needed here.
    """

    def __init__(self, api: MixmaxAPI, retrying: Retrying, figures: StreamFigures) -> None:
        super().__init__()
        self._api = api
        self._retrying = retrying
        self._figures = figures

    @override
    def send(self, request: requests.PreparedRequest, **_kwargs: t.Any) -> requests.Response:
        return self._api.send(request, self._retrying, self._figures)
