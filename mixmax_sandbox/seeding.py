"""What every resource of a world draws on: the clock's anchor, the scales, the names
people and companies take, and the seeded random streams.

The clock is anchored at a fixed instant (`ANCHOR`) so a seed always gives the same data;
the data spans about a year before it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random

from .ids import UTC

ANCHOR = dt.datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
ANCHOR_MS = int(ANCHOR.timestamp() * 1000)
DAY_MS = 86_400_000
SPAN_DAYS = 365
TOKEN_PREFIX = "sbx_"
# Drafts get sent and polls get votes within RECENT_DAYS of creation (the tap re-reads a
# 7-day lookback); the build makes RECENT_ROWS such drafts and polls.
RECENT_DAYS = 5
RECENT_ROWS = 3

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
TEAM_NAMES = ("Sales", "Success", "Marketing", "Ops", "Eng", "HR")


def seeded_rng(*parts: object) -> random.Random:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def token_for(seed: int) -> str:
    """The token a seed's sandbox accepts by default."""
    return TOKEN_PREFIX + hashlib.sha256(f"mixmax-sandbox-token:{seed}".encode()).hexdigest()[:32]


def random_person(rng: random.Random) -> dict[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    email = f"{first.lower()}.{last.lower().replace('-', '')}@{rng.choice(DOMAINS)}"
    return {"email": email, "name": f"{first} {last}"}
