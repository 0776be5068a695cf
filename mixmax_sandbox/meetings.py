"""Meeting types and meeting invites.

Fields served, in the shapes live rows show (shapes.py has the documented ones);
types: ms = epoch-ms number, ISO = "...T..:..:..mmmZ" string:

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
"""

from __future__ import annotations

import random

from .ground import Ground
from .ids import iso, object_id
from .seeding import DAY_MS, TIMEZONES
from .shapes import meeting_type_fields, round_robin_queue


class Meetings(Ground):
    """A World's meeting types and the invites sent from them."""

    def _build_meetings(self, rng: random.Random) -> None:
        me = self.me["_id"]
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
