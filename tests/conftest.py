"""Shared fixtures: a live Mixmax sandbox on loopback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# Per-test timeouts (pytest-timeout): the default is in pyproject.toml; an end-to-end test
# runs Meltano or Airflow and gets this much unless it asks for its own.
E2E_TEST_TIMEOUT_SECONDS = 1800


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(E2E_TEST_TIMEOUT_SECONDS))


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A fresh small sandbox without a rate limit, for tests that change the world."""
    from mixmax_sandbox import Sandbox

    with Sandbox(seed=42, scale="small", rate_limit=None) as sb:
        yield sb


@pytest.fixture(scope="session")
def shared_sandbox() -> Iterator[object]:
    """One read-only small sandbox for the whole session. Do not advance or fault it."""
    from mixmax_sandbox import Sandbox

    with Sandbox(seed=7, scale="small", rate_limit=None) as sb:
        yield sb
