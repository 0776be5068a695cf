"""The rows an organisation's users share within teams, each team's in one pool.

Users are arranged in teams of `TEAM_SIZE` consecutive indexes, consecutive teams
overlapping by `TEAM_OVERLAP` user ([0-3], [3-6], [6-9], ...; the last team may be
smaller, never below 2). Each team is a /teams row whose members are those users, and it
shares `SHARED_PER_TEAM` sequences (with recipients), snippets, snippet tags and one
sequence folder. A shared row is one object: same `_id`, same content for every member.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .collection import DEFAULT_SORT_FIELD, SORT_FIELDS, Collection
from .ids import iso, meteor_id, object_id
from .seeding import DAY_MS, SPAN_DAYS, TEAM_NAMES, random_person, seeded_rng
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
