"""What recipients answer: polls, Q&A surveys, yes/no questions, and unsubscribes.

Fields served, in the shapes live rows show (shapes.py has the documented ones);
types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

- **polls**:
    _id, userId, created ms, livePoll, question, title, options[{text,
    respondents[{email,name,respondedAt ISO}]}]
- **unsubscribes**:
    _id, userId, email, name, teamId (or null), orgId, sequenceId, messageId, createdAt ISO
- **qa**:
    _id, creatorId, creationDate ms, title,
    questions[{type,content,answers[{recipientEmail,recipientName,answer}]}]
- **yesno**:
    _id, userId, created ms, text, answers[{text,respondents[{email,name,respondedAt ISO}]}]
    (odd rows: each answer's first respondent as a bare email)
"""

from __future__ import annotations

import bisect
import json
import random
from typing import Any

from .ground import Ground, Tick
from .ids import iso, object_id
from .seeding import DAY_MS, RECENT_DAYS, RECENT_ROWS


class Responses(Ground):
    """A World's polls, Q&A, yes/no questions and unsubscribes."""

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

    def _advance_unsubscribes(self, tick: Tick) -> None:
        """New unsubscribes: two a day, at least one per move."""
        rng, _, _, days, new, _ = tick
        when, note = tick.when, tick.note
        scale_days = max(1.0, days)
        unsubscribes = self.collections["unsubscribes"]
        for _ in range(max(1, int(2 * scale_days))):
            row = self._unsubscribe(rng, when())
            unsubscribes.add(row)
            note(new, "unsubscribes", row["_id"])

    def _advance_polls(self, tick: Tick) -> None:
        """A new poll, and votes on existing recent polls."""
        rng, start, _, _, new, changed = tick
        when, note = tick.when, tick.note
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
