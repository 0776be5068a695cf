"""Messages, the live feed and its events: built, rendered per request, moved by the clock.

They are the bulky resources, so they are kept as compact tuples (`MessageSeed`,
`EventSeed`) and rendered to JSON-ready dicts per request from a per-row seed: `large`
builds in seconds and stays small in memory.

Fields served, in the shapes live rows show (shapes.py has the documented ones);
types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

- **messages**:
    _id (Meteor), userId, created ms, updatedAt ms, sent ms (sent only), scheduled ms
    (scheduled only), from{email,name,isDelegated}, to/cc/bcc[{email,name}], subject, body,
    trackingEnabled, linkTrackingEnabled, fileTrackingEnabled, notificationsEnabled,
    teamIds[], sequence{id,stageId,recipientId} (or null), attachments[{name,type,size}],
    followUp (null or {unparsedDate,trigger,description}), snippetIds[], sendingError +
    errorResponse (failed only: SMTP text or a {code,enhancedCode,message} object),
    crmsConnected[], showContentTeamFeed, syncToOrg
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
"""

from __future__ import annotations

import bisect
import random
from typing import Any, NamedTuple

from .ground import Ground, Tick
from .ids import meteor_id, object_id
from .seeding import DAY_MS, RECENT_DAYS, RECENT_ROWS, SPAN_DAYS, SUBJECTS

EVENTS_CAP = 200  # /livefeed/events serves at most the 200 newest events of a message
CAPPED_MESSAGE_EVENTS = 230  # one message gets more than the cap, to exercise it
BASE_EVENTS_DAYS = 20  # a message's own events happen within 20 days of sending
# Fields Mixmax sends in more than one shape (the tap coerces them to one type): the
# other shape is chosen by row index or per-row seed, never by a draw from the build's
# random stream, so every id and count stays what it was.
ERROR_RESPONSE_OBJECT_RATE = 0.5  # failed messages: errorResponse an object, not text
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
EVENT_TYPES = ("opened", "opened", "opened", "clicked", "downloaded", "replied", "bounced")


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


class Messages(Ground):
    """Messages (with their live feed rows and events) of a World."""

    extra_events: dict[str, list[EventSeed]]  # message id -> events the clock added
    livefeed_by_message: dict[str, str]
    _stats_cache: dict[tuple[Any, ...], dict[str, Any]]

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
        self.livefeed_by_message = {}
        self.extra_events = {}
        self._stats_cache = {}
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

    def _advance_messages(self, tick: Tick) -> None:
        """New messages (the sent ones with feed rows) and recent drafts sent."""
        rng, start, end, days, new, changed = tick
        when, note = tick.when, tick.note
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
            if messages.items[msg_id].state == "draft" and msg_id not in new.get("messages", []):
                recent_drafts.append(msg_id)
        for msg_id in recent_drafts[:2]:
            sent = when()
            msg = messages.items[msg_id]._replace(state="sent", sent=sent, updated=sent)
            messages.replace(msg_id, msg)
            self._add_livefeed(msg)
            note(changed, "messages", msg_id)
            note(new, "livefeed", self.livefeed_by_message[msg_id])

    def _advance_events(self, tick: Tick) -> None:
        """Events in the move: of recent messages (their own timeline) and of earlier ones."""
        rng, start, end, _, new, changed = tick
        when, note = tick.when, tick.note
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
