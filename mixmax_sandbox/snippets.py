"""Snippets (templates), snippet tags (template folders) and code snippets.

Fields served, in the shapes live rows show (shapes.py has the documented ones);
types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

- **snippets**:
    _id, userId, createdAt ms, savedAt ms, savedBy, deletedAt ms/null, archivedAt ms/null,
    title, source, name, shared{users[{userId,email,role,accepted}],teams[]},
    customShortcut, isInline
- **snippet_tags**:
    _id, userId, createdAt ms, savedAt ms, name, shared{users[],teams[]}, isInline
- **code_snippets**:
    _id, userId, createdAt ISO, html, title, background, theme, language, code
"""

from __future__ import annotations

import random
from typing import Any

from .ground import Ground, Tick
from .ids import iso, object_id
from .seeding import DAY_MS, SPAN_DAYS, SUBJECTS
from .shapes import share_user


def snippet_row(
    rng: random.Random,
    created: int,
    index: int,
    *,
    owner: dict[str, Any],
    share_with: dict[str, Any],
    now_ms: int,
) -> dict[str, Any]:
    """A snippet (template) of `owner`; 3 in 10 are shared with `share_with`."""
    saved = min(now_ms, created + rng.randrange(DAY_MS * 20))
    deleted = saved if rng.random() < 0.05 else None
    return {
        "_id": object_id(rng, created),
        "userId": owner["_id"],
        "createdAt": created,
        "savedAt": saved,
        "savedBy": owner["_id"],
        "deletedAt": deleted,
        "archivedAt": saved if deleted is None and rng.random() < 0.05 else None,
        "title": rng.choice(SUBJECTS).format(co="{{company}}"),
        "source": "<div>Hi {{firstName}},</div><div>...</div>",
        "name": f"Template {index + 1}",
        "shared": _snippet_shares(rng.random() < 0.3, share_with),
        "customShortcut": f"t{index + 1}" if rng.random() < 0.3 else None,
        "isInline": rng.random() < 0.3,
    }


def _snippet_shares(shared: bool, share_with: dict[str, Any]) -> dict[str, Any]:
    """`shared` of a snippet: the {users, teams} object that live rows carry."""
    return {"users": [share_user(share_with)] if shared else [], "teams": []}


def snippet_tag_row(
    rng: random.Random, created: int, index: int, owner: dict[str, Any]
) -> dict[str, Any]:
    """A snippet tag (template folder) of `owner`, not shared."""
    return {
        "_id": object_id(rng, created),
        "userId": owner["_id"],
        "createdAt": created,
        "savedAt": created + rng.randrange(DAY_MS * 10),
        "name": f"Folder {index + 1}",
        "shared": {"users": [], "teams": []},
        "isInline": False,
    }


class Snippets(Ground):
    """A World's snippets, snippet tags and code snippets."""

    def _build_snippets(self, rng: random.Random) -> None:
        tags = self._collection("snippet_tags")
        for index in range(self.size["snippet_tags"]):
            created = self._past(rng, SPAN_DAYS, 30)
            tags.add(snippet_tag_row(rng, created, index, self.me))
        snippets = self._collection("snippets")
        for index in range(self.size["snippets"]):
            created = self._past(rng, SPAN_DAYS, 1)
            snippets.add(self._snippet(rng, created, index))

    def _snippet(self, rng: random.Random, created: int, index: int) -> dict[str, Any]:
        return snippet_row(
            rng, created, index, owner=self.me, share_with=self.users[1], now_ms=self.now_ms
        )

    def _build_code_snippets(self, rng: random.Random) -> None:
        me = self.me["_id"]
        code = self._collection("code_snippets")
        for index in range(self.size["code_snippets"]):
            created = self._past(rng)
            code.add(
                {
                    "_id": object_id(rng, created),
                    "userId": me,
                    "createdAt": iso(created),
                    "html": "<pre><code>print('hello')</code></pre>",
                    "title": f"Snippet {index + 1}",
                    "background": "#ffffff",
                    "theme": "github",
                    "language": rng.choice(["python", "javascript", "sql"]),
                    "code": "print('hello')",
                }
            )

    def _advance_snippets(self, tick: Tick) -> None:
        """Snippets edited: savedAt moves."""
        rng, _, _, _, _, changed = tick
        when, note = tick.when, tick.note
        snippets = self.collections["snippets"]
        for _, snippet_id in rng.sample(snippets.keys, min(3, len(snippets))):
            row = dict(snippets.items[snippet_id], savedAt=when())
            snippets.replace(snippet_id, row)
            note(changed, "snippets", snippet_id)
