"""The seeded Mixmax world: every resource the API serves, and how time moves it.

Each resource family builds and moves its own rows, in a module of its own (a mixin on
ground.Ground): people.py (users, teams, preferences), messages.py (messages, the live
feed and its events), sequences.py (sequences, recipients, folders), snippets.py,
responses.py (polls, Q&A, yes/no, unsubscribes), rules.py, meetings.py, reports.py, and
integrations.py and tagging.py. `World` composes them: it builds them in a fixed order,
each from a random stream of its own, serves their rows, and moves the clock. Every
module's docstring lists the fields its rows carry.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from . import tagging
from .collection import DEFAULT_SORT_FIELD, SORT_FIELDS, Collection
from .ground import Tick
from .ids import UTC, iso
from .integrations import build_integrations
from .meetings import Meetings
from .messages import Messages
from .people import People
from .reports import Reports
from .responses import Responses
from .rules import Rules
from .seeding import DAY_MS, SCALES
from .sequences import Sequences
from .snippets import Snippets

# The id of each one-row resource (appointment links have no _id).
SINGLE_ROW_KEYS = {"users": "_id", "user_preferences": "_id", "appointment_links": "userId"}

__all__ = ["DEFAULT_SORT_FIELD", "SCALES", "SORT_FIELDS", "Collection", "World"]


class World(People, Messages, Sequences, Snippets, Responses, Rules, Meetings, Reports):
    """All data of one seeded sandbox user. Guard reads and `advance` with `lock`.

    `user_index` 0 is the single-user sandbox of old; other indexes draw from their own
    random streams (distinct ids) and get an email of their own (org.py builds those).
    """

    def __init__(
        self, seed: int = 42, scale: str = "small", *, user_index: int = 0, **overrides: int
    ) -> None:
        super().__init__(seed, scale, user_index, overrides)
        self._build_people(self._rng("world"))
        self._build_messages(self._rng("messages"))
        self._build_sequences(self._rng("sequences"))
        self._build_snippets(self._rng("snippets"))
        self._build_polls_and_friends(self._rng("polls"))
        self._build_unsubscribes(self._rng("unsubscribes"))
        self._build_teams(self._rng("teams"))
        self._build_rules(self._rng("rules"))
        misc = self._rng("misc")  # one stream for these, in this order
        self._build_sequence_folders(misc)
        self._build_code_snippets(misc)
        self._build_meetings(misc)
        self._build_insights_reports(misc)
        self._build_file_requests(misc)
        self._build_preferences(misc)
        build_integrations(self)  # integrations.py

    # ------------------------------------------------------ resource views
    def _single_row(self, resource: str) -> dict[str, Any] | None:
        """The row of a resource that has exactly one (the user's own), else None."""
        return {
            "users": self.me,
            "user_preferences": self.user_preferences,
            "appointment_links": self.appointment_link,
        }.get(resource)

    def records(self, resource: str) -> list[dict[str, Any]]:
        """Every row the API can currently return for a resource, as it serialises them."""
        single = self._single_row(resource)
        if single is not None:
            return [json.loads(json.dumps(single))]
        if resource == "sequence_recipients":
            rows: list[dict[str, Any]] = []
            for seq_id in self.collections["sequences"].newest_first():
                seq = self.sequences[seq_id]
                rows.extend(seq.recipients.render(i) for i in seq.recipients.newest_first())
            return rows
        if resource == tagging.RESOURCE:
            return tagging.records(self)
        if resource == "livefeed_events":
            out: list[dict[str, Any]] = []
            feed = self.collections["livefeed"]
            for feed_id in feed.newest_first():
                msg = self.message(feed.items[feed_id])
                events = self.served_events(msg.id)
                out.extend(self.render_event(msg, e) for e in reversed(events))
            return out
        coll = self.collections[resource]
        return [json.loads(json.dumps(coll.render(i))) for i in coll.newest_first()]

    def ids(self, resource: str) -> list[str]:
        single = self._single_row(resource)
        if single is not None:
            return [single[SINGLE_ROW_KEYS[resource]]]
        if resource == "sequence_recipients":
            return [
                i
                for seq_id in self.collections["sequences"].newest_first()
                for i in self.sequences[seq_id].recipients.newest_first()
            ]
        if resource == tagging.RESOURCE:
            return tagging.ids(self)
        if resource == "livefeed_events":
            feed = self.collections["livefeed"]
            return [
                e.id
                for feed_id in feed.newest_first()
                for e in reversed(self.served_events(feed.items[feed_id]))
            ]
        return list(self.collections[resource].newest_first())

    def counts(self) -> dict[str, int]:
        out = {name: len(coll) for name, coll in self.collections.items()}
        out["sequence_recipients"] = sum(len(s.recipients) for s in self.sequences.values())
        out["livefeed_events"] = len(self.ids("livefeed_events"))
        out[tagging.RESOURCE] = len(self.ids(tagging.RESOURCE))
        out.update(users=1, user_preferences=1, appointment_links=1)
        return out

    @property
    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now_ms / 1000, tz=UTC)

    # ------------------------------------------------------------ time moves
    def advance(self, days: float = 1.0) -> dict[str, Any]:
        """Move the clock forward and make the world change, deterministically."""
        if days <= 0:
            raise ValueError("days must be positive")
        with self.lock:
            self.advances += 1
            start = self.now_ms
            self.now_ms = end = start + int(days * DAY_MS)
            tick = Tick(self._rng("advance", self.advances), start, end, days, {}, {})
            self._advance_messages(tick)
            self._advance_events(tick)
            self._advance_unsubscribes(tick)
            self._advance_polls(tick)
            self._advance_sequences(tick)
            self._advance_snippets(tick)
            new, changed = tick.new, tick.changed
            self.version += 1
            return {
                "now": iso(self.now_ms),
                "days": days,
                "advances": self.advances,
                "new": new,
                "changed": changed,
                "counts": {
                    "new": {k: len(v) for k, v in new.items()},
                    "changed": {k: len(v) for k, v in changed.items()},
                },
            }
