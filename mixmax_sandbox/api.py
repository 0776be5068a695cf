"""The Mixmax v1 endpoints: a route table from path patterns to small view functions.

Each view takes what the caller's token sees (a `DataSource`: one user's World, or in an
organisation that user's merged view from org.py), the regex match and the query
parameters, and returns the JSON-ready body (status 200), or raises `NotFound` /
`BadRequest`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from . import tagging
from .collection import Collection
from .ids import UTC
from .integrations import PATHS as INTEGRATION_PATHS
from .messages import EventSeed, MessageSeed
from .paging import BadRequest, envelope, offset_window
from .sequences import RecipientSeed, Sequence

# The only connector that filters the live feed sends `query=from:everyone` (Airbyte's
# manifest, real-api-evidence.md); `q`, the docs' guess, is a drift.
LIVEFEED_QUERY_PARAM = "query"
LIVEFEED_EVENTS_MESSAGE_PARAM = "messageId"  # docs/mixmax-api.md section 6
LIVEFEED_DEFAULT_FROM = "me"  # without a `from:` term the live feed shows your own mail
LIVEFEED_DATE_FORMAT = "%m/%d/%Y"
INCLUDE_VARIABLES_PARAM = "includeVariables"
EXPAND_PARAM = "expand"
NOT_FOUND_MESSAGE = (
    "Not found. Looking for an API that we don't provide? Let us know at support@mixmax.com"
)

Params = Mapping[str, str]


class DataSource(Protocol):
    """What the views read: `World` provides it, and so does `view.UserView`."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...
    @property
    def collections(self) -> Mapping[str, Collection]: ...
    @property
    def sequences(self) -> Mapping[str, Sequence]: ...
    @property
    def me(self) -> dict[str, Any]: ...
    @property
    def users(self) -> list[dict[str, Any]]: ...
    @property
    def appointment_link(self) -> dict[str, Any]: ...
    @property
    def livefeed_by_message(self) -> Mapping[str, str]: ...
    def records(self, resource: str) -> list[dict[str, Any]]: ...
    def message(self, message_id: str) -> MessageSeed: ...
    def served_events(self, message_id: str) -> list[EventSeed]: ...
    def render_event(self, msg: MessageSeed, event: EventSeed) -> dict[str, Any]: ...
    def render_recipient(
        self, seq_id: str, rec: RecipientSeed, variables: bool = True
    ) -> dict[str, Any]: ...
    def livefeed_stats(self, feed_ids: list[str], cache_key: tuple[Any, ...]) -> dict[str, Any]: ...
    def team_members(self, team_id: str) -> list[tuple[int, str]]: ...
    def rule_actions(self, rule_id: str) -> list[tuple[int, str]]: ...


View = Callable[[DataSource, "re.Match[str]", Params], Any]


class NotFound(Exception):
    """Answered as 404 with the API's not-found message."""


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes")


def _list_view(resource: str) -> View:
    def view(world: DataSource, match: re.Match[str], params: Params) -> Any:
        coll = world.collections[resource]
        return envelope(coll.keys, coll.render, params, coll.sort_field, coll.id_field)

    return view


def _item_view(resource: str) -> View:
    def view(world: DataSource, match: re.Match[str], params: Params) -> Any:
        coll = world.collections[resource]
        if match["id"] not in coll.items:
            raise NotFound
        return coll.render(match["id"])

    return view


def users_me(world: DataSource, match: re.Match[str], params: Params) -> Any:
    return dict(world.me)


def user_preferences_me(world: DataSource, match: re.Match[str], params: Params) -> Any:
    return world.records("user_preferences")[0]


def appointment_links_me(world: DataSource, match: re.Match[str], params: Params) -> Any:
    return dict(world.appointment_link)


def sequence_recipients(world: DataSource, match: re.Match[str], params: Params) -> Any:
    """Bare array, offset paging, 10,000 cap, drafts never returned."""
    seq = world.sequences.get(match["id"])
    if seq is None:
        raise NotFound
    offset, limit = offset_window(params)
    keys = seq.recipients.keys
    end = len(keys) - offset
    window = keys[max(0, end - limit) : max(0, end)]
    with_variables = _truthy(params.get(INCLUDE_VARIABLES_PARAM))
    return [
        world.render_recipient(match["id"], seq.recipients.items[row_id], with_variables)
        for _, row_id in reversed(window)
    ]


def _parse_day(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, LIVEFEED_DATE_FORMAT).replace(tzinfo=UTC).date()
    except ValueError as error:
        raise BadRequest(f"Invalid date in sent: term: {text!r}") from error


def parse_livefeed_query(query: str) -> tuple[str, tuple[int, int] | None]:
    """`(from, sent window in ms)` from a search string; other terms are ignored."""
    who = LIVEFEED_DEFAULT_FROM
    window = None
    for term in query.split():
        key, sep, value = term.partition(":")
        if not sep:
            continue
        if key == "from" and value:
            who = value
        elif key == "sent":
            first, dash, last = value.partition("-")
            start = _parse_day(first)
            stop = _parse_day(last) if dash else start
            lo = int(dt.datetime.combine(start, dt.time(), tzinfo=UTC).timestamp() * 1000)
            hi = int(dt.datetime.combine(stop, dt.time(), tzinfo=UTC).timestamp() * 1000)
            window = (lo, hi + 86_400_000 - 1)
    return who, window


def livefeed(world: DataSource, match: re.Match[str], params: Params) -> Any:
    """The envelope over the filtered rows, plus `stats` over all of them."""
    who, window = parse_livefeed_query(params.get(LIVEFEED_QUERY_PARAM, ""))
    feed = world.collections["livefeed"]
    keys = feed.keys
    if window is not None:
        lo = bisect.bisect_left(keys, (window[0], ""))
        hi = bisect.bisect_right(keys, (window[1], "\uffff"))
        keys = keys[lo:hi]
    if who.lower() not in ("everyone", "*"):
        if who.lower() in ("me", "myself"):
            wanted = 0
        else:
            emails = [u["email"].lower() for u in world.users]
            wanted = emails.index(who.lower()) if who.lower() in emails else -1
        keys = [k for k in keys if world.message(feed.items[k[1]]).user == wanted]
    body = envelope(keys, feed.render, params, feed.sort_field)
    body["stats"] = world.livefeed_stats([k[1] for k in keys], (who.lower(), window))
    return body


def livefeed_events(world: DataSource, match: re.Match[str], params: Params) -> Any:
    """Events of one message (by the feed row's `messageId`), newest 200 at most.

    A missing `messageId` is a 400; an unknown one gives an empty page.
    """
    message_id = params.get(LIVEFEED_EVENTS_MESSAGE_PARAM)
    if not message_id:
        raise BadRequest(f"The {LIVEFEED_EVENTS_MESSAGE_PARAM} parameter is required")
    if message_id not in world.livefeed_by_message:
        return envelope([], lambda _: {}, params, "timestamp")
    msg = world.message(message_id)
    events = {e.id: e for e in world.served_events(message_id)}
    keys = [(e.timestamp, e.id) for e in events.values()]
    return envelope(keys, lambda i: world.render_event(msg, events[i]), params, "timestamp")


def team_members(world: DataSource, match: re.Match[str], params: Params) -> Any:
    if match["id"] not in world.collections["teams"].items:
        raise NotFound
    coll = world.collections["team_members"]
    return envelope(
        world.team_members(match["id"]), coll.render, params, coll.sort_field, "memberId"
    )


def rule_actions(world: DataSource, match: re.Match[str], params: Params) -> Any:
    if match["id"] not in world.collections["rules"].items:
        raise NotFound
    coll = world.collections["rule_actions"]
    return envelope(world.rule_actions(match["id"]), coll.render, params, coll.sort_field)


def snippet_tag_snippets(world: DataSource, match: re.Match[str], params: Params) -> Any:
    try:
        return tagging.page(world, match["id"], params)
    except tagging.NotATag:
        raise NotFound from None


def rules(world: DataSource, match: re.Match[str], params: Params) -> Any:
    coll = world.collections["rules"]
    expand = {p.strip() for p in params.get(EXPAND_PARAM, "").split(",")}
    if "actions" not in expand:
        return envelope(coll.keys, coll.render, params, coll.sort_field)
    actions = world.collections["rule_actions"]

    def render(rule_id: str) -> dict[str, Any]:
        row = coll.render(rule_id)
        row["actions"] = [actions.render(k[1]) for k in reversed(world.rule_actions(rule_id))]
        return row

    return envelope(coll.keys, render, params, coll.sort_field)


# Path (after /v1) -> (stream/resource name, path segment) for the plain lists.
LISTS = {
    "messages": "messages",
    "sequences": "sequences",
    "snippets": "snippets",
    "polls": "polls",
    "unsubscribes": "unsubscribes",
    "teams": "teams",
    "snippettags": "snippet_tags",
    "sequencefolders": "sequence_folders",
    "codesnippets": "code_snippets",
    "meetingtypes": "meeting_types",
    "meetinginvites": "meeting_invites",
    "insightsreports": "insights_reports",
    "qa": "qa",
    "yesno": "yesno",
    "filerequests": "file_requests",
}

ROUTES: list[tuple[re.Pattern[str], View]] = [
    (re.compile(r"/users/me/?"), users_me),
    (re.compile(r"/userpreferences/me/?"), user_preferences_me),
    (re.compile(r"/appointmentlinks/me/?"), appointment_links_me),
    (re.compile(r"/sequences/(?P<id>[^/]+)/recipients/?"), sequence_recipients),
    (re.compile(r"/livefeed/events/?"), livefeed_events),
    (re.compile(r"/livefeed/?"), livefeed),
    (re.compile(r"/teams/(?P<id>[^/]+)/members/?"), team_members),
    (re.compile(r"/rules/(?P<id>[^/]+)/actions/?"), rule_actions),
    (re.compile(r"/rules/?"), rules),
    (re.compile(r"/rules/(?P<id>[^/]+)/?"), _item_view("rules")),
    (tagging.PATH, snippet_tag_snippets),
]
for _path, _resource in INTEGRATION_PATHS.items():
    ROUTES.append((re.compile(rf"/{_path}/?"), _list_view(_resource)))
for _segment, _resource in LISTS.items():
    ROUTES.append((re.compile(rf"/{_segment}/?"), _list_view(_resource)))
    ROUTES.append((re.compile(rf"/{_segment}/(?P<id>[^/]+)/?"), _item_view(_resource)))


def dispatch(world: DataSource, path: str, params: Params) -> Any:
    """The body for GET `path` (relative to /v1); NotFound if no route matches."""
    for pattern, view in ROUTES:
        match = pattern.fullmatch(path)
        if match:
            with world.lock:
                return view(world, match, params)
    raise NotFound
