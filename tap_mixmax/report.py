"""What a person reads on stderr: a progress line now and then, and a summary at the end.

One `SyncReport` serves the whole run, every lane and account included. Each stream
object counts into a `StreamFigures` of its own (only its own thread writes it, so no
lock); the report adds them up by stream name when it speaks.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
import typing as t
from collections.abc import Callable, Iterable

from tap_mixmax.records import EXTRA_FIELD

PROGRESS_INTERVAL_SECONDS = 30.0
RATE_WINDOW_SECONDS = 60.0


@dataclasses.dataclass
class StreamFigures:
    rows: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0  # answers 429
    seconds: float = 0.0  # wall time inside the stream's syncs
    started: bool = False

    def add(self, other: StreamFigures) -> None:
        self.rows += other.rows
        self.requests += other.requests
        self.retries += other.retries
        self.rate_limited += other.rate_limited
        self.seconds += other.seconds


class StreamNotes:
    """What one stream object says besides its figures, each thing once per object."""

    def __init__(
        self,
        stream: str,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
        figures: StreamFigures,
    ) -> None:
        self.stream = stream
        self.logger = logger
        self.figures = figures
        self._unknown_reported: set[str] = set()

    def starting(self, how: str) -> None:
        """The start line: once, however many parents a child stream syncs for."""
        if not self.figures.started:
            self.figures.started = True
            self.logger.info("Stream %s: %s", self.stream, how)

    def kept_unknown(self, unknown: t.AbstractSet[str]) -> None:
        new_unknown = unknown - self._unknown_reported
        if new_unknown:  # once per field and stream, however many parents a child has
            self.logger.warning(
                "Stream %s: kept unknown fields %s in %s",
                self.stream,
                sorted(new_unknown),
                EXTRA_FIELD,
            )
            self._unknown_reported |= new_unknown

    def undated(self, rows: int, key: str | None) -> None:
        if rows:
            self.logger.warning(
                "Stream %s: %s had no readable %s: emitted, without moving the bookmark",
                self.stream,
                counted(rows, "row"),
                key,
            )


class SyncReport:
    """Figures of the run; logs progress every PROGRESS_INTERVAL_SECONDS and a summary."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = PROGRESS_INTERVAL_SECONDS if interval is None else interval
        self._clock = clock
        self._lock = threading.Lock()
        self._figures: list[tuple[str, StreamFigures]] = []
        self._request_times: collections.deque[float] = collections.deque()
        self._pacers: list[_Pacer] = []
        self.started_at = clock()
        self._last_progress = self.started_at

    def figures_for(self, stream: str) -> StreamFigures:
        """A new figures object for one stream object (one per stream, lane and account)."""
        figures = StreamFigures()
        with self._lock:
            self._figures.append((stream, figures))
        return figures

    def watch_pacer(self, pacer: _Pacer) -> None:
        with self._lock:
            if all(known is not pacer for known in self._pacers):
                self._pacers.append(pacer)

    def request_sent(self) -> None:
        """Called for every request; logs a progress line when one is due."""
        now = self._clock()
        with self._lock:
            self._request_times.append(now)
            due = now - self._last_progress >= self.interval
            if due:
                self._last_progress = now
        if due:
            self.logger.info("%s", self.progress_line(now))

    def by_stream(self) -> dict[str, StreamFigures]:
        totals: dict[str, StreamFigures] = {}
        with self._lock:
            entries = list(self._figures)
        for name, figures in entries:
            if figures.started or figures.requests:
                totals.setdefault(name, StreamFigures()).add(figures)
        return totals

    def progress_line(self, now: float | None = None) -> str:
        now = self._clock() if now is None else now
        totals = StreamFigures()
        for figures in self.by_stream().values():
            totals.add(figures)
        with self._lock:
            while self._request_times and self._request_times[0] < now - RATE_WINDOW_SECONDS:
                self._request_times.popleft()
            last_minute = len(self._request_times)
            pacers = list(self._pacers)
        limit = sum(pacer.max_requests for pacer in pacers) or 1
        waited = sum(pacer.total_wait for pacer in pacers)
        return (
            f"Progress: {counted(totals.rows, 'row')}, {counted(totals.requests, 'request')} in "
            f"{_duration(now - self.started_at)}; {counted(last_minute, 'request')} in the last "
            "minute "
            f"({100 * last_minute / limit:.0f}% of the rate limit), "
            f"{_duration(waited)} spent waiting for it"
        )

    def log_summary(self, outcome: str) -> None:
        """One line per stream, then the outcome."""
        rows = sorted(self.by_stream().items())
        for line in summary_lines(rows) if rows else []:
            self.logger.info("%s", line)  # one record a line: Meltano prefixes each
        self.logger.info("%s", outcome)


class _Pacer(t.Protocol):
    """What the report reads from a pacer (tap_mixmax.pacing.RequestPacer)."""

    max_requests: int
    total_wait: float


def summary_lines(rows: Iterable[tuple[str, StreamFigures]]) -> list[str]:
    header = ("stream", "rows", "requests", "retries", "429s", "time")
    lines = [
        (
            name,
            f"{f.rows:,}",
            f"{f.requests:,}",
            f"{f.retries:,}",
            f"{f.rate_limited:,}",
            _duration(f.seconds),
        )
        for name, f in rows
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = "  ".join(
            cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True)
        )
        return f"  {first}  {rest}"

    return ["Summary:", line(header), *(line(cells) for cells in lines)]


def counted(count: int, noun: str) -> str:
    """'1 stream', '2 streams', '1,200 rows': a count with its noun, in the right number."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s"
