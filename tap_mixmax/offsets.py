"""Offset paging of bare arrays (sequence recipients): a list ends only on proof.

The recipients endpoint takes `offset` and `limit` and answers a bare array, with nothing
that says whether more rows follow. Nobody has shown that it honours limit=300; real users'
code sends 50 or 200 (docs/mixmax-api.md 2.2). If Mixmax silently served fewer rows than
asked, a page shorter than the limit would look like the last one, and every row after it
would be lost without a word. So a list ends only on proof:

- an empty page; or
- a page with fewer rows than a page this endpoint has already served in this sync. The
  server serves min(its own limit, the rows left), so fewer rows than it once gave means
  none are left. Once it has served the full requested size, every short page proves it.

A short page that proves nothing costs one more request. If that request finds rows, the
server clamps silently: the clamp is learnt and logged once, and every later request of
the sync (every sequence, every lane of the account) asks for that size instead.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_mixmax.api import page_body
from tap_mixmax.client import ChildStream
from tap_mixmax.page_sizes import OffsetLimits, capped_limit

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context


class Window(t.NamedTuple):
    """One offset request: where it starts and how many rows it asks for."""

    offset: int
    limit: int


class ProvenOffsetPaginator(BaseAPIPaginator[Window]):
    """Offset paging that stops on an empty page, a proven short page, or the cap."""

    def __init__(
        self,
        stream: str,
        page_size: int,
        cap: int,
        limits: OffsetLimits,
        on_cap: Callable[[], None],
    ) -> None:
        self.stream = stream
        self.page_size = page_size
        self.cap = cap
        self.limits = limits
        self._on_cap = on_cap
        # (rows, limit asked) of a short page being followed to prove it was the last.
        self._unproven: tuple[int, int] | None = None
        super().__init__(self.window_at(0))

    def window_at(self, offset: int) -> Window:
        asked = self.limits.limit(self.stream, self.page_size)
        return Window(offset, capped_limit(asked, self.cap, offset))

    @override
    def has_more(self, response: requests.Response) -> bool:
        rows = len(page_body(response))
        window = self.current_value
        if self._unproven is not None and rows:
            served, asked = self._unproven
            self.limits.learn_clamp(self.stream, served, asked)
        self._unproven = None
        full = rows >= self.limits.limit(self.stream, window.limit)
        proven = not full and self.limits.proves_end(self.stream, rows)
        self.limits.observe(self.stream, rows)
        if window.offset + rows >= self.cap:
            self._on_cap()
            return False
        if proven:
            return False
        if not full:
            self._unproven = (rows, window.limit)
        return True

    @override
    def get_next(self, response: requests.Response) -> Window:
        # The rows actually served, not the limit asked: a clamped page is not skipped past.
        return self.window_at(self.current_value.offset + len(page_body(response)))


class OffsetChildStream(ChildStream):
    """A child list that returns a bare array and pages by `offset` up to a hard cap."""

    records_key = None
    offset_cap = 10_000  # docs/mixmax-api.md 2.2: recipients stop at 10,000 records

    @property
    def offset_limits(self) -> OffsetLimits:
        """What the token's endpoints were seen to serve: its API object keeps it."""
        return self.api.offset_limits

    @override
    def get_new_paginator(self) -> ProvenOffsetPaginator:
        return ProvenOffsetPaginator(
            self.name,
            self.page_size,
            self.offset_cap,
            self.offset_limits,
            self._warn_cap,
        )

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        window = t.cast(Window, next_page_token)
        return {**self.fixed_params(self.config), "offset": window.offset, "limit": window.limit}

    def _warn_cap(self) -> None:
        self.logger.warning(
            "Stream %s: %s reached Mixmax's cap of %d rows; rows past it cannot be read",
            self.name,
            self.context,
            self.offset_cap,
        )
