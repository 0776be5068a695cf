"""API drift: the sandbox breaking one of the reference's guesses on purpose.

The reference tags several behaviours [I] or settles them by its section 6 convention
(the live feed's search parameter, the events' message parameter, `expand=actions`, the
page cap, the envelope's flags, timestamp formats, the field lists). `tap-mixmax --doctor`
tests those guesses against a live account; these switches make the sandbox answer as if
a guess were wrong, so the doctor's report can be tested both ways. The defaults are the
reference itself (no drift), and a drift only changes what the API reads from a request
or what it writes in a response: the data, paging and cursors underneath stay the same.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import email.utils
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any

from . import tagging
from .api import EXPAND_PARAM, LISTS, LIVEFEED_EVENTS_MESSAGE_PARAM, LIVEFEED_QUERY_PARAM
from .ids import UTC, iso, to_ms
from .integrations import PATHS as INTEGRATION_PATHS
from .paging import (
    DEFAULT_LIMIT,
    LIMIT_PARAM,
    MAX_LIMIT,
    RECIPIENTS_DEFAULT_LIMIT,
    RECIPIENTS_MAX_LIMIT,
    BadRequest,
)
from .shapes import DOCUMENTED, SERVED, SHAPES, documented

# How `timestamp_styles` writes a field: epoch ms, epoch seconds, ISO-8601, or an
# RFC 2822 date ("Thu, 15 Jan 2026 12:00:00 GMT").
TIMESTAMP_STYLES = ("ms", "seconds", "iso", "rfc2822")
# How `value_styles` writes a value: `number` (true/false as 1/0, numeric text as the
# number), `text` (a number or boolean as its JSON text), `object` (wrapped as {"value": v}).
VALUE_STYLES = ("number", "text", "object")
EXTRA_FIELD_VALUE = True  # what an added field holds: a value that names nobody

# Path (after /v1) -> resource, for the paths that are not a plain list.
_SPECIAL_PATHS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), resource)
    for pattern, resource in (
        (r"/users/me/?", "users"),
        (r"/userpreferences/me/?", "user_preferences"),
        (r"/appointmentlinks/me/?", "appointment_links"),
        (r"/sequences/[^/]+/recipients/?", "sequence_recipients"),
        (r"/livefeed/events/?", "livefeed_events"),
        (r"/livefeed/?", "livefeed"),
        (r"/teams/[^/]+/members/?", "team_members"),
        (r"/rules/[^/]+/actions/?", "rule_actions"),
        (r"/rules(/[^/]+)?/?", "rules"),
        (tagging.PATH.pattern, tagging.RESOURCE),
        *((rf"/{path}/?", resource) for path, resource in INTEGRATION_PATHS.items()),
    )
)
_LIST_PATH = re.compile(r"/(?P<segment>[^/]+)(/[^/]+)?/?")


def resource_of(path: str) -> str | None:
    """The resource (stream name) a path after /v1 serves, or None."""
    for pattern, resource in _SPECIAL_PATHS:
        if pattern.fullmatch(path):
            return resource
    match = _LIST_PATH.fullmatch(path)
    return LISTS.get(match["segment"]) if match else None


def _field_spec(spec: str) -> tuple[str, str]:
    resource, dot, name = spec.partition(".")
    if not dot or not resource or not name:
        raise ValueError(f"expected RESOURCE.FIELD, got {spec!r}")
    return resource, name


def _restyle(value: Any, style: str) -> Any:
    millis = to_ms(value)
    if style == "ms":
        return millis
    if style == "seconds":
        return millis // 1000
    if style == "iso":
        return iso(millis)
    moment = dt.datetime.fromtimestamp(millis / 1000, tz=UTC)
    return email.utils.format_datetime(moment, usegmt=True)


@dataclasses.dataclass(frozen=True)
class Drift:
    """Which guesses the sandbox breaks. Every default is the reference's answer."""

    livefeed_query_param: str = LIVEFEED_QUERY_PARAM  # /livefeed reads its search here
    events_message_param: str = LIVEFEED_EVENTS_MESSAGE_PARAM  # /livefeed/events' message
    max_limit: int = MAX_LIMIT  # largest `limit` honoured, lists and recipients alike
    # Largest `limit` recipients honour, silently: a bare array says nothing of a clamp.
    recipients_max_limit: int = RECIPIENTS_MAX_LIMIT
    rules_expand: bool = True  # whether /rules honours expand=actions
    paging_flags: bool = True  # whether envelopes carry hasNext/hasPrevious
    # "resource.field" -> one of TIMESTAMP_STYLES, e.g. {"messages.created": "rfc2822"}
    timestamp_styles: Mapping[str, str] = dataclasses.field(default_factory=dict)
    extra_fields: tuple[str, ...] = ()  # "resource.field" added to every row, e.g. polls.mood
    # "resource.field" left out of about half the rows (by id), as an optional field is,
    # e.g. unsubscribes.userId
    optional_fields: tuple[str, ...] = ()
    # "resource.path" -> one of VALUE_STYLES; `[]` steps into lists, e.g.
    # {"livefeed.wasReplied": "number", "sequence_recipients.stages[].opens": "text"}
    value_styles: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # "documented": rows in the shapes the docs guessed, not those live rows show (shapes.py)
    shapes: str = SERVED

    def __post_init__(self) -> None:
        if not 1 <= self.max_limit <= MAX_LIMIT:
            raise ValueError(f"max_limit must be 1 to {MAX_LIMIT}")
        if not 1 <= self.recipients_max_limit <= RECIPIENTS_MAX_LIMIT:
            raise ValueError(f"recipients_max_limit must be 1 to {RECIPIENTS_MAX_LIMIT}")
        for spec, style in self.timestamp_styles.items():
            _field_spec(spec)
            if style not in TIMESTAMP_STYLES:
                raise ValueError(f"timestamp style must be one of {TIMESTAMP_STYLES}")
        for spec in (*self.extra_fields, *self.optional_fields):
            _field_spec(spec)
        for spec, style in self.value_styles.items():
            _field_spec(spec)
            if style not in VALUE_STYLES:
                raise ValueError(f"value style must be one of {VALUE_STYLES}")
        if self.shapes not in SHAPES:
            raise ValueError(f"shapes must be one of {SHAPES}")

    def request(self, path: str, params: Mapping[str, str]) -> dict[str, str]:
        """The parameters as the reference-shaped views should see them."""
        resource = resource_of(path)
        params = dict(params)
        if resource == "livefeed":
            _rename(params, self.livefeed_query_param, LIVEFEED_QUERY_PARAM)
        elif resource == "livefeed_events":
            if not params.get(self.events_message_param):
                raise BadRequest(f"The {self.events_message_param} parameter is required")
            _rename(params, self.events_message_param, LIVEFEED_EVENTS_MESSAGE_PARAM)
        elif resource == "rules" and not self.rules_expand:
            params.pop(EXPAND_PARAM, None)
        recipients = resource == "sequence_recipients"
        ceiling = min(self.max_limit, self.recipients_max_limit) if recipients else self.max_limit
        if ceiling < MAX_LIMIT:
            default = RECIPIENTS_DEFAULT_LIMIT if recipients else DEFAULT_LIMIT
            try:
                asked = int(params.get(LIMIT_PARAM, default))
            except ValueError:
                asked = default
            params[LIMIT_PARAM] = str(min(asked, ceiling))
        return params

    def response(self, path: str, body: Any) -> Any:
        """The body as this drifted API writes it."""
        if not self.paging_flags and isinstance(body, dict) and "hasNext" in body:
            body = {k: v for k, v in body.items() if k not in ("hasNext", "hasPrevious")}
        resource = resource_of(path)
        styles = {
            name: style
            for spec, style in self.timestamp_styles.items()
            for owner, name in [_field_spec(spec)]
            if owner == resource
        }
        extras = [name for owner, name in map(_field_spec, self.extra_fields) if owner == resource]
        optional = [
            name for owner, name in map(_field_spec, self.optional_fields) if owner == resource
        ]
        values = {
            where: style
            for spec, style in self.value_styles.items()
            for owner, where in [_field_spec(spec)]
            if owner == resource
        }
        reshape = self.shapes == DOCUMENTED
        if not styles and not extras and not optional and not values and not reshape:
            return body

        def rewrite(row: dict[str, Any]) -> dict[str, Any]:
            row = dict(row)  # rendered rows may share nested objects with the world
            if reshape:
                row = documented(resource, row)
            for name, style in styles.items():
                if row.get(name) is not None:
                    row[name] = _restyle(row[name], style)
            for name in extras:
                row[name] = EXTRA_FIELD_VALUE
            if optional and zlib.crc32(str(row.get("_id")).encode()) % 2 == 0:
                for name in optional:
                    row.pop(name, None)
            if values:
                row = copy.deepcopy(row)
                for where, style in values.items():
                    _restyle_at(row, where.replace("[]", ".[]").split("."), style)
            return row

        if isinstance(body, list):
            return [rewrite(row) if isinstance(row, dict) else row for row in body]
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            return {**body, "results": [rewrite(row) for row in body["results"]]}
        return rewrite(body) if isinstance(body, dict) else body


def _restyle_at(node: Any, steps: list[str], style: str) -> None:
    """Rewrite, in place, every value at `steps` below `node` (`[]`: each list item)."""
    head, rest = steps[0], steps[1:]
    if head == "[]":
        items = node if isinstance(node, list) else []
        for index, item in enumerate(items):
            if rest:
                _restyle_at(item, rest, style)
            elif item is not None:
                items[index] = _restyle_value(item, style)
    elif isinstance(node, dict) and node.get(head) is not None:
        if rest:
            _restyle_at(node[head], rest, style)
        else:
            node[head] = _restyle_value(node[head], style)


def _restyle_value(value: Any, style: str) -> Any:
    if style == "object":
        return {"value": value}
    if style == "text":
        return value if isinstance(value, str) else json.dumps(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def _rename(params: dict[str, str], served: str, reference: str) -> None:
    """The API reads `served`: the view, built on the reference, reads `reference`."""
    if served == reference:
        return
    value = params.pop(served, None)
    params.pop(reference, None)
    if value is not None:
        params[reference] = value
