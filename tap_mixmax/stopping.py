"""Stopping on SIGTERM or Ctrl-C: within moments, with the newest STATE last, non-zero.

The signal handler only raises a flag (and shuts the sockets of requests in flight);
raising from a handler could cut a half-written line on stdout. Every thread stops at its
next safe point: before a request, a write or a new stream, and during any wait. Every
wait of the tap (the pace, a Retry-After, a retry's backoff, a lane or account waiting
for the others) goes through `wait`, which wakes at once on a stop. The newest STATE is
then written, as the last line, and the process exits with 128 + the signal's number. A
second signal exits at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator

# How often the main thread wakes to run signal handlers while a sync runs.
SUPERVISE_SECONDS = 0.1

_stop = threading.Event()
# Every waiter sleeps on this; a stop, or anything a waiter waits for, wakes them all.
_wakeup = threading.Condition()
_on_stop: list[Callable[[], None]] = []
_received: list[int] = []  # the signal that asked for the stop
_last_word = threading.local()


class SyncStopped(BaseException):
    """Raised at a safe point once a stop was asked for (not an error of the sync)."""


def signal_number() -> int | None:
    return _received[0] if _received else None


def raise_if_stopping() -> None:
    """A safe point: unwind if a stop was asked for (unless writing the last STATE)."""
    if _stop.is_set() and not getattr(_last_word, "allowed", False):
        raise SyncStopped


def wait(seconds: float | None = None, *, until: Callable[[], bool] | None = None) -> None:
    """The tap's one way to wait: for `seconds` (None: no limit) or until `until()` holds.

    It unwinds (SyncStopped) at once when a stop is asked for. Whoever makes `until()`
    true calls `wake()`.
    """
    end = None if seconds is None else time.monotonic() + seconds
    with _wakeup:
        while not _stop.is_set() and not (until is not None and until()):
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                break
            _wakeup.wait(left)
    raise_if_stopping()


def wake() -> None:
    """Something a waiter may be waiting for happened: its `until()` is checked again."""
    with _wakeup:
        _wakeup.notify_all()


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


on_stop(wake)


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
