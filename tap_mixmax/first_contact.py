"""The first-contact rule: one per run, shared by every stream, lane and account.

Until the API has answered once in this run, a connection that cannot be made at all
(refused, unknown host, a TLS handshake that fails) is most likely a wrong api_url or
network, not a blip: retrying it for the whole retry budget would hold a scheduler for
15 minutes. So the run's first FIRST_CONTACT_SECONDS, counted from its first try, bound
every request's retries until something answers; once one part gives up, every other part
(a lane, an account waiting for its turn) fails at once with the same line instead of
trying again. Once the API has answered, a connection failure is a blip, retried within
retry_budget_seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tap_mixmax import errors

FIRST_CONTACT_SECONDS = 60.0


class FirstContact:
    """Whether the API has answered yet in this run, and until when it may take to."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._started: float | None = None
        self._answered = False
        self._failure: str | None = None

    @property
    def answered(self) -> bool:
        return self._answered

    def before_try(self) -> None:
        """Start the clock on the run's first try; fail at once once first contact failed."""
        with self._lock:
            if self._started is None:
                self._started = self._clock()
            failure = None if self._answered else self._failure
        if failure is not None:
            raise errors.UnreachableError(failure)

    def answer_received(self) -> None:
        self._answered = True

    def deadline(self) -> float | None:
        """When retries must stop until the API answers (None: it has answered)."""
        if self._answered:
            return None
        with self._lock:
            started = self._clock() if self._started is None else self._started
        return started + FIRST_CONTACT_SECONDS

    def give_up(self, failure: str) -> errors.UnreachableError:
        """The run's one first-contact failure: the first part's words, for every part."""
        with self._lock:
            if self._failure is None:
                self._failure = failure
            return errors.UnreachableError(self._failure)
