"""Stream lanes: one account's streams synced a few at a time, inside its one rate limit.

Cursor paging is sequential within a list, so a slow API (a request slower than the
pace of 0.5 s) would leave the budget idle. Lanes keep it busy: each selected top-level
stream, with its children, is a "family" synced by a tap of its own in a thread; the
taps share the account's pacer, so together they never exceed the limit. They write
through one SharedOutput, whose merged state takes each stream's bookmark from the lane
that owns it.
"""

from __future__ import annotations

import copy
import logging
import typing as t
from collections.abc import Callable, Iterable, Mapping

from tap_mixmax.parallel import PartWriter, SharedOutput, State, SyncsAll, run_parts
from tap_mixmax.stopping import SyncStopped

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

# The stream that proves the token: synced alone first, so a bad token costs one request.
CONNECTION_STREAM = "users"


def stream_families(streams: Iterable[Stream]) -> dict[str, frozenset[str]]:
    """Each selected top-level stream with its descendants, in sync order."""

    def family(stream: Stream) -> set[str]:
        names = {stream.name}
        for child in stream.child_streams:
            names |= family(child)
        return names

    return {
        stream.name: frozenset(family(stream))
        for stream in streams
        if not stream.parent_stream_type and (stream.selected or stream.has_selected_descendents)
    }


def lanes_state(
    base: State, families: Mapping[str, frozenset[str]]
) -> Callable[[Mapping[str, State]], State]:
    """Merge: the input state, with each stream's bookmark from the lane that owns it."""
    base = copy.deepcopy(base)

    def merge(states: Mapping[str, State]) -> State:
        bookmarks = dict(base.get("bookmarks") or {})
        for lane, state in states.items():
            lane_bookmarks = state.get("bookmarks") or {}
            for stream in families.get(lane, ()):
                if stream in lane_bookmarks:
                    bookmarks[stream] = lane_bookmarks[stream]
        return {**base, "bookmarks": bookmarks}

    return merge


# Builds the tap of one lane from its family, its state and its writer.
LaneTapFactory = Callable[[frozenset[str], State, PartWriter], SyncsAll]


class LanesSync:
    """Syncs the families at most `parallel` at a time; fails at the end on any failure."""

    def __init__(
        self,
        families: Mapping[str, frozenset[str]],
        output: SharedOutput,
        state: State,
        new_tap: LaneTapFactory,
        *,
        parallel: int,
        logger: logging.Logger,
    ) -> None:
        self.families = families
        self.output = output
        self.state = state
        self.new_tap = new_tap
        self.parallel = max(1, parallel)
        self.logger = logger

    def run(self) -> None:
        lanes = list(self.families)
        first = [lane for lane in lanes if lane == CONNECTION_STREAM]
        rest = [lane for lane in lanes if lane != CONNECTION_STREAM]
        try:
            for lane in first:  # the token is proven before the lanes fan out
                self._sync(lane)
            failures = self._sync_concurrently(rest)
        except SyncStopped:
            self.output.stop()  # stopped in the first lane: run_parts did not see it
            raise
        finally:
            self.output.close()
        if failures:
            for lane, failure in failures[1:]:
                self.logger.error("Stream %s failed as well: %s", lane, failure)
            raise failures[0][1]

    def _sync_concurrently(self, lanes: list[str]) -> list[tuple[str, BaseException]]:
        self.logger.debug("Syncing %d stream families, %d at a time", len(lanes), self.parallel)
        futures = run_parts(
            self.output,
            self._sync,
            lanes,
            parallel=min(self.parallel, max(1, len(lanes))),
            name="lane",
        )
        # A failed lane did not stop the others: they finished and kept their state.
        return [
            (lane, failure)
            for lane, future in zip(lanes, futures, strict=True)
            if (failure := future.exception()) is not None
        ]

    def _sync(self, lane: str) -> None:
        state = copy.deepcopy(self.state)
        self.new_tap(self.families[lane], state, self.output.writer_for(lane)).sync_all()
