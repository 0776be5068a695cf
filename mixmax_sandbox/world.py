"""The seeded Mixmax world: every resource the API serves, and how time moves it.

The clock is anchored at a fixed instant (`ANCHOR`) so a seed always gives the same data;
the data spans about a year before it. Bulky resources (messages, live feed rows, their
events, sequence recipients) are kept as compact tuples and rendered to JSON-ready dicts
per request from a per-row seed, so `large` builds in seconds and stays small in memory.
Everything else is small and kept as dicts.

Fields served per resource, in the shapes live rows show (shapes.py has the documented
ones); types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

- **users (/users/me)**:
    _id (Meteor), email, name, createdAt ISO, timezone
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
- **messages**:
    _id (Meteor), userId, created ms, updatedAt ms, sent ms (sent only), scheduled ms
    (scheduled only), from{email,name,isDelegated}, to/cc/bcc[{email,name}], subject, body,
    trackingEnabled, linkTrackingEnabled, fileTrackingEnabled, notificationsEnabled,
    teamIds[], sequence{id,stageId,recipientId} (or null), attachments[{name,type,size}],
    followUp (null or {unparsedDate,trigger,description}), snippetIds[], sendingError +
    errorResponse (failed only: SMTP text or a {code,enhancedCode,message} object),
    crmsConnected[], showContentTeamFeed, syncToOrg
- **snippets**:
    _id, userId, createdAt ms, savedAt ms, savedBy, deletedAt ms/null, archivedAt ms/null,
    title, source, name, shared{users[{userId,email,role,accepted}],teams[]},
    customShortcut, isInline
- **snippet_tags**:
    _id, userId, createdAt ms, savedAt ms, name, shared{users[],teams[]}, isInline
- **polls**:
    _id, userId, created ms, livePoll, question, title, options[{text,
    respondents[{email,name,respondedAt ISO}]}]
- **unsubscribes**:
    _id, userId, email, name, teamId (or null), orgId, sequenceId, messageId, createdAt ISO
- **livefeed**:
    _id (Meteor), messageId, userId, recipients[{email,name}], fromEmail, fromName, subject,
    sent ms, service, serviceMessageId, serviceThreadId, lastEventAt ms/null, lastEventType,
    lastEventByEmail, lastEventByName, numOpens, numClicks, numDownloads, permaLink, and the
    0/1 flags includeInTeamLiveFeed, showContentTeamFeed, trackingMuted, wasReplied,
    wasBounced, wasAccepted, wasDeclined, wasTentative, wasDeliveredWithTrackedOpens,
    wasSentViaMixmax
- **livefeed_events**:
    _id, type (opened/clicked/downloaded/replied/bounced), timestamp ms, recipientEmail,
    recipientName, country, region, city, os, program (nullable), isMobile 0/1/null,
    linkUrl+linkText (clicked only), fileName (downloaded only)
- **teams**:
    _id (Meteor), name, createdAt ISO, modifiedAt ISO, users[{userId or email, role,
    accepted, dateAccepted ISO, dateInvited ISO}]
- **team_members**:
    memberId (hex), teamId, userId or email, role, accepted, acceptedAt ISO/null, invitedAt
    ISO
- **rules**:
    _id, userId, createdAt ISO, modifiedAt ISO, name, trigger{type,eventName}, filter (JSON
    string), isPaused; actions[] with expand=actions
- **rule_actions**:
    _id, ruleId, type, createdAt ISO, modifiedAt ISO, isPaused, webhookUrl
- **sequence_folders**:
    _id, name, userId, createdAt ISO, savedAt ISO, sequenceIds[], shared{users[],teams[]}
- **code_snippets**:
    _id, userId, createdAt ISO, html, title, background, theme, language, code
- **meeting_types**:
    _id, userId, createdAt ISO, updatedAt ISO, name, durationMin,
    daysFromNow{start,end,unit}, day0..day6{enabled,timeslots[{startTime,endTime}]},
    defaults{title,location,description}, link, buffer, calendarIds[], roundRobinQueue[]
    (numbers, odd rows), ruleIds[], integrations{zoom,hangoutsMeet} (booleans), and the
    live-only keys of shapes.meeting_type_fields
- **meeting_invites**:
    _id, userId, creationDate ms (a double), title, location, description, timezone,
    calendarName, locale, guestsCanModify, timeslots[{start ISO, end ISO,
    events[{id,customFields[{label,value} and bare text],guest{name,email}}]}],
    allowDoubleBookings, additionalGuests[] ({email,name} objects and bare emails),
    meetingTypeId, createdById, customFields[{label,required}], integrations{}
- **insights_reports**:
    _id, userId, title, type, query, createdAt ISO, updatedAt ISO
- **qa**:
    _id, creatorId, creationDate ms, title,
    questions[{type,content,answers[{recipientEmail,recipientName,answer}]}]
- **yesno**:
    _id, userId, created ms, text, answers[{text,respondents[{email,name,respondedAt ISO}]}]
    (odd rows: each answer's first respondent as a bare email)
- **file_requests**:
    _id, userId, timestamp ms, uploads[{timestamp ms,email,name,ipAddress,downloadUrl}]
- **user_preferences**:
    _id, userId, addUnsubscribeLinkToSequences, autoBccAddress,
    calendarAppointmentSlots{...}, defaultTrackingEnabled, signatures[], sendFromAccounts[],
    workHours{day0..day6}, weekStartDay, and the live-only keys of shapes.preference_fields
- **appointment_links**:
    userId, name (no _id: ids() returns userId)
- **integration_*** (integrations.py) and **snippet_tag_snippets** (tagging.py)
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import tagging
from .ids import UTC, iso, meteor_id, object_id, to_ms
from .integrations import build_integrations
from .shapes import (
    WINDOW_END_HOUR,
    WINDOW_START_HOUR,
    meeting_type_fields,
    preference_fields,
    round_robin_queue,
    share_user,
)

ANCHOR = dt.datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
ANCHOR_MS = int(ANCHOR.timestamp() * 1000)
DAY_MS = 86_400_000
SPAN_DAYS = 365
TOKEN_PREFIX = "sbx_"
EVENTS_CAP = 200  # /livefeed/events serves at most the 200 newest events of a message
CAPPED_MESSAGE_EVENTS = 230  # one message gets more than the cap, to exercise it
# Drafts get sent and polls get votes within RECENT_DAYS of creation (the tap re-reads a
# 7-day lookback); the build makes RECENT_ROWS such drafts and polls.
RECENT_DAYS = 5
RECENT_ROWS = 3
BASE_EVENTS_DAYS = 20  # a message's own events happen within 20 days of sending
ISO_CREATED_AT_NUMBER_EVERY = 10  # 1 in 10 sequences has createdAt as epoch ms (AB `%ms`)
# Fields Mixmax sends in more than one shape (the tap coerces them to one type): the
# other shape is chosen by row index or per-row seed, never by a draw from the build's
# random stream, so every id and count stays what it was.
ERROR_RESPONSE_OBJECT_RATE = 0.5  # failed messages: errorResponse an object, not text

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

SCALES: dict[str, dict[str, int]] = {
    # A handful of rows per resource: for organisations of hundreds of users (org.py).
    "tiny": {
        "messages": 12,
        "sequences": 3,
        "max_recipients": 20,
        "snippets": 4,
        "snippet_tags": 2,
        "polls": 3,
        "unsubscribes": 3,
        "teams": 1,
        "rules": 2,
        "sequence_folders": 2,
        "code_snippets": 1,
        "meeting_types": 2,
        "meeting_invites": 2,
        "insights_reports": 1,
        "qa": 1,
        "yesno": 1,
        "file_requests": 2,
        "big_sequence_recipients": 0,
    },
    "small": {
        "messages": 150,
        "sequences": 12,
        "max_recipients": 400,
        "snippets": 40,
        "snippet_tags": 6,
        "polls": 20,
        "unsubscribes": 30,
        "teams": 2,
        "rules": 5,
        "sequence_folders": 4,
        "code_snippets": 5,
        "meeting_types": 4,
        "meeting_invites": 6,
        "insights_reports": 5,
        "qa": 5,
        "yesno": 5,
        "file_requests": 6,
        "big_sequence_recipients": 0,
    },
    "medium": {
        "messages": 5_000,
        "sequences": 40,
        "max_recipients": 1_200,
        "snippets": 300,
        "snippet_tags": 20,
        "polls": 100,
        "unsubscribes": 500,
        "teams": 4,
        "rules": 12,
        "sequence_folders": 10,
        "code_snippets": 20,
        "meeting_types": 10,
        "meeting_invites": 40,
        "insights_reports": 15,
        "qa": 20,
        "yesno": 20,
        "file_requests": 30,
        "big_sequence_recipients": 0,
    },
    "large": {
        "messages": 100_000,
        "sequences": 100,
        "max_recipients": 3_000,
        "snippets": 1_000,
        "snippet_tags": 40,
        "polls": 500,
        "unsubscribes": 3_000,
        "teams": 6,
        "rules": 20,
        "sequence_folders": 20,
        "code_snippets": 40,
        "meeting_types": 20,
        "meeting_invites": 200,
        "insights_reports": 30,
        "qa": 50,
        "yesno": 50,
        "file_requests": 100,
        "big_sequence_recipients": 0,
    },
}
# Small-scale recipient counts per sequence: 0..400, one above 300 so offsets span pages.
SMALL_RECIPIENT_COUNTS = (0, 5, 12, 40, 80, 120, 150, 200, 260, 310, 400, 25)

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "Guido",
    "Katherine",
    "John",
    "Anita",
    "Donald",
    "Lynn",
    "Niklaus",
]
LAST_NAMES = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Rossum",
    "Johnson",
    "McCarthy",
    "Borg",
    "Knuth",
    "Conway",
    "Wirth",
]
DOMAINS = ("acme.com", "globex.io", "initech.net", "umbrella.org", "hooli.xyz", "stark.co")
SUBJECTS = (
    "Quick question",
    "Following up",
    "Intro: {co} <> Mixmax",
    "Re: pricing",
    "Next steps",
    "Meeting recap",
    "Your trial",
    "Proposal for {co}",
    "Checking in",
    "Case study you asked for",
)
TIMEZONES = ("America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin")
CITIES = (
    ("US", "CA", "San Francisco"),
    ("US", "NY", "New York"),
    ("GB", "ENG", "London"),
    ("DE", "BE", "Berlin"),
    (None, None, None),
)
OSES = (
    ("Mac OS X", "Chrome", 0),
    ("Windows", "Outlook", 0),
    ("iOS", "Mail", 1),
    (None, None, None),
)
TEAM_NAMES = ("Sales", "Success", "Marketing", "Ops", "Eng", "HR")
EVENT_TYPES = ("opened", "opened", "opened", "clicked", "downloaded", "replied", "bounced")
# One sent sequence stage in this many has a reply.
REPLY_EVERY = 7


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def token_for(seed: int) -> str:
    """The token a seed's sandbox accepts by default."""
    return TOKEN_PREFIX + hashlib.sha256(f"mixmax-sandbox-token:{seed}".encode()).hexdigest()[:32]


def _person(rng: random.Random) -> dict[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower().replace('-', '')}@{rng.choice(DOMAINS)}"
    return {"email": email, "name": f"{first} {last}"}


class MessageSeed(NamedTuple):
    """A message kept compactly; rendered per request."""

    id: str
    created: int
    updated: int
    user: int  # index into World.users
    state: str  # draft | scheduled | sent | failed
    seed: int
    sent: int | None
    scheduled: int | None


class EventSeed(NamedTuple):
    timestamp: int
    id: str
    type: str
    recipient: int  # index into the message's recipients
    seed: int


class RecipientSeed(NamedTuple):
    id: str
    created: int
    updated: int
    state: str  # active | failed | completed
    seed: int


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


class World:
    """All data of one seeded sandbox user. Guard reads and `advance` with `lock`.

    `user_index` 0 is the single-user sandbox of old; other indexes draw from their own
    random streams (distinct ids) and get an email of their own (org.py builds those).
    """

    def __init__(
        self, seed: int = 42, scale: str = "small", *, user_index: int = 0, **overrides: int
    ) -> None:
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
        self._stats_cache: dict[tuple[Any, ...], dict[str, Any]] = {}
        rng = self._rng("world")
        self._build_people(rng)
        self.collections: dict[str, Collection] = {}
        self.extra_events: dict[str, list[EventSeed]] = {}
        self.sequences: dict[str, Sequence] = {}
        self._build_messages(self._rng("messages"))
        self._build_sequences(self._rng("sequences"))
        self._build_snippets(self._rng("snippets"))
        self._build_polls_and_friends(self._rng("polls"))
        self._build_unsubscribes(self._rng("unsubscribes"))
        self._build_teams(self._rng("teams"))
        self._build_rules(self._rng("rules"))
        self._build_misc(self._rng("misc"))
        build_integrations(self)  # integrations.py

    # ----------------------------------------------------------------- helpers
    def _rng(self, *parts: object) -> random.Random:
        """A random stream of this world's seed (and user, beyond the first)."""
        if self.user_index:
            return _rng(self.seed, "user", self.user_index, *parts)
        return _rng(self.seed, *parts)

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

    # ------------------------------------------------------------------ people
    def _build_people(self, rng: random.Random) -> None:
        self.users: list[dict[str, Any]] = []
        for index in range(4):
            person = _person(rng)
            local = person["email"].split("@")[0]
            if index == 0 and self.user_index:
                local += str(self.user_index)  # names end in a letter: unique in the org
            person["email"] = local + "@sandbox-corp.com"
            self.users.append(
                {
                    "_id": meteor_id(rng),
                    "email": person["email"],
                    "name": person["name"],
                    "createdAt": iso(ANCHOR_MS - (800 - index * 50) * DAY_MS),
                    "timezone": rng.choice(TIMEZONES),
                }
            )
        self.contacts = [_person(rng) for _ in range(60)]
        self.team_ids: list[str] = []

    # ---------------------------------------------------------------- messages
    def _new_message(
        self, rng: random.Random, created: int, state: str | None = None
    ) -> MessageSeed:
        if state is None:
            roll = rng.random()
            state = (
                "sent"
                if roll < 0.67
                else "draft"
                if roll < 0.82
                else "scheduled"
                if roll < 0.92
                else "failed"
            )
        user = 0 if rng.random() < 0.75 else rng.randrange(1, len(self.users))
        sent = scheduled = None
        updated = created + rng.randrange(0, 3_600_000)
        if state == "sent":
            sent = created + rng.randrange(1_000, 3_600_000)
            updated = sent
        elif state == "scheduled":
            scheduled = self.now_ms + rng.randrange(DAY_MS // 4, 5 * DAY_MS)
        updated = min(updated, self.now_ms)
        if sent is not None:
            sent = min(sent, self.now_ms)
            updated = max(updated, sent)
        return MessageSeed(
            meteor_id(rng), created, updated, user, state, rng.getrandbits(48), sent, scheduled
        )

    def _build_messages(self, rng: random.Random) -> None:
        messages = self._collection("messages", self.render_message)
        self._collection("livefeed", self.render_livefeed)
        self.livefeed_by_message: dict[str, str] = {}
        count = self.size["messages"]
        capped_done = False
        for index in range(count):
            # A few drafts of the last days, so advance() has drafts to send.
            recent = index >= count - RECENT_ROWS
            created = self._past(rng, RECENT_DAYS, 0.05) if recent else self._past(rng)
            msg = self._new_message(rng, created, "draft" if recent else None)
            messages.add(msg, msg.created)
            if msg.sent is not None:
                self._add_livefeed(msg)
                if not capped_done and self.now_ms - msg.sent > 30 * DAY_MS:
                    self.extra_events[msg.id] = self._burst_events(msg, CAPPED_MESSAGE_EVENTS)
                    capped_done = True

    def _add_livefeed(self, msg: MessageSeed) -> None:
        assert msg.sent is not None
        feed_id = meteor_id(self._rng("livefeed", msg.id))
        self.livefeed_by_message[msg.id] = feed_id
        coll = self.collections["livefeed"]
        coll.items[feed_id] = msg.id  # the feed row renders from its message
        bisect.insort(coll.keys, (msg.sent, feed_id))

    def _message_people(
        self, msg: MessageSeed
    ) -> tuple[random.Random, list[dict[str, str]], list[dict[str, str]], list[dict[str, str]]]:
        rng = random.Random(msg.seed)
        to = [rng.choice(self.contacts) for _ in range(rng.randint(1, 3))]
        cc = [rng.choice(self.contacts)] if rng.random() < 0.2 else []
        bcc = [rng.choice(self.contacts)] if rng.random() < 0.1 else []
        return rng, to, cc, bcc

    def render_message(self, msg: MessageSeed) -> dict[str, Any]:
        rng, to, cc, bcc = self._message_people(msg)
        user = self.users[msg.user]
        contact = to[0]
        company = contact["email"].split("@")[1].split(".")[0].title()
        subject = rng.choice(SUBJECTS).format(co=company)
        in_sequence = rng.random() < 0.3
        row: dict[str, Any] = {
            "_id": msg.id,
            "userId": user["_id"],
            "created": msg.created,
            "updatedAt": msg.updated,
            "from": {"email": user["email"], "name": user["name"], "isDelegated": False},
            "to": [dict(p) for p in to],
            "cc": [dict(p) for p in cc],
            "bcc": [dict(p) for p in bcc],
            "subject": subject,
            "body": f"<div>Hi {contact['name'].split()[0]},</div><div>{subject}.</div>",
            "trackingEnabled": rng.random() < 0.9,
            "linkTrackingEnabled": rng.random() < 0.8,
            "fileTrackingEnabled": rng.random() < 0.7,
            "notificationsEnabled": rng.random() < 0.5,
            "teamIds": self.team_ids[:1],
            "sequence": (
                {
                    "id": object_id(rng, msg.created),
                    "stageId": object_id(rng, msg.created),
                    "recipientId": object_id(rng, msg.created),
                }
                if in_sequence
                else None
            ),
            "attachments": (
                [
                    {
                        "name": "deck.pdf",
                        "type": "application/pdf",
                        "size": rng.randrange(10**4, 10**6),
                    }
                ]
                if rng.random() < 0.15
                else []
            ),
            "followUp": (
                {"unparsedDate": "in 3 days", "trigger": "noReply", "description": "no reply"}
                if rng.random() < 0.1
                else None
            ),
            "snippetIds": [],
            "crmsConnected": [{"name": "salesforce", "logTo": "contact"}]
            if rng.random() < 0.2
            else [],
            "showContentTeamFeed": rng.random() < 0.5,
            "syncToOrg": rng.random() < 0.3,
        }
        if msg.sent is not None:
            row["sent"] = msg.sent
        if msg.scheduled is not None:
            row["scheduled"] = msg.scheduled
        if msg.state == "failed":
            row["sendingError"] = "Message rejected by the mail server"
            reply = "The email account that you tried to reach does not exist"
            row["errorResponse"] = (
                {"code": 550, "enhancedCode": "5.1.1", "message": reply}
                if rng.random() < ERROR_RESPONSE_OBJECT_RATE
                else f"550 5.1.1 {reply}"
            )
        return row

    # ------------------------------------------------------------ livefeed + events
    def _base_events(self, msg: MessageSeed) -> list[EventSeed]:
        assert msg.sent is not None
        rng = random.Random(msg.seed ^ 0x5EED)
        if rng.random() < 0.5:
            return []
        events = []
        for _ in range(rng.randint(1, 6)):
            ts = rng.randint(msg.sent + 1_000, msg.sent + BASE_EVENTS_DAYS * DAY_MS)
            events.append(
                EventSeed(
                    ts,
                    object_id(rng, ts),
                    rng.choice(EVENT_TYPES),
                    rng.randrange(6),
                    rng.getrandbits(32),
                )
            )
        return events

    def _burst_events(self, msg: MessageSeed, count: int) -> list[EventSeed]:
        assert msg.sent is not None
        rng = random.Random(msg.seed ^ 0xCA9)
        events = []
        for index in range(count):
            ts = msg.sent + 60_000 * (index + 1) + rng.randrange(1_000)
            events.append(
                EventSeed(ts, object_id(rng, ts), "opened", rng.randrange(6), rng.getrandbits(32))
            )
        return events

    def events_of(self, msg: MessageSeed) -> list[EventSeed]:
        """Every event of a sent message, oldest first (not only the served 200)."""
        events = [e for e in self._base_events(msg) if e.timestamp <= self.now_ms]
        events += self.extra_events.get(msg.id, [])
        events.sort(key=lambda e: (e.timestamp, e.id))
        return events

    def message(self, message_id: str) -> MessageSeed:
        item = self.collections["messages"].items[message_id]
        assert isinstance(item, MessageSeed)
        return item

    def render_event(self, msg: MessageSeed, event: EventSeed) -> dict[str, Any]:
        _, to, cc, bcc = self._message_people(msg)
        people = to + cc + bcc
        person = people[event.recipient % len(people)]
        rng = random.Random(event.seed)
        country, region, city = rng.choice(CITIES)
        os_name, program, mobile = rng.choice(OSES)
        row: dict[str, Any] = {
            "_id": event.id,
            "type": event.type,
            "timestamp": event.timestamp,
            "recipientEmail": person["email"],
            "recipientName": person["name"],
            "country": country,
            "region": region,
            "city": city,
            "os": os_name,
            "program": program,
            "isMobile": mobile,
        }
        if event.type == "clicked":
            row["linkUrl"] = "https://www.mixmax.com/pricing"
            row["linkText"] = "our pricing"
        elif event.type == "downloaded":
            row["fileName"] = "deck.pdf"
        return row

    def render_livefeed(self, message_id: str) -> dict[str, Any]:
        msg = self.message(message_id)
        assert msg.sent is not None
        message = self.render_message(msg)
        events = self.events_of(msg)
        people = message["to"] + message["cc"] + message["bcc"]
        last = events[-1] if events else None
        last_person = people[last.recipient % len(people)] if last else None
        types = [e.type for e in events]
        rng = random.Random(msg.seed ^ 0xFEED)
        thread = f"{rng.getrandbits(64):016x}"
        return {
            "_id": self.livefeed_by_message[msg.id],
            "messageId": msg.id,
            "userId": message["userId"],
            "recipients": people,
            "fromEmail": message["from"]["email"],
            "fromName": message["from"]["name"],
            "subject": message["subject"],
            "sent": msg.sent,
            "service": "gmail",
            "serviceMessageId": f"{rng.getrandbits(64):016x}",
            "serviceThreadId": thread,
            "includeInTeamLiveFeed": 1 if rng.random() < 0.8 else 0,
            "showContentTeamFeed": int(message["showContentTeamFeed"]),
            "lastEventAt": last.timestamp if last else None,
            "lastEventType": last.type if last else None,
            "lastEventByEmail": last_person["email"] if last_person else None,
            "lastEventByName": last_person["name"] if last_person else None,
            "numOpens": types.count("opened"),
            "numClicks": types.count("clicked"),
            "numDownloads": types.count("downloaded"),
            "permaLink": f"https://app.mixmax.com/m/{thread}",
            # Flags are 0/1 numbers on live rows (docs/mixmax-api.md 2.5).
            "trackingMuted": int(not message["trackingEnabled"]),
            "wasReplied": int("replied" in types),
            "wasBounced": int("bounced" in types),
            "wasAccepted": 0,
            "wasDeclined": 0,
            "wasTentative": 0,
            "wasDeliveredWithTrackedOpens": int(
                message["trackingEnabled"] and "bounced" not in types
            ),
            "wasSentViaMixmax": 1,
        }

    def served_events(self, message_id: str) -> list[EventSeed]:
        """The events /livefeed/events can serve for a message: the newest EVENTS_CAP."""
        events = self.events_of(self.message(message_id))
        return events[-EVENTS_CAP:]

    def livefeed_stats(self, feed_ids: list[str], cache_key: tuple[Any, ...]) -> dict[str, Any]:
        key = (self.version, *cache_key)
        cached = self._stats_cache.get(key)
        if cached is not None:
            return cached
        totals = dict.fromkeys(
            ("sent", "delivered", "opened", "clicked", "downloaded", "replied", "bounced",
             "accepted", "declined", "tentative", "recipients"),
            0,
        )  # fmt: skip
        for feed_id in feed_ids:
            row = self.render_livefeed(self.collections["livefeed"].items[feed_id])
            totals["sent"] += 1
            totals["delivered"] += 0 if row["wasBounced"] else 1
            totals["opened"] += 1 if row["numOpens"] else 0
            totals["clicked"] += 1 if row["numClicks"] else 0
            totals["downloaded"] += 1 if row["numDownloads"] else 0
            totals["replied"] += 1 if row["wasReplied"] else 0
            totals["bounced"] += 1 if row["wasBounced"] else 0
            totals["recipients"] += len(row["recipients"])
        sent = totals["sent"]
        percentages = {
            name: round(100.0 * totals[name] / sent, 1) if sent else 0.0
            for name in ("delivered", "opened", "clicked", "downloaded", "replied", "bounced")
        }
        percentages.update(unsubscribed=0.0, tasksCompleted=0.0)
        stats = {**totals, "percentages": percentages}
        self._stats_cache = {key: stats}
        return stats

    # --------------------------------------------------------------- sequences
    def _build_sequences(self, rng: random.Random) -> None:
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

    # ------------------------------------------------------------- snippets
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

    # ------------------------------------------------------------ polls, qa, yesno
    def _respondent(self, rng: random.Random, after: int) -> dict[str, Any]:
        person = rng.choice(self.contacts)
        when = min(self.now_ms, after + rng.randrange(1_000, 5 * DAY_MS))
        return {"email": person["email"], "name": person["name"], "respondedAt": iso(when)}

    def _poll(self, rng: random.Random, created: int) -> dict[str, Any]:
        question = rng.choice(["Which day works?", "Pick a venue", "Best time for a demo?"])
        options = []
        for text in rng.sample(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], 3):
            options.append(
                {
                    "text": text,
                    "respondents": [
                        self._respondent(rng, created) for _ in range(rng.randint(0, 3))
                    ],
                }
            )
        return {
            "_id": object_id(rng, created),
            "userId": self.me["_id"],
            "created": created,
            "livePoll": rng.random() < 0.3,
            "question": question,
            "title": question,
            "options": options,
        }

    def _build_polls_and_friends(self, rng: random.Random) -> None:
        polls = self._collection("polls")
        for index in range(self.size["polls"]):
            recent = index >= self.size["polls"] - RECENT_ROWS  # polls that still get votes
            created = self._past(rng, RECENT_DAYS, 0.5) if recent else self._past(rng)
            polls.add(self._poll(rng, created))
        qa = self._collection("qa")
        for index in range(self.size["qa"]):
            created = self._past(rng)
            qa.add(
                {
                    "_id": object_id(rng, created),
                    "creatorId": self.me["_id"],
                    "creationDate": created,
                    "title": f"Survey {index + 1}",
                    "questions": [
                        {
                            "type": "text",
                            "content": "What are you hoping to solve?",
                            "answers": [
                                {
                                    "recipientEmail": p["email"],
                                    "recipientName": p["name"],
                                    "answer": rng.choice(["Pipeline", "Reporting"]),
                                }
                                for p in rng.sample(self.contacts, rng.randint(0, 3))
                            ],
                        }
                    ],
                }
            )
        yesno = self._collection("yesno")
        for index in range(self.size["yesno"]):
            created = self._past(rng)
            row_id = object_id(rng, created)  # drawn before the answers, as ever
            answers: list[dict[str, Any]] = []
            for text in ("Yes", "No"):
                respondents: list[Any] = [
                    self._respondent(rng, created) for _ in range(rng.randint(0, 2))
                ]
                if index % 2 and respondents:  # Mixmax also lists a bare email address
                    respondents[0] = respondents[0]["email"]
                answers.append({"text": text, "respondents": respondents})
            yesno.add(
                {
                    "_id": row_id,
                    "userId": self.me["_id"],
                    "created": created,
                    "text": f"Interested in a follow-up? ({index + 1})",
                    "answers": answers,
                }
            )

    # ------------------------------------------------------------ unsubscribes
    def _unsubscribe(self, rng: random.Random, created: int) -> dict[str, Any]:
        person = rng.choice(self.contacts)
        messages = self.collections["messages"].keys
        sequences = self.collections["sequences"].keys
        return {
            "_id": object_id(rng, created),
            "userId": self.me["_id"],
            "email": person["email"],
            "name": person["name"],
            "teamId": self.team_ids[0] if self.team_ids and rng.random() < 0.3 else None,
            "orgId": self.org_id,
            # From the row's own instant, not the random stream: the ids stay as they were.
            "sequenceId": sequences[created % len(sequences)][1] if sequences else None,
            "messageId": rng.choice(messages)[1] if messages else None,
            "createdAt": iso(created),
        }

    def _build_unsubscribes(self, rng: random.Random) -> None:
        unsubscribes = self._collection("unsubscribes")
        for _ in range(self.size["unsubscribes"]):
            unsubscribes.add(self._unsubscribe(rng, self._past(rng)))

    # ------------------------------------------------------------------ teams
    def _build_teams(self, rng: random.Random) -> None:
        teams = self._collection("teams")
        members = self._collection("team_members", id_field="memberId")
        for index in range(self.size["teams"]):
            created = self._past(rng, 700, 300)
            team_id = meteor_id(rng)
            self.team_ids.append(team_id)
            embedded = []
            for position in range(5 if index == 0 else rng.randint(2, 4)):
                invited = created + position * DAY_MS + rng.randrange(DAY_MS)
                pending = position == 4
                member: dict[str, Any] = {"memberId": object_id(rng, invited), "teamId": team_id}
                if pending:
                    member["email"] = rng.choice(self.contacts)["email"]
                else:
                    member["userId"] = self.users[position % len(self.users)]["_id"]
                member.update(
                    role="admin" if position == 0 else "member",
                    accepted=not pending,
                    acceptedAt=None if pending else iso(invited + 3_600_000),
                    invitedAt=iso(invited),
                )
                members.add(member)
                entry = {
                    k: v for k, v in member.items() if k in ("userId", "email", "role", "accepted")
                }
                entry.update(dateAccepted=member["acceptedAt"], dateInvited=member["invitedAt"])
                embedded.append(entry)
            teams.add(
                {
                    "_id": team_id,
                    "name": f"Team {TEAM_NAMES[index % len(TEAM_NAMES)]}",
                    "createdAt": iso(created),
                    "modifiedAt": iso(created + 10 * DAY_MS),
                    "users": embedded,
                }
            )

    # ------------------------------------------------------------------ rules
    def _build_rules(self, rng: random.Random) -> None:
        rules = self._collection("rules")
        actions = self._collection("rule_actions")
        for index in range(self.size["rules"]):
            created = self._past(rng, SPAN_DAYS, 10)
            event = rng.choice(["message:sent", "opened", "clicked", "poll:vote", "qa:submit"])
            rule_id = object_id(rng, created)
            rules.add(
                {
                    "_id": rule_id,
                    "userId": self.me["_id"],
                    "createdAt": iso(created),
                    "modifiedAt": iso(created + rng.randrange(DAY_MS * 5)),
                    "name": f"Rule {index + 1}: {event}",
                    "trigger": {"type": "event", "eventName": event},
                    "filter": json.dumps({"recipients.email": {"$regex": "@acme.com$"}}),
                    "isPaused": rng.random() < 0.2,
                }
            )
            for position in range(3 if index == 0 else rng.randint(1, 2)):
                at = created + (position + 1) * 60_000
                actions.add(
                    {
                        "_id": object_id(rng, at),
                        "ruleId": rule_id,
                        "type": "webhook",
                        "createdAt": iso(at),
                        "modifiedAt": iso(at),
                        "isPaused": False,
                        "webhookUrl": f"https://hooks.example.com/mixmax/{index}/{position}",
                    }
                )

    def rule_actions(self, rule_id: str) -> list[tuple[int, str]]:
        coll = self.collections["rule_actions"]
        return [k for k in coll.keys if coll.items[k[1]]["ruleId"] == rule_id]

    def team_members(self, team_id: str) -> list[tuple[int, str]]:
        coll = self.collections["team_members"]
        return [k for k in coll.keys if coll.items[k[1]]["teamId"] == team_id]

    # ------------------------------------------------------------------ misc
    def _build_misc(self, rng: random.Random) -> None:
        me = self.me["_id"]
        folders = self._collection("sequence_folders")
        seq_ids = [k[1] for k in self.collections["sequences"].keys]
        for index in range(self.size["sequence_folders"]):
            created = self._past(rng)
            folders.add(sequence_folder_row(rng, created, index, self.me, seq_ids))
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
        meeting_types = self._collection("meeting_types")
        type_ids = []
        for index in range(self.size["meeting_types"]):
            created = self._past(rng)
            days = {
                f"day{d}": {
                    "enabled": 1 <= d <= 5,
                    "timeslots": [{"startTime": "09:00:00", "endTime": "17:00:00"}]
                    if 1 <= d <= 5
                    else [],
                }
                for d in range(7)
            }
            row = {
                "_id": object_id(rng, created),
                "userId": me,
                "createdAt": iso(created),
                "updatedAt": iso(created + rng.randrange(DAY_MS * 3)),
                "name": f"{[15, 30, 45, 60][index % 4]} minute meeting",
                "durationMin": [15, 30, 45, 60][index % 4],
                "daysFromNow": {"start": 0, "end": 14, "unit": "days"},
                **days,
                "defaults": {"title": "Intro call", "location": "Zoom", "description": ""},
                "link": f"https://cal.mixmax.com/sandbox/{index + 1}",
                "buffer": 10,
                "calendarIds": [self.me["email"]],
                "roundRobinQueue": round_robin_queue(index),
                "ruleIds": [],
                "integrations": {"zoom": True, "hangoutsMeet": False},
                **meeting_type_fields(index),
            }
            type_ids.append(row["_id"])
            meeting_types.add(row)
        invites = self._collection("meeting_invites")
        for index in range(self.size["meeting_invites"]):
            created = self._past(rng)
            start = created + rng.randrange(1, 7) * DAY_MS
            guest = rng.choice(self.contacts)
            other = self.contacts[index % len(self.contacts)]
            company = other["email"].split("@")[1].split(".")[0].title()
            invites.add(
                {
                    "_id": object_id(rng, created),
                    "userId": me,
                    "creationDate": float(created) + 0.5,
                    "title": f"Demo #{index + 1}",
                    "location": "Zoom",
                    "description": "",
                    "timezone": rng.choice(TIMEZONES),
                    "calendarName": self.me["email"],
                    "locale": "en",
                    "guestsCanModify": False,
                    "timeslots": [
                        {
                            "start": iso(start),
                            "end": iso(start + 1_800_000),
                            "events": [
                                {
                                    "id": f"evt{index}",
                                    # An answer as an object, and one as bare text.
                                    "customFields": [{"label": "Company", "value": company}, "Q3"],
                                    "guest": dict(guest),
                                }
                            ]
                            if rng.random() < 0.5
                            else [],
                        }
                    ],
                    "allowDoubleBookings": False,
                    # An object, a bare email address, or both.
                    "additionalGuests": [
                        [],
                        [other["email"]],
                        [{"email": other["email"], "name": other["name"]}, guest["email"]],
                    ][index % 3],
                    "meetingTypeId": rng.choice(type_ids) if type_ids else None,
                    "createdById": me,
                    "customFields": [{"label": "Company", "required": False}],
                    "integrations": {},
                }
            )
        reports = self._collection("insights_reports")
        for index in range(self.size["insights_reports"]):
            created = self._past(rng)
            reports.add(
                {
                    "_id": object_id(rng, created),
                    "userId": me,
                    "title": f"Report {index + 1}",
                    "type": rng.choice(["messages", "sequences", "meetings"]),
                    "query": "sent:last30days from:everyone",
                    "createdAt": iso(created),
                    "updatedAt": iso(created + rng.randrange(DAY_MS * 5)),
                }
            )
        files = self._collection("file_requests")
        for _ in range(self.size["file_requests"]):
            created = self._past(rng)
            uploads = []
            for _ in range(rng.randint(0, 3)):
                person = rng.choice(self.contacts)
                at = created + rng.randrange(DAY_MS)
                uploads.append(
                    {
                        "timestamp": at,
                        "email": person["email"],
                        "name": person["name"],
                        "ipAddress": f"203.0.113.{rng.randrange(1, 255)}",
                        "downloadUrl": f"https://files.mixmax.com/{rng.getrandbits(64):016x}",
                    }
                )
            files.add(
                {
                    "_id": object_id(rng, created),
                    "userId": me,
                    "timestamp": created,
                    "uploads": uploads,
                }
            )
        self.user_preferences = {
            "_id": object_id(rng, ANCHOR_MS - 700 * DAY_MS),
            "userId": me,
            "addUnsubscribeLinkToSequences": True,
            "autoBccAddress": None,
            "calendarAppointmentSlots": {
                "linkEnabled": True,
                "limitMaxBookedSlots": {"enabled": False, "perDay": 4},
            },
            "defaultTrackingEnabled": True,
            "signatures": [{"email": self.me["email"], "source": f"<div>{self.me['name']}</div>"}],
            "sendFromAccounts": [
                {
                    "email": self.me["email"],
                    "name": self.me["name"],
                    "isAlias": False,
                    "isGmailDefault": True,
                }
            ],
            "workHours": {
                f"day{d}": {
                    "enabled": 1 <= d <= 5,
                    "timeslots": [{"startTime": "09:00:00", "endTime": "17:00:00"}]
                    if 1 <= d <= 5
                    else [],
                }
                for d in range(7)
            },
            "weekStartDay": 1,
            **preference_fields(),
        }
        self.appointment_link = {"userId": me, "name": self.me["name"].lower().replace(" ", "-")}

    # ------------------------------------------------------ resource views
    def records(self, resource: str) -> list[dict[str, Any]]:
        """Every row the API can currently return for a resource, as it serialises them."""
        if resource == "users":
            return [dict(self.me)]
        if resource == "user_preferences":
            return [json.loads(json.dumps(self.user_preferences))]
        if resource == "appointment_links":
            return [dict(self.appointment_link)]
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
        if resource == "appointment_links":
            return [self.appointment_link["userId"]]
        if resource == "users":
            return [self.me["_id"]]
        if resource == "user_preferences":
            return [self.user_preferences["_id"]]
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
            rng = self._rng("advance", self.advances)
            start = self.now_ms
            self.now_ms = end = start + int(days * DAY_MS)
            new: dict[str, list[str]] = {}
            changed: dict[str, list[str]] = {}

            def when() -> int:
                return rng.randint(start + 1, end)

            def note(kind: dict[str, list[str]], resource: str, row_id: str) -> None:
                bucket = kind.setdefault(resource, [])
                if row_id not in bucket:
                    bucket.append(row_id)

            scale_days = max(1.0, days)
            messages = self.collections["messages"]
            # New messages; the sent ones get live feed rows (and maybe events).
            for _ in range(max(5, int(self.size["messages"] / SPAN_DAYS * days))):
                created = when()
                msg = self._new_message(rng, created)
                if msg.sent is not None and msg.sent > end:
                    msg = msg._replace(sent=end, updated=end)
                messages.add(msg, msg.created)
                note(new, "messages", msg.id)
                if msg.sent is not None:
                    self._add_livefeed(msg)
                    note(new, "livefeed", self.livefeed_by_message[msg.id])
                    for event in self._base_events(msg):
                        if event.timestamp <= end:
                            note(new, "livefeed_events", event.id)
            # Drafts of the last two weeks become sent: `sent` set, updatedAt moves.
            recent_drafts = []
            for sort_ms, msg_id in reversed(messages.keys):
                if sort_ms < start - RECENT_DAYS * DAY_MS:
                    break
                if messages.items[msg_id].state == "draft" and msg_id not in new.get(
                    "messages", []
                ):
                    recent_drafts.append(msg_id)
            for msg_id in recent_drafts[:2]:
                sent = when()
                msg = messages.items[msg_id]._replace(state="sent", sent=sent, updated=sent)
                messages.replace(msg_id, msg)
                self._add_livefeed(msg)
                note(changed, "messages", msg_id)
                note(new, "livefeed", self.livefeed_by_message[msg_id])
            # Events of recent messages that happen in this window (their own timeline).
            feed = self.collections["livefeed"]
            since = bisect.bisect_left(feed.keys, (start - BASE_EVENTS_DAYS * DAY_MS, ""))
            for _, feed_id in feed.keys[since:]:
                msg = self.message(feed.items[feed_id])
                for event in self._base_events(msg):
                    if start < event.timestamp <= end and msg.id not in new.get("messages", []):
                        note(new, "livefeed_events", event.id)
                        note(changed, "livefeed", feed_id)
            # Events on earlier messages, including some sent about three weeks ago.
            lo = bisect.bisect_left(feed.keys, (start - 25 * DAY_MS, ""))
            hi = bisect.bisect_left(feed.keys, (start - 8 * DAY_MS, ""))
            recent_lo = bisect.bisect_left(feed.keys, (start - 8 * DAY_MS, ""))
            old_pool = feed.keys[lo:hi]
            recent_pool = [k for k in feed.keys[recent_lo:] if k[0] < start]
            targets = rng.sample(old_pool, min(len(old_pool), 3)) + rng.sample(
                recent_pool, min(len(recent_pool), 3)
            )
            for _, feed_id in targets:
                msg = self.message(feed.items[feed_id])
                extra = self.extra_events.setdefault(msg.id, [])
                for _ in range(rng.randint(1, 3)):
                    ts = when()
                    event = EventSeed(
                        ts,
                        object_id(rng, ts),
                        rng.choice(EVENT_TYPES),
                        rng.randrange(6),
                        rng.getrandbits(32),
                    )
                    extra.append(event)
                    note(new, "livefeed_events", event.id)
                note(changed, "livefeed", feed_id)
            # Unsubscribes.
            unsubscribes = self.collections["unsubscribes"]
            for _ in range(max(1, int(2 * scale_days))):
                row = self._unsubscribe(rng, when())
                unsubscribes.add(row)
                note(new, "unsubscribes", row["_id"])
            # A new poll, and votes on existing recent polls.
            polls = self.collections["polls"]
            poll = self._poll(rng, when())
            polls.add(poll)
            note(new, "polls", poll["_id"])
            voting = [
                k[1]
                for k in polls.keys[
                    bisect.bisect_left(polls.keys, (start - RECENT_DAYS * DAY_MS, "")) :
                ]
                if k[1] != poll["_id"]
            ]
            for poll_id in rng.sample(voting, min(3, len(voting))):
                row = json.loads(json.dumps(polls.items[poll_id]))
                person = rng.choice(self.contacts)
                rng.choice(row["options"])["respondents"].append(
                    {"email": person["email"], "name": person["name"], "respondedAt": iso(when())}
                )
                polls.replace(poll_id, row)
                note(changed, "polls", poll_id)
            # A new sequence, recipients added to old ones, recipients changing state.
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
            # Snippets edited: savedAt moves.
            snippets = self.collections["snippets"]
            for _, snippet_id in rng.sample(snippets.keys, min(3, len(snippets))):
                row = dict(snippets.items[snippet_id], savedAt=when())
                snippets.replace(snippet_id, row)
                note(changed, "snippets", snippet_id)
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
