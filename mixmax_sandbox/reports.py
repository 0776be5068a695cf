"""Insights reports and file requests.

Fields served, in the shapes live rows show (shapes.py has the documented ones);
types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

- **insights_reports**:
    _id, userId, title, type, query, createdAt ISO, updatedAt ISO
- **file_requests**:
    _id, userId, timestamp ms, uploads[{timestamp ms,email,name,ipAddress,downloadUrl}]
"""

from __future__ import annotations

import random

from .ground import Ground
from .ids import iso, object_id
from .seeding import DAY_MS


class Reports(Ground):
    """A World's insights reports and file requests."""

    def _build_insights_reports(self, rng: random.Random) -> None:
        me = self.me["_id"]
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

    def _build_file_requests(self, rng: random.Random) -> None:
        me = self.me["_id"]
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
