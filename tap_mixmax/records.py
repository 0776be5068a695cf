"""Record shaping: one type per property, one RFC 3339 form per timestamp, nothing dropped.

Mixmax mixes epoch-ms numbers and ISO strings, sometimes within one field
(docs/mixmax-api.md 1.7). Every `format: date-time` property, at any depth, is converted
to `YYYY-MM-DDTHH:MM:SS.mmmZ`: fixed width and UTC, so strings sort chronologically
and bookmarks compare correctly. A few fields arrive in several shapes; each declares
one JSON type (a union breaks targets that make one column per property) and names in
`x-coerce` how the other shapes become it (COERCIONS). Top-level fields the schema does
not know are kept in the `_extra` object column instead of being dropped.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
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


# The schema keyword naming how a property's other shapes become its one declared type.
# Its value is a key of COERCIONS, or `object:<key>` (see coercion()).
COERCE_KEYWORD = "x-coerce"
OBJECT_COERCION = "object"


class CoercionError(ValueError):
    """A value that cannot take its property's type without losing information."""


def to_json_text(value: Any) -> str:
    """Text stays text; any other JSON value becomes its compact JSON text."""
    if type(value) is str:
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def to_integer(value: Any) -> int:
    """A flag-or-counter: true/false become 1/0; whole numbers (or their text) stay."""
    kind = type(value)
    if kind is int:
        return value
    if kind is bool:
        return int(value)
    if kind is float and value.is_integer():
        return int(value)
    if kind is str and value.lstrip("-").isdigit() and str(int(value)) == value:
        return int(value)
    raise CoercionError(f"not an integer: {value!r}")


def to_array(value: Any) -> list[Any]:
    """A list stays; a single object becomes a one-item list."""
    kind = type(value)
    if kind is list:
        return value
    if kind is dict:
        return [value]
    raise CoercionError(f"not an array: {value!r}")


def into_object(key: str, value: Any) -> dict[str, Any]:
    """An object stays; a string, number or boolean becomes `{key: value}`."""
    if type(value) is dict:
        return value
    if isinstance(value, (str, int, float)):
        return {key: value}
    raise CoercionError(f"not an object: {value!r}")


Coercion = Callable[[Any], Any]
# Name -> (the one JSON type it produces, the function). Each schema property using one
# says in its `description` what Mixmax sends there (the README's coercions table).
COERCIONS: dict[str, tuple[str, Coercion]] = {
    "json-text": ("string", to_json_text),
    "integer": ("integer", to_integer),
    "array": ("array", to_array),
}


def coercion(spec: str) -> tuple[str, Coercion]:
    """(JSON type, function) of an `x-coerce` value; ValueError if it names none."""
    name, _, key = spec.partition(":")
    if name == OBJECT_COERCION and key:
        return "object", functools.partial(into_object, key)
    if spec in COERCIONS:
        return COERCIONS[spec]
    raise ValueError(f"unknown {COERCE_KEYWORD} {spec!r}")


def declared_type(schema: Mapping[str, Any]) -> str | None:
    """The one non-null JSON type of a schema node, or None when it has none or several."""
    declared = schema.get("type")
    kinds = [declared] if isinstance(declared, str) else list(declared or [])
    real = [kind for kind in kinds if kind != "null"]
    return real[0] if len(real) == 1 else None


def schema_nodes(schema: Mapping[str, Any], prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """(path, schema) of every property and array-item schema below `schema`."""
    for name, prop in schema.get("properties", {}).items():
        path = (*prefix, name)
        yield path, prop
        yield from schema_nodes(prop, path)
    items = schema.get("items")
    if isinstance(items, Mapping):
        path = (*prefix, ARRAY_ITEMS)
        yield path, items
        yield from schema_nodes(items, path)


def datetime_paths(schema: Mapping[str, Any], prefix: Path = ()) -> list[Path]:
    """Every path to a `format: date-time` property; `[]` steps into array items."""
    return [
        path for path, node in schema_nodes(schema, prefix) if node.get("format") == "date-time"
    ]


def coercion_paths(schema: Mapping[str, Any]) -> list[tuple[Path, Coercion]]:
    """(path, function) of every `x-coerce` property, checked against its declared type."""
    found = []
    for path, node in schema_nodes(schema):
        spec = node.get(COERCE_KEYWORD)
        if spec is None:
            continue
        produces, function = coercion(spec)
        if declared_type(node) != produces:
            raise ValueError(
                f"{'.'.join(path)}: {COERCE_KEYWORD} {spec} makes {produces}, "
                f"but the schema says {node.get('type')}"
            )
        found.append((path, function))
    return found


# One conversion at the end of a path: (last step, function, the error that means the
# value cannot be kept). The last step is a property name, or `[]` for every list item.
Step = tuple[str, Callable[[Any], Any], type[ValueError]]


def _grouped(
    paths: list[tuple[Path, Callable[[Any], Any]]], error: type[ValueError]
) -> list[tuple[Path, list[Step]]]:
    """Conversions grouped by the path of their container, outermost first.

    Siblings share one walk: a recipient's three stage flags cost one pass over `stages`.
    """
    groups: dict[Path, list[Step]] = {}
    for path, function in paths:
        groups.setdefault(path[:-1], []).append((path[-1], function, error))
    return sorted(groups.items(), key=lambda group: len(group[0]))


def _containers(node: Any, path: Path, trail: list[str | int]) -> Iterator[Any]:
    """Every dict or list found at `path` below `node`; `trail` holds where, while out."""
    if not path:
        yield node
        return
    head, rest = path[0], path[1:]
    if head == ARRAY_ITEMS:
        if type(node) is list:
            for index, item in enumerate(node):
                trail.append(index)
                yield from _containers(item, rest, trail)
                trail.pop()
        return
    if type(node) is dict:
        child = node.get(head)
        if child is not None:
            trail.append(head)
            yield from _containers(child, rest, trail)
            trail.pop()


def location(trail: list[str | int]) -> str:
    """`stages[2].sentAt`: the key under which `_extra` keeps a value the shaper replaced."""
    text = ""
    for step in trail:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


def _convert(
    container: Any, steps: list[Step], trail: list[str | int], invalid: dict[str, Any]
) -> None:
    """Apply each step to its value in `container`; a value it refuses goes to `invalid`."""
    for key, function, error in steps:
        if key == ARRAY_ITEMS:
            if type(container) is not list:
                continue
            for index, value in enumerate(container):
                if value is not None:
                    try:
                        container[index] = function(value)
                    except error:
                        invalid[location([*trail, index])] = raw_value(value)
                        container[index] = None
        elif type(container) is dict:
            value = container.get(key)
            if value is not None:
                try:
                    container[key] = function(value)
                except error:
                    invalid[location([*trail, key])] = raw_value(value)
                    container[key] = None


class RecordShaper:
    """Applies a stream schema's conventions to raw API rows, in place.

    Each property keeps one JSON type: values of another shape are coerced as its
    `x-coerce` says; timestamps are normalised. A value that would lose information
    becomes null and its raw value goes to `_extra`, under its location.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        coercions = coercion_paths(schema)
        timestamps = [(path, normalize_timestamp) for path in datetime_paths(schema)]
        self._top_coercions = [(path[0], fn) for path, fn in coercions if len(path) == 1]
        self._top_level = [path[0] for path, _ in timestamps if len(path) == 1]
        # Coercions first: a wrapped item's own timestamps are then normalised too.
        self._nested = _grouped(
            [(path, fn) for path, fn in coercions if len(path) > 1], CoercionError
        ) + _grouped([(path, fn) for path, fn in timestamps if len(path) > 1], TimestampError)
        self.known = frozenset(schema.get("properties", {}))
        self.unknown_seen: set[str] = set()

    def shape(self, record: dict[str, Any]) -> dict[str, Any]:
        """Coerce, normalise timestamps and move unknown top-level fields into `_extra`."""
        invalid: dict[str, Any] = {}
        for name, coerce in self._top_coercions:
            value = record.get(name)
            if value is not None:
                try:
                    record[name] = coerce(value)
                except CoercionError:
                    invalid[name] = raw_value(value)
                    record[name] = None
        for name in self._top_level:
            value = record.get(name)
            if value is not None:
                try:
                    record[name] = normalize_timestamp(value)
                except TimestampError:
                    invalid[name] = raw_value(value)
                    record[name] = None
        trail: list[str | int] = []
        for parent, steps in self._nested:
            for container in _containers(record, parent, trail):
                _convert(container, steps, trail, invalid)
        unknown = record.keys() - self.known
        extra = {name: record.pop(name) for name in unknown}
        extra.update(invalid)
        self.unknown_seen.update(unknown)
        record[EXTRA_FIELD] = extra or None
        return record
