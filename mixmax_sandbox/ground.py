"""`Ground`: what every resource family of a World stands on (the seed, the scale, the
clock, the people and the collections), and `Tick`, one move of the clock.

Each family (people.py, messages.py, sequences.py, ...) is a mixin on `Ground` that builds
its own rows and moves them when the clock does; world.py composes them.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from .collection import DEFAULT_SORT_FIELD, SORT_FIELDS, Collection
from .seeding import ANCHOR_MS, DAY_MS, SCALES, SPAN_DAYS, seeded_rng


class Ground:
    """A world's shared state; the resource mixins add their own rows to it."""

    users: list[dict[str, Any]]
    contacts: list[dict[str, str]]
    team_ids: list[str]

    def __init__(self, seed: int, scale: str, user_index: int, overrides: dict[str, int]) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
        unknown = set(overrides) - set(SCALES[scale])
        if unknown:
            raise ValueError(f"unknown scale overrides: {sorted(unknown)}")
        self.seed = seed
        self.user_index = user_index
        # Every user of one sandbox belongs to one organisation (unsubscribes' `orgId`).
        self.org_id = hashlib.sha256(f"mixmax-sandbox-org:{seed}".encode()).hexdigest()[:24]
        self.scale = scale
        self.size = {**SCALES[scale], **overrides}
        self.lock = threading.RLock()
        self.now_ms = ANCHOR_MS
        self.advances = 0
        self.version = 0
        self.collections: dict[str, Collection] = {}

    def _rng(self, *parts: object) -> random.Random:
        """A random stream of this world's seed (and user, beyond the first)."""
        if self.user_index:
            return seeded_rng(self.seed, "user", self.user_index, *parts)
        return seeded_rng(self.seed, *parts)

    def _past(self, rng: random.Random, days: float = SPAN_DAYS, newest: float = 0.0) -> int:
        """A random instant between `days` and `newest` days before now."""
        return self.now_ms - int(rng.uniform(newest * DAY_MS, days * DAY_MS))

    def _collection(
        self,
        name: str,
        render: Callable[[Any], dict[str, Any]] | None = None,
        id_field: str = "_id",
    ) -> Collection:
        coll = Collection(SORT_FIELDS.get(name, DEFAULT_SORT_FIELD), render, id_field)
        self.collections[name] = coll
        return coll

    @property
    def me(self) -> dict[str, Any]:
        return self.users[0]


class Tick(NamedTuple):
    """One move of the clock from `start` to `end`, and the ids it makes or changes."""

    rng: random.Random
    start: int
    end: int
    days: float
    new: dict[str, list[str]]
    changed: dict[str, list[str]]

    def when(self) -> int:
        """A random instant in the move."""
        return self.rng.randint(self.start + 1, self.end)

    def note(self, kind: dict[str, list[str]], resource: str, row_id: str) -> None:
        bucket = kind.setdefault(resource, [])
        if row_id not in bucket:
            bucket.append(row_id)


When = Callable[[], int]
