"""Libraries' log lines, in the tap's words: one line, no traceback, symptoms at DEBUG."""

from __future__ import annotations

import logging

import pytest

from tap_mixmax import logs


@pytest.fixture
def library_lines(caplog):
    logs.tame_library_logs()
    caplog.set_level(logging.INFO)
    return caplog


def test_a_library_warning_is_one_tap_line_without_its_traceback(library_lines):
    try:
        raise ValueError("deep\ninside")
    except ValueError:
        logging.getLogger("urllib3.response").warning(
            "Received response with both Content-Length and\nTransfer-Encoding set.",
            exc_info=True,
        )
    record = library_lines.records[-1]
    assert record.name == logs.TAP_LOGGER_NAME
    assert record.getMessage() == (
        "urllib3 says: Received response with both Content-Length and Transfer-Encoding set."
    )
    assert record.exc_info is None and record.exc_text is None
    assert "Traceback" not in library_lines.text


def test_a_python_warning_is_its_category_and_text(library_lines):
    logging.getLogger("py.warnings").warning(
        "%s", "/x/y.py:3: DeprecationWarning: old call\n  import y"
    )
    assert library_lines.records[-1].getMessage() == "Python says: DeprecationWarning: old call"


def test_a_symptom_the_tap_names_itself_is_left_to_debug(library_lines):
    logging.getLogger("urllib3.connection").warning(
        "Failed to parse headers (url=%s): %s", "http://127.0.0.1/v1/messages", "defects"
    )
    assert not [r for r in library_lines.records if "parse headers" in r.getMessage()]


def test_at_debug_a_library_line_is_left_whole(library_lines):
    tap_logger = logging.getLogger(logs.TAP_LOGGER_NAME)
    level = tap_logger.level
    tap_logger.setLevel(logging.DEBUG)  # TAP_MIXMAX_LOGLEVEL=DEBUG
    try:
        raise ValueError("deep")
    except ValueError:
        logging.getLogger("urllib3.connection").warning(
            "Failed to parse headers (url=%s): %s", "u", "d", exc_info=True
        )
    finally:
        tap_logger.setLevel(level)
    record = library_lines.records[-1]
    assert record.name == "urllib3.connection"
    assert record.exc_info or record.exc_text, "the traceback is kept at DEBUG"
