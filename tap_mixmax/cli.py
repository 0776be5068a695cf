"""The command line: the SDK's CLI, with each mistake one line and prompt, honest stops.

- A failure the tap understands is one line on stderr, exit code 1, token masked; the
  traceback is logged at DEBUG (TAP_MIXMAX_LOGLEVEL=DEBUG) for a bug report.
- SIGTERM or Ctrl-C stops within moments, with the newest STATE as the last line on
  stdout, and exits 128 + the signal's number, so a scheduler sees the run did not finish.
- A closed stdout (the target died, `| head`) ends with one line, not a BrokenPipe trace.
"""

from __future__ import annotations

import gc
import logging
import os
import sys

from tap_mixmax import errors, stopping
from tap_mixmax.logs import TAP_LOGGER_NAME
from tap_mixmax.redact import redact

PROGRAM = "tap-mixmax"


def _say(message: str) -> None:
    """One line on stderr, whatever the message held (the token, newlines, HTML)."""
    text = " ".join(redact(message).split())
    sys.stderr.write(f"{PROGRAM}: {text}\n")
    sys.stderr.flush()


def _say_stopping() -> None:
    # At once, from the stop's own thread: the user (and a test) sees when the tap heard it.
    name = stopping.signal_name(stopping.signal_number() or 15)
    _say(f"{name} received: stopping; the requests in flight are cut and the newest STATE follows")


def _silence_stdout() -> None:
    # So that the interpreter's own flush at exit does not trip on the closed pipe again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main() -> None:
    """Console entry point: the SDK's CLI, with every known failure as one line."""
    if "--doctor" in sys.argv[1:]:  # a check of its own, outside the SDK's CLI
        from tap_mixmax import doctor  # noqa: PLC0415

        sys.exit(doctor.main(sys.argv[1:]))
    from tap_mixmax.tap import TapMixmax  # noqa: PLC0415

    # What is loaded by now (the SDK, requests, our modules) lives as long as the process;
    # out of the collector's sight, the collections that pages of records set off stay cheap.
    gc.freeze()

    stopping.install_handlers()
    stopping.on_stop(_say_stopping)
    logger = logging.getLogger(TAP_LOGGER_NAME)
    try:
        TapMixmax.cli()
    except stopping.SyncStopped:
        signum = stopping.signal_number() or 15
        try:
            sys.stdout.flush()
        except OSError:
            _silence_stdout()
        _say(
            f"stopped by {stopping.signal_name(signum)}; the last STATE on stdout covers every "
            "record before it: rerun with it to resume"
        )
        os._exit(128 + signum)  # threads still unwinding must not delay the exit
    except errors.OutputClosedError as exc:
        _silence_stdout()
        _say(f"error: {exc}")
        sys.exit(1)
    except errors.MixmaxError as exc:
        logger.debug("failure detail", exc_info=True)
        _say(f"error: {exc}")
        sys.exit(1)
    except Exception as exc:
        logger.debug("failure detail", exc_info=True)
        _say(
            f"error: unexpected {type(exc).__name__}: {exc} (a bug: rerun with "
            "TAP_MIXMAX_LOGLEVEL=DEBUG for the traceback, and please report it)"
        )
        sys.exit(1)
