"""Logs that tell the story: the SDK's per-stream chatter and METRIC lines stay out of it.

At the default level a person sees what the tap does and why: one line as each stream
starts (mode, and where it resumes from), progress every 30 s, every wait for the rate
limit longer than a few seconds, retries, and a summary per stream at the end
(tap_mixmax/report.py). The SDK's lines that repeat for every parent row or every lane
("Beginning sync of ...", "Skipping parse of env var settings...") move to DEBUG, and its
METRIC lines come back with `log_metrics: true` (or at DEBUG).
"""

from __future__ import annotations

import logging
import typing as t

from singer_sdk.metrics import METRICS_LOGGER_NAME
from typing_extensions import override

TAP_LOGGER_NAME = "tap-mixmax"
# The SDK's messages (as templates) that repeat per lane, account or parent row.
SDK_CHATTER = (
    "Skipping parse of env var settings...",
    "Added '%s' as child stream to '%s'",
    "Skipping deselected stream '%s'.",
    "Beginning sync of '%s' in %s mode",
    "Beginning sync of '%s' in %s mode with context keys: %s",
    "Starting incremental sync of '%s' with bookmark value: %s",
    "Pagination stopped after %d pages because no records were found in the last response",
    "Tap has custom mapper. Using %d provided map(s).",
    # Also said for `--test`'s deliberate stop after one row; a real failure gets the
    # tap's own line, which says why.
    "An unhandled error occurred while syncing '%s'",
)


class _ChatterToDebug(logging.Filter):
    """Lets the SDK's chatter through only when the logger is at DEBUG."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        template = getattr(record, "template", record.msg)
        if template in SDK_CHATTER and record.levelno > logging.DEBUG:
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_CHATTER = _ChatterToDebug()


def quiet_sdk_chatter(logger: logging.Logger) -> None:
    """Demote the SDK's chatter on this logger (filters do not inherit; idempotent)."""
    if _CHATTER not in logger.filters:
        logger.addFilter(_CHATTER)


def stream_logger(
    sdk_logger: logging.Logger | logging.LoggerAdapter[logging.Logger], account: str | None
) -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """A stream's logger, a child per account, with the SDK's chatter demoted on both.

    singer-sdk 0.54 gives a stream a Logger; 0.55 wraps it in a LoggerAdapter that adds
    `stream_name` to every record, so the account's logger gets the same wrapping.
    """
    adapter = sdk_logger if isinstance(sdk_logger, logging.LoggerAdapter) else None
    base = adapter.logger if adapter is not None else t.cast(logging.Logger, sdk_logger)
    logger = base.getChild(account) if account else base
    quiet_sdk_chatter(base)  # the SDK's own lines for this stream
    quiet_sdk_chatter(logger)
    return logging.LoggerAdapter(logger, adapter.extra) if adapter is not None else logger


class _MetricsGate(logging.Filter):
    """A filter, not a level: every tap the SDK builds resets the metrics logger's level."""

    show = False

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return self.show or logging.getLogger(TAP_LOGGER_NAME).isEnabledFor(logging.DEBUG)


_METRICS_GATE = _MetricsGate()
logging.getLogger(METRICS_LOGGER_NAME).addFilter(_METRICS_GATE)


def show_metrics(show: bool) -> None:
    """The SDK's METRIC lines: shown with `log_metrics: true`, else only at DEBUG.

    Also the metrics logger's level, so a hidden METRIC line costs nothing to make (the
    SDK sets it back to INFO in every tap it builds; the gate covers that moment).
    """
    _METRICS_GATE.show = show
    hidden = not show and not logging.getLogger(TAP_LOGGER_NAME).isEnabledFor(logging.DEBUG)
    logging.getLogger(METRICS_LOGGER_NAME).setLevel(logging.WARNING if hidden else logging.INFO)


quiet_sdk_chatter(logging.getLogger(TAP_LOGGER_NAME))


# -- libraries' loggers: the log is the tap's own -----------------------------------------

# Libraries whose loggers reach stderr; `py.warnings` carries Python warnings (the SDK's CLI
# captures them).
LIBRARY_LOGGERS = ("urllib3", "requests", "backoff", "singer_sdk", "charset_normalizer")
WARNINGS_LOGGER = "py.warnings"
# Library lines that only describe the symptom of a failure whose real cause the tap's own
# retry line or error names (a trickling answer cut at request_timeout, a certificate for
# another host), or that say nothing a user can act on. Shown at DEBUG only.
LIBRARY_SYMPTOMS = frozenset(
    {
        "Failed to parse headers (url=%s): %s",
        "Certificate did not match expected hostname: %s. Certificate: %s",
        "Connection pool is full, discarding connection: %s. Connection pool size: %s",
        "Retrying (%r) after connection broken by '%r': %s",
        "Resetting dropped connection: %s",
    }
)


class _InTheTapsWords(logging.Filter):
    """A library's line as one line of the tap's own, without its traceback (unless DEBUG)."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger(TAP_LOGGER_NAME).isEnabledFor(logging.DEBUG):
            return True
        if getattr(record, "template", record.msg) in LIBRARY_SYMPTOMS:
            return False
        library, message = record.name.split(".")[0], record.getMessage()
        if record.name == WARNINGS_LOGGER:  # "path:line: Category: text\n  source line"
            library, message = "Python", message.splitlines()[0].split(": ", 1)[-1]
        text = " ".join(message.split())
        record.name = TAP_LOGGER_NAME
        record.msg, record.args = f"{library} says: {text}", None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


_LIBRARY_FILTER = _InTheTapsWords()


def tame_library_logs() -> None:
    """Put every library logger (and each of its module loggers) in the tap's words.

    Filters do not inherit, so each module's logger gets it; idempotent, and cheap to
    repeat for loggers made since.
    """
    roots = (*LIBRARY_LOGGERS, WARNINGS_LOGGER)
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if name in roots or name.split(".")[0] in LIBRARY_LOGGERS
    ]
    for name in {*roots, *names} - {METRICS_LOGGER_NAME}:  # METRIC lines keep their form
        logger = logging.getLogger(name)
        if _LIBRARY_FILTER not in logger.filters:
            logger.addFilter(_LIBRARY_FILTER)
