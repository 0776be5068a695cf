"""One Singer output shared by several taps syncing in threads (accounts, stream lanes).

Each part of a parallel sync is a complete tap with its own streams and state, so the
single-tap path stays the only sync logic. They all write through one `SharedOutput`:
each SCHEMA goes out once, RECORDs pass through, and every part's STATE becomes one state
for the whole sync through a merge function. A part's STATE is only taken after its own
records are written (one lock, one order), so a merged STATE never runs ahead of them.
"""

from __future__ import annotations

import concurrent.futures
import copy
import dataclasses
import threading
import time
import typing as t
from collections.abc import Callable, Mapping, Sequence

from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.encoding.simple import Message, SchemaMessage, StateMessage
from typing_extensions import override

from tap_mixmax.first_contact import FirstContact
from tap_mixmax.stopping import SyncStopped, last_word, raise_if_stopping, wait, wake

if t.TYPE_CHECKING:
    from tap_mixmax.api import MixmaxAPI
    from tap_mixmax.report import SyncReport

State = dict[str, t.Any]
# Turns the latest state of every part into the state of the whole sync.
StateMerge = Callable[[Mapping[str, State]], State]
# Writing a merged STATE costs in proportion to the parts in it, so it is written at most
# once per this many seconds per part (a few ms for a few accounts, a second for 200),
# and always at the end. Skipping one only means a resumed sync re-reads a little more.
STATE_INTERVAL_PER_PART_SECONDS = 0.005
STATE_MAX_INTERVAL_SECONDS = 1.0
# On a stop, how long a part that has not unwound yet (blocked in a DNS lookup, say) may
# delay the last STATE; nested parts (an account's lanes) take it twice, inside 2 s.
STOP_GRACE_SECONDS = 0.5


@dataclasses.dataclass(frozen=True)
class Part:
    """What one tap of a parallel sync covers; the default is a whole, ordinary sync."""

    account: str | None = None  # with `accounts`: whose records these are
    streams: frozenset[str] | None = None  # a lane: only these streams
    report: SyncReport | None = None  # every part counts into the run's one report
    first_contact: FirstContact | None = None  # the run's one (tap_mixmax/first_contact.py)
    api: MixmaxAPI | None = None  # a lane shares its account's (tap_mixmax/api.py)


class SharedOutput:
    """The one stdout of a parallel sync, shared by every part's thread."""

    def __init__(
        self,
        writer: GenericSingerWriter[t.Any, Message],
        states: Mapping[str, State],
        merge: StateMerge,
    ) -> None:
        self._writer = writer
        self._merge = merge
        self._lock = threading.Lock()
        self._states: dict[str, State] = copy.deepcopy(dict(states))
        self._schemas: dict[str, SchemaMessage] = {}
        self._state_written_at = float("-inf")
        self._state_pending = False
        self._stopped = False

    def writer_for(self, part: str) -> PartWriter:
        return PartWriter(self, part)

    def state_of(self, part: str) -> State:
        """The part's state as of the last STATE it wrote (or as given at the start)."""
        with self._lock:
            return copy.deepcopy(self._states.get(part) or {"bookmarks": {}})

    def serialize(self, message: Message) -> t.Any:
        return self._writer.serialize_message(message)

    def write(self, part: str, message: Message) -> None:
        raise_if_stopping()
        with self._lock:
            if self._stopped:
                raise SyncStopped
            if isinstance(message, StateMessage):
                # A copy: the part's thread goes on changing its live state.
                self._states[part] = copy.deepcopy(dict(message.value))
                self._state_pending = True
                if time.monotonic() - self._state_written_at >= self._state_interval():
                    self._write_state()
                return
            if isinstance(message, SchemaMessage):
                if self._schemas.get(message.stream) == message:
                    return  # every part sends the same SCHEMA; once is enough
                self._schemas[message.stream] = message
            self._writer.write_message(message)

    def close(self) -> None:
        """Write the final STATE, covering every record written."""
        with self._lock:
            if self._state_pending and not self._stopped:
                self._write_state()

    def stop(self) -> None:
        """On a stop: the latest state goes out last, and every later write raises.

        Each part has unwound at a safe point by now (or is given up on). Nested outputs
        (an account's lanes) cannot write through their stopped parent; the outermost one
        writes for all. With no part's STATE yet, it is the input state: resuming from it
        loses nothing either.
        """
        with self._lock:
            if not self._stopped:
                try:
                    with last_word():
                        self._write_state()
                except SyncStopped:
                    pass
            self._stopped = True

    def _state_interval(self) -> float:
        parts = len(self._states)
        return min(STATE_MAX_INTERVAL_SECONDS, STATE_INTERVAL_PER_PART_SECONDS * parts)

    def _write_state(self) -> None:
        self._writer.write_message(StateMessage(value=self._merge(self._states)))
        self._state_written_at = time.monotonic()
        self._state_pending = False


class PartWriter(GenericSingerWriter[t.Any, Message]):
    """The message writer of one part's tap: everything goes to the shared output."""

    def __init__(self, output: SharedOutput, part: str) -> None:
        self._output = output
        self._part = part

    @override
    def serialize_message(self, message: Message) -> t.Any:
        return self._output.serialize(message)

    @override
    def write_message(self, message: Message) -> None:
        self._output.write(self._part, message)


class SyncsAll(t.Protocol):
    def sync_all(self) -> None: ...


Item = t.TypeVar("Item")
Result = t.TypeVar("Result")


def run_parts(
    output: SharedOutput,
    work: Callable[[Item], Result],
    items: Sequence[Item],
    *,
    parallel: int,
    name: str,
) -> list[concurrent.futures.Future[Result]]:
    """`work(item)` for every item, `parallel` at a time; the futures, all done.

    On SIGTERM or Ctrl-C this wait ends at once, every part unwinds at its next safe point
    (tap_mixmax/stopping.py), the output writes the newest state, last, and SyncStopped
    goes on up.
    """
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=name)
    futures = [pool.submit(work, item) for item in items]
    for future in futures:
        future.add_done_callback(lambda _: wake())
    try:
        wait(until=lambda: all(future.done() for future in futures))
    except BaseException:
        # Parts not started never start; running ones unwind at their next safe point,
        # and get a moment to hand over their newest state, but no more than that.
        pool.shutdown(wait=False, cancel_futures=True)
        running = [future for future in futures if not future.cancelled()]
        concurrent.futures.wait(running, timeout=STOP_GRACE_SECONDS)
        output.stop()
        raise
    pool.shutdown(wait=True)
    return futures
