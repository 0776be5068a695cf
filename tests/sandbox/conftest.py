"""Fixtures for the sandbox's own tests: live in-process sandboxes and a requests session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from mixmax_sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A read-only small sandbox without a rate limit (do not advance or fault it)."""
    with Sandbox(seed=42, scale="small", rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    """A sandbox of its own, for tests that fault or advance it."""
    with Sandbox(seed=42, scale="small", rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
