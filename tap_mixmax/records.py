"""Record shaping: one RFC 3339 form for every timestamp, and nothing silently dropped.

Mixmax mixes epoch-ms numbers and ISO strings, sometimes within one field
(docs/mixmax-api.md 1.7). Every `format: date-time` property, at any depth, is converted
to `YYYY-MM-DDTHH:MM:SS.mmmZ`: fixed width and UTC, so strings sort chronologically
and bookmarks compare correctly. Top-level fields the schema does not know are kept
in the `_extra` object column instead of being dropped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

EXTRA_FIELD = "_extra"
EXTRA_FIELD_SCHEMA: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "Top-level fields the API returned that this schema does not know yet.",
}
# The one rule telling epoch seconds from milliseconds, for every number the API sends
# (timestamps and X-RateLimit-Reset alike): at or above 10^11 it is milliseconds, since
# 10^11 seconds would be the year 5138 and 10^11 ms is 1973.
EPOCH_MS_THRESHOLD = 10**11
ARRAY_ITEMS = "[]"
_UTC = dt.timezone.utc
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
# What RFC 3339 (and every target's timestamp type) can hold.
_MIN_YEAR, _MAX_YEAR = 1, 9999

_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")

Path = tuple[str, ...]


class TimestampError(ValueError):
    """A value that cannot be read as a timestamp."""


def format_utc(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with milliseconds and `Z`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_UTC)
    moment = moment.astimezone(_UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def epoch_seconds(number: float) -> float:
    """Seconds since the epoch, from epoch seconds or epoch milliseconds."""
    return number / 1000 if abs(number) >= EPOCH_MS_THRESHOLD else number


def to_datetime(value: Any) -> dt.datetime:
    """Read epoch ms, epoch seconds, an ISO-8601 string or a datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_UTC)
    if isinstance(value, bool):
        raise TimestampError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise TimestampError(f"not a timestamp: {value!r}")
        try:
            moment = _EPOCH + dt.timedelta(seconds=epoch_seconds(value))
        except OverflowError as exc:
            raise TimestampError(f"timestamp out of range: {value!r}") from exc
        if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
            raise TimestampError(f"timestamp out of range: {value!r}")
        return moment
    if isinstance(value, str):
        text = value.strip()
        try:
            return to_datetime(float(text))
        except ValueError:
            pass
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise TimestampError(f"not a timestamp: {value!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=_UTC)
    raise TimestampError(f"not a timestamp: {value!r}")


def _format_epoch_ms(millis: int) -> str:
    # time.gmtime is several times faster than building a datetime; this is the hot path.
    seconds, ms = divmod(millis, 1000)
    try:
        t = time.gmtime(seconds)
    except (OverflowError, OSError, ValueError) as exc:
        raise TimestampError(f"timestamp out of range: {millis!r}") from exc
    if not _MIN_YEAR <= t.tm_year <= _MAX_YEAR:
        raise TimestampError(f"timestamp out of range: {millis!r}")
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        t.tm_year,
        t.tm_mon,
        t.tm_mday,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
        ms,
    )


def normalize_timestamp(value: Any) -> str | None:
    """The emitted form of any timestamp value; None stays None."""
    if value is None:
        return None
    kind = type(value)
    if kind is int or kind is float:
        if kind is float and not math.isfinite(value):
            raise TimestampError(f"not a timestamp: {value!r}")
        millis = value if abs(value) >= EPOCH_MS_THRESHOLD else value * 1000
        return _format_epoch_ms(round(millis))
    if kind is str and _CANONICAL.match(value):
        return value  # already what we emit
    return format_utc(to_datetime(value))


def raw_value(value: Any) -> Any:
    """A value as `_extra` keeps it: JSON has no NaN or Infinity, so those become text."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _has_type(schema: Mapping[str, Any], name: str) -> bool:
    declared = schema.get("type")
    return declared == name or (isinstance(declared, list) and name in declared)


def datetime_paths(schema: Mapping[str, Any], prefix: Path = ()) -> list[Path]:
    """Every path to a `format: date-time` property; `[]` steps into array items."""
    paths: list[Path] = []
    for name, prop in schema.get("properties", {}).items():
        path = (*prefix, name)
        if prop.get("format") == "date-time":
            paths.append(path)
        if _has_type(prop, "object"):
            paths.extend(datetime_paths(prop, path))
        items = prop.get("items")
        if _has_type(prop, "array") and isinstance(items, Mapping):
            if items.get("format") == "date-time":
                paths.append((*path, ARRAY_ITEMS))
            paths.extend(datetime_paths(items, (*path, ARRAY_ITEMS)))
    return paths


def _containers(node: Any, path: Path) -> Iterator[tuple[Any, str | int]]:
    """Yield (container, key) for every value found at `path` below `node`."""
    head, rest = path[0], path[1:]
    if head == ARRAY_ITEMS:
        if isinstance(node, list):
            for index, item in enumerate(node):
                if rest:
                    yield from _containers(item, rest)
                else:
                    yield node, index
        return
    if not isinstance(node, dict) or head not in node:
        return
    if rest:
        yield from _containers(node[head], rest)
    else:
        yield node, head


class RecordShaper:
    """Applies a stream schema's conventions to raw API rows, in place."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        paths = datetime_paths(schema)
        self._top_level = [path[0] for path in paths if len(path) == 1]
        self._nested = [path for path in paths if len(path) > 1]
        self.known = frozenset(schema.get("properties", {}))
        self.unknown_seen: set[str] = set()

    def shape(self, record: dict[str, Any]) -> dict[str, Any]:
        """Normalise timestamps and move unknown top-level fields into `_extra`."""
        invalid: dict[str, Any] = {}
        for name in self._top_level:
            value = record.get(name)
            if value is not None:
                try:
                    record[name] = normalize_timestamp(value)
                except TimestampError:
                    invalid[name] = raw_value(value)
                    record[name] = None
        for path in self._nested:
            for container, key in _containers(record, path):
                value = container[key]
                if value is not None:
                    try:
                        container[key] = normalize_timestamp(value)
                    except TimestampError:
                        invalid[".".join(path)] = raw_value(value)
                        container[key] = None
        unknown = record.keys() - self.known
        extra = {name: record.pop(name) for name in unknown}
        extra.update(invalid)
        self.unknown_seen.update(unknown)
        record[EXTRA_FIELD] = extra or None
        return record
