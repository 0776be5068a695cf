"""Secrets never leave in text: one registry of tokens, masked wherever text is made.

Every configured token (`api_token`, and each account's) is registered as soon as the
config is read. From then on every log record is masked as it is created (message,
arguments, traceback and stack), whatever logger or handler it goes to, so no future
log line can forget it; error messages printed by the CLI go through `redact` too, and
pages are masked before their rows are read (`secret_forms`, used by
MixmaxStream.parse_page in tap_mixmax/client.py).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterable
from urllib.parse import quote

MASK = "[redacted]"
# Shorter values are not real Mixmax tokens and would mask ordinary words.
MIN_SECRET_LENGTH = 8


class _Registry:
    def __init__(self) -> None:
        self.secrets: tuple[str, ...] = ()
        self.installed = False
        self.lock = threading.Lock()


_registry = _Registry()


def register(values: Iterable[object]) -> None:
    """Mask these values (and their URL-encoded forms) from now on."""
    with _registry.lock:
        new = set(_registry.secrets)
        for value in values:
            if isinstance(value, str) and len(value.strip()) >= MIN_SECRET_LENGTH:
                new |= {value, value.strip(), quote(value.strip(), safe="")}
        # Longest first, so a token containing another is masked whole.
        _registry.secrets = tuple(sorted(new, key=len, reverse=True))
    install()


def redact(text: str) -> str:
    """The text with every registered secret masked."""
    for secret in _registry.secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def secret_forms(value: str) -> tuple[bytes, ...]:
    """The byte strings a server could echo a secret as (as sent, and URL-encoded)."""
    if len(value.strip()) < MIN_SECRET_LENGTH:
        return ()
    forms = {value.strip(), quote(value.strip(), safe="")}
    return tuple(form.encode("utf-8", "replace") for form in forms)


_base_factory = logging.getLogRecordFactory()


def _masked_record(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if not _registry.secrets:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: let the handler report it as usual
        return record
    record.template = record.msg  # for filters by message
    record.msg, record.args = redact(message), None
    if record.exc_info:
        # Formatted once here, masked, and the live exception dropped so that no
        # formatter can print its unmasked text.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Mask every log record of this process (idempotent)."""
    with _registry.lock:
        if not _registry.installed:
            logging.setLogRecordFactory(_masked_record)
            _registry.installed = True
