"""Bench data the tap was not tuned to: every documented field filled, served by a plain
HTTP server of pre-built pages (the raw loop that reads them is scripts/bench_raw.py).

The rows follow docs/mixmax-api.md (2.3 messages, 2.2 recipients with the fields and
types live rows show, 2.5 live-feed events, and 7.8's live-feed rows with their 0/1
flags), with every field present and non-empty: arrays hold several items, objects all
their keys, HTML bodies a paragraph or two, and
timestamps the mix Mixmax sends (epoch ms, nested in arrays too). Pages are built once,
before any timing, so the server's own CPU is never part of a measured process.
"""

from __future__ import annotations

import json
import random
import re
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE = 300
EVENTS_PER_MESSAGE = 200  # Mixmax's cap, so every message's events fill one page
RECIPIENTS_PER_SEQUENCE = 3_000
DATASETS = ("messages", "sequence_recipients", "livefeed_events")
# The streams a tap selects for each data set (children need their parent).
SELECTED = {
    "messages": {"messages"},
    "sequence_recipients": {"sequences", "sequence_recipients"},
    "livefeed_events": {"livefeed", "livefeed_events"},
}
START_MS = 1_735_689_600_000  # 2025-01-01
METEOR = string.ascii_letters + string.digits
PEOPLE = [
    ("Ada", "Lovelace", "analytical.io"),
    ("Grace", "Hopper", "cobol.dev"),
    ("Alan", "Turing", "bletchley.uk"),
    ("Edsger", "Dijkstra", "shortest.path"),
    ("Barbara", "Liskov", "substitution.org"),
    ("Ken", "Thompson", "bell-labs.com"),
]
BODY = (
    '<div dir="ltr"><p>Hi {first},</p><p>Thanks for taking the time to talk on Tuesday. '
    "As promised, here is a short summary of what we covered and the next steps for your "
    "team, including the pricing options we discussed and the rollout plan for the second "
    'quarter.</p><ul><li>Pilot with the <b>sales</b> team</li><li>Review in <a href="'
    'https://example.com/review?id={n}">the shared doc</a></li><li>Decision by the end of '
    "the month</li></ul><p>Let me know if anything is missing.</p><p>Best,<br>{sender}</p>"
    '<div class="gmail_signature"><div>{sender} | Account Executive</div><div><a href='
    '"https://example.com">example.com</a></div></div></div>'
)


def _person(rng: random.Random) -> dict[str, str]:
    first, last, domain = rng.choice(PEOPLE)
    return {"email": f"{first.lower()}.{last.lower()}@{domain}", "name": f"{first} {last}"}


def _meteor(rng: random.Random) -> str:
    return "".join(rng.choice(METEOR) for _ in range(17))


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def message(rng: random.Random, n: int) -> dict[str, Any]:
    created = START_MS + n * 60_000
    sender = _person(rng)
    to = [_person(rng) for _ in range(3)]
    return {
        "_id": _meteor(rng),
        "userId": _meteor(rng),
        "created": created,
        "updatedAt": created + 90_000,
        "sent": created + 120_000,
        "scheduled": created + 100_000,
        "from": {**sender, "isDelegated": False},
        "to": to,
        "cc": [_person(rng) for _ in range(2)],
        "bcc": [_person(rng)],
        "subject": f"Re: pricing and rollout plan ({n})",
        "body": BODY.format(first=to[0]["name"].split()[0], n=n, sender=sender["name"]),
        "trackingEnabled": True,
        "linkTrackingEnabled": True,
        "fileTrackingEnabled": True,
        "notificationsEnabled": False,
        "teamIds": [_meteor(rng), _meteor(rng)],
        "sequence": {"id": _hex(rng), "stageId": _hex(rng), "recipientId": _hex(rng)},
        "attachments": [
            {"name": "proposal.pdf", "type": "application/pdf", "size": 482_113},
            {"name": "pricing.xlsx", "type": "application/vnd.ms-excel", "size": 73_402},
        ],
        "followUp": {
            "unparsedDate": "in 3 days",
            "trigger": "noReply",
            "description": "if no reply",
        },
        "snippetIds": [_hex(rng), _hex(rng)],
        "sendingError": "Message rejected by the recipient's server",
        "errorResponse": {"code": 550, "message": "5.7.1 Message rejected"},
        "crmsConnected": [{"name": "salesforce", "logTo": "contact"}],
        "showContentTeamFeed": True,
        "syncToOrg": True,
    }


def recipient(rng: random.Random, sequence_id: str, n: int) -> dict[str, Any]:
    created = START_MS + n * 30_000
    person = _person(rng)
    sender = _person(rng)
    stages = []
    for ordinal in range(3):
        at = created + ordinal * 86_400_000
        stages.append({
            "stageId": _hex(rng), "ordinal": ordinal, "type": "email", "state": "sent",
            "messageId": _meteor(rng), "from": sender, "scheduledAt": at,
            "sentAt": at + 60_000, "processedAt": at + 61_000,
            "scheduleBetween": {"start": 9, "end": 17, "timezone": "Europe/Paris"},
            "opens": 2, "clicks": 1, "downloads": 0, "replied": 0, "senderReplied": 0,
            "bounced": 0, "accepted": 0, "declined": 0, "tentative": 0,
            "hasOpens": 1, "hasLinks": 1, "hasFiles": 0,
            "failedError": "none",
        })  # fmt: skip
    first, last = person["name"].split()
    return {
        "_id": _hex(rng),
        "userId": _meteor(rng),
        "createdAt": created,
        "updatedAt": created + 3 * 86_400_000,
        "sequenceId": sequence_id,
        "email": person["email"],
        "to": {"email": person["email"]},
        "sequence": {"_id": sequence_id},
        "state": "active",
        "completedReason": "replied",
        "lastStageSentOrdinal": 2,
        "rstFailed": 0,
        "analytics": {"events": {"opens": 6, "clicks": 3, "downloads": 1}},
        "stages": stages,
        "variables": {
            "Email": person["email"],
            "First name": first,
            "Last name": last,
            "Company": person["email"].split("@")[1],
            "Title": "Head of Operations",
        },
    }


def sequence(rng: random.Random, n: int) -> dict[str, Any]:
    at = f"2025-01-{n + 1:02d}T10:00:00.000Z"
    return {"_id": _hex(rng), "userId": _meteor(rng), "createdAt": at, "updatedAt": at,
            "name": f"Outbound {n}", "stages": [_hex(rng), _hex(rng), _hex(rng)]}  # fmt: skip


def livefeed_row(rng: random.Random, n: int) -> dict[str, Any]:
    sent = START_MS + n * 3_600_000
    sender = _person(rng)
    return {
        "_id": _meteor(rng), "messageId": _meteor(rng), "userId": _meteor(rng),
        "recipients": [_person(rng) for _ in range(3)], "fromEmail": sender["email"],
        "fromName": sender["name"], "subject": f"Pricing ({n})", "sent": sent,
        "service": "gmail", "serviceMessageId": f"{rng.getrandbits(64):016x}",
        "serviceThreadId": f"{rng.getrandbits(64):016x}", "includeInTeamLiveFeed": 1,
        "lastEventAt": sent + 7_200_000, "lastEventType": "clicked",
        "numOpens": 3, "numClicks": 1, "numDownloads": 0, "showContentTeamFeed": 1,
        "trackingMuted": 0, "wasReplied": 0, "wasBounced": 0, "wasAccepted": 0,
        "wasDeclined": 0, "wasTentative": 0, "wasDeliveredWithTrackedOpens": 1,
        "wasSentViaMixmax": 1,
    }  # fmt: skip


EVENT_TYPES = ("opened", "clicked", "downloaded", "replied")


def event(rng: random.Random, sent: int, n: int) -> dict[str, Any]:
    person = _person(rng)
    kind = EVENT_TYPES[n % len(EVENT_TYPES)]
    row: dict[str, Any] = {
        "_id": _hex(rng), "type": kind, "timestamp": sent + n * 60_000,
        "recipientEmail": person["email"], "recipientName": person["name"],
        "country": "France", "region": "Ile-de-France", "city": "Paris", "os": "Mac OS X",
        "program": "Chrome", "isMobile": 0,
    }  # fmt: skip
    if kind == "clicked":
        row["linkUrl"] = f"https://example.com/review?id={n}"
        row["linkText"] = "the shared doc"
    if kind == "downloaded":
        row["fileName"] = "proposal.pdf"
    return row


def envelope(rows: list[dict[str, Any]], index: int, more: bool) -> bytes:
    body: dict[str, Any] = {"results": rows, "hasNext": more, "hasPrevious": index > 0}
    if rows:  # Mixmax sends both cursors on every non-empty page, the last one too
        body["next"] = f"p{index + 1}"
        body["previous"] = f"p{index - 1}"
    return json.dumps(body, separators=(",", ":")).encode()


def cursor_pages(rows: list[dict[str, Any]]) -> list[bytes]:
    chunks = [rows[i : i + PAGE] for i in range(0, len(rows), PAGE)] or [[]]
    return [envelope(chunk, i, i + 1 < len(chunks)) for i, chunk in enumerate(chunks)]


class Pages:
    """Every response body of one data set, built before any timing."""

    def __init__(self, dataset: str, rows: int, seed: int = 7) -> None:
        rng = random.Random(f"{seed}-{dataset}")
        self.lists: dict[str, list[bytes]] = {}
        self.recipients: dict[str, list[dict[str, Any]]] = {}
        self.events: dict[str, bytes] = {}
        if dataset == "messages":
            made = [message(rng, n) for n in range(rows)]
            self.lists["/v1/messages"] = cursor_pages(made[::-1])  # newest first
        elif dataset == "sequence_recipients":
            count = -(-rows // RECIPIENTS_PER_SEQUENCE)
            sequences = [sequence(rng, n) for n in range(count)]
            self.lists["/v1/sequences"] = cursor_pages(sequences)
            for index, seq in enumerate(sequences):
                size = min(RECIPIENTS_PER_SEQUENCE, rows - index * RECIPIENTS_PER_SEQUENCE)
                self.recipients[seq["_id"]] = [recipient(rng, seq["_id"], n) for n in range(size)]
        elif dataset == "livefeed_events":
            count = -(-rows // EVENTS_PER_MESSAGE)
            feed = [livefeed_row(rng, n) for n in range(count)]
            self.lists["/v1/livefeed"] = cursor_pages(feed[::-1])
            for index, row in enumerate(feed):
                size = min(EVENTS_PER_MESSAGE, rows - index * EVENTS_PER_MESSAGE)
                events = [event(rng, row["sent"], n) for n in range(size)]
                self.events[row["messageId"]] = cursor_pages(events[::-1])[0]
        elif dataset != "empty":
            raise ValueError(dataset)
        self.recipient_pages = {
            (seq, offset): json.dumps(rows_[offset : offset + PAGE]).encode()
            for seq, rows_ in self.recipients.items()
            for offset in range(0, len(rows_) + 1, PAGE)
        }


RECIPIENTS_PATH = re.compile(r"^/v1/sequences/([^/]+)/recipients$")
EMPTY_PAGE = envelope([], 0, False)
SINGLETONS = {
    "/v1/users/me": {"_id": "benchUser00000001", "email": "bench@example.com"},
    "/v1/userpreferences/me": {"_id": "benchPrefs0000001", "userId": "benchUser00000001"},
    "/v1/appointmentlinks/me": {"userId": "benchUser00000001", "name": "bench"},
}


class PageServer:
    """A loopback server of one data set's pages: cursor lists, offset recipients,
    events by messageId; any other list is empty."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.token = "bench-token"
        handler = type("Handler", (_Handler,), {"pages": pages})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> PageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    pages: Pages

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        self._send(self._body(url.path, query))

    def _body(self, path: str, query: dict[str, str]) -> bytes:
        if path in SINGLETONS:
            return json.dumps(SINGLETONS[path]).encode()
        if path in self.pages.lists:
            index = int(query.get("next", "p0")[1:])
            return self.pages.lists[path][index]
        match = RECIPIENTS_PATH.match(path)
        if match:
            offset = int(query.get("offset", 0))
            return self.pages.recipient_pages.get((match[1], offset), b"[]")
        if path == "/v1/livefeed/events":
            return self.pages.events.get(query.get("messageId", ""), EMPTY_PAGE)
        return EMPTY_PAGE

    def _send(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
