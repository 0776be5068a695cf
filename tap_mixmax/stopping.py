"""Stopping on SIGTERM or Ctrl-C: within moments, with the newest STATE last, non-zero.

The signal handler only raises a flag (and shuts the sockets of requests in flight);
raising from a handler could cut a half-written line on stdout. Every thread stops at its
next safe point: before a request, a write or a new stream, and during any wait (the
pacer's, a retry's), all of which watch the flag. The main thread then writes the newest
STATE, as the last line, and the process exits with 128 + the signal's number. A second
signal exits at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

# How often the main thread wakes to run signal handlers while a sync runs.
SUPERVISE_SECONDS = 0.1

_stop = threading.Event()
_on_stop: list[Callable[[], None]] = []
_received: list[int] = []  # the signal that asked for the stop
_last_word = threading.local()


class SyncStopped(BaseException):
    """Raised at a safe point once a stop was asked for (not an error of the sync)."""


def stopping() -> bool:
    return _stop.is_set()


def signal_number() -> int | None:
    return _received[0] if _received else None


def raise_if_stopping() -> None:
    """A safe point: unwind if a stop was asked for (unless writing the last STATE)."""
    if _stop.is_set() and not getattr(_last_word, "allowed", False):
        raise SyncStopped


def wait(seconds: float) -> None:
    """Sleep, but wake and unwind at once when a stop is asked for."""
    if seconds > 0:
        _stop.wait(seconds)
    raise_if_stopping()


@contextlib.contextmanager
def last_word() -> Iterator[None]:
    """Lets this thread write the final STATE after the stop."""
    _last_word.allowed = True
    try:
        yield
    finally:
        _last_word.allowed = False


def on_stop(callback: Callable[[], None]) -> None:
    """Call this (in a thread of its own) when a stop is asked for."""
    _on_stop.append(callback)


def request_stop(signum: int) -> None:
    if _stop.is_set():
        return
    _received[:] = [signum]
    _stop.set()
    for callback in _on_stop:
        # Not in the handler itself: the main thread may hold a lock a callback needs.
        threading.Thread(target=callback, name="stop", daemon=True).start()


def _handle(signum: int, _frame: object) -> None:
    if _stop.is_set():
        sys.stderr.flush()
        os._exit(128 + signum)  # the second signal: no more waiting
    request_stop(signum)


def install_handlers() -> None:
    """SIGTERM and SIGINT stop the sync (main thread only, as Python requires)."""
    for name in ("SIGTERM", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _handle)


def run_supervised(work: Callable[[], None]) -> None:
    """Run `work` in a thread while this (main) thread only watches for signals.

    The kernel delivers a signal to any thread, but Python runs handlers only in the
    main thread, and only between bytecodes: a main thread blocked in a socket read or a
    lock would hear of SIGTERM only when that returns. Waking every SUPERVISE_SECONDS,
    it hears within that.
    """
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the main thread, whatever it is
            outcome.append(exc)
        else:
            outcome.append(None)

    # A daemon: should the main thread itself be interrupted (a test's timeout, say), a
    # sync that cannot stop must not hold the process open.
    worker = threading.Thread(target=run, name="sync", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(SUPERVISE_SECONDS)
    if outcome and outcome[0] is not None:
        raise outcome[0]


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
