"""`tap-mixmax --doctor`: a first-contact check of a real Mixmax account.

In about 30 requests per account (never more than MAX_REQUESTS_PER_ACCOUNT), it checks
the token, which endpoints the account's plan serves, and each guess the tap makes where
the API notes (docs/mixmax-api.md section 5, 6) have no confirmed answer. Each check is a
small function listed in CHECKS and returns findings: OK (as the tap assumes), DIFFERENT
(what was seen, what the tap assumes, what to change), UNAVAILABLE (this account cannot
tell) or FAILED (the check could not run). The report names fields and counts rows but
never shows a field's value, and `redact` removes tokens, email addresses and the user's
names from it, so it can be pasted into a bug report.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import json
import re
import sys
import time
import typing as t
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import resources
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from tap_mixmax import __version__, errors, streams
from tap_mixmax.accounts import parse_accounts
from tap_mixmax.checks import normalize_config, read_json_object
from tap_mixmax.client import (
    DEFAULT_API_URL,
    DEFAULT_MAX_RESPONSE_MEGABYTES,
    MAX_PAGE_SIZE,
    TOKEN_HEADER,
)
from tap_mixmax.pacing import (
    RATE_LIMIT_WINDOW_SECONDS,
    RESET_DELTA_MAX,
    parse_reset,
    parse_retry_after,
)
from tap_mixmax.records import (
    ARRAY_ITEMS,
    EPOCH_MS_THRESHOLD,
    TimestampError,
    datetime_paths,
    normalize_timestamp,
    to_datetime,
)
from tap_mixmax.tap import MIXMAX_RATE_LIMIT_PER_MINUTE, check_config
from tap_mixmax.transport import Transport

# A third of Mixmax's 120 per minute: the doctor never crowds out a sync running alongside.
MAX_REQUESTS_PER_ACCOUNT = 40
REQUEST_TIMEOUT_SECONDS = 30
MAX_TRIES = 3  # per request, for 429s, 5xx answers and network failures
RETRY_AFTER_MISSING_SECONDS = 2.0  # a 429 without a Retry-After we can read
RETRY_FAILURE_SECONDS = 1.0  # after a 5xx answer or no answer
MAX_WAIT_SECONDS = 65.0  # the longest wait for the limit: one window and a margin
RATE_LIMIT_RESERVE = 5  # pause when X-RateLimit-Remaining falls this low
NOTIFY_WAIT_SECONDS = 2.0  # a longer wait is announced on stderr
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
# /users/me fields holding the user's own name or address: redacted wherever they occur.
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
REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 3  # shorter name parts would blank ordinary words


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` without email addresses, nor the secrets (tokens, names) as whole words."""
    text = EMAIL.sub("<email>", text)
    for secret in sorted({s.strip() for s in secrets}, key=len, reverse=True):
        if len(secret) >= MIN_SECRET_LENGTH:
            pattern = rf"(?<!\w){re.escape(secret)}(?!\w)"
            text = re.sub(pattern, REDACTED, text, flags=re.IGNORECASE)
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


# -- the one HTTP seam -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int  # 0: no HTTP answer at all
    headers: Mapping[str, str]
    body: t.Any  # parsed JSON, or None
    received: float  # time.time() when it arrived
    problem: str = ""  # one line, when status is 0

    @property
    def message(self) -> str:
        """Mixmax's own `message`, shortened (redacted with the rest of the report)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return " ".join(self.body["message"].split())[:100]
        return ""

    def describe(self) -> str:
        return self.problem or f"{self.status} {self.message}".rstrip()


class BudgetSpentError(Exception):
    """The account's request budget is used up; the remaining checks cannot run."""


def _stderr(line: str) -> None:
    sys.stderr.write(f"tap-mixmax --doctor: {line}\n")


class DoctorClient:
    """The doctor's only way to Mixmax: GET, the token in its header, no redirects.

    It retries 429s (after Retry-After), 5xx answers and network failures, pauses when
    X-RateLimit-Remaining runs low, and refuses to send more than `budget` requests.
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        budget: int = MAX_REQUESTS_PER_ACCOUNT,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        notify: Callable[[str], None] = _stderr,
    ) -> None:
        self.base = api_url.rstrip("/")
        self.host = urlsplit(self.base).hostname or "the API"
        # The tap's own transport: the token stays on api_url's origin, the timeout bounds
        # the whole answer, bodies are capped and the system's CA bundle is trusted.
        self.transport = Transport(self.base, max_body_bytes=DEFAULT_MAX_RESPONSE_MEGABYTES * 2**20)
        self.session = self.transport.session
        self.headers = {TOKEN_HEADER: token, "User-Agent": f"tap-mixmax/{__version__} (doctor)"}
        self.budget = budget
        self.timeout = timeout
        self.sent = 0
        self.answers: list[Answer] = []
        self._sleep = sleep
        self._notify = notify
        self._resume_at = 0.0

    def get(self, path: str, params: Mapping[str, t.Any] | None = None) -> Answer:
        for _ in range(MAX_TRIES - 1):
            answer = self._send(path, params)
            wait, reason = self._retry_wait(answer)
            if wait is None or wait > MAX_WAIT_SECONDS:
                return answer
            self._pause(wait, reason)
        return self._send(path, params)

    def close(self) -> None:
        self.session.close()

    def _send(self, path: str, params: Mapping[str, t.Any] | None) -> Answer:
        if self._resume_at > time.time():
            self._pause(self._resume_at - time.time(), "X-RateLimit-Remaining ran low")
        if self.sent >= self.budget:
            raise BudgetSpentError(f"the budget of {self.budget} requests is spent")
        self.sent += 1
        request = requests.Request(
            "GET", self.base + path, params=params, headers=self.headers
        ).prepare()
        try:
            response = self.transport.send(
                request, timeout=self.timeout, deadline=time.monotonic() + self.timeout
            )
        except errors.MixmaxError as exc:  # a redirect off the origin, a bad certificate...
            return Answer(0, {}, None, time.time(), f"no answer from {self.host}: {exc}")
        except requests.RequestException as exc:
            problem = f"no answer from {self.host}: {type(exc).__name__}"
            return Answer(0, {}, None, time.time(), problem)
        try:
            body = response.json()
        except ValueError:
            body = None
        headers = CaseInsensitiveDict(response.headers)
        answer = Answer(response.status_code, headers, body, time.time())
        self.answers.append(answer)
        self._watch_limit(answer)
        return answer

    @staticmethod
    def _retry_wait(answer: Answer) -> tuple[float | None, str]:
        if answer.status == 429:
            retry_after = parse_retry_after(answer.headers.get("Retry-After"))
            wait = RETRY_AFTER_MISSING_SECONDS if retry_after is None else retry_after
            return wait, "Mixmax answered 429 with that Retry-After"
        if answer.status == 0 or answer.status >= 500:
            return RETRY_FAILURE_SECONDS, f"before retrying: {answer.describe()}"
        return None, ""

    def _watch_limit(self, answer: Answer) -> None:
        try:
            remaining = int(float(answer.headers.get("X-RateLimit-Remaining", "")))
        except ValueError:
            return
        if remaining <= RATE_LIMIT_RESERVE:
            reset = parse_reset(answer.headers.get("X-RateLimit-Reset"))
            wait = RATE_LIMIT_WINDOW_SECONDS if reset is None else reset
            self._resume_at = time.time() + min(wait, MAX_WAIT_SECONDS)

    def _pause(self, seconds: float, why: str) -> None:
        seconds = min(max(0.0, seconds), MAX_WAIT_SECONDS)
        if seconds >= NOTIFY_WAIT_SECONDS:
            self._notify(f"waiting {seconds:.0f} s: {why}")
        self._sleep(seconds)


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
    extra_params: Mapping[str, t.Any]

    @property
    def is_list(self) -> bool:
        return self.records_key is not None

    @property
    def expected_body(self) -> str:
        if self.records_key is not None:
            return f"an object with a {self.records_key!r} list"
        return "a JSON array" if self.parent else "a JSON object"

    def first_page_params(
        self, query_param: str = streams.LIVEFEED_QUERY_PARAM
    ) -> dict[str, t.Any]:
        """The tap's parameters for a first page, with limit=1 where the endpoint pages."""
        if not self.is_list:
            return {**self.extra_params, "offset": 0, "limit": 1} if self.parent else {}
        params: dict[str, t.Any] = {"limit": 1}
        if self.name == streams.LivefeedStream.name:
            params[query_param] = streams.LIVEFEED_FROM_TERM
        if self.name == streams.RulesStream.name:
            params.update(streams.RULES_EXPAND_PARAMS)
        return params

    def schema(self) -> dict[str, t.Any]:
        text = resources.files("tap_mixmax.schemas").joinpath(f"{self.name}.json").read_text()
        return t.cast(dict[str, t.Any], json.loads(text))


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
        extra_params=getattr(stream, "extra_params", {}),
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
    livefeed_query_param: str = streams.LIVEFEED_QUERY_PARAM  # the config's, if it sets one

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
    body = answer.body
    if endpoint.records_key is not None:
        rows = body.get(endpoint.records_key) if isinstance(body, dict) else None
    else:
        rows = body if isinstance(body, list) else [body] if isinstance(body, dict) else None
    if isinstance(rows, list) and all(isinstance(row, dict) for row in rows):
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


def sent_window(first: dt.date, last: dt.date) -> str:
    fmt = streams.LIVEFEED_DATE_FORMAT
    return f"{streams.LIVEFEED_FROM_TERM} sent:{first:{fmt}}-{last:{fmt}}"


def listing(names: Iterable[str], shown: int = 5) -> str:
    names = sorted(names)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# -- the checks ---------------------------------------------------------------------------

Check = Callable[[Visit], Iterable[Finding]]


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


def endpoint_finding(probe: Page) -> Finding:
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
        f"page_size: {count} in the config (or MAX_PAGE_SIZE in tap_mixmax/client.py); "
        f"lists page correctly anyway, but sequence recipients stop at a short page and "
        f"would miss every row past the first {count} of a sequence",
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
            "max_requests_per_minute in the config (MIXMAX_RATE_LIMIT_PER_MINUTE in tap.py)",
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


CHECKS: tuple[Check, ...] = (
    check_token,  # stops the account's checks when the token fails
    check_endpoints,
    check_live_feed_search,
    check_events_message_param,
    check_rules_expand,
    check_paging_flags,
    check_page_size_and_last_page,
    check_timestamp_formats,
    check_unknown_fields,
    check_rate_limit_headers,  # last: it reads every answer the others got
)


# -- running and reporting ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    label: str
    token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class AccountReport:
    label: str
    requests: int
    findings: tuple[Finding, ...]
    personal: frozenset[str]

    def counts(self) -> dict[str, int]:
        return {s.value: sum(f.status is s for f in self.findings) for s in Status}


def check_account(
    client: DoctorClient, label: str, livefeed_query_param: str = streams.LIVEFEED_QUERY_PARAM
) -> AccountReport:
    visit = Visit(client, livefeed_query_param=livefeed_query_param)
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings.extend(check(visit))
        except BudgetSpentError as exc:
            findings.append(unavailable(check.__name__, str(exc)))
            break
        except Exception as exc:  # a bug or an answer no check foresaw: report it, go on
            findings.append(failed(check.__name__, f"the check broke: {type(exc).__name__}"))
        if visit.stopped:
            break
    return AccountReport(label, client.sent, tuple(findings), frozenset(visit.personal))


def safe_url(url: str) -> str:
    """The API URL without credentials or a query string."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def now_utc() -> str:
    return f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


def render_text(api_url: str, reports: list[AccountReport]) -> str:
    lines = [
        f"tap-mixmax {__version__} --doctor: first contact with the Mixmax API",
        f"API URL: {safe_url(api_url)}   checked {now_utc()}",
        "OK: as the tap assumes. DIFFERENT: not as the tap assumes. UNAVAILABLE: this "
        "account cannot tell. FAILED: the check could not run.",
    ]
    indent = " " * 46
    for report in reports:
        lines += ["", f"{report.label}: {plural(report.requests, 'request')}"]
        for section in SECTIONS:
            findings = [f for f in report.findings if f.section == section]
            lines += [f"  {section}"] if findings else []
            for finding in findings:
                lines.append(f"    {finding.status.value:<12} {finding.check:<28} {finding.seen}")
                if finding.status is Status.DIFFERENT:
                    lines.append(f"{indent}tap assumes: {finding.assumed}")
                    lines.append(f"{indent}change: {finding.change}")
                lines += [f"{indent}{detail}" for detail in finding.details]
        counts = ", ".join(f"{n} {status}" for status, n in report.counts().items() if n)
        lines.append(f"  Result: {counts}")
    lines += ["", "Tokens, email addresses and names are redacted; no field values are shown."]
    return "\n".join(lines)


def render_json(api_url: str, reports: list[AccountReport]) -> str:
    accounts = [
        {
            "account": report.label,
            "requests": report.requests,
            "counts": report.counts(),
            "findings": [
                {**dataclasses.asdict(f), "status": f.status.value, "details": list(f.details)}
                for f in report.findings
            ],
        }
        for report in reports
    ]
    document = {
        "tool": "tap-mixmax --doctor",
        "version": __version__,
        "api_url": safe_url(api_url),
        "checked_at": now_utc(),
        "accounts": accounts,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def load_config(paths: list[str]) -> dict[str, t.Any]:
    """The config files merged in order, as the tap's CLI does; ConfigError in one line."""
    config: dict[str, t.Any] = {}
    for name in paths:
        config.update(read_json_object(name, "config"))
    return normalize_config(config)  # tokens registered for masking, stripped, parsed


def targets_of(config: Mapping[str, t.Any], account: str | None) -> list[Target]:
    """The tokens to check; with `accounts`, labelled by position, never by name."""
    accounts = parse_accounts(config)
    if not accounts:
        if account is not None:
            raise errors.ConfigError("--account needs `accounts` in the config")
        return [Target("api_token", str(config["api_token"]).strip())]
    total = len(accounts)
    targets = [
        Target(f"account {i} of {total} in accounts", entry.api_token)
        for i, entry in enumerate(accounts, 1)
        if account is None or entry.name == account
    ]
    if not targets:
        raise errors.ConfigError(f"no account named {account!r} in accounts ({total} set)")
    return targets


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-mixmax",
        description="Check a Mixmax account against what the tap assumes, in about 30 "
        "requests per account, and print a report safe to paste into a bug report.",
    )
    parser.add_argument("--doctor", action="store_true", required=True, help="run the check")
    parser.add_argument(
        "--config", action="append", required=True, metavar="FILE", help="tap config (repeatable)"
    )
    parser.add_argument("--account", metavar="NAME", help="with accounts: check only this one")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit 0: nothing DIFFERENT or FAILED; 1: something is; 2: bad arguments or config."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
        check_config(config)
        targets = targets_of(config, args.account)
    except errors.MixmaxError as exc:
        _stderr(f"error: {exc}")
        return 2
    api_url = str(config.get("api_url") or DEFAULT_API_URL)
    timeout = float(config.get("request_timeout") or REQUEST_TIMEOUT_SECONDS)
    secrets = {a.api_token for a in parse_accounts(config)} | {t.token for t in targets}
    reports: list[AccountReport] = []
    try:
        for target in targets:
            client = DoctorClient(api_url, target.token, timeout=timeout)
            try:
                param = str(config.get("livefeed_query_param") or streams.LIVEFEED_QUERY_PARAM)
                reports.append(check_account(client, target.label, param))
            finally:
                client.close()
    except KeyboardInterrupt:
        _stderr("interrupted")
        return 130
    secrets = secrets.union(*(report.personal for report in reports))
    render = render_json if args.format == "json" else render_text
    sys.stdout.write(redact(render(api_url, reports), secrets) + "\n")
    problems = (Status.DIFFERENT, Status.FAILED)
    return 1 if any(f.status in problems for r in reports for f in r.findings) else 0
