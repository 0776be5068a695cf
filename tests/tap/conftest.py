"""Fixtures of the tap's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_process import kill_leftovers


@pytest.fixture(autouse=True)
def _no_tap_process_outlives_its_test() -> Iterator[None]:
    yield
    kill_leftovers()
