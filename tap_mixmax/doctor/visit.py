"""`--doctor`'s model: findings, what it knows of the streams, a visit (client.py: HTTP).

The checks (checks.py, reads.py) read an account through a `Visit` and
return `Finding`s; the package (__init__.py) runs them and renders the report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import typing as t
from collections.abc import Iterable, Iterator, Mapping

from tap_mixmax import redact as secret_registry
from tap_mixmax import streams
from tap_mixmax.api import rows_of as page_rows
from tap_mixmax.client import load_schema
from tap_mixmax.doctor.client import Answer, DoctorClient
from tap_mixmax.pacing import (
    RESET_DELTA_MAX,
)
from tap_mixmax.records import (
    ARRAY_ITEMS,
    EPOCH_MS_THRESHOLD,
)
from tap_mixmax.settings import LIVEFEED_QUERY_PARAM

PERSONAL_FIELDS = ("name", "firstName", "lastName", "fullName", "displayName", "email")

CONNECTION = "Connection"
ENDPOINTS = "Endpoints (one request each)"
ASSUMPTIONS = "Assumptions"
SECTIONS = (CONNECTION, ENDPOINTS, ASSUMPTIONS)

Row = dict[str, t.Any]


class Status(str, enum.Enum):
    OK = "OK"  # as the tap assumes
    DIFFERENT = "DIFFERENT"  # not as the tap assumes: see `assumed` and `change`
    UNAVAILABLE = "UNAVAILABLE"  # this account cannot tell (plan, empty data)
    FAILED = "FAILED"  # the check could not run (token, network, server errors)


@dataclasses.dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    seen: str
    assumed: str = ""
    change: str = ""
    details: tuple[str, ...] = ()
    section: str = ASSUMPTIONS


def ok(check: str, seen: str, details: Iterable[str] = (), section: str = ASSUMPTIONS) -> Finding:
    return Finding(check, Status.OK, seen, details=tuple(details), section=section)


def different(
    check: str,
    seen: str,
    assumed: str,
    change: str,
    *,
    details: Iterable[str] = (),
    section: str = ASSUMPTIONS,
) -> Finding:
    return Finding(check, Status.DIFFERENT, seen, assumed, change, tuple(details), section)


def unavailable(check: str, seen: str, section: str = ASSUMPTIONS) -> Finding:
    return Finding(check, Status.UNAVAILABLE, seen, section=section)


def failed(check: str, seen: str, section: str = ASSUMPTIONS) -> Finding:
    return Finding(check, Status.FAILED, seen, section=section)


# -- redaction -------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# Names are masked as whole words from 3 letters; tokens as redact.py masks them everywhere.
MIN_NAME_LENGTH = 3


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` without the tap's secrets, email addresses, nor `secrets` (names) as words."""
    text = secret_registry.redact(text)
    text = EMAIL.sub("<email>", text)
    for secret in sorted({s.strip() for s in secrets}, key=len, reverse=True):
        if len(secret) >= MIN_NAME_LENGTH:
            pattern = rf"(?<!\w){re.escape(secret)}(?!\w)"
            text = re.sub(pattern, secret_registry.MASK, text, flags=re.IGNORECASE)
    return text


def personal_values(me: Mapping[str, t.Any]) -> set[str]:
    """The user's names (whole, and each word) and address, from /users/me."""
    values: set[str] = set()
    for field in PERSONAL_FIELDS:
        value = me.get(field)
        if isinstance(value, str) and value.strip():
            values.add(value)
            if "@" not in value:
                values.update(value.split())
    return values


def shape_of(text: str) -> str:
    """A string's shape without its content: letters become A or a, digits 0."""
    return re.sub(r"[0-9]", "0", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", text)))[:40]


# -- what the checks know of the streams, and share ----------------------------------------


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """What the doctor reads of a stream class (streams.py stays the one place)."""

    name: str
    path: str
    class_name: str
    records_key: str | None
    parent: str | None
    replication_key: str | None
    optional: bool
    fixed_params: t.Callable[[Mapping[str, t.Any]], dict[str, t.Any]]  # the stream's own

    @property
    def is_list(self) -> bool:
        return self.records_key is not None

    @property
    def expected_body(self) -> str:
        if self.records_key is not None:
            return f"an object with a {self.records_key!r} list"
        return "a JSON array" if self.parent else "a JSON object"

    def first_page_params(self, query_param: str = LIVEFEED_QUERY_PARAM) -> dict[str, t.Any]:
        """The tap's parameters for a first page, with limit=1 where the endpoint pages."""
        params = self.fixed_params({"livefeed_query_param": query_param})
        if not self.is_list:
            return {**params, "offset": 0, "limit": 1} if self.parent else params
        return {**params, "limit": 1}

    def schema(self) -> dict[str, t.Any]:
        """The schema the tap emits (with `_extra`); shared and cached, so read only."""
        return load_schema(self.name)


def endpoint_of(stream_class: type[t.Any]) -> Endpoint:
    stream = t.cast(t.Any, stream_class)  # the SDK types these as instance attributes
    parent = stream.parent_stream_type
    key = stream.replication_key  # unset, it is the SDK's property object
    return Endpoint(
        name=stream.name,
        path=stream.path,
        class_name=stream.__name__,
        records_key=stream.records_key,
        parent=parent.name if parent else None,
        replication_key=key if isinstance(key, str) else None,
        optional=stream.optional_endpoint,
        fixed_params=stream.fixed_params,
    )


ENDPOINT_LIST = tuple(endpoint_of(stream) for stream in streams.STREAM_TYPES)
BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINT_LIST}
USERS = BY_NAME[streams.UsersStream.name]
LIVEFEED = BY_NAME[streams.LivefeedStream.name]
LIVEFEED_EVENTS = BY_NAME[streams.LivefeedEventsStream.name]
RULES = BY_NAME[streams.RulesStream.name]


@dataclasses.dataclass(frozen=True)
class Page:
    """One answer of an endpoint, and its rows when the tap could read them."""

    endpoint: Endpoint
    answer: Answer | None  # None: not asked
    rows: list[Row] | None  # None: not a page the tap can read
    why_not_asked: str = ""


@dataclasses.dataclass
class Visit:
    """One account being checked: the client, and what earlier checks learnt."""

    client: DoctorClient
    probes: dict[str, Page] = dataclasses.field(default_factory=dict)  # first page per stream
    samples: dict[str, list[Row]] = dataclasses.field(default_factory=dict)  # every row seen
    envelopes: list[tuple[str, dict[str, t.Any]]] = dataclasses.field(default_factory=list)
    window_rows: list[Row] = dataclasses.field(default_factory=list)
    personal: set[str] = dataclasses.field(default_factory=set)
    stopped: bool = False
    livefeed_query_param: str = LIVEFEED_QUERY_PARAM  # the config's, if it sets one

    def read(self, endpoint: Endpoint, params: Mapping[str, t.Any], path: str = "") -> Page:
        """GET a page, keeping its rows as samples for the later checks."""
        answer = self.client.get(path or endpoint.path, params)
        rows = rows_of(endpoint, answer)
        if rows is not None:
            self.samples.setdefault(endpoint.name, []).extend(rows)
            if endpoint.is_list:
                self.envelopes.append((endpoint.name, answer.body))
        return Page(endpoint, answer, rows)

    def rows(self, name: str) -> list[Row]:
        probe = self.probes.get(name)
        return (probe.rows or []) if probe else []


def rows_of(endpoint: Endpoint, answer: Answer) -> list[Row] | None:
    """The rows of a 200 answer in the endpoint's shape, or None for another shape."""
    if answer.status != 200:
        return None
    rows = page_rows(answer.body, endpoint.records_key)  # as the streams read a page
    if rows is not None and all(isinstance(row, dict) for row in rows):
        return rows
    return None


def message_of(row: Mapping[str, t.Any]) -> str:
    """The message a live-feed row's events are asked by, as LivefeedStream asks."""
    return str(row.get("messageId") or row.get("_id") or "")


def values_at(node: t.Any, path: tuple[str, ...]) -> Iterator[t.Any]:
    """Every value at `path` below `node`; `[]` steps into array items."""
    if not path:
        yield node
        return
    head, rest = path[0], path[1:]
    if head == ARRAY_ITEMS:
        for item in node if isinstance(node, list) else []:
            yield from values_at(item, rest)
    elif isinstance(node, dict) and head in node:
        yield from values_at(node[head], rest)


def unknown_fields(schema: Mapping[str, t.Any], row: Mapping[str, t.Any], at: str = "") -> set[str]:
    """Paths of the fields in `row` its schema does not declare (free-form objects aside)."""
    declared = schema.get("properties")
    if declared is None:
        return set()
    found: set[str] = set()
    for name, value in row.items():
        if name not in declared:
            found.add(at + name)
        elif isinstance(value, dict):
            found |= unknown_fields(declared[name], value, f"{at}{name}.")
        elif isinstance(value, list) and isinstance(declared[name].get("items"), dict):
            for item in (item for item in value if isinstance(item, dict)):
                found |= unknown_fields(declared[name]["items"], item, f"{at}{name}[].")
    return found


def json_type(value: t.Any) -> str:
    for kind, name in ((bool, "boolean"), (int | float, "number"), (str, "string")):
        if isinstance(value, kind):
            return name
    return "null" if value is None else "array" if isinstance(value, list) else "object"


def timestamp_form(value: t.Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "epoch ms" if abs(value) >= EPOCH_MS_THRESHOLD else "epoch s"
    if not isinstance(value, str):
        return type(value).__name__
    try:
        float(value)
        return "numeric string"
    except ValueError:
        pass
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"text like {shape_of(value)!r}"
    return "ISO-8601"


def reset_style(value: str) -> str:
    """How an X-RateLimit-Reset value reads, by the tap's own thresholds (pacing.py)."""
    try:
        number = float(value)
    except ValueError:
        return "not a number"
    if number < RESET_DELTA_MAX:
        return "seconds until reset"
    return "epoch milliseconds" if number >= EPOCH_MS_THRESHOLD else "epoch seconds"


def listing(names: Iterable[str], shown: int = 5) -> str:
    names = sorted(names)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


Check = t.Callable[[Visit], Iterable[Finding]]
