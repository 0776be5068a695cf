"""Rules and their actions.

Fields served, in the shapes live rows show (shapes.py has the documented ones);
types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

- **rules**:
    _id, userId, createdAt ISO, modifiedAt ISO, name, trigger{type,eventName}, filter (JSON
    string), isPaused; actions[] with expand=actions
- **rule_actions**:
    _id, ruleId, type, createdAt ISO, modifiedAt ISO, isPaused, webhookUrl
"""

from __future__ import annotations

import json
import random

from .ground import Ground
from .ids import iso, object_id
from .seeding import DAY_MS, SPAN_DAYS


class Rules(Ground):
    """A World's rules and rule actions."""

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
