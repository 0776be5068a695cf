"""Shared fixtures: a live Mixmax sandbox on loopback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


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
