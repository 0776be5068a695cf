"""How a stream retries a request: which failures, until when, how it waits, how it gives up.

- **Which.** 429s, 5xx answers, pages that cannot be read whole, and failures below HTTP
  (refused or dropped connections, answers slower than request_timeout, cut bodies).
- **Until when.** Each request may retry for retry_budget_seconds; until the API has
  answered once in the run, no longer than the first-contact rule allows
  (tap_mixmax/first_contact.py). The deadline holds in flight too (the transport's).
- **How it waits.** Capped exponential backoff with jitter; a Retry-After is waited by the
  token's pacer instead, so every lane waits it. The `backoff` module (which singer-sdk
  brings) decides when to retry but never sleeps itself: its sleep cannot be interrupted,
  so it is told to wait 0 s and the wait goes through stopping.wait, which a signal ends.
- **How it gives up.** One line naming the stream and the real cause.
"""

from __future__ import annotations

import random
import time
import typing as t
from collections.abc import Callable

import backoff
import requests

from tap_mixmax import errors, stopping
from tap_mixmax.transport import Origin, connect_failure_reason, is_connect_failure

if t.TYPE_CHECKING:
    import logging

    from tap_mixmax.first_contact import FirstContact
    from tap_mixmax.pacing import RequestPacer
    from tap_mixmax.report import StreamFigures

# A try needs at least this much of the budget left to be worth making.
MIN_TRY_SECONDS = 0.5
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
# How a retry line names a failure below HTTP (the first match wins).
TRANSPORT_FAILURES: tuple[tuple[type[Exception], str], ...] = (
    (requests.exceptions.Timeout, "no answer within request_timeout"),
    (requests.exceptions.ChunkedEncodingError, "a body cut off"),
    (requests.exceptions.ContentDecodingError, "a body that does not decompress"),
    (requests.exceptions.ConnectionError, "a dropped connection"),
    (ConnectionError, "a dropped connection"),
)

Func = t.TypeVar("Func", bound=Callable[..., t.Any])


class Retrying:
    """One stream's retries (a stream object runs in one thread: no lock)."""

    def __init__(
        self,
        *,
        stream: str,
        budget: float,
        max_tries: int | None = None,
        first_contact: FirstContact,
        pacer: RequestPacer,
        origin: Origin,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
        figures: StreamFigures,
    ) -> None:
        self.stream = stream
        self.budget = budget
        self.max_tries = max_tries
        self.first_contact = first_contact
        self.pacer = pacer
        self.origin = origin
        self.logger = logger
        self.figures = figures
        self._started = 0.0
        self._backoffs = 0  # waits of this request so far, Retry-Afters aside

    def deadline(self) -> float:
        """When the current request must give up: its retry budget, or first contact's."""
        deadline = self._started + self.budget
        first_contact = self.first_contact.deadline()
        return deadline if first_contact is None else min(deadline, first_contact)

    def decorate(self, func: Func) -> Func:
        retrying = backoff.on_exception(
            backoff.constant,
            (*RETRIABLE_ERRORS, *TRANSPORT_ERRORS),
            interval=0,  # backoff's own sleep cannot be interrupted: wait_before_retry waits
            max_time=self.budget,  # a backstop: deadline() is the real limit
            max_tries=self.max_tries,
            jitter=None,
            giveup=self._out_of_time,
            on_backoff=self._wait_before_retry,
            on_giveup=self._give_up,
            logger=None,
        )(func)

        def within_budget(*args: t.Any, **kwargs: t.Any) -> t.Any:
            self._started, self._backoffs = time.monotonic(), 0
            return retrying(*args, **kwargs)

        return t.cast(Func, within_budget)

    def _out_of_time(self, failure: Exception) -> bool:
        """Give up now: too little budget left for another try, or a wait past it."""
        left = self.deadline() - time.monotonic()
        if isinstance(failure, errors.RateLimitedError) and failure.retry_after is not None:
            if failure.retry_after > left - MIN_TRY_SECONDS:
                return True
            # The one place Retry-After is obeyed: every request of the token waits.
            self.pacer.block_for(failure.retry_after, f"Mixmax said Retry-After ({failure})")
        return left < MIN_TRY_SECONDS

    def _next_wait(self, failure: BaseException | None) -> float:
        """Capped exponential backoff with jitter, never past the deadline."""
        if isinstance(failure, errors.RateLimitedError) and failure.retry_after is not None:
            return 0.0  # the pacer holds every request of the token until it has passed
        ceiling = min(RETRY_MAX_WAIT_SECONDS, RETRY_BASE_SECONDS * 2**self._backoffs)
        self._backoffs += 1
        left = self.deadline() - time.monotonic() - MIN_TRY_SECONDS
        return max(0.0, min(random.uniform(ceiling / 2, ceiling), left))

    def _wait_before_retry(self, details: t.Mapping[str, t.Any]) -> None:
        self.figures.retries += 1
        failure = details.get("exception")
        wait = self._next_wait(failure)
        shown = wait
        if isinstance(failure, errors.RateLimitedError) and failure.retry_after is not None:
            shown = failure.retry_after
        self.logger.info(
            "Waiting %.1f s before retry %d of %s: %s",
            shown,
            details.get("tries", 0),
            self.stream,
            self.failure_text(failure),
        )
        stopping.wait(wait)

    def failure_text(self, failure: BaseException | None) -> str:
        if isinstance(failure, errors.MixmaxError):
            return str(failure)
        if failure is not None and is_connect_failure(failure):
            return f"cannot connect to {self.origin.hostport} ({connect_failure_reason(failure)})"
        for kind, what in TRANSPORT_FAILURES:
            if isinstance(failure, kind):
                return f"{what} from {self.origin.hostport}"
        return f"{type(failure).__name__} from {self.origin.hostport}"

    def _give_up(self, details: t.Mapping[str, t.Any]) -> None:
        failure = details.get("exception")
        retriable = (*RETRIABLE_ERRORS, *TRANSPORT_ERRORS)
        if not isinstance(failure, Exception) or not isinstance(failure, retriable):
            return
        tries, elapsed = details.get("tries", 0), float(details.get("elapsed", 0))
        if isinstance(failure, errors.RateLimitedError) and failure.retry_after is not None:
            raise errors.MixmaxError(
                f"Mixmax asked stream {self.stream} to wait {failure.retry_after:.0f} s "
                f"(Retry-After), longer than the retry budget has left "
                f"(retry_budget_seconds {self.budget:.0f})"
            ) from failure
        if is_connect_failure(failure) and not self.first_contact.answered:
            raise self.first_contact.give_up(
                f"{self.failure_text(failure)}: {_tries(tries)} in {elapsed:.0f} s, and it "
                "has not answered once in this run; check api_url and the network"
            ) from failure
        raise errors.MixmaxError(
            f"Mixmax kept failing for stream {self.stream} after {_tries(tries)} in "
            f"{elapsed:.0f} s: {self.failure_text(failure)}"
        ) from failure


def _tries(count: int) -> str:
    return f"{count} {'try' if count == 1 else 'tries'}"
