"""An organisation of sandbox users: one World each, plus rows shared within teams.

A Mixmax token sees its own user's data plus what is shared with that user. Here:

- Every user has a World of their own (world.py), seeded by the seed and the user's index,
  so each user has distinct ids. User 0's World is the single-user sandbox's World.
- Users are arranged in teams of `TEAM_SIZE` consecutive indexes, consecutive teams
  overlapping by `TEAM_OVERLAP` user ([0-3], [3-6], [6-9], ...; the last team may be
  smaller, never below 2). Each team is a /teams row whose members are those users, and
  it shares `SHARED_PER_TEAM` sequences (with recipients), snippets, snippet tags and one
  sequence folder. A shared row is one object: same `_id`, same content for every member.
- `UserView` is what one token sees: the user's own rows plus the shared rows of their
  teams, merged into one sorted key list per resource, so paging works exactly as for a
  single user. Everything not in `SHARED_RESOURCES` is the user's own only.

With one user there is no pool and no view: the API serves user 0's World directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import tagging
from .collection import DEFAULT_SORT_FIELD, SORT_FIELDS, Collection
from .ids import iso, meteor_id, object_id
from .messages import EventSeed, MessageSeed
from .seeding import (
    DAY_MS,
    SPAN_DAYS,
    TEAM_NAMES,
    TOKEN_PREFIX,
    random_person,
    seeded_rng,
    token_for,
)
from .sequences import (
    RecipientSeed,
    Sequence,
    add_recipients,
    recipient_seeds,
    render_recipient,
    sequence_folder_row,
    sequence_row,
)
from .shapes import share_user
from .snippets import snippet_row, snippet_tag_row
from .world import World

Key = tuple[int, str]
Changes = tuple[dict[str, list[str]], dict[str, list[str]]]  # (new, changed) ids by resource

# Resources whose lists merge a user's own rows with the shared rows of the user's teams.
SHARED_RESOURCES = (
    "sequences",
    "snippets",
    "snippet_tags",
    "sequence_folders",
    "teams",
    "team_members",
)
TEAM_SIZE = 4
TEAM_OVERLAP = 1
SHARED_PER_TEAM = {"sequences": 2, "snippets": 3, "snippet_tags": 1, "sequence_folders": 1}
SHARED_CONTACTS = 60
SHARED_ROLE = "read-only"


def user_token(seed: int, index: int, token: str | None = None) -> str:
    """User `index`'s token: user 0's is the sandbox token; the others derive from it."""
    if index == 0:
        return token or token_for(seed)
    if token:
        return f"{token}-u{index}"
    digest = hashlib.sha256(f"mixmax-sandbox-token:{seed}:user:{index}".encode()).hexdigest()
    return TOKEN_PREFIX + digest[:32]


def team_layout(users: int) -> list[tuple[int, ...]]:
    """Teams of TEAM_SIZE consecutive users, consecutive teams sharing TEAM_OVERLAP users."""
    if users < 2:
        return []
    stride = TEAM_SIZE - TEAM_OVERLAP
    return [tuple(range(s, min(s + TEAM_SIZE, users))) for s in range(0, users - 1, stride)]


@dataclass
class SharedTeam:
    id: str
    name: str
    members: tuple[int, ...]  # user indexes, the first one is the admin
    keys: dict[str, list[Key]] = field(default_factory=dict)  # resource -> this team's rows

    def add(self, resource: str, key: Key) -> None:
        self.keys.setdefault(resource, []).append(key)

    def ids(self, resource: str) -> list[str]:
        return [key[1] for key in self.keys.get(resource, [])]


class SharedPool:
    """The rows shared within teams, each belonging to exactly one team."""

    def __init__(
        self, seed: int, size: Mapping[str, int], people: list[dict[str, Any]], now_ms: int
    ) -> None:
        self.seed = seed
        self.size = dict(size)
        self.people = people
        self._person_by_id = {person["_id"]: person for person in people}
        self.now_ms = now_ms
        self.advances = 0
        rng = seeded_rng(seed, "shared")
        self.contacts = [random_person(rng) for _ in range(SHARED_CONTACTS)]
        self.collections = {
            name: Collection(
                SORT_FIELDS.get(name, DEFAULT_SORT_FIELD),
                id_field="memberId" if name == "team_members" else "_id",
            )
            for name in SHARED_RESOURCES
        }
        self.sequences: dict[str, Sequence] = {}
        self.teams: list[SharedTeam] = []
        self.team_index: dict[str, int] = {}  # team _id -> index in self.teams
        self.user_teams: list[list[int]] = [[] for _ in people]
        for index, members in enumerate(team_layout(len(people))):
            self._build_team(seeded_rng(seed, "shared", "team", index), index, members)

    # ------------------------------------------------------------------ build
    def _past(self, rng: random.Random, days: float, newest: float) -> int:
        return self.now_ms - int(rng.uniform(newest * DAY_MS, days * DAY_MS))

    def _add(self, team: SharedTeam, resource: str, row: dict[str, Any], sort_ms: int) -> None:
        coll = self.collections[resource]
        coll.add(row, sort_ms)
        team.add(resource, (sort_ms, str(row[coll.id_field])))

    def _shared_with(self, team: SharedTeam, owner: int) -> dict[str, Any]:
        """A snippet's or tag's `shared`: every other member, and the team, read-only."""
        return {
            "users": [share_user(self.people[m], SHARED_ROLE) for m in team.members if m != owner],
            "teams": [{"_id": team.id, "role": SHARED_ROLE}],
        }

    def _build_team(self, rng: random.Random, index: int, members: tuple[int, ...]) -> None:
        created = self._past(rng, 700, 300)
        name = f"{TEAM_NAMES[index % len(TEAM_NAMES)]} squad {index + 1}"
        team = SharedTeam(meteor_id(rng), name, members)
        self.teams.append(team)
        self.team_index[team.id] = index
        for user in members:
            self.user_teams[user].append(index)
        embedded = []
        for position, user in enumerate(members):
            invited = created + position * DAY_MS + rng.randrange(DAY_MS)
            member = {
                "memberId": object_id(rng, invited),
                "teamId": team.id,
                "userId": self.people[user]["_id"],
                "role": "admin" if position == 0 else "member",
                "accepted": True,
                "acceptedAt": iso(invited + 3_600_000),
                "invitedAt": iso(invited),
            }
            self._add(team, "team_members", member, invited)
            embedded.append(
                {
                    "userId": member["userId"],
                    "role": member["role"],
                    "accepted": True,
                    "dateAccepted": member["acceptedAt"],
                    "dateInvited": member["invitedAt"],
                }
            )
        row = {
            "_id": team.id,
            "name": name,
            "createdAt": iso(created),
            "modifiedAt": iso(created + 10 * DAY_MS),
            "users": embedded,
        }
        self._add(team, "teams", row, created)
        for number in range(SHARED_PER_TEAM["sequences"]):
            self._new_sequence(rng, team, number, self._past(rng, SPAN_DAYS, 20))
        for number in range(SHARED_PER_TEAM["snippets"]):
            self._new_snippet(rng, team, number, self._past(rng, SPAN_DAYS, 1))
        for number in range(SHARED_PER_TEAM["snippet_tags"]):
            owner = team.members[number % len(team.members)]
            created = self._past(rng, SPAN_DAYS, 30)
            tag = snippet_tag_row(rng, created, number, self.people[owner])
            tag.update(name=f"{name} templates", shared=self._shared_with(team, owner))
            self._add(team, "snippet_tags", tag, created)
        for number in range(SHARED_PER_TEAM["sequence_folders"]):
            owner = team.members[number % len(team.members)]
            created = self._past(rng, SPAN_DAYS, 0)
            folder = sequence_folder_row(
                rng, created, number, self.people[owner], team.ids("sequences")
            )
            folder.update(
                name=f"{name} sequences",
                shared={"users": [], "teams": [{"_id": team.id, "role": SHARED_ROLE}]},
            )
            self._add(team, "sequence_folders", folder, created)

    def _new_sequence(
        self, rng: random.Random, team: SharedTeam, number: int, created: int
    ) -> dict[str, Any]:
        owner = team.members[number % len(team.members)]
        index = self.team_index[team.id] * SHARED_PER_TEAM["sequences"] + number
        row = sequence_row(
            rng,
            created,
            index,
            owner=self.people[owner],
            contacts=self.contacts,
            share_with=self.people[team.members[(number + 1) % len(team.members)]],
            name=f"{team.name} sequence {number + 1}",
        )
        row.update(
            teamIds=[team.id],
            shared={"users": [], "teams": [{"_id": team.id, "role": SHARED_ROLE}]},
        )
        seq_id = row["_id"]
        count = rng.randint(1, max(1, self.size["max_recipients"]))

        def render(rec: RecipientSeed, seq_id: str = seq_id) -> dict[str, Any]:
            return self.render_recipient(seq_id, rec)

        self.sequences[seq_id] = Sequence.build(
            row, *recipient_seeds(rng, created, count, self.now_ms), render
        )
        self._add(team, "sequences", row, created)
        return row

    def _new_snippet(
        self, rng: random.Random, team: SharedTeam, number: int, created: int
    ) -> dict[str, Any]:
        owner = team.members[number % len(team.members)]
        row = snippet_row(
            rng,
            created,
            number,
            owner=self.people[owner],
            share_with=self.people[team.members[(number + 1) % len(team.members)]],
            now_ms=self.now_ms,
        )
        row.update(name=f"{team.name} template {number + 1}", shared=self._shared_with(team, owner))
        self._add(team, "snippets", row, created)
        return row

    # ------------------------------------------------------------------ reads
    def visible(self, user: int, resource: str) -> list[Key]:
        """Keys of the shared rows of `resource` that `user` sees (unsorted)."""
        return [
            key for team in self.user_teams[user] for key in self.teams[team].keys.get(resource, [])
        ]

    def render_recipient(
        self, seq_id: str, rec: RecipientSeed, variables: bool = True
    ) -> dict[str, Any]:
        """A shared sequence's recipient: sent by the sequence's owner, same for every member."""
        row = self.sequences[seq_id].row
        owner = self._person_by_id[row["userId"]]
        return render_recipient(row, rec, self.contacts, owner, variables)

    def team_members(self, team_id: str) -> list[Key]:
        return sorted(self.teams[self.team_index[team_id]].keys.get("team_members", []))

    def shared_ids(self, resource: str) -> list[str]:
        """Ids of `resource` visible to two or more users, newest first."""
        if resource == "sequence_recipients":
            return [
                rec_id
                for seq_id in self.collections["sequences"].newest_first()
                for rec_id in self.sequences[seq_id].recipients.newest_first()
            ]
        if resource not in self.collections:
            return []
        return list(self.collections[resource].newest_first())

    # ------------------------------------------------------------------ time
    def advance(self, end: int) -> list[Changes]:
        """Move the pool to `end`: per team, recipients join a shared sequence (moving its
        `updatedAt`), an older recipient finishes or fails, a shared template is edited and
        a new one is shared. Returns the (new, changed) ids of each team."""
        start, self.now_ms = self.now_ms, end
        self.advances += 1
        rng = seeded_rng(self.seed, "shared", "advance", self.advances)
        out: list[Changes] = []

        def when() -> int:
            return rng.randint(start + 1, end)

        for team in self.teams:
            new: dict[str, list[str]] = {}
            changed: dict[str, list[str]] = {}
            seq_ids = team.ids("sequences")
            seq_id = rng.choice(seq_ids)
            seq = self.sequences[seq_id]
            new["sequence_recipients"] = add_recipients(seq, rng, when, rng.randint(1, 3))
            self.collections["sequences"].replace(seq_id, seq.row)
            changed["sequences"] = [seq_id]
            active = [
                (sid, rec)
                for sid in seq_ids
                for rec in self.sequences[sid].recipients.items.values()
                if rec.state == "active" and rec.created <= start
            ]
            if active:
                sid, rec = rng.choice(active)
                state = rng.choice(("completed", "failed"))
                self.sequences[sid].recipients.replace(
                    rec.id, rec._replace(state=state, updated=when())
                )
                changed["sequence_recipients"] = [rec.id]
            snippets = self.collections["snippets"]
            edited = rng.choice(team.ids("snippets"))
            snippets.replace(edited, dict(snippets.items[edited], savedAt=when()))
            changed["snippets"] = [edited]
            row = self._new_snippet(rng, team, len(team.ids("snippets")), when())
            new["snippets"] = [row["_id"]]
            out.append((new, changed))
        return out


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

    def __init__(self, org: Org, index: int, pool: SharedPool) -> None:
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
