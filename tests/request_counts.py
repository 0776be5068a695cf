"""The fewest requests that can read a sandbox, worked out from its rows alone.

Used by the tests (exact counts against the sandbox's request log) and by
scripts/bench.py. Nothing here asks the tap: the counts follow from Mixmax's paging
rules (docs/mixmax-api.md 1.4, 2.2) and the stopping rules the README promises.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

PAGE = 300  # the tap's default page size, Mixmax's maximum
RECIPIENTS_CAP = 10_000  # docs/mixmax-api.md 2.2
EVENTS_CAP = 200  # docs/mixmax-api.md 2.5
SINGLETONS = ("users", "user_preferences", "appointment_links")
# Streams read by cursor, whole, on every full sync (children are counted per parent).
CURSOR_LISTS = (
    "sequences",
    "messages",
    "snippets",
    "polls",
    "unsubscribes",
    "livefeed",
    "teams",
    "rules",
    "snippet_tags",
    "sequence_folders",
    "code_snippets",
    "meeting_types",
    "meeting_invites",
    "insights_reports",
    "qa",
    "yesno",
    "file_requests",
    "integration_commands",
    "integration_enhancements",
    "integration_link_resolvers",
    "integration_sidebars",
)
LIVEFEED_DATE = "%m/%d/%Y"
LIVEFEED_QUERY_PARAM = "query"  # where the tap sends the live feed's search, by default
# The tap's defaults: how far before the bookmark each incremental stream re-reads.
LOOKBACK_DAYS = {"messages": 7, "polls": 7, "unsubscribes": 0, "livefeed": 30}
REPLICATION_KEYS = {
    "messages": "created",
    "polls": "created",
    "unsubscribes": "createdAt",
    "livefeed": "sent",
}


def cursor_pages(rows: int, page_size: int = PAGE) -> int:
    """A cursor list: hasNext is false on the page holding the last row (one, if none)."""
    return max(1, math.ceil(rows / page_size))


def offset_requests(
    counts: Iterable[int],
    page_size: int = PAGE,
    cap: int = RECIPIENTS_CAP,
    served_max: int | None = None,
) -> list[int]:
    """Requests for each of several bare arrays paged by offset, read in this order, by
    one account in one sync (README "Paging never trusts an unproven limit").

    The server serves min(limit, `served_max`, rows left) and never says it clamped. A list
    ends on an empty page, at the cap, or on a short page holding fewer rows than some page
    of this sync held (the server once served more, so it did not cut this one). Any other
    short page costs one more request; if that one finds rows, the short page's size is the
    clamp, and every later request asks for it.
    """
    largest = 0  # the most rows any page of this sync held
    clamp: int | None = None
    requests = []
    for rows in counts:
        offset, made, pending = 0, 0, None
        while True:
            limit = page_size if clamp is None else min(page_size, clamp)
            asked = max(1, min(limit, cap - offset))
            got = max(0, min(asked, served_max or asked, rows - offset))
            made += 1
            if got == 0:
                break
            if pending is not None:  # a short page was followed, and rows came: a clamp
                clamp = pending if clamp is None else min(clamp, pending)
            pending = None
            full = got >= (asked if clamp is None else min(asked, clamp))
            proven = not full and got < largest
            largest = max(largest, got)
            if offset + got >= cap or proven:
                break
            if not full:
                pending = got
            offset += got
        requests.append(made)
    return requests


def offset_pages(rows: int, page_size: int = PAGE, cap: int = RECIPIENTS_CAP) -> int:
    """One bare array alone, on a server that honours the limit: a short first page
    proves nothing yet, so it costs one more (empty) request."""
    return offset_requests([rows], page_size, cap)[0]


def to_datetime(value: Any) -> dt.datetime:
    """Epoch ms or an ISO string, as the sandbox serves them."""
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value / 1000, tz=dt.timezone.utc)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def newest_first_pages(
    rows: Sequence[Mapping[str, Any]], key: str, cutoff: dt.datetime, page_size: int = PAGE
) -> int:
    """Pages of a newest-first list read down to `cutoff`: reading stops after the first
    page whose rows are all older than the cutoff, or at the end of the list."""
    pages = 0
    for start in range(0, max(1, len(rows)), page_size):
        pages += 1
        page = rows[start : start + page_size]
        if page and all(to_datetime(row[key]) < cutoff for row in page):
            break
    return pages


def full_sync_minimum(
    sb: Any, page_size: int = PAGE, recipients_max_limit: int | None = None, user: int = 0
) -> Counter[str]:
    """Requests per stream for a first sync of every stream of an in-process sandbox, by
    one user's token; `recipients_max_limit` when the sandbox clamps recipients silently."""
    floor: Counter[str] = Counter()
    for stream in CURSOR_LISTS:
        floor[stream] = cursor_pages(len(sb.ids(stream, user)), page_size)
    for stream in SINGLETONS:
        floor[stream] = 1
    # Recipients are read sequence by sequence, in the order the sequences list gives them.
    recipients = Counter(row["sequenceId"] for row in sb.records("sequence_recipients", user))
    order = [recipients[sequence] for sequence in sb.ids("sequences", user)]
    floor["sequence_recipients"] = sum(
        offset_requests(order, page_size, served_max=recipients_max_limit)
    )
    members = Counter(row["teamId"] for row in sb.records("team_members", user))
    floor["team_members"] = sum(
        cursor_pages(members[team], page_size) for team in sb.ids("teams", user)
    )
    tagged = Counter(row["snippetTagId"] for row in sb.records("snippet_tag_snippets", user))
    floor["snippet_tag_snippets"] = sum(
        cursor_pages(tagged[tag], page_size) for tag in sb.ids("snippet_tags", user)
    )
    floor["rule_actions"] = 0  # embedded in /rules by expand=actions
    # The events of every message with any activity (Mixmax serves at most 200).
    served = sb.org.source(user).served_events
    floor["livefeed_events"] = sum(
        cursor_pages(min(EVENTS_CAP, len(served(row["messageId"]))), page_size)
        for row in sb.records("livefeed", user)
        if row.get("lastEventAt") is not None
    )
    return floor


def livefeed_window(query: str) -> tuple[dt.datetime, dt.datetime]:
    """The `sent:MM/DD/YYYY-MM/DD/YYYY` range of a live-feed search, as whole UTC days."""
    match = re.search(r"sent:(\d\d/\d\d/\d{4})-(\d\d/\d\d/\d{4})", query)
    assert match, f"no sent: window in {query!r}"
    first, last = (
        dt.datetime.strptime(day, LIVEFEED_DATE).replace(tzinfo=dt.timezone.utc)
        for day in match.groups()
    )
    return first, last + dt.timedelta(days=1)


def rows_sent_within(
    rows: Iterable[Mapping[str, Any]], window: tuple[dt.datetime, dt.datetime]
) -> list[Mapping[str, Any]]:
    first, end = window
    return [row for row in rows if first <= to_datetime(row["sent"]) < end]


def messages_with_new_activity(
    rows: Iterable[Mapping[str, Any]], cutoff: dt.datetime, bookmark: dt.datetime | None
) -> set[str]:
    """Message ids whose events a sync must read: emitted rows (sent at or after the
    cutoff) whose last event is at or after the previous sync's bookmark."""
    return {
        row.get("messageId") or row["_id"]
        for row in rows
        if to_datetime(row["sent"]) >= cutoff
        and row.get("lastEventAt") is not None
        and (bookmark is None or to_datetime(row["lastEventAt"]) >= bookmark)
    }


def requests_by_stream(requests: Iterable[Any], stream_paths: Mapping[str, str]) -> Counter[str]:
    """Count logged requests per stream, from each stream's path template."""
    patterns = [
        (re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), stream)
        for stream, path in stream_paths.items()
    ]
    counts: Counter[str] = Counter()
    for request in requests:
        path = request.path if hasattr(request, "path") else request["path"]
        stream = next((name for pattern, name in patterns if pattern.match(path)), path)
        counts[stream] += 1
    return counts


def _query(request: Any) -> Mapping[str, str]:
    query: Mapping[str, str] = request.query if hasattr(request, "query") else request["query"]
    return query


def _path(request: Any) -> str:
    path: str = request.path if hasattr(request, "path") else request["path"]
    return path


def events_requested(requests_made: Iterable[Any]) -> set[str]:
    return {_query(r)["messageId"] for r in requests_made if _path(r) == "/v1/livefeed/events"}


def incremental_minimum(
    records: Callable[[str], list[dict[str, Any]]],
    requests_made: Sequence[Any],
    state: Mapping[str, Any],
    page_size: int = PAGE,
    served_events: Callable[[str], int] | None = None,
) -> tuple[dict[str, int], set[str]]:
    """Requests an incremental sync from `state` needs per stream, and the messages whose
    events it must read. Each stream is re-read newest first down to its bookmark less
    its lookback (the live feed within the sent: window the tap asked for); events are
    read for emitted live-feed rows whose last event is at or after the bookmark.

    `records(stream)` gives the sandbox's rows; `served_events(message)` the number of
    events Mixmax serves for a message. Without it, event pages are counted only when a
    page holds Mixmax's 200 events; otherwise livefeed_events is left out of the counts.
    """
    bookmarks = state["bookmarks"]
    expected: dict[str, int] = {}
    for stream in ("messages", "polls", "unsubscribes"):
        if stream in bookmarks:
            cutoff = to_datetime(bookmarks[stream]["replication_key_value"]) - dt.timedelta(
                days=LOOKBACK_DAYS[stream]
            )
            expected[stream] = newest_first_pages(
                records(stream), REPLICATION_KEYS[stream], cutoff, page_size
            )
    active: set[str] = set()
    if "livefeed" in bookmarks:
        bookmark = to_datetime(bookmarks["livefeed"]["replication_key_value"])
        query = next(
            _query(r)[LIVEFEED_QUERY_PARAM] for r in requests_made if _path(r) == "/v1/livefeed"
        )
        served = rows_sent_within(records("livefeed"), livefeed_window(query))
        cutoff = bookmark - dt.timedelta(days=LOOKBACK_DAYS["livefeed"])
        expected["livefeed"] = newest_first_pages(served, "sent", cutoff, page_size)
        active = messages_with_new_activity(served, cutoff, bookmark)
        if served_events is None:
            if page_size >= EVENTS_CAP:
                expected["livefeed_events"] = len(active)
        else:
            expected["livefeed_events"] = sum(
                cursor_pages(served_events(message), page_size) for message in active
            )
    return expected, active
