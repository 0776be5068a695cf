"""Sequences, their recipients, and sequence folders.

Recipients are bulky, so they are kept as `RecipientSeed` tuples and rendered per
request. The row builders here also serve the organisation's shared pool (shared.py).

Fields served, in the shapes live rows show (shapes.py has the documented ones);
types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

- **sequences**:
    _id, userId, createdAt ISO (1 in 10: ms), updatedAt ISO (last recipient added), name,
    sendStagesAsReplies, stages[ids], cc[{email,name}], bcc[], linkTrackingEnabled,
    notificationsEnabled, fileTrackingEnabled, syncToOrg, teamIds[], variables[str],
    crmsConnected[{name,logTo}], timezone,
    shared{users[{userId,email,role,accepted}],teams[{_id,role}]}
- **sequence_recipients**:
    _id, userId, createdAt ms, updatedAt ms, sequenceId, email, to{email}, sequence{_id},
    state (active/failed/completed), completedReason, lastStageSentOrdinal, rstFailed,
    analytics{events{opens,clicks,downloads}}, stages[{stageId, ordinal, type, state,
    messageId, from{email,name}, scheduledAt/sentAt/processedAt ms,
    scheduleBetween{start,end (hours),timezone}, opens, clicks, downloads, replied,
    senderReplied, bounced, accepted, declined, tentative, hasOpens, hasLinks, hasFiles
    (0/1 flags; counts on about half the rows), failedError}],
    variables{} (only with includeVariables=true)
- **sequence_folders**:
    _id, name, userId, createdAt ISO, savedAt ISO, sequenceIds[], shared{users[],teams[]}
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .collection import Collection
from .ground import Ground, Tick
from .ids import iso, meteor_id, object_id
from .seeding import DAY_MS, SMALL_RECIPIENT_COUNTS, SPAN_DAYS, TIMEZONES
from .shapes import WINDOW_END_HOUR, WINDOW_START_HOUR, share_user

ISO_CREATED_AT_NUMBER_EVERY = 10  # 1 in 10 sequences has createdAt as epoch ms (AB `%ms`)
# One sent sequence stage in this many has a reply.
REPLY_EVERY = 7


class RecipientSeed(NamedTuple):
    id: str
    created: int
    updated: int
    state: str  # active | failed | completed
    seed: int


@dataclass
class Sequence:
    row: dict[str, Any]
    recipients: Collection
    drafts: list[RecipientSeed]

    @classmethod
    def build(
        cls,
        row: dict[str, Any],
        recipients: list[RecipientSeed],
        drafts: list[RecipientSeed],
        render: Callable[[RecipientSeed], dict[str, Any]],
    ) -> Sequence:
        """A sequence with its recipients sorted once; `updatedAt` = last one added."""
        seq = cls(row, Collection("createdAt", render), drafts)
        seq.recipients.items = {r.id: r for r in recipients}
        seq.recipients.keys = sorted((r.created, r.id) for r in recipients)
        if recipients:
            row["updatedAt"] = iso(seq.recipients.keys[-1][0])
        return seq


def sequence_row(
    rng: random.Random,
    created: int,
    index: int,
    *,
    owner: dict[str, Any],
    contacts: list[dict[str, str]],
    share_with: dict[str, Any],
    name: str | None = None,
) -> dict[str, Any]:
    """A sequence owned by `owner`; 3 in 10 are shared read-only with `share_with`."""
    seq_id = object_id(rng, created)
    stages = [object_id(rng, created) for _ in range(rng.randint(1, 5))]
    variables = rng.sample(["firstName", "company", "title", "city", "painPoint"], 2)
    row: dict[str, Any] = {
        "_id": seq_id,
        "userId": owner["_id"],
        "createdAt": created if index % ISO_CREATED_AT_NUMBER_EVERY == 3 else iso(created),
        "updatedAt": iso(created),
        "name": name or f"{rng.choice(['Outbound', 'Nurture', 'Event', 'Renewal'])} #{index + 1}",
        "sendStagesAsReplies": rng.random() < 0.5,
        "stages": stages,
        "cc": [dict(rng.choice(contacts))] if rng.random() < 0.2 else [],
        "bcc": [],
        "linkTrackingEnabled": True,
        "notificationsEnabled": rng.random() < 0.5,
        "fileTrackingEnabled": True,
        "syncToOrg": False,
        "teamIds": [],
        "variables": ["email", *variables],
        "crmsConnected": [{"name": "salesforce", "logTo": "lead"}] if rng.random() < 0.3 else [],
        "timezone": rng.choice(TIMEZONES),
        "shared": {
            "users": [share_user(share_with)] if rng.random() < 0.3 else [],
            "teams": [],
        },
    }
    return row


def recipient_seeds(
    rng: random.Random, created: int, count: int, now_ms: int
) -> tuple[list[RecipientSeed], list[RecipientSeed]]:
    """`count` recipients added between `created` and now, plus about 1 draft in 20."""
    span = max(1, now_ms - created)
    rows = []
    for _ in range(count):
        r_created = created + rng.randrange(span)
        state = rng.choices(("active", "completed", "failed"), (6, 3, 1))[0]
        updated = min(now_ms, r_created + rng.randrange(0, 10 * DAY_MS))
        rows.append(
            RecipientSeed(object_id(rng, r_created), r_created, updated, state, rng.getrandbits(32))
        )
    drafts = []
    for _ in range(max(1, count // 20) if count else 0):
        r_created = created + rng.randrange(span)
        drafts.append(RecipientSeed(object_id(rng, r_created), r_created, r_created, "draft", 0))
    return rows, drafts


def render_recipient(
    seq: dict[str, Any],
    rec: RecipientSeed,
    contacts: list[dict[str, str]],
    sender: dict[str, Any],
    variables: bool = True,
) -> dict[str, Any]:
    """A recipient row of sequence `seq`, sent by `sender`, rendered from its seed."""
    seq_id = seq["_id"]
    rng = random.Random(rec.seed)
    person = rng.choice(contacts)
    sent_count = (
        len(seq["stages"]) if rec.state == "completed" else rng.randint(0, len(seq["stages"]))
    )
    stages = []
    opens_total = clicks_total = downloads_total = 0
    has_as_counts = rec.seed % 2 == 1  # hasOpens/hasLinks/hasFiles: counts, not 0/1
    for ordinal, stage_id in enumerate(seq["stages"]):
        scheduled = rec.created + ordinal * 2 * DAY_MS
        # Rendering never looks at the clock: a stage counts as sent by the time of
        # the recipient's last update, so rows change only when the world changes them.
        sent = ordinal < sent_count and (ordinal == 0 or scheduled <= rec.updated)
        opens = rng.randint(0, 3) if sent else 0
        clicks = rng.randint(0, 1) if sent else 0
        opens_total += opens
        clicks_total += clicks
        failed = rec.state == "failed" and ordinal == sent_count
        # About one sent stage in seven gets a reply; from the seed, not the random
        # stream, so every other value stays as it was.
        replied = 1 if sent and (rec.seed + ordinal) % REPLY_EVERY == 0 else 0
        stages.append(
            {
                "stageId": stage_id,
                "ordinal": ordinal,
                "type": "email",
                "state": "sent" if sent else "failed" if failed else "scheduled",
                "messageId": meteor_id(rng) if sent else None,
                "from": {"email": sender["email"], "name": sender["name"]},
                "scheduledAt": scheduled,
                "sentAt": scheduled + 5_000 if sent else None,
                "processedAt": scheduled + 5_000 if sent or failed else None,
                "scheduleBetween": {
                    "start": WINDOW_START_HOUR,
                    "end": WINDOW_END_HOUR,
                    "timezone": seq["timezone"],
                },
                "opens": opens,
                "clicks": clicks,
                "downloads": 0,
                "replied": replied,
                "senderReplied": 0,
                "bounced": 1 if failed else 0,
                "accepted": 0,
                "declined": 0,
                "tentative": 0,
                "hasOpens": opens if has_as_counts else int(opens > 0),
                "hasLinks": clicks if has_as_counts else int(clicks > 0),
                "hasFiles": 0,
                "failedError": "Recipient address rejected" if failed else None,
            }
        )
    row: dict[str, Any] = {
        "_id": rec.id,
        "userId": sender["_id"],
        "createdAt": rec.created,
        "updatedAt": rec.updated,
        "sequenceId": seq_id,
        "email": person["email"],
        "to": {"email": person["email"]},
        "sequence": {"_id": seq_id},
        "state": rec.state,
        "completedReason": "allStagesSent" if rec.state == "completed" else None,
        "lastStageSentOrdinal": sent_count - 1 if sent_count else None,
        "rstFailed": 1 if rec.state == "failed" else 0,
        "analytics": {
            "events": {
                "opens": opens_total,
                "clicks": clicks_total,
                "downloads": downloads_total,
            }
        },
        "stages": stages,
    }
    if variables:
        first = person["name"].split()[0]
        values = {
            "email": person["email"],
            "firstName": first,
            "company": person["email"].split("@")[1].split(".")[0].title(),
            "title": rng.choice(["CTO", "VP Sales", "Engineer"]),
            "city": rng.choice(["Paris", "Austin", "Berlin"]),
            "painPoint": rng.choice(["pipeline", "reporting", "hiring"]),
        }
        row["variables"] = {name: values.get(name, "") for name in seq["variables"]}
    return row


def sequence_folder_row(
    rng: random.Random, created: int, index: int, owner: dict[str, Any], seq_ids: list[str]
) -> dict[str, Any]:
    """A sequence folder of `owner` holding up to 3 of `seq_ids`, not shared."""
    return {
        "_id": object_id(rng, created),
        "name": f"Folder {index + 1}",
        "userId": owner["_id"],
        "createdAt": iso(created),
        "savedAt": iso(created + rng.randrange(DAY_MS)),
        "sequenceIds": rng.sample(seq_ids, min(len(seq_ids), 3)),
        "shared": {"users": [], "teams": []},
    }


def add_recipients(
    seq: Sequence, rng: random.Random, when: Callable[[], int], count: int
) -> list[str]:
    """`count` new active recipients; the sequence's `updatedAt` moves to the newest."""
    added: list[str] = []
    latest = 0
    for _ in range(count):
        at = when()
        rec = RecipientSeed(object_id(rng, at), at, at, "active", rng.getrandbits(32))
        seq.recipients.add(rec, at)
        latest = max(latest, at)
        added.append(rec.id)
    seq.row = dict(seq.row, updatedAt=iso(latest))
    return added


class Sequences(Ground):
    """A World's sequences, their recipients and its sequence folders."""

    sequences: dict[str, Sequence]

    def _build_sequences(self, rng: random.Random) -> None:
        self.sequences = {}
        self._collection("sequences")
        self._collection("sequence_recipients")  # placeholder for ids()/records()
        count = self.size["sequences"]
        for index in range(count):
            if self.scale == "small" and count == len(SMALL_RECIPIENT_COUNTS):
                n = SMALL_RECIPIENT_COUNTS[index]
            else:
                n = rng.randint(0, self.size["max_recipients"])
            self._new_sequence(rng, self._past(rng, SPAN_DAYS, 20), n, index)
        big = self.size.get("big_sequence_recipients", 0)
        if big:
            self._new_sequence(
                rng, self._past(rng, SPAN_DAYS, 200), big, count, name="Big campaign"
            )

    def _new_sequence(
        self, rng: random.Random, created: int, recipients: int, index: int, name: str | None = None
    ) -> dict[str, Any]:
        row = sequence_row(
            rng,
            created,
            index,
            owner=self.me,
            contacts=self.contacts,
            share_with=self.users[1],
            name=name,
        )
        seq_id = row["_id"]

        def render(rec: RecipientSeed, seq_id: str = seq_id) -> dict[str, Any]:
            return self.render_recipient(seq_id, rec)

        self.sequences[seq_id] = Sequence.build(
            row, *recipient_seeds(rng, created, recipients, self.now_ms), render
        )
        self.collections["sequences"].add(row, created)
        return row

    def render_recipient(
        self, seq_id: str, rec: RecipientSeed, variables: bool = True
    ) -> dict[str, Any]:
        return render_recipient(self.sequences[seq_id].row, rec, self.contacts, self.me, variables)

    def _build_sequence_folders(self, rng: random.Random) -> None:
        folders = self._collection("sequence_folders")
        seq_ids = [k[1] for k in self.collections["sequences"].keys]
        for index in range(self.size["sequence_folders"]):
            created = self._past(rng)
            folders.add(sequence_folder_row(rng, created, index, self.me, seq_ids))

    def _advance_sequences(self, tick: Tick) -> None:
        """A new sequence, recipients added to old ones, recipients changing state."""
        rng, start, _, _, new, changed = tick
        when, note = tick.when, tick.note
        sequences = self.collections["sequences"]
        index = len(sequences)
        old_sequences = [k[1] for k in sequences.keys]
        seq_row = self._new_sequence(rng, when(), 0, index)
        note(new, "sequences", seq_row["_id"])
        for seq_id in rng.sample(old_sequences, min(2, len(old_sequences))):
            seq = self.sequences[seq_id]
            for rec_id in add_recipients(seq, rng, when, rng.randint(1, 4)):
                note(new, "sequence_recipients", rec_id)
            sequences.replace(seq_id, seq.row)
            note(changed, "sequences", seq_id)
        active = [
            (seq_id, rec)
            for seq_id in old_sequences
            for rec in self.sequences[seq_id].recipients.items.values()
            if rec.state == "active" and rec.created < start
        ]
        for seq_id, rec in rng.sample(active, min(3, len(active))):
            state = rng.choice(("completed", "failed"))
            self.sequences[seq_id].recipients.replace(
                rec.id, rec._replace(state=state, updated=when())
            )
            note(changed, "sequence_recipients", rec.id)
