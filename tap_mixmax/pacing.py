"""Client-side pacing that keeps a sync inside Mixmax's rate limit.

Mixmax allows 120 requests per 60 s per user (docs/mixmax-api.md 1.5). The pacer keeps a
sliding window of our own send times and also obeys the server: `X-RateLimit-*` headers,
and a 429's `Retry-After` (which the client hands over with `block_for`). So a sync far
from the limit never waits, and a long sync never trips 429s. It is the one place the
tap waits for the limit, and it says so when a wait is long.
"""

from __future__ import annotations

import collections
import email.utils
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping

from tap_mixmax import stopping
from tap_mixmax.records import epoch_seconds
from tap_mixmax.report import counted

RATE_LIMIT_WINDOW_SECONDS = 60.0
# Our clock and Mixmax's disagree by a request's latency; wait this much longer.
PACING_MARGIN_SECONDS = 0.25
# docs/mixmax-api.md section 6: a Reset under 10^9 is seconds until the reset; above, it is
# an epoch time (seconds or milliseconds, told apart as every epoch value is).
RESET_DELTA_MAX = 10**9
# A wait at least this long gets a log line saying why.
LOG_WAIT_SECONDS = 3.0


def _finite(number: float) -> float | None:
    return number if math.isfinite(number) else None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: integer seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = _finite(float(value))
        return None if seconds is None else max(0.0, seconds)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def parse_reset(value: str | None, now: float | None = None) -> float | None:
    """Seconds until the rate-limit window resets, from `X-RateLimit-Reset`.

    Never more than the window: a server cannot hold the tap longer than its own limit's
    period by this header.
    """
    if not value:
        return None
    try:
        number = _finite(float(value))
    except ValueError:
        return None
    if number is None:
        return None
    current = time.time() if now is None else now
    seconds = number if number < RESET_DELTA_MAX else epoch_seconds(number) - current
    return min(RATE_LIMIT_WINDOW_SECONDS, max(0.0, seconds))


class RequestPacer:
    """Blocks just long enough before each request to stay under the limit.

    Thread-safe, and shared by every stream and lane of an account (the limit is per token).
    """

    def __init__(
        self,
        max_requests_per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = stopping.wait,
        logger: logging.Logger | None = None,
        reserve: int = 0,
    ) -> None:
        self.max_requests = max(1, max_requests_per_minute)
        # Hold back once X-RateLimit-Remaining is down to this: a sync uses its whole
        # budget; the doctor leaves some to a sync of the same token alongside.
        self.reserve = max(0, reserve)
        self._clock = clock
        self._sleep = sleep
        self._logger = logger or logging.getLogger("tap-mixmax")
        self._sent: collections.deque[float] = collections.deque()
        self._blocked_until = 0.0
        self._blocked_why = ""
        self._lock = threading.Lock()
        self.total_wait = 0.0

    def wait_for_slot(self) -> float:
        """Sleep until a request may be sent; return the seconds slept."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                window_start = now - RATE_LIMIT_WINDOW_SECONDS - PACING_MARGIN_SECONDS
                while self._sent and self._sent[0] <= window_start:
                    self._sent.popleft()
                delay, why = self._blocked_until - now, self._blocked_why
                if len(self._sent) >= self.max_requests:
                    window_delay = self._sent[0] - window_start
                    if window_delay > delay:
                        delay = window_delay
                        why = (
                            f"{counted(len(self._sent), 'request')} in the last "
                            f"{RATE_LIMIT_WINDOW_SECONDS:.0f} s (max_requests_per_minute "
                            f"{self.max_requests})"
                        )
                if delay <= 0:
                    self._sent.append(now)
                    self.total_wait += waited
                    return waited
            if waited == 0 and delay >= LOG_WAIT_SECONDS:
                self._logger.info("Waiting %.0f s for the rate limit: %s", delay, why)
            self._sleep(delay)
            waited += delay

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from the server's view of our budget."""
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        try:
            exhausted = float(remaining) <= self.reserve
        except ValueError:
            return
        if not exhausted:
            return
        reset = parse_reset(headers.get("X-RateLimit-Reset"))
        if reset is not None:
            left = "none are" if self.reserve == 0 else f"{self.reserve} or fewer are"
            why = f"Mixmax says {left} left until its reset"
            self.block_for(reset + PACING_MARGIN_SECONDS, why)

    def block_for(self, seconds: float, why: str) -> None:
        """Hold every request back for `seconds` (after a 429's Retry-After, say)."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._blocked_until:
                self._blocked_until, self._blocked_why = until, why
