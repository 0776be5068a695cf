"""`--doctor`'s checks of the tap's guesses: endpoints, live feed, rules, paging, fields.

Each check takes the account's `Visit` and yields findings (visit.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import typing as t
from collections.abc import Iterator

from tap_mixmax import errors, streams
from tap_mixmax.doctor.client import Answer
from tap_mixmax.doctor.visit import (
    CONNECTION,
    ENDPOINT_LIST,
    ENDPOINTS,
    LIVEFEED,
    LIVEFEED_EVENTS,
    RULES,
    USERS,
    Endpoint,
    Finding,
    Page,
    Row,
    Visit,
    different,
    failed,
    json_type,
    listing,
    message_of,
    ok,
    personal_values,
    plural,
    reset_style,
    rows_of,
    timestamp_form,
    unavailable,
    unknown_fields,
    values_at,
)
from tap_mixmax.pacing import (
    RATE_LIMIT_WINDOW_SECONDS,
    parse_reset,
)
from tap_mixmax.records import (
    ARRAY_ITEMS,
    TimestampError,
    datetime_paths,
    normalize_timestamp,
    to_datetime,
)
from tap_mixmax.settings import MAX_PAGE_SIZE, MIXMAX_RATE_LIMIT_PER_MINUTE

PLAUSIBLE_RESET_SECONDS = 2 * RATE_LIMIT_WINDOW_SECONDS
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

# A `sent:` window before Mixmax existed: a feed that reads it returns nothing.
EMPTY_SENT_WINDOW = (dt.date(2001, 1, 1), dt.date(2001, 1, 2))
# The including window: two weeks up to a known row's day, so it also holds messages old
# enough to have events for the events check.
WINDOW_DAYS = 14
WINDOW_SAMPLE_ROWS = 50
BOGUS_MESSAGE_ID = "0" * 24  # a well-formed id that no message has
# Names tried when the tap's own guess is not the one Mixmax reads.
LIVEFEED_QUERY_ALTERNATIVES = ("q", "search", "query")
EVENTS_MESSAGE_ALTERNATIVES = ("message", "id")
# Lists likeliest to hold more than a page, tried first by the page-size check.
PAGE_SIZE_PREFERENCE = ("messages", "unsubscribes", "snippets", "sequences", "polls")
PAGING_LISTS_TRIED = 3
# Fields a stream consumes before its schema applies, so they are not "unknown".
CONSUMED_FIELDS = {streams.RulesStream.name: frozenset({streams.RULE_ACTIONS_FIELD})}


def sent_window(first: dt.date, last: dt.date) -> str:
    fmt = streams.LIVEFEED_DATE_FORMAT
    return f"{streams.LIVEFEED_FROM_TERM} sent:{first:{fmt}}-{last:{fmt}}"


def check_token(visit: Visit) -> Iterator[Finding]:
    """/users/me accepts the token. It is also the `users` endpoint's probe."""
    probe = visit.probes[USERS.name] = visit.read(USERS, {})
    answer = t.cast(Answer, probe.answer)
    if probe.rows:
        me = probe.rows[0]
        visit.personal |= personal_values(me)
        fields = ", ".join(f"{k} ({json_type(v)})" for k, v in sorted(me.items()))
        yield ok("token", f"{USERS.path} accepted it; its fields: {fields}", section=CONNECTION)
        return
    visit.stopped = True
    if answer.status == 401:
        seen = f"Mixmax rejected the token (401): create one at {errors.TOKEN_HELP_URL}"
    elif answer.status == 403:
        seen = "403: the token lacks access, or the Mixmax plan has no API access"
    elif answer.status == 0:
        seen = f"{answer.problem} (is api_url right?)"
    else:
        seen = f"{USERS.path} answered {answer.describe()}"
    yield failed("token", seen, section=CONNECTION)


def check_endpoints(visit: Visit) -> Iterator[Finding]:
    """Every stream's endpoint, one request each: served, or 403/404 on this plan."""
    for endpoint in ENDPOINT_LIST:
        if endpoint.name not in visit.probes:
            visit.probes[endpoint.name] = probe_endpoint(visit, endpoint)
        yield endpoint_finding(visit.probes[endpoint.name])


def probe_endpoint(visit: Visit, endpoint: Endpoint) -> Page:
    params = endpoint.first_page_params(visit.livefeed_query_param)
    if endpoint.parent is None:
        return visit.read(endpoint, params)
    parents = visit.rows(endpoint.parent)
    if not parents:
        return Page(endpoint, None, None, f"no {endpoint.parent} row to ask it for")
    if endpoint is LIVEFEED_EVENTS:
        params[streams.LIVEFEED_EVENTS_MESSAGE_PARAM] = message_of(parents[0])
        return visit.read(endpoint, params)
    path = re.sub(r"\{\w+\}", str(parents[0].get("_id", "")), endpoint.path)
    return visit.read(endpoint, params, path)


def endpoint_finding(probe: Page) -> Finding:  # noqa: PLR0911 (one return per kind of answer)
    endpoint, answer = probe.endpoint, probe.answer
    name, label = endpoint.name, f"{endpoint.path}:"
    if answer is None:
        return unavailable(name, f"{label} {probe.why_not_asked}", ENDPOINTS)
    status = answer.status
    if status == 200 and probe.rows is not None:
        more = (
            ", more pages" if isinstance(answer.body, dict) and answer.body.get("hasNext") else ""
        )
        return ok(name, f"{label} 200, {plural(len(probe.rows), 'row')}{more}", section=ENDPOINTS)
    if status == 200:
        return different(
            name,
            f"{label} 200 with another shape of body",
            f"{endpoint.expected_body} (the tap retries another shape, then fails)",
            f"{endpoint.class_name} in tap_mixmax/streams.py",
            section=ENDPOINTS,
        )
    if status in (403, 404) and endpoint.optional:
        why = "the token, plan or workspace lacks it" if status == 403 else "not served"
        return unavailable(name, f"{label} {status} ({why}); the tap skips it", ENDPOINTS)
    if 300 <= status < 400:
        return different(
            name,
            f"{label} a redirect ({status})",
            "Mixmax answers at api_url itself (the tap follows no redirects)",
            "api_url in the config",
            section=ENDPOINTS,
        )
    if 400 <= status < 500 and status not in (401, 403, 404, 429):
        return different(
            name,
            f"{label} {answer.describe()}",
            "Mixmax accepts the request the tap builds",
            f"the parameters of {endpoint.class_name} in tap_mixmax/streams.py",
            section=ENDPOINTS,
        )
    return failed(name, f"{label} {answer.describe()}", ENDPOINTS)


@dataclasses.dataclass(frozen=True)
class WindowTrial:
    """The live feed asked through one parameter name, with two `sent:` windows."""

    param: str
    read: bool  # a window in 2001 emptied the feed: the parameter was read
    included: list[Row]  # the rows of a window around a known row's day
    strays: int  # of those, rows sent outside the window
    symptom: str = ""  # when not read: what the window in 2001 got


def try_window(visit: Visit, param: str, day: dt.date) -> WindowTrial:
    empty = visit.read(LIVEFEED, {param: sent_window(*EMPTY_SENT_WINDOW), "limit": 1})
    if empty.rows != []:
        answer = t.cast(Answer, empty.answer)
        symptom = "it kept its rows" if empty.rows else f"it got {answer.describe()}"
        return WindowTrial(param, False, [], 0, symptom)
    padding = dt.timedelta(days=streams.LIVEFEED_DAY_PADDING)
    first, last = day - dt.timedelta(days=WINDOW_DAYS), day + padding
    rows = visit.read(LIVEFEED, {param: sent_window(first, last), "limit": WINDOW_SAMPLE_ROWS}).rows
    # Mixmax counts days in the user's timezone: a row may sit one more day either side.
    lowest, highest = first - padding, last + padding
    strays = sum(not lowest <= sent_day <= highest for sent_day in map(sent_day_of, rows or []))
    return WindowTrial(param, True, rows or [], strays)


def sent_day_of(row: Row) -> dt.date:
    try:
        return to_datetime(row.get(LIVEFEED.replication_key or "")).date()
    except TimestampError:
        return dt.date.min


def check_live_feed_search(visit: Visit) -> Iterator[Finding]:
    """The search-string parameter (`query`) and its `sent:` window: docs/mixmax-api.md 2.5."""
    param_check, window_check = "live feed search parameter", "live feed sent: window"
    days = [day for day in map(sent_day_of, visit.rows(LIVEFEED.name)) if day != dt.date.min]
    if not days:
        why = "the live feed is not served or is empty: nothing to filter"
        yield unavailable(param_check, why)
        yield unavailable(window_check, why)
        return
    assumed = visit.livefeed_query_param
    assumed_param = f"the search string goes in {assumed!r} (livefeed_query_param)"
    alternatives = [name for name in LIVEFEED_QUERY_ALTERNATIVES if name != assumed]
    trial = first_trial = try_window(visit, assumed, days[0])
    for alternative in alternatives:
        if trial.read:
            break
        trial = try_window(visit, alternative, days[0])
    if not trial.read:
        tried = ", ".join((assumed, *alternatives))
        yield different(
            param_check,
            f"none of {tried} filtered the live feed by a sent: window in 2001 (with "
            f"{assumed!r}, {first_trial.symptom})",
            assumed_param,
            "livefeed_query_param in the config (the name Mixmax reads); until then every "
            "sync reads the whole live feed",
        )
        yield unavailable(window_check, "no parameter that carries the search string was found")
        return
    visit.window_rows = trial.included
    if trial.param == assumed:
        yield ok(param_check, f"{assumed!r} is read: a sent: window in 2001 emptied the feed")
    else:
        yield different(
            param_check,
            f"Mixmax reads the search string from {trial.param!r} and ignores {assumed!r}",
            assumed_param,
            f"livefeed_query_param: {trial.param!r} in the config",
        )
    yield window_finding(window_check, trial)


def window_finding(check: str, trial: WindowTrial) -> Finding:
    days = WINDOW_DAYS + streams.LIVEFEED_DAY_PADDING + 1
    assumed = (
        f"sent:{streams.LIVEFEED_DATE_FORMAT}-{streams.LIVEFEED_DATE_FORMAT} selects whole "
        "days (docs/mixmax-api.md 2.5)"
    )
    change = "LIVEFEED_DATE_FORMAT or LIVEFEED_DAY_PADDING in tap_mixmax/streams.py"
    if not trial.included:
        seen = f"a {days}-day window up to a row's own sent day returned no rows"
        return different(check, seen, assumed, change)
    if trial.strays:
        seen = f"a {days}-day window returned {plural(trial.strays, 'row')} sent outside it"
        return different(check, seen, assumed, change)
    count = plural(len(trial.included), "row")
    return ok(check, f"a {days}-day window up to a row's sent day returned {count}, all inside")


def check_events_message_param(visit: Visit) -> Iterator[Finding]:
    """The message parameter of /livefeed/events (`messageId`): docs/mixmax-api.md section 5."""
    check = "events message parameter"
    probe = visit.probes[LIVEFEED_EVENTS.name]
    if probe.answer is None or probe.answer.status in (403, 404):
        yield unavailable(check, endpoint_finding(probe).seen)
        return
    rows = visit.window_rows + visit.rows(LIVEFEED.name)
    if not any(row.get("lastEventAt") for row in rows):  # look further for a message with events
        params = LIVEFEED.first_page_params(visit.livefeed_query_param)
        params["limit"] = WINDOW_SAMPLE_ROWS
        rows += visit.read(LIVEFEED, params).rows or []
    if not rows:
        yield unavailable(check, "no live-feed message to ask for")
        return
    message = message_of(([row for row in rows if row.get("lastEventAt")] or rows)[0])

    def picks_one_message(param: str) -> tuple[bool, Answer]:
        """Whether `param` is read: the message's events come, a made-up one's do not."""
        real = visit.read(LIVEFEED_EVENTS, {param: message, "limit": 1})
        if not real.rows:
            return False, t.cast(Answer, real.answer)
        made_up = visit.read(LIVEFEED_EVENTS, {param: BOGUS_MESSAGE_ID, "limit": 1})
        # Refusing the made-up id (400, 404) also shows that the parameter was read.
        refused = t.cast(Answer, made_up.answer).status in (400, 404)
        return made_up.rows == [] or refused, t.cast(Answer, real.answer)

    assumed = streams.LIVEFEED_EVENTS_MESSAGE_PARAM
    works, answer = picks_one_message(assumed)
    if works:
        yield ok(check, f"{assumed!r} is read: one message's events came, a made-up one's not")
        return
    if rows_of(LIVEFEED_EVENTS, answer) == []:
        yield unavailable(check, "the live-feed message tried has no events: cannot tell")
        return
    symptom = "a made-up message still had events" if answer.status == 200 else answer.describe()
    assumed_param = f"the message goes in {assumed!r} (docs/mixmax-api.md section 6)"
    for alternative in EVENTS_MESSAGE_ALTERNATIVES:
        if picks_one_message(alternative)[0]:
            yield different(
                check,
                f"Mixmax reads the message from {alternative!r}; with {assumed!r}: {symptom}",
                assumed_param,
                f"LIVEFEED_EVENTS_MESSAGE_PARAM = {alternative!r} in tap_mixmax/streams.py",
            )
            return
    yield different(
        check,
        f"none of {', '.join((assumed, *EVENTS_MESSAGE_ALTERNATIVES))} picked one message; "
        f"with {assumed!r}: {symptom}",
        assumed_param,
        "LIVEFEED_EVENTS_MESSAGE_PARAM in tap_mixmax/streams.py (the name Mixmax reads)",
    )


def check_rules_expand(visit: Visit) -> Iterator[Finding]:
    """`expand=actions` embeds each rule's actions (docs/mixmax-api.md 2.9)."""
    check, rows = "rules expand=actions", visit.rows(RULES.name)
    if not rows:
        served = visit.probes[RULES.name].rows is not None
        yield unavailable(check, "the account has no rules" if served else "rules are not served")
    elif all(isinstance(row.get(streams.RULE_ACTIONS_FIELD), list) for row in rows):
        yield ok(check, "rules came with their actions embedded")
    else:
        yield different(
            check,
            f"rules came without {streams.RULE_ACTIONS_FIELD!r} despite expand=actions",
            "expand=actions embeds each rule's actions, so rule_actions costs no request",
            "none needed: rule_actions then asks /rules/{ruleId}/actions once per rule "
            "(RuleActionsStream), one request per rule",
        )


def check_paging_flags(visit: Visit) -> Iterator[Finding]:
    """hasNext on every list answer, and next whenever it is true (docs/mixmax-api.md 1.4)."""
    check, envelopes = "paging flags", visit.envelopes
    if not envelopes:
        yield unavailable(check, "no list answered")
        return
    no_flag = sorted({s for s, body in envelopes if not isinstance(body.get("hasNext"), bool)})
    no_next = sorted(
        {s for s, body in envelopes if body.get("hasNext") is True and not body.get("next")}
    )
    assumed = "every list answer has a boolean hasNext, and a next cursor while it is true"
    if no_flag:
        yield different(
            check,
            f"no boolean hasNext from {listing(no_flag)}",
            assumed,
            "CursorPaginator.has_more in tap_mixmax/client.py: as it is, the tap reads only "
            "the first page of every list",
        )
    elif no_next:
        yield different(
            check,
            f"hasNext true without a next cursor from {listing(no_next)}",
            assumed,
            "CursorPaginator.get_next in tap_mixmax/client.py (the sync stops there)",
        )
    else:
        yield ok(check, f"all {len(envelopes)} list answers had hasNext, and next while true")


def check_page_size_and_last_page(visit: Visit) -> Iterator[Finding]:
    """The largest page honoured, and hasNext on the last page (docs/mixmax-api.md 1.4).

    Follows `next` from the one-row first page of a few lists, asking for MAX_PAGE_SIZE:
    a full page shows the size is honoured, a short page with hasNext false is the last
    page, and a short page with hasNext true is a cap (or a flag true on the last page).
    """
    page_size: Finding | None = None
    last_page: Finding | None = None
    largest = 0
    for endpoint in paging_candidates(visit)[:PAGING_LISTS_TRIED]:
        if page_size and last_page:
            break
        first = visit.probes[endpoint.name]
        page = follow(visit, first)
        if page.rows is None:
            continue
        body, count = t.cast(Answer, page.answer).body, len(page.rows)
        largest = max(largest, 1 + count)
        if first.rows and any(row.get("_id") == first.rows[0].get("_id") for row in page.rows):
            last_page = last_page or different(
                "last page",
                f"following next on {endpoint.name} returned the first page's row again",
                "next leads to the rows after its page",
                "CursorPaginator in tap_mixmax/client.py",
            )
        elif count >= MAX_PAGE_SIZE:
            seen = f"limit={MAX_PAGE_SIZE} on {endpoint.name} returned {count} rows"
            page_size = page_size or ok("largest page size", seen)
        elif body.get("hasNext") is True:
            after = follow(visit, page)
            if after.rows == []:
                last_page = last_page or different(
                    "last page",
                    f"hasNext was true on the last page of {endpoint.name} (the next was empty)",
                    "hasNext is false on the last page",
                    "CursorPaginator.has_more in tap_mixmax/client.py (stop on an empty page)",
                )
            elif after.rows:
                page_size = page_size or capped(endpoint, count)
        elif body.get("hasNext") is False:
            echoed = "and still sent a" if body.get("next") else "and no"
            seen = f"the last page of {endpoint.name} said hasNext false {echoed} next cursor"
            last_page = last_page or ok("last page", seen)
    tried = f"no list tried had over {MAX_PAGE_SIZE + 1} rows (largest: {largest})"
    yield page_size or unavailable("largest page size", tried)
    yield last_page or unavailable("last page", "no list's last page was reached")


def paging_candidates(visit: Visit) -> list[Endpoint]:
    """Top-level lists whose one-row first page has a next page, likeliest-large first."""
    found = []
    for endpoint in ENDPOINT_LIST:
        probe = visit.probes.get(endpoint.name)
        if not endpoint.is_list or endpoint.parent or endpoint is LIVEFEED or probe is None:
            continue
        body = probe.answer.body if probe.answer and probe.rows else {}
        if isinstance(body.get("next"), str) and body.get("hasNext") is not False:
            found.append(endpoint)
    rank = {name: index for index, name in enumerate(PAGE_SIZE_PREFERENCE)}
    return sorted(found, key=lambda endpoint: rank.get(endpoint.name, len(rank)))


def follow(visit: Visit, page: Page) -> Page:
    cursor = t.cast(Answer, page.answer).body.get("next")
    return visit.read(page.endpoint, {"limit": MAX_PAGE_SIZE, "next": cursor})


def capped(endpoint: Endpoint, count: int) -> Finding:
    return different(
        "largest page size",
        f"Mixmax cut limit={MAX_PAGE_SIZE} to {count} rows on {endpoint.name}",
        f"pages of up to {MAX_PAGE_SIZE} rows (MAX_PAGE_SIZE, docs/mixmax-api.md 1.4)",
        f"none needed: lists follow hasNext, so every row is read, {count} at a time; "
        f"page_size: {count} in the config asks for what is served",
    )


def check_timestamp_formats(visit: Visit) -> Iterator[Finding]:
    """Every date-time field seen is a form the tap reads (docs/mixmax-api.md 1.7, 5)."""
    check, lines, unreadable = "timestamp formats", [], set()
    for endpoint in ENDPOINT_LIST:
        rows = visit.samples.get(endpoint.name) or []
        forms: dict[str, set[str]] = {}
        for path in datetime_paths(endpoint.schema()):
            field = ".".join(path).replace(f".{ARRAY_ITEMS}", ARRAY_ITEMS)
            for value in (v for row in rows for v in values_at(row, path) if v is not None):
                forms.setdefault(field, set()).add(timestamp_form(value))
                try:
                    normalize_timestamp(value)
                except TimestampError:
                    key = " (the replication key)" if path[0] == endpoint.replication_key else ""
                    unreadable.add(f"{endpoint.name}.{field}{key}")
        if forms:
            kinds = ", ".join(f"{f} {'/'.join(sorted(k))}" for f, k in sorted(forms.items()))
            lines.append(f"{endpoint.name}: {kinds}")
    if not lines:
        yield unavailable(check, "no rows with timestamps came back")
    elif unreadable:
        yield different(
            check,
            f"the tap cannot read {', '.join(sorted(unreadable))} as a time",
            "date-time fields are epoch ms, epoch s or ISO-8601 (docs/mixmax-api.md section 6)",
            "to_datetime in tap_mixmax/records.py; until then the tap writes null there and "
            "keeps the value in _extra",
            details=lines,
        )
    else:
        seen = f"every date-time field seen, in {plural(len(lines), 'stream')}, is readable"
        yield ok(check, seen, lines)


def check_unknown_fields(visit: Visit) -> Iterator[Finding]:
    """Fields the schemas do not declare (docs/mixmax-api.md section 5, 6)."""
    check, lines, rows_seen = "unknown fields", [], 0
    for endpoint in ENDPOINT_LIST:
        rows = visit.samples.get(endpoint.name) or []
        rows_seen += len(rows)
        schema = endpoint.schema()
        unknown = set().union(*(unknown_fields(schema, row) for row in rows))
        unknown -= CONSUMED_FIELDS.get(endpoint.name, frozenset())
        if unknown:
            lines.append(f"{endpoint.name}: {', '.join(sorted(unknown))}")
    if not rows_seen:
        yield unavailable(check, "no rows came back")
    elif lines:
        yield different(
            check,
            f"fields the schemas lack: {'; '.join(lines)}",
            "the schemas in tap_mixmax/schemas/ declare every field",
            "add them to tap_mixmax/schemas/<stream>.json; until then top-level ones land in "
            "_extra and nested ones pass untyped",
        )
    else:
        yield ok(check, f"all {plural(rows_seen, 'row')} seen have only fields the schemas know")


def check_rate_limit_headers(visit: Visit) -> Iterator[Finding]:
    """X-RateLimit-* on the answers and the Reset format (docs/mixmax-api.md section 5, 6)."""
    check = "rate-limit headers"
    answers = [answer for answer in visit.client.answers if answer.status]
    marked = [a for a in answers if all(h in a.headers for h in RATE_HEADERS)]
    if not marked:
        yield different(
            check,
            f"no X-RateLimit-* headers on {plural(len(answers), 'answer')}",
            "Mixmax sends X-RateLimit-Limit, -Remaining and -Reset (docs/mixmax-api.md 1.5)",
            "none needed: the tap paces itself by max_requests_per_minute and obeys Retry-After",
        )
        return
    retry_afters = [a.headers["Retry-After"] for a in answers if "Retry-After" in a.headers]
    forms = sorted({"seconds" if v.strip().isdigit() else "a date" for v in retry_afters})
    details = [f"Retry-After came {plural(len(retry_afters), 'time')}: {', '.join(forms)}"]
    details = details if retry_afters else []
    limits = sorted({a.headers["X-RateLimit-Limit"] for a in marked})
    styles = sorted({reset_style(a.headers["X-RateLimit-Reset"]) for a in marked})
    waits = [parse_reset(a.headers["X-RateLimit-Reset"], now=a.received) for a in marked]
    seen = (
        f"on {len(marked)} of {len(answers)} answers; Limit {', '.join(limits)}; Reset is "
        f"{' and '.join(styles)} (e.g. {marked[-1].headers['X-RateLimit-Reset']!r})"
    )
    assumed = "X-RateLimit-Reset is seconds until reset, epoch s or epoch ms (section 6)"
    if limits != [str(MIXMAX_RATE_LIMIT_PER_MINUTE)]:
        yield different(
            check,
            seen,
            f"{MIXMAX_RATE_LIMIT_PER_MINUTE} requests per minute (docs/mixmax-api.md 1.5)",
            "max_requests_per_minute in the config (MIXMAX_RATE_LIMIT_PER_MINUTE in settings.py)",
            details=details,
        )
    elif None in waits:
        yield different(
            check,
            f"{seen}, which the tap cannot read",
            assumed,
            "parse_reset in tap_mixmax/pacing.py; until then the tap ignores Reset and relies "
            "on its own count and Retry-After",
            details=details,
        )
    elif max(t.cast(list[float], waits)) > PLAUSIBLE_RESET_SECONDS:
        longest = max(t.cast(list[float], waits))
        yield different(
            check,
            f"{seen}, which the tap reads as {longest:.0f} s away",
            assumed,
            "RESET_DELTA_MAX in tap_mixmax/pacing.py or EPOCH_MS_THRESHOLD in records.py",
            details=details,
        )
    else:
        yield ok(check, f"{seen}, which the tap reads", details)
