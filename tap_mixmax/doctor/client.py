"""The doctor's way to Mixmax: the tap's own `MixmaxAPI`, with the doctor's tries and pace.

Everything a request is comes from tap_mixmax/api.py, as for a sync: the transport (one
origin, no redirect off it, the deadline over the whole answer, capped bodies, the
system's CA bundle), the token's header and its masking in every body, the pacer, the
first-contact rule, the retry policy and how a status is classified. The doctor adds only
what a check needs: every answer, whatever its status, as an `Answer`, and a hard budget of
requests per account.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
import typing as t
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from typing_extensions import override

from tap_mixmax import __version__, errors
from tap_mixmax.api import MixmaxAPI, RetryPolicy
from tap_mixmax.first_contact import FirstContact
from tap_mixmax.pacing import RATE_LIMIT_WINDOW_SECONDS, RequestPacer
from tap_mixmax.page_sizes import OffsetLimits
from tap_mixmax.report import StreamFigures
from tap_mixmax.retrying import RETRIABLE_ERRORS
from tap_mixmax.settings import DEFAULT_MAX_RESPONSE_MEGABYTES
from tap_mixmax.transport import connect_failure_reason, is_connect_failure

MAX_REQUESTS_PER_ACCOUNT = 50
REQUEST_TIMEOUT_SECONDS = 30
# The doctor's own retry policy: a few tries, and waits of at most one rate window.
MAX_TRIES = 3  # per request, for 429s, 5xx answers and network failures
RETRY_BUDGET_SECONDS = RATE_LIMIT_WINDOW_SECONDS + 10
# The doctor's own pace: under half of Mixmax's 120 per minute, and it stops short of
# the server's limit, so it never crowds out a sync of the same token alongside.
REQUESTS_PER_MINUTE = 50
RATE_LIMIT_RESERVE = 5  # pause once X-RateLimit-Remaining falls this low
PREFIX = "tap-mixmax --doctor: "


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int  # 0: no HTTP answer at all
    headers: Mapping[str, str]
    body: t.Any  # parsed JSON (the token masked), or None
    received: float  # time.time() when it arrived
    problem: str = ""  # one line, when status is 0

    @property
    def message(self) -> str:
        """Mixmax's own `message`, shortened (redacted with the rest of the report)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return " ".join(self.body["message"].split())[:100]
        return ""

    def describe(self) -> str:
        return self.problem or f"{self.status} {self.message}".rstrip()


class BudgetSpentError(Exception):
    """The account's request budget is used up; the remaining checks cannot run."""


def say(line: str) -> None:
    sys.stderr.write(f"{PREFIX}{line}\n")


class _SayHandler(logging.Handler):
    """Each log line as one of the doctor's own (on the sys.stderr of the moment)."""

    @override
    def emit(self, record: logging.LogRecord) -> None:
        say(record.getMessage())


def doctor_logger() -> logging.Logger:
    """Where the shared retry and pace lines go: stderr, as the doctor's own lines."""
    logger = logging.getLogger("tap-mixmax.doctor")
    if not logger.handlers:
        logger.addHandler(_SayHandler())
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class DoctorClient:
    """GETs through the account's `MixmaxAPI`; never more than `budget` requests."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        budget: int = MAX_REQUESTS_PER_ACCOUNT,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        self.base = api_url.rstrip("/")
        self.host = urlsplit(self.base).hostname or "the API"
        self.logger = doctor_logger()
        self.api = MixmaxAPI(
            self.base,
            token,
            policy=RetryPolicy(
                budget_seconds=RETRY_BUDGET_SECONDS, request_timeout=timeout, max_tries=MAX_TRIES
            ),
            pacer=RequestPacer(REQUESTS_PER_MINUTE, logger=self.logger, reserve=RATE_LIMIT_RESERVE),
            first_contact=FirstContact(),
            offset_limits=OffsetLimits(self.logger),
            max_body_bytes=DEFAULT_MAX_RESPONSE_MEGABYTES * 2**20,
        )
        self.user_agent = f"tap-mixmax/{__version__} (doctor)"
        self.budget = budget
        self.answers: list[Answer] = []  # every HTTP answer, retried ones too
        self.figures = StreamFigures()

    @property
    def sent(self) -> int:
        """Requests sent to this account so far (tries, not gets)."""
        return self.figures.requests

    def get(self, path: str, params: Mapping[str, t.Any] | None = None) -> Answer:
        """The final answer to GET `path`, after the retries the policy allows."""
        request = requests.Request(
            "GET",
            self.base + path,
            params=params,
            headers={"User-Agent": self.user_agent},
            auth=self.api.auth,
        ).prepare()
        retrying = self.api.retrying(f"GET {path}", self.logger, self.figures)
        tried: list[Answer | Exception] = []

        def one_try() -> Answer:
            if self.sent >= self.budget:
                raise BudgetSpentError(f"the budget of {self.budget} requests is spent")
            try:
                response = self.api.send(request, retrying, self.figures)
            except Exception as exc:
                tried.append(exc)
                raise
            answer = self._answer(response, path)
            tried.append(answer)
            try:
                self.api.check_status(response, path, self.figures)
            except RETRIABLE_ERRORS:
                raise  # retried by the shared policy
            except errors.MixmaxError:
                pass  # a refusal is what a check wants to see, not a failure
            return answer

        try:
            return retrying.decorate(one_try)()
        except (errors.MixmaxError, requests.RequestException) as exc:
            last = tried[-1] if tried else exc
            return last if isinstance(last, Answer) else self._no_answer(last)

    def close(self) -> None:
        self.api.transport.session.close()

    def _answer(self, response: requests.Response, path: str) -> Answer:
        try:
            body = self.api.parse_page(response.content, path)
        except errors.MalformedPageError:
            body = None
        headers = CaseInsensitiveDict(response.headers)
        answer = Answer(response.status_code, headers, body, time.time())
        self.answers.append(answer)
        return answer

    def _no_answer(self, failure: BaseException) -> Answer:
        what = type(failure).__name__
        if isinstance(failure, errors.MixmaxError):  # off the origin, a bad certificate...
            what = str(failure)
        elif is_connect_failure(failure):
            what = f"cannot connect ({connect_failure_reason(failure)})"
        return Answer(0, {}, None, time.time(), f"no answer from {self.host}: {what}")
