"""The standard list envelope (mongo-cursor-pagination rules) and offset paging.

docs/mixmax-api.md 1.4: newest first on the resource's paginated field with `_id` as the
tie-break, `limit` default 50 clamped to 1..300, peek limit+1, `next`/`previous` on every
non-empty page (also the last), both omitted on an empty page. Each list keeps its rows in
a list of `(sort_ms, id)` keys sorted ascending, so a page is a bisect and a slice: no
request scans the whole resource.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .ids import is_object_id, iso, to_ms

DEFAULT_LIMIT = 50
MAX_LIMIT = 300
MIN_LIMIT = 1
LIMIT_PARAM = "limit"
NEXT_PARAM = "next"
PREVIOUS_PARAM = "previous"

# Offset paging of /sequences/:id/recipients (docs/mixmax-api.md 2.2).
OFFSET_PARAM = "offset"
RECIPIENTS_DEFAULT_LIMIT = 50
RECIPIENTS_MAX_LIMIT = 300
RECIPIENTS_CAP = 10_000

Key = tuple[int, str]


class BadRequest(Exception):
    """Answered as 400 with `{"message": str(error)}`."""


def clamp_limit(raw: str | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """Non-numeric values are ignored (default); others are clamped to 1..maximum."""
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return default
    return max(MIN_LIMIT, min(maximum, value))


def encode_cursor(sort_value: object, row_id: str) -> str:
    """base64url (no padding) of the EJSON text `[<sortValue>, <id>]`.

    A number stays a number, an ISO string becomes `{"$date": ...}`, a hex id becomes
    `{"$oid": ...}` and a Meteor id stays a plain string.
    """
    value: object
    if isinstance(sort_value, str):
        value = {"$date": iso(to_ms(sort_value))}
    elif isinstance(sort_value, float) and sort_value.is_integer():
        value = int(sort_value)
    else:
        value = sort_value
    ident: object = {"$oid": row_id} if is_object_id(row_id) else row_id
    text = json.dumps([value, ident], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Key:
    """The `(sort_ms, id)` key a cursor points at; BadRequest if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"Invalid cursor: {cursor!r}") from error
    if not isinstance(data, list) or len(data) != 2:
        raise BadRequest(f"Invalid cursor: {cursor!r}")
    value, ident = data
    try:
        if isinstance(value, dict) and isinstance(value.get("$date"), str):
            sort_ms = to_ms(value["$date"])
        elif isinstance(value, int | float) and not isinstance(value, bool):
            sort_ms = int(value)
        else:
            raise TypeError
    except (TypeError, ValueError) as error:
        raise BadRequest(f"Invalid cursor: {cursor!r}") from error
    if isinstance(ident, dict) and isinstance(ident.get("$oid"), str):
        ident = ident["$oid"]
    if not isinstance(ident, str):
        raise BadRequest(f"Invalid cursor: {cursor!r}")
    return sort_ms, ident


def envelope(
    keys: Sequence[Key],
    render: Callable[[str], dict[str, Any]],
    params: Mapping[str, str],
    sort_field: str,
    id_field: str = "_id",
) -> dict[str, Any]:
    """One page of `keys` (sorted ascending) in the standard envelope, newest first."""
    limit = clamp_limit(params.get(LIMIT_PARAM))
    next_cursor = params.get(NEXT_PARAM) or None
    previous_cursor = params.get(PREVIOUS_PARAM) or None
    if previous_cursor is not None:
        anchor = decode_cursor(previous_cursor)
        start = bisect.bisect_right(keys, anchor)
        ascending = list(keys[start : start + limit + 1])
        more = len(ascending) > limit
        page_keys = list(reversed(ascending[:limit]))
    else:
        end = len(keys)
        if next_cursor is not None:
            end = bisect.bisect_left(keys, decode_cursor(next_cursor))
        window = keys[max(0, end - limit - 1) : end]
        more = len(window) > limit
        page_keys = list(reversed(window))[:limit]
    had_previous = previous_cursor is not None
    had_next = next_cursor is not None and not had_previous
    rows = [render(key[1]) for key in page_keys]
    result: dict[str, Any] = {"results": rows}
    if rows:
        # A row without its sort field (integrations have no date) pages by its key's time.
        last, first = rows[-1].get(sort_field), rows[0].get(sort_field)
        last = page_keys[-1][0] if last is None else last
        first = page_keys[0][0] if first is None else first
        result[NEXT_PARAM] = encode_cursor(last, str(rows[-1][id_field]))
        result[PREVIOUS_PARAM] = encode_cursor(first, str(rows[0][id_field]))
    result["hasNext"] = had_previous or more
    result["hasPrevious"] = had_next or (had_previous and more)
    return result


def offset_window(params: Mapping[str, str]) -> tuple[int, int]:
    """`(offset, limit)` of a recipients request; BadRequest past the 10,000 cap."""
    raw_offset = params.get(OFFSET_PARAM, "0")
    try:
        offset = int(raw_offset)
    except ValueError as error:
        raise BadRequest(f"Invalid offset: {raw_offset!r}") from error
    if offset < 0:
        raise BadRequest("offset must not be negative")
    limit = clamp_limit(params.get(LIMIT_PARAM), RECIPIENTS_DEFAULT_LIMIT, RECIPIENTS_MAX_LIMIT)
    if offset + limit > RECIPIENTS_CAP:
        raise BadRequest(
            f"offset + limit must not exceed {RECIPIENTS_CAP}; "
            "this endpoint returns at most 10000 recipients"
        )
    return offset, limit
