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


def get(session: requests.Session, sandbox: Sandbox, path: str, **params) -> requests.Response:
    return session.get(
        f"{sandbox.url}{path}", params=params, headers={"X-API-Token": sandbox.token}, timeout=30
    )


def walk(session, sandbox, path, limit=None, **params) -> tuple[list[dict], list[dict]]:
    """Follow `next` while hasNext; returns (rows, pages)."""
    rows, pages, cursor = [], [], None
    while True:
        query = dict(params)
        if limit is not None:
            query["limit"] = limit
        if cursor:
            query["next"] = cursor
        response = get(session, sandbox, path, **query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        rows.extend(page["results"])
        if not page["hasNext"]:
            return rows, pages
        cursor = page["next"]
        assert len(pages) < 5000
