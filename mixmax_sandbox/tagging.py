"""/snippettags/:id/snippets: the snippets a tag (template folder) holds.

Rows as live rows show them (Airbyte's `snippettags_snippets`, docs/mixmax-api.md 2.12):
_id, userId, createdAt ms, savedAt ms, savedBy, name, title, source, isInline. That is a
lighter row than /snippets serves, and nothing in it names the tag.

A tag holds the snippets its owner can share through it: those the viewer sees, by the
same user, not deleted, picked by a hash of the two ids (about one in three, so a snippet
may sit under several tags). The list pages like every envelope, newest first.
`records()` adds the tag's id as `snippetTagId`, the key the tap adds from its request, and
`ids()` gives `<snippetTagId>/<_id>` (the stream's key, as for team members' `memberId`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from .paging import envelope

RESOURCE = "snippet_tag_snippets"
PATH = re.compile(r"/snippettags/(?P<id>[^/]+)/snippets/?")
TAG_FIELD = "snippetTagId"  # not served: what the tap and records() add
SERVED_FIELDS = (
    "_id",
    "userId",
    "createdAt",
    "savedAt",
    "savedBy",
    "name",
    "title",
    "source",
    "isInline",
)
ONE_IN = 3

Key = tuple[int, str]


class NotATag(LookupError):
    """The id names no tag the viewer sees (the API answers 404)."""


class Source(Protocol):
    @property
    def collections(self) -> Mapping[str, Any]: ...


def _holds(tag_id: str, snippet_id: str) -> bool:
    digest = hashlib.sha256(f"{tag_id}:{snippet_id}".encode()).digest()
    return digest[0] % ONE_IN == 0


def tag_snippets(source: Source, tag_id: str) -> list[Key]:
    """Keys (ascending) of the snippets `tag_id` holds for this viewer."""
    tags = source.collections["snippet_tags"]
    if tag_id not in tags.items:
        raise NotATag(tag_id)
    owner = tags.items[tag_id]["userId"]
    snippets = source.collections["snippets"]
    return [
        key
        for key in snippets.keys
        if snippets.items[key[1]]["userId"] == owner
        and snippets.items[key[1]].get("deletedAt") is None
        and _holds(tag_id, key[1])
    ]


def render(source: Source, snippet_id: str) -> dict[str, Any]:
    row = source.collections["snippets"].render(snippet_id)
    return {name: row.get(name) for name in SERVED_FIELDS}


def page(source: Source, tag_id: str, params: Mapping[str, str]) -> dict[str, Any]:
    keys = tag_snippets(source, tag_id)
    return envelope(keys, lambda snippet_id: render(source, snippet_id), params, "createdAt")


def records(source: Source) -> list[dict[str, Any]]:
    """Every tag's rows, tags newest first, as served, plus `snippetTagId`."""
    rows = []
    for tag_id in source.collections["snippet_tags"].newest_first():
        for _, snippet_id in reversed(tag_snippets(source, tag_id)):
            row = json.loads(json.dumps(render(source, snippet_id)))
            rows.append({**row, TAG_FIELD: tag_id})
    return rows


def ids(source: Source) -> list[str]:
    """A link has no id of its own: each is `<snippetTagId>/<_id>`."""
    return [f"{row[TAG_FIELD]}/{row['_id']}" for row in records(source)]
