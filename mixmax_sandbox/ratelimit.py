"""Per-token sliding-window rate limit (docs/mixmax-api.md 1.5: 120 requests per 60 s).

`X-RateLimit-Reset` is undocumented, so its style is one setting (`RESET_STYLES`):
"delta" = whole seconds until a slot frees (ceil), "epoch" = epoch seconds of that moment,
"epoch_ms" = the same in milliseconds, "http_date" = that moment as an HTTP date (a form the
reference does not expect, for testing `tap-mixmax --doctor`); "none" sends no
`X-RateLimit-*` header at all (only secondary sources report them), so a client must pace
itself and obey `Retry-After`. Rejected (429) requests do not use up quota.
"""

from __future__ import annotations

import collections
import email.utils
import math
import threading
import time
from dataclasses import dataclass

DEFAULT_RATE_LIMIT = 120
DEFAULT_RATE_WINDOW = 60.0
RESET_STYLES = ("delta", "epoch", "epoch_ms", "http_date", "none")
NO_RATE_HEADERS = "none"
DEFAULT_RESET_STYLE = "delta"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: int


class RateLimiter:
    def __init__(
        self,
        limit: int | None = DEFAULT_RATE_LIMIT,
        window: float = DEFAULT_RATE_WINDOW,
        reset_style: str = DEFAULT_RESET_STYLE,
    ) -> None:
        if reset_style not in RESET_STYLES:
            raise ValueError(f"reset_style must be one of {RESET_STYLES}")
        self.limit = limit or 0
        self.window = window
        self.reset_style = reset_style
        self._hits: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def _headers(self, hits: collections.deque[float], now: float) -> tuple[dict[str, str], int]:
        until = (hits[0] + self.window - now) if hits else 0.0
        delta = max(0, math.ceil(until))
        if self.reset_style == NO_RATE_HEADERS:
            return {}, max(1, delta)
        if self.reset_style == "delta":
            reset = str(delta)
        elif self.reset_style == "epoch":
            reset = str(math.ceil(time.time() + until))
        elif self.reset_style == "epoch_ms":
            reset = str(math.ceil((time.time() + until) * 1000))
        else:
            reset = email.utils.formatdate(math.ceil(time.time() + until), usegmt=True)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - len(hits))),
            "X-RateLimit-Reset": reset,
        }
        return headers, max(1, delta)

    def _prune(self, token: str, now: float) -> collections.deque[float]:
        hits = self._hits.setdefault(token, collections.deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def check(self, token: str) -> Verdict:
        """Count one request for `token`, or refuse it when the window is full."""
        if not self.enabled:
            return Verdict(True, {}, 0)
        with self._lock:
            now = time.monotonic()
            hits = self._prune(token, now)
            if len(hits) >= self.limit:
                headers, retry = self._headers(hits, now)
                return Verdict(False, headers, retry)
            hits.append(now)
            headers, retry = self._headers(hits, now)
            return Verdict(True, headers, retry)

    def peek(self, token: str) -> Verdict:
        """The headers as they stand, without counting a request (for the 429 fault)."""
        if not self.enabled:
            return Verdict(False, {}, 1)
        with self._lock:
            now = time.monotonic()
            headers, retry = self._headers(self._prune(token, now), now)
            return Verdict(False, headers, retry)
