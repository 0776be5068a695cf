"""Record shaping: every value takes its property's declared type, at any depth.

Each record leaves the shaper valid against its stream's schema, whatever JSON Mixmax sent.
The schema drives it, property by property (`RecordShaper`):

- A value of the declared type stays. Every `format: date-time` value, at any depth, is
  converted to `YYYY-MM-DDTHH:MM:SS.mmmZ`: fixed width and UTC, so strings sort
  chronologically and bookmarks compare correctly (Mixmax mixes epoch ms and ISO text).
- A value of another type that converts without loss is converted (CONVERSIONS): 0/1 and
  "true"/"false" to a boolean, a whole number to an integer, a number to its text, a
  numeric text to a number. A few fields arrive in shapes of their own; each declares
  one JSON type (a union breaks targets that make one column per property) and names in
  `x-coerce` how the other shape becomes it (COERCIONS).
- Anything else becomes null, and its raw value is kept in `_extra` under its location.
- Top-level fields the schema does not know are kept in the `_extra` object column;
  unknown fields inside objects stay where they are (the schemas never close an object).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

EXTRA_FIELD = "_extra"
# With `accounts`, each record names its account here, and the column joins the primary key.
ACCOUNT_FIELD = "account"
ACCOUNT_FIELD_SCHEMA: dict[str, Any] = {"type": ["string"]}
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


# The schema keyword naming how a property's other shape becomes its one declared type.
# Its value is a key of COERCIONS, or `object:<key>` / `unwrap:<key>` (see coercion()).
COERCE_KEYWORD = "x-coerce"
OBJECT_COERCION = "object"
UNWRAP_COERCION = "unwrap"
SCALAR_TYPES = frozenset({"boolean", "integer", "number", "string"})


class CoercionError(ValueError):
    """A value that cannot take its property's type without losing information."""


def to_json_text(value: Any) -> str:
    """Text stays text; any other JSON value becomes its compact JSON text."""
    if type(value) is str:
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def to_integer(value: Any) -> int:
    """A flag-or-counter: true/false become 1/0; whole numbers (or their text) stay."""
    if type(value) is bool:
        return int(value)
    return to_whole(value)


def to_array(value: Any) -> list[Any]:
    """A list stays; a single object becomes a one-item list."""
    kind = type(value)
    if kind is list:
        return value
    if kind is dict:
        return [value]
    raise CoercionError(f"not an array: {value!r}")


def into_object(key: str, value: Any) -> dict[str, Any]:
    """An object stays; any other value becomes `{key: value}` (its type is then checked)."""
    if type(value) is dict:
        return value
    return {key: value}


def unwrap(key: str, value: Any) -> Any:
    """`{key: value}` and nothing else becomes `value`; any other object is refused."""
    if type(value) is dict and len(value) == 1 and key in value:
        return value[key]
    raise CoercionError(f"not a {{{key}: ...}} object: {value!r}")


Coercion = Callable[[Any], Any]
# Name -> (the JSON types it can produce, the function). Each schema property using one
# says in its `description` what Mixmax sends there (the README's coercions table).
COERCIONS: dict[str, tuple[frozenset[str], Coercion]] = {
    "json-text": (frozenset({"string"}), to_json_text),
    "integer": (frozenset({"integer"}), to_integer),
    "array": (frozenset({"array"}), to_array),
}


def coercion(spec: str) -> tuple[frozenset[str], Coercion]:
    """(JSON types, function) of an `x-coerce` value; ValueError if it names none."""
    name, _, key = spec.partition(":")
    if name == OBJECT_COERCION and key:
        return frozenset({"object"}), functools.partial(into_object, key)
    if name == UNWRAP_COERCION and key:
        return SCALAR_TYPES, functools.partial(unwrap, key)
    if spec in COERCIONS:
        return COERCIONS[spec]
    raise ValueError(f"unknown {COERCE_KEYWORD} {spec!r}")


# ---------------------------------------------------------------- lossless conversions
# What a value of another JSON type becomes in a property of each type, when nothing is
# lost; each raises CoercionError otherwise. (bool is not an int here: JSON keeps them apart.)
_NUMBER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_INTEGER_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
# Whole floats beyond 2**53 are not exact: their text is refused rather than rounded.
_EXACT_FLOAT_LIMIT = 2**53


def _number_of_text(text: str) -> int | float:
    """The number a JSON-number text spells, as `json.loads` would read it."""
    if _INTEGER_TEXT.match(text):
        try:
            return int(text)
        except ValueError:  # longer than Python's int parsing limit
            raise CoercionError(f"not a number: {text!r}") from None
    if _NUMBER_TEXT.match(text):
        number = float(text)
        if math.isfinite(number):
            return number
    raise CoercionError(f"not a number: {text!r}")


def to_boolean(value: Any) -> bool:
    """0/1 (as numbers) and "true"/"false" are booleans; nothing else is."""
    kind = type(value)
    if kind is bool:
        return value
    if (kind is int or kind is float) and value in (0, 1):
        return value == 1
    if kind is str and value in ("true", "false"):
        return value == "true"
    raise CoercionError(f"not a boolean: {value!r}")


def to_whole(value: Any) -> int:
    """A whole number, or a number text that spells one exactly, is an integer."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and math.isfinite(value) and value.is_integer():
        return int(value)
    if kind is str:
        number = _number_of_text(value)
        if isinstance(number, int):
            return number
        if number.is_integer() and abs(number) < _EXACT_FLOAT_LIMIT:
            return int(number)
    raise CoercionError(f"not an integer: {value!r}")


def to_number(value: Any) -> int | float:
    """A finite number stays; a number text becomes the number."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and math.isfinite(value):
        return value
    if kind is str:
        return _number_of_text(value)
    raise CoercionError(f"not a number: {value!r}")


def to_text(value: Any) -> str:
    """Text stays; a finite number becomes its JSON text (42 as "42")."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        try:
            return str(value)
        except ValueError:  # longer than Python's int printing limit
            raise CoercionError("a number too long to write as text") from None
    if kind is float and math.isfinite(value):
        return repr(value)
    raise CoercionError(f"not text: {value!r}")


def _refuse(value: Any) -> Any:
    raise CoercionError(f"not of the declared type: {value!r}")


# Declared type -> (the Python type kept as it is, the conversion of any other value).
CONVERSIONS: dict[str, tuple[type | None, Coercion]] = {
    "boolean": (bool, to_boolean),
    "integer": (int, to_whole),
    # A float may be NaN or Infinity, which JSON cannot hold: every float is checked.
    "number": (int, to_number),
    "string": (str, to_text),
    "object": (dict, _refuse),
    "array": (list, _refuse),
}


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
        if declared_type(node) not in produces:
            raise ValueError(
                f"{'.'.join(path)}: {COERCE_KEYWORD} {spec} makes {'/'.join(sorted(produces))}, "
                f"but the schema says {node.get('type')}"
            )
        found.append((path, function))
    return found


class MissingKeyError(ValueError):
    """A row without a value for a key its schema requires: it cannot be emitted keyed."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


# A compiled schema node: (the Python type kept as it is, or None when every value is
# converted; the conversion of any other value, raising ValueError; the walk into a kept
# container, or None).
Walk = Callable[[Any, list[str | int], dict[str, Any]], None]
Spec = tuple[type | None, Coercion, Walk | None]


def location(trail: list[str | int]) -> str:
    """`stages[2].sentAt`: the key under which `_extra` keeps a value the shaper replaced."""
    text = ""
    for step in trail:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


def _either(first: Coercion, then: Coercion) -> Coercion:
    """`first`, and where it refuses, `then`; a value `first` gives is passed to `then`."""

    def convert(value: Any) -> Any:
        with contextlib.suppress(CoercionError):
            value = first(value)
        return then(value)

    return convert


def compile_node(node: Mapping[str, Any]) -> Spec | None:
    """How the shaper conforms values of one schema node; None for an untyped node."""
    kind = declared_type(node)
    if kind is None:
        return None
    kept, convert = CONVERSIONS[kind]
    if node.get("format") == "date-time" and kind == "string":
        kept, convert = None, normalize_timestamp  # every timestamp goes through it
    spec = node.get(COERCE_KEYWORD)
    if spec is not None:  # coercion_paths() checked that it can give the declared type
        _, coerce = coercion(spec)
        convert = coerce if convert is _refuse else _either(coerce, convert)
    walk: Walk | None = None
    if kind == "object" and node.get("properties"):
        walk = _object_walk(
            {name: s for name, prop in node["properties"].items() if (s := compile_node(prop))}
        )
    elif kind == "array" and isinstance(node.get("items"), Mapping):
        items = compile_node(node["items"])
        walk = _array_walk(items) if items is not None else None
    return kept, convert, walk


def plain_types(props: Mapping[str, Spec]) -> dict[str, type]:
    """Name -> type of the properties whose value of that type needs nothing at all.

    The hot path: one lookup and one `is` settle most values of a row.
    """
    return {name: kept for name, (kept, _, walk) in props.items() if kept and walk is None}


def _object_walk(props: dict[str, Spec]) -> Walk:
    plain = plain_types(props).get
    spec_of = props.get

    def walk(obj: dict[str, Any], trail: list[str | int], invalid: dict[str, Any]) -> None:
        for name, raw in obj.items():
            if raw is None or type(raw) is plain(name):
                continue
            spec = spec_of(name)
            if spec is None:
                continue  # an unknown nested field stays as it came
            kept, convert, inner = spec
            value = raw
            if type(raw) is not kept:
                try:
                    value = convert(raw)
                except ValueError:
                    invalid[location([*trail, name])] = raw_value(raw)
                    obj[name] = None
                    continue
                obj[name] = value
            if inner is not None:
                trail.append(name)
                inner(value, trail, invalid)
                trail.pop()

    return walk


def _array_walk(items: Spec) -> Walk:
    kept, convert, inner = items

    def walk(array: list[Any], trail: list[str | int], invalid: dict[str, Any]) -> None:
        for index, raw in enumerate(array):
            if raw is None:
                continue
            value = raw
            if type(raw) is not kept:
                try:
                    value = convert(raw)
                except ValueError:
                    invalid[location([*trail, index])] = raw_value(raw)
                    array[index] = None
                    continue
                array[index] = value
            if inner is not None:
                trail.append(index)
                inner(value, trail, invalid)
                trail.pop()

    return walk


class RecordShaper:
    """Gives raw API rows their stream schema's shape, in place.

    Every value takes its property's one declared type (see the module docstring). A
    value that would lose information becomes null and its raw value goes to `_extra`,
    under its location. `reserved` names columns the tap fills itself (`account`): a
    field of that name from the API is kept in `_extra`, like `_extra` itself.
    """

    def __init__(self, schema: Mapping[str, Any], reserved: frozenset[str] = frozenset()) -> None:
        coercion_paths(schema)  # refuses an x-coerce that cannot give its declared type
        reserved = reserved | {EXTRA_FIELD}
        properties = schema.get("properties", {})
        self._required = [key for key in schema.get("required", []) if key not in reserved]
        props: dict[str, Spec] = {}
        for name, prop in properties.items():
            spec = compile_node(prop)
            if spec is None or name in reserved:
                continue
            if name in self._required and declared_type(prop) == "string":
                # A key must be there for the row to be emitted: any value keeps as text.
                kept, _, inner = spec
                spec = kept, to_json_text, inner
            props[name] = spec
        self._props = props
        self._plain = plain_types(props).get
        self.known = frozenset(properties) - reserved
        self.unknown_seen: set[str] = set()

    def shape(self, record: dict[str, Any]) -> dict[str, Any]:
        """Conform every value, move unknown top-level fields into `_extra`.

        Raises MissingKeyError for a row without a required key.
        """
        invalid: dict[str, Any] = {}
        unknown: list[str] = []
        plain = self._plain
        spec_of = self._props.get
        trail: list[str | int] = []
        for name, raw in record.items():
            if type(raw) is plain(name):
                continue
            spec = spec_of(name)
            if spec is None:
                unknown.append(name)
                continue
            if raw is None:
                continue
            kept, convert, inner = spec
            value = raw
            if type(raw) is not kept:
                try:
                    value = convert(raw)
                except ValueError:
                    invalid[name] = raw_value(raw)
                    record[name] = None
                    continue
                record[name] = value
            if inner is not None:
                trail.append(name)
                inner(value, trail, invalid)
                trail.pop()
        for key in self._required:
            if record.get(key) is None:
                raise MissingKeyError(key)
        extra = {name: record.pop(name) for name in unknown}
        if unknown:
            self.unknown_seen.update(unknown)
        extra.update(invalid)
        record[EXTRA_FIELD] = extra or None
        return record
