"""Client-side pacing that keeps a sync inside Mixmax's rate limit.

Mixmax allows 120 requests per 60 s per user (docs/mixmax-api.md 1.5). The pacer keeps a
sliding window of our own send times and also obeys the server's `X-RateLimit-*`
headers, so a sync far from the limit never waits and a long sync never trips 429s.
"""

from __future__ import annotations

import collections
import email.utils
import threading
import time
from collections.abc import Callable, Mapping

RATE_LIMIT_WINDOW_SECONDS = 60.0
# Our clock and Mixmax's disagree by a request's latency; wait this much longer.
PACING_MARGIN_SECONDS = 0.25
# docs/mixmax-api.md section 6: a Reset under 10^9 is seconds until reset, above is epoch
# seconds, above 10^12 epoch milliseconds.
RESET_DELTA_MAX = 10**9
RESET_EPOCH_MS_MIN = 10**12


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: integer seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def parse_reset(value: str | None, now: float | None = None) -> float | None:
    """Seconds until the rate-limit window resets, from `X-RateLimit-Reset`."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    current = time.time() if now is None else now
    if number < RESET_DELTA_MAX:
        return max(0.0, number)
    if number >= RESET_EPOCH_MS_MIN:
        number /= 1000.0
    return max(0.0, number - current)


class RequestPacer:
    """Blocks just long enough before each request to stay under the limit.

    Thread-safe, and shared by every stream of a tap (the limit is per token).
    """

    def __init__(
        self,
        max_requests_per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_requests = max(1, max_requests_per_minute)
        self._clock = clock
        self._sleep = sleep
        self._sent: collections.deque[float] = collections.deque()
        self._blocked_until = 0.0
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
                delay = self._blocked_until - now
                if len(self._sent) >= self.max_requests:
                    delay = max(delay, self._sent[0] - window_start)
                if delay <= 0:
                    self._sent.append(now)
                    self.total_wait += waited
                    return waited
            self._sleep(delay)
            waited += delay

    def observe(self, headers: Mapping[str, str]) -> None:
        """Learn from the server's view of our budget."""
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        try:
            exhausted = int(float(remaining)) <= 0
        except ValueError:
            return
        if not exhausted:
            return
        reset = parse_reset(headers.get("X-RateLimit-Reset"))
        if reset is not None:
            self.block_for(reset + PACING_MARGIN_SECONDS)

    def block_for(self, seconds: float) -> None:
        """Hold every request back for `seconds` (after a 429's Retry-After, say)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)
