"""A stream's logger on either SDK minor: 0.54 gives a Logger, 0.55 a LoggerAdapter."""

from __future__ import annotations

import logging

import pytest

from tap_mixmax.logs import SDK_CHATTER, stream_logger

CHATTER = SDK_CHATTER[0]


def _sdk_logger(kind: str, name: str) -> logging.Logger | logging.LoggerAdapter:
    logger = logging.getLogger(name)
    if kind == "adapter":  # as singer-sdk 0.55 builds it
        return logging.LoggerAdapter(logger, extra={"stream_name": name.rsplit(".", 1)[-1]})
    return logger


@pytest.mark.parametrize("kind", ["logger", "adapter"])
@pytest.mark.parametrize("account", [None, "ana"])
def test_the_stream_logger_names_the_account_and_demotes_the_sdk_chatter(caplog, kind, account):
    name = f"tap-mixmax.test-logs-{kind}-{account}.messages"
    logger = stream_logger(_sdk_logger(kind, name), account)
    assert isinstance(logger, logging.LoggerAdapter) == (kind == "adapter")
    base = logger.logger if isinstance(logger, logging.LoggerAdapter) else logger
    assert base.name == (f"{name}.{account}" if account else name)
    with caplog.at_level(logging.INFO):
        logger.info(CHATTER)
        logger.info("Stream messages: full table")
    said = [(r.name, r.getMessage(), getattr(r, "stream_name", None)) for r in caplog.records]
    stream_name = "messages" if kind == "adapter" else None
    assert said == [(base.name, "Stream messages: full table", stream_name)]
