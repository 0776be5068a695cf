"""`UserView`: what one user's token sees in an organisation of several users.

That is the user's own rows plus the shared rows of their teams (shared.py), merged into
one sorted key list per resource, so paging works exactly as for a single user.
Everything not in `SHARED_RESOURCES` is the user's own only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from collections.abc import Sequence as Seq
from typing import Any, Protocol

from . import tagging
from .collection import Collection
from .messages import EventSeed, MessageSeed
from .sequences import RecipientSeed, Sequence
from .shared import SHARED_RESOURCES, Key, SharedPool
from .world import World


class Organisation(Protocol):
    """What a view reads of its organisation: org.Org is one."""

    @property
    def worlds(self) -> Seq[World]: ...
    @property
    def generation(self) -> int: ...  # moves on each advance: merged lists go stale


class _MergedCollections(Mapping[str, Collection]):
    """`view.collections`: the user's own collections, shared resources merged."""

    def __init__(self, view: UserView) -> None:
        self._view = view

    def __getitem__(self, resource: str) -> Collection:
        return self._view.collection(resource)

    def __iter__(self) -> Iterator[str]:
        return iter(self._view.world.collections)

    def __len__(self) -> int:
        return len(self._view.world.collections)


class UserView:
    """What one user's token sees: their World plus the shared rows of their teams.

    It offers what the API views read from a World (api.DataSource). Merged key lists are
    built on first use and dropped when the organisation advances.
    """

    def __init__(self, org: Organisation, index: int, pool: SharedPool) -> None:
        self.org = org
        self.index = index
        self.pool = pool
        self.world = org.worlds[index]
        self._generation = -1
        self._merged: dict[str, Collection] = {}
        self._sequences: dict[str, Sequence] | None = None

    def _fresh(self) -> None:
        if self._generation != self.org.generation:
            self._generation = self.org.generation
            self._merged.clear()
            self._sequences = None

    # ------------------------------------------------------------ merged reads
    def collection(self, resource: str) -> Collection:
        own = self.world.collections[resource]
        if resource not in SHARED_RESOURCES:
            return own
        self._fresh()
        merged = self._merged.get(resource)
        if merged is None:
            assert own.render_fn is None, resource  # shared resources are plain dict rows
            shared = self.pool.visible(self.index, resource)
            pool_items = self.pool.collections[resource].items
            items = dict(own.items)
            items.update((row_id, pool_items[row_id]) for _, row_id in shared)
            merged = Collection(
                own.sort_field, None, own.id_field, sorted(own.keys + shared), items
            )
            self._merged[resource] = merged
        return merged

    @property
    def collections(self) -> Mapping[str, Collection]:
        return _MergedCollections(self)

    @property
    def sequences(self) -> Mapping[str, Sequence]:
        self._fresh()
        if self._sequences is None:
            merged = dict(self.world.sequences)
            for _, seq_id in self.pool.visible(self.index, "sequences"):
                merged[seq_id] = self.pool.sequences[seq_id]
            self._sequences = merged
        return self._sequences

    def render_recipient(
        self, seq_id: str, rec: RecipientSeed, variables: bool = True
    ) -> dict[str, Any]:
        if seq_id in self.world.sequences:
            return self.world.render_recipient(seq_id, rec, variables)
        return self.pool.render_recipient(seq_id, rec, variables)

    def team_members(self, team_id: str) -> list[Key]:
        if team_id in self.pool.team_index:
            return self.pool.team_members(team_id)
        return self.world.team_members(team_id)

    # ------------------------------------------------------------ own only
    @property
    def lock(self) -> Any:
        return self.world.lock

    @property
    def me(self) -> dict[str, Any]:
        return self.world.me

    @property
    def users(self) -> list[dict[str, Any]]:
        return self.world.users

    @property
    def appointment_link(self) -> dict[str, Any]:
        return self.world.appointment_link

    @property
    def livefeed_by_message(self) -> Mapping[str, str]:
        return self.world.livefeed_by_message

    def message(self, message_id: str) -> MessageSeed:
        return self.world.message(message_id)

    def served_events(self, message_id: str) -> list[EventSeed]:
        return self.world.served_events(message_id)

    def render_event(self, msg: MessageSeed, event: EventSeed) -> dict[str, Any]:
        return self.world.render_event(msg, event)

    def livefeed_stats(self, feed_ids: list[str], cache_key: tuple[Any, ...]) -> dict[str, Any]:
        return self.world.livefeed_stats(feed_ids, cache_key)

    def rule_actions(self, rule_id: str) -> list[Key]:
        return self.world.rule_actions(rule_id)

    # ------------------------------------------------------------ test access
    def _sequence_order(self) -> Iterator[str]:
        return self.collection("sequences").newest_first()

    def ids(self, resource: str) -> list[str]:
        if resource == tagging.RESOURCE:
            return tagging.ids(self)
        if resource == "sequence_recipients":
            sequences = self.sequences
            return [
                rec_id
                for seq_id in self._sequence_order()
                for rec_id in sequences[seq_id].recipients.newest_first()
            ]
        if resource in SHARED_RESOURCES:
            return list(self.collection(resource).newest_first())
        return self.world.ids(resource)

    def records(self, resource: str) -> list[dict[str, Any]]:
        if resource == tagging.RESOURCE:
            return tagging.records(self)
        if resource == "sequence_recipients":
            sequences = self.sequences
            rows: list[dict[str, Any]] = []
            for seq_id in self._sequence_order():
                recipients = sequences[seq_id].recipients
                rows.extend(recipients.render(i) for i in recipients.newest_first())
            return rows
        if resource in SHARED_RESOURCES:
            coll = self.collection(resource)
            return [json.loads(json.dumps(coll.render(i))) for i in coll.newest_first()]
        return self.world.records(resource)

    def counts(self) -> dict[str, int]:
        out = self.world.counts()
        for resource in SHARED_RESOURCES:
            out[resource] = len(self.collection(resource))
        out["sequence_recipients"] = sum(len(s.recipients) for s in self.sequences.values())
        out[tagging.RESOURCE] = len(self.ids(tagging.RESOURCE))
        return out
