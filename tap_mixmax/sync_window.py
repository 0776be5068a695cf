"""Which rows one sync of a stream emits, and when a newest-first list may stop.

Mixmax lists newest first and filters nothing by date, so an incremental stream filters
on our side: it emits rows at or after its cutoff (the bookmark minus the lookback, never
before `start_date`) and stops paging once a whole page is older than the cutoff.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from tap_mixmax.checks import bookmark_datetime
from tap_mixmax.records import format_utc, to_datetime

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Mapping

    from singer_sdk.helpers.types import Record

# A bookmark this far past our clock is a mistake, not clock skew.
FUTURE_BOOKMARK_TOLERANCE = dt.timedelta(hours=1)


@dataclasses.dataclass
class SyncWindow:
    """One sync of a stream (a child stream has one per parent row); full table by default."""

    key: str | None = None  # the replication key, read once: the SDK's is a property
    bookmark: str | None = None  # the state's, normalised
    cutoff: str | None = None  # the oldest replication value to emit; None: every row
    lookback_setting: str | None = None
    lookback_days: float = 0.0  # re-read before the bookmark (0 without one)
    # Counted per page by `admits`, for `page_was_before_cutoff`.
    page_rows: int = 0
    rows_in_window: int = 0
    rows_without_key: int = 0  # emitted, since their age cannot be told

    def new_page(self, rows: int) -> None:
        self.page_rows, self.rows_in_window = rows, 0

    def admits(self, record: Record) -> bool:
        """Whether the record is at or after the cutoff (a record without a date is)."""
        if self.key is None:
            return True
        value = record.get(self.key)
        if value is None:
            self.rows_without_key += 1  # kept: we cannot tell its age
        elif self.cutoff is not None and value < self.cutoff:
            return False  # both RFC 3339 UTC, fixed width: they compare as text
        self.rows_in_window += 1
        return True

    def page_was_before_cutoff(self) -> bool:
        """Newest first: once a whole page is older than the cutoff, the rest is too."""
        return self.cutoff is not None and self.page_rows > 0 and self.rows_in_window == 0

    def moves_bookmark(self, record: Record) -> bool:
        # Full table: no bookmark to move. And a row without a readable replication value
        # must not move (or break) the bookmark.
        return self.key is not None and record.get(self.key) is not None

    def describe(self, parent: str | None) -> str:
        """How this sync reads its stream, for the stream's start line."""
        if not self.key:
            return f"full table, per {parent} row" if parent else "full table"
        if not self.cutoff:
            return f"incremental on {self.key}, every row (no bookmark, no start_date)"
        origin = "start_date; no bookmark yet"
        if self.bookmark:
            origin = f"bookmark {self.bookmark}"
            if self.lookback_days:
                origin += f" minus {self.lookback_setting} {self.lookback_days:g}"
        return f"incremental on {self.key}, from {self.cutoff} ({origin})"


def open_window(
    stream: str,
    key: str | None,
    state: dict[str, t.Any],
    *,
    config: Mapping[str, t.Any],
    lookback_setting: str | None,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> SyncWindow:
    """The window of a sync that starts from this stream state."""
    if not key:
        return SyncWindow()
    bookmark = read_bookmark(stream, state, logger)
    days = float(config.get(lookback_setting, 0)) if lookback_setting and bookmark else 0.0
    cutoff = starting_cutoff(bookmark, config.get("start_date"), days)
    return SyncWindow(key, bookmark, cutoff, lookback_setting, days)


def read_bookmark(
    stream: str,
    state: dict[str, t.Any],
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> str | None:
    """The state's bookmark, normalised; one in the future is pulled back to now."""
    raw = state.get("replication_key_value")
    if raw is None:
        return None
    bookmark = bookmark_datetime(stream, raw)
    now = dt.datetime.now(dt.timezone.utc)
    if bookmark > now + FUTURE_BOOKMARK_TOLERANCE:
        logger.warning(
            "Stream %s: the bookmark %s is in the future; syncing from now instead, "
            "and the bookmark is reset to now",
            stream,
            format_utc(bookmark),
        )
        bookmark = now
        state["replication_key_value"] = format_utc(now)
    return format_utc(bookmark)


def starting_cutoff(
    bookmark: str | None, start_date: str | None, lookback_days: float
) -> str | None:
    """Oldest replication value a sync must emit: bookmark - lookback, or start_date."""
    floor = to_datetime(start_date) if start_date else None
    cutoff = floor
    if bookmark:
        cutoff = to_datetime(bookmark) - dt.timedelta(days=lookback_days)
        if floor and floor > cutoff:
            cutoff = floor
    return None if cutoff is None else format_utc(cutoff)
