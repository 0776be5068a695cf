"""`Collection`: the rows of one list resource, kept sorted by their paging key."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .ids import to_ms

# Paginated (sort) field of each list resource (docs/mixmax-api.md 1.4 and the contract).
SORT_FIELDS: dict[str, str] = {
    "messages": "created",
    "polls": "created",
    "unsubscribes": "createdAt",
    "livefeed": "sent",
    "livefeed_events": "timestamp",
    "yesno": "created",
    "qa": "creationDate",
    "meeting_invites": "creationDate",
    "file_requests": "timestamp",
    "team_members": "invitedAt",  # members have no createdAt; invitedAt is their creation
}
DEFAULT_SORT_FIELD = "createdAt"


@dataclass
class Collection:
    """Rows of one list resource, with their `(sort_ms, id)` keys sorted ascending."""

    sort_field: str
    render_fn: Callable[[Any], dict[str, Any]] | None = None
    id_field: str = "_id"
    keys: list[tuple[int, str]] = field(default_factory=list)
    items: dict[str, Any] = field(default_factory=dict)

    def add(self, item: Any, sort_ms: int | None = None) -> None:
        if isinstance(item, dict):
            row_id = str(item[self.id_field])
            sort_ms = to_ms(item[self.sort_field]) if sort_ms is None else sort_ms
        else:
            row_id = item.id
            assert sort_ms is not None
        self.items[row_id] = item
        bisect.insort(self.keys, (sort_ms, row_id))

    def replace(self, row_id: str, item: Any) -> None:
        """Change a row in place; its sort value must not change (creation fields never do)."""
        self.items[row_id] = item

    def render(self, row_id: str) -> dict[str, Any]:
        item = self.items[row_id]
        if self.render_fn is not None:
            return self.render_fn(item)
        return dict(item)

    def newest_first(self) -> Iterator[str]:
        for _, row_id in reversed(self.keys):
            yield row_id

    def __len__(self) -> int:
        return len(self.keys)
