"""HTTP helpers of the sandbox's own tests (not in conftest.py: several test folders have a
conftest, and a test importing `conftest` gets whichever was imported first)."""

from __future__ import annotations

from typing import Any

import requests

from mixmax_sandbox import Sandbox


def get(session: requests.Session, sandbox: Sandbox, path: str, **params: Any) -> requests.Response:
    return session.get(
        f"{sandbox.url}{path}", params=params, headers={"X-API-Token": sandbox.token}, timeout=30
    )


def walk(
    session: requests.Session,
    sandbox: Sandbox,
    path: str,
    limit: int | None = None,
    **params: Any,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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
