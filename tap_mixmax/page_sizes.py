"""What a token's offset endpoints were seen to serve per page, this sync.

Kept apart from the paging (tap_mixmax/offsets.py) because the token's API object holds
it (tap_mixmax/api.py) and the paging itself reads pages through that object.
"""

from __future__ import annotations

import logging
import threading


def capped_limit(page_size: int, cap: int, offset: int) -> int:
    """The largest limit Mixmax accepts at this offset (offset + limit <= cap)."""
    return max(1, min(page_size, cap - offset))


class OffsetLimits:
    """What one account's offset endpoints have shown of their page size, this sync.

    Shared by the account's lanes (threads), hence the lock. Per stream: the largest page
    served (what a short page must be shorter than to prove the end) and the clamp learnt.
    """

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("tap-mixmax")
        self._lock = threading.Lock()
        self._served: dict[str, int] = {}
        self._clamps: dict[str, int] = {}

    def limit(self, stream: str, asked: int) -> int:
        """What to ask for: `asked`, or less once a clamp below it is known."""
        with self._lock:
            clamp = self._clamps.get(stream)
        return asked if clamp is None else min(asked, clamp)

    def clamp(self, stream: str) -> int | None:
        with self._lock:
            return self._clamps.get(stream)

    def served(self, stream: str) -> int:
        with self._lock:
            return self._served.get(stream, 0)

    def proves_end(self, stream: str, rows: int) -> bool:
        """Whether a short page of `rows` is the last: the server once served more."""
        return rows == 0 or rows < self.served(stream)

    def observe(self, stream: str, rows: int) -> None:
        with self._lock:
            self._served[stream] = max(self._served.get(stream, 0), rows)

    def learn_clamp(self, stream: str, size: int, asked: int) -> None:
        """The server served `size` of `asked` while more rows followed: it clamps."""
        with self._lock:
            known = self._clamps.get(stream)
            if known is not None and known <= size:
                return
            self._clamps[stream] = size
        self._logger.warning(
            "Stream %s: Mixmax served %d rows for limit=%d and more rows followed, so it "
            "serves at most %d per page; the rest of this sync asks for %d at a time",
            stream,
            size,
            asked,
            size,
            size,
        )
