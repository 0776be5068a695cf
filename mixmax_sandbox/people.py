"""The user and their colleagues, teams and team members, and the user's own settings.

Fields served, in the shapes live rows show (shapes.py has the documented ones);
types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

- **users (/users/me)**:
    _id (Meteor), email, name, createdAt ISO, timezone
- **teams**:
    _id (Meteor), name, createdAt ISO, modifiedAt ISO, users[{userId or email, role,
    accepted, dateAccepted ISO, dateInvited ISO}]
- **team_members**:
    memberId (hex), teamId, userId or email, role, accepted, acceptedAt ISO/null, invitedAt
    ISO
- **user_preferences**:
    _id, userId, addUnsubscribeLinkToSequences, autoBccAddress,
    calendarAppointmentSlots{...}, defaultTrackingEnabled, signatures[], sendFromAccounts[],
    workHours{day0..day6}, weekStartDay, and the live-only keys of shapes.preference_fields
- **appointment_links**:
    userId, name (no _id: ids() returns userId)
"""

from __future__ import annotations

import random
from typing import Any

from .ground import Ground
from .ids import iso, meteor_id, object_id
from .seeding import ANCHOR_MS, DAY_MS, TEAM_NAMES, TIMEZONES, random_person
from .shapes import preference_fields


class People(Ground):
    """A World's users (`me` first), contacts, teams, preferences and appointment link."""

    user_preferences: dict[str, Any]
    appointment_link: dict[str, str]

    def _build_people(self, rng: random.Random) -> None:
        self.users = []
        for index in range(4):
            person = random_person(rng)
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
        self.contacts = [random_person(rng) for _ in range(60)]
        self.team_ids = []

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

    def team_members(self, team_id: str) -> list[tuple[int, str]]:
        coll = self.collections["team_members"]
        return [k for k in coll.keys if coll.items[k[1]]["teamId"] == team_id]

    def _build_preferences(self, rng: random.Random) -> None:
        me = self.me["_id"]
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
