"""Identifier and timestamp helpers shared by the data model and the paging code."""

from __future__ import annotations

import datetime as dt
import random

# Mongo ObjectIds (24 hex) for most resources, Meteor ids (17 chars) for messages,
# users, teams and live feed rows (docs/mixmax-api.md 1.7).
METEOR_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
METEOR_ID_LENGTH = 17

UTC = dt.timezone.utc


def object_id(rng: random.Random, at_ms: int) -> str:
    """A 24-hex ObjectId whose first 4 bytes are the creation second, like Mongo's."""
    return f"{(at_ms // 1000) & 0xFFFFFFFF:08x}{rng.getrandbits(64):016x}"


def meteor_id(rng: random.Random) -> str:
    """A 17-character Meteor-style random id."""
    return "".join(rng.choices(METEOR_ALPHABET, k=METEOR_ID_LENGTH))


def iso(ms: int | float) -> str:
    """Epoch milliseconds as ISO-8601 with milliseconds and `Z` (the API's ISO style)."""
    stamp = dt.datetime.fromtimestamp(int(ms) / 1000, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}Z"


def parse_iso_ms(text: str) -> int:
    """ISO-8601 (with `Z` or an offset) to epoch milliseconds."""
    stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return round(stamp.timestamp() * 1000)


def to_ms(value: object) -> int:
    """A timestamp field's value (ms number or ISO string) as epoch milliseconds."""
    if isinstance(value, bool):
        raise TypeError("not a timestamp")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        return parse_iso_ms(value)
    raise TypeError(f"not a timestamp: {value!r}")


def is_object_id(value: str) -> bool:
    return len(value) == 24 and all(c in "0123456789abcdef" for c in value)
