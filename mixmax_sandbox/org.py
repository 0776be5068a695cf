"""An organisation of sandbox users: one World each, plus rows shared within teams.

A Mixmax token sees its own user's data plus what is shared with that user. Here:

- Every user has a World of their own (world.py), seeded by the seed and the user's index,
  so each user has distinct ids. User 0's World is the single-user sandbox's World.
- Users are arranged in overlapping teams, and each team shares some sequences,
  snippets, snippet tags and a sequence folder: the shared pool (shared.py).
- `UserView` (view.py) is what one token sees: the user's own rows plus the shared rows
  of their teams, merged so paging works exactly as for a single user.

With one user there is no pool and no view: the API serves user 0's World directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from .seeding import TOKEN_PREFIX, token_for
from .shared import SHARED_RESOURCES, SharedPool
from .view import UserView
from .world import World

__all__ = ["SHARED_RESOURCES", "Org", "user_token"]


def user_token(seed: int, index: int, token: str | None = None) -> str:
    """User `index`'s token: user 0's is the sandbox token; the others derive from it."""
    if index == 0:
        return token or token_for(seed)
    if token:
        return f"{token}-u{index}"
    digest = hashlib.sha256(f"mixmax-sandbox-token:{seed}:user:{index}".encode()).hexdigest()
    return TOKEN_PREFIX + digest[:32]


def _merge_changes(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for resource, ids in more.items():
        bucket = into.setdefault(resource, [])
        bucket.extend(i for i in ids if i not in bucket)


class Org:
    """The users of one sandbox, their tokens, and the shared pool (with 2 or more users)."""

    def __init__(
        self,
        seed: int = 42,
        scale: str = "small",
        users: int = 1,
        token: str | None = None,
        **overrides: int,
    ) -> None:
        if users < 1:
            raise ValueError("users must be at least 1")
        self.worlds = [World(seed, scale, user_index=i, **overrides) for i in range(users)]
        self.lock = self.worlds[0].lock  # one lock for the whole organisation
        for world in self.worlds[1:]:
            world.lock = self.lock
        self.tokens = [user_token(seed, i, token) for i in range(users)]
        self._user_by_token = {t: i for i, t in enumerate(self.tokens)}
        if len(self._user_by_token) != users:
            raise ValueError("user tokens are not distinct")
        self.generation = 0
        self.pool: SharedPool | None = None
        self.views: list[UserView] = []
        if users >= 2:
            people = [world.me for world in self.worlds]
            self.pool = SharedPool(seed, self.worlds[0].size, people, self.worlds[0].now_ms)
            self.views = [UserView(self, i, self.pool) for i in range(users)]

    def __len__(self) -> int:
        return len(self.worlds)

    @property
    def user_ids(self) -> list[str]:
        return [world.me["_id"] for world in self.worlds]

    def user_of(self, token: str) -> int | None:
        """The index of the user a token belongs to, or None."""
        return self._user_by_token.get(token)

    def check_user(self, user: int) -> int:
        if not 0 <= user < len(self.worlds):
            raise IndexError(f"no user {user}: this sandbox has {len(self.worlds)} users")
        return user

    def source(self, user: int) -> World | UserView:
        """What `user`'s token reads: their World alone, or their merged view."""
        self.check_user(user)
        return self.views[user] if self.views else self.worlds[user]

    # ------------------------------------------------------------ data access
    def ids(self, resource: str, user: int = 0) -> list[str]:
        with self.lock:
            return self.source(user).ids(resource)

    def records(self, resource: str, user: int = 0) -> list[dict[str, Any]]:
        with self.lock:
            return self.source(user).records(resource)

    def counts(self, user: int = 0) -> dict[str, int]:
        with self.lock:
            return self.source(user).counts()

    def shared_ids(self, resource: str) -> list[str]:
        if self.pool is None:
            return []
        with self.lock:
            return self.pool.shared_ids(resource)

    @property
    def now(self) -> dt.datetime:
        return self.worlds[0].now

    # ------------------------------------------------------------ time
    def advance(self, days: float = 1.0) -> dict[str, Any]:
        """Advance every user's World and the shared pool by `days`.

        The summary is user 0's (own rows plus the shared rows user 0 sees), in the
        single-user shape. With 2 or more users it also has `users` (the same per user)
        and `shared` (everything the pool changed).
        """
        if days <= 0:
            raise ValueError("days must be positive")
        with self.lock:
            summaries = [world.advance(days) for world in self.worlds]
            if self.pool is None:
                return summaries[0]
            self.generation += 1
            teams = self.pool.advance(self.worlds[0].now_ms)
            shared_new: dict[str, list[str]] = {}
            shared_changed: dict[str, list[str]] = {}
            for new, changed in teams:
                _merge_changes(shared_new, new)
                _merge_changes(shared_changed, changed)
            per_user = []
            for index, summary in enumerate(summaries):
                new, changed = summary["new"], summary["changed"]
                for team in self.pool.user_teams[index]:
                    _merge_changes(new, teams[team][0])
                    _merge_changes(changed, teams[team][1])
                summary["counts"] = {
                    "new": {k: len(v) for k, v in new.items()},
                    "changed": {k: len(v) for k, v in changed.items()},
                }
                per_user.append(
                    {"user": index, "new": new, "changed": changed, "counts": summary["counts"]}
                )
            return {
                **summaries[0],
                "users": per_user,
                "shared": {"new": shared_new, "changed": shared_changed},
            }
