"""The dbt marts' figures, computed in Python from what the sandbox's API serves.

Nothing here runs SQL or reads the warehouse: the rows come from the Mixmax API itself
(the sandbox, read with `requests` and each account's token), and each figure follows
its definition in transform/models/marts/_mixmax__figures.md. With several tokens, an
object that several accounts see counts once, as the marts promise.

Every value is made canonical (`canonical`) so the marts' rows, read from PostgreSQL or
DuckDB, compare with `==`: timestamps as ISO text to the millisecond, dates as ISO text.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from collections import defaultdict
from dataclasses import dataclass, field

import requests

PAGE = 300
# The package's default (dbt_project.yml `mixmax_unsubscribe_attribution_days`).
UNSUBSCRIBE_ATTRIBUTION_DAYS = 30
EPOCH = dt.datetime(1970, 1, 1)

Row = dict[str, t.Any]
Mart = dict[str, Row]  # key column -> row


def instant(value: t.Any) -> dt.datetime | None:
    """An API timestamp (epoch ms, or ISO text with `Z`) as a naive UTC datetime."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return EPOCH + dt.timedelta(milliseconds=int(value))
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)


def moment(value: t.Any) -> dt.datetime:
    """instant() of a timestamp that the API always sends."""
    parsed = instant(value)
    assert parsed is not None, "a timestamp is missing"
    return parsed


def canonical(value: t.Any) -> t.Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def canonical_rows(rows: list[Row], key: str) -> Mart:
    return {row[key]: {name: canonical(value) for name, value in row.items()} for row in rows}


@dataclass
class Served:
    """Every row the tokens can read, one copy per id."""

    sequences: dict[str, Row]
    recipients: dict[str, Row]
    livefeed: dict[str, Row]  # by message id
    events: dict[str, list[Row]]  # message id -> its events, as served (newest 200)
    unsubscribes: dict[str, Row]
    polls: dict[str, Row]
    yesno: dict[str, Row]
    # Which accounts (token positions) see each recipient and each unsubscribe.
    seen_by: dict[tuple[str, str], set[int]] = field(default_factory=dict)

    def saw(self, kind: str, row_id: str, account: int) -> None:
        self.seen_by.setdefault((kind, row_id), set()).add(account)


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["X-API-Token"] = token

    def get(self, path: str, **params: t.Any) -> t.Any:
        response = self.session.get(f"{self.url}{path}", params=params, timeout=30)
        if response.status_code in (403, 404):
            return None  # a feature the plan lacks
        response.raise_for_status()
        return response.json()

    def pages(self, path: str, **params: t.Any) -> list[Row]:
        rows: list[Row] = []
        cursor = None
        while True:
            body = self.get(path, limit=PAGE, **params, **({"next": cursor} if cursor else {}))
            if body is None:
                return rows
            rows.extend(body["results"])
            if not body.get("hasNext") or not body["results"]:
                return rows
            cursor = body["next"]

    def recipients(self, sequence_id: str) -> list[Row]:
        rows: list[Row] = []
        while True:
            page = self.get(f"/sequences/{sequence_id}/recipients", offset=len(rows), limit=PAGE)
            # Only an empty page proves the end (a short one may be a silent clamp).
            if not page:
                return rows
            rows.extend(page)


def read_sandbox(url: str, tokens: list[str]) -> Served:
    served = Served({}, {}, {}, {}, {}, {}, {})
    for account, token in enumerate(tokens):
        api = Api(url, token)
        for sequence in api.pages("/sequences"):
            served.sequences.setdefault(sequence["_id"], sequence)
            for recipient in api.recipients(sequence["_id"]):
                served.recipients.setdefault(recipient["_id"], recipient)
                served.saw("recipient", recipient["_id"], account)
        for row in api.pages("/livefeed", query="from:everyone"):
            message_id = row.get("messageId") or row["_id"]
            if message_id not in served.livefeed:
                served.livefeed[message_id] = row
                served.events[message_id] = api.pages("/livefeed/events", messageId=message_id)
        for name, path in (
            ("unsubscribes", "/unsubscribes"),
            ("polls", "/polls"),
            ("yesno", "/yesno"),
        ):
            for row in api.pages(path):
                getattr(served, name).setdefault(row["_id"], row)
                served.saw(name, row["_id"], account)
    return served


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def sequence_performance(served: Served) -> Mart:
    stage_rows: dict[tuple[str, int], list[tuple[Row, Row]]] = defaultdict(list)
    sent_to: list[tuple[dt.datetime, str, int, str]] = []  # sent, recipient, ordinal, email
    for recipient in served.recipients.values():
        for position, stage in enumerate(recipient.get("stages") or []):
            ordinal = position if stage.get("ordinal") is None else stage["ordinal"]
            stage_rows[(recipient["sequenceId"], ordinal)].append((recipient, stage))
            if stage.get("sentAt") is not None:
                sent_at = instant(stage["sentAt"])
                assert sent_at is not None
                sent_to.append((sent_at, recipient["_id"], ordinal, recipient["email"].lower()))

    # Each unsubscribe: the last stage sent to its address before it, within the window,
    # among the stages an account that sees the unsubscribe sees.
    window = dt.timedelta(days=UNSUBSCRIBE_ATTRIBUTION_DAYS)
    unsubscribed: set[tuple[str, int]] = set()
    for unsubscribe in served.unsubscribes.values():
        at = instant(unsubscribe["createdAt"])
        assert at is not None
        email = unsubscribe["email"].lower()
        accounts = served.seen_by[("unsubscribes", unsubscribe["_id"])]
        candidates = [
            s
            for s in sent_to
            if s[3] == email
            and at - window < s[0] <= at
            and accounts & served.seen_by[("recipient", s[1])]
        ]
        if candidates:
            _, recipient_id, ordinal, _ = max(candidates)
            unsubscribed.add((recipient_id, ordinal))

    mart: Mart = {}
    for sequence in served.sequences.values():
        for ordinal, stage_id in enumerate(sequence.get("stages") or []):
            rows = stage_rows.get((sequence["_id"], ordinal), [])
            sent = sum(
                1 for _, s in rows if s.get("sentAt") is not None or (s.get("bounced") or 0) > 0
            )
            counts = {
                "opened": sum(1 for _, stage in rows if (stage.get("opens") or 0) > 0),
                "clicked": sum(1 for _, stage in rows if (stage.get("clicks") or 0) > 0),
                "replied": sum(1 for _, stage in rows if (stage.get("replied") or 0) > 0),
                "bounced": sum(1 for _, stage in rows if (stage.get("bounced") or 0) > 0),
                "unsubscribed": sum(1 for r, _ in rows if (r["_id"], ordinal) in unsubscribed),
            }
            key = f"{sequence['_id']}:{ordinal}"
            mart[key] = {
                "sequence_stage_id": key,
                "sequence_id": sequence["_id"],
                "sequence_name": sequence.get("name"),
                "stage_number": ordinal + 1,
                "stage_id": stage_id,
                "recipients": len(rows),
                "sent": sent,
                **counts,
                "open_rate": rate(counts["opened"], sent),
                "click_rate": rate(counts["clicked"], sent),
                "reply_rate": rate(counts["replied"], sent),
                "bounce_rate": rate(counts["bounced"], sent),
                "unsubscribe_rate": rate(counts["unsubscribed"], sent),
            }
    return canonical_rows(list(mart.values()), "sequence_stage_id")


def message_engagement(served: Served) -> Mart:
    rows = []
    for message_id, feed in served.livefeed.items():
        events = served.events[message_id]
        opened = [e for e in events if e["type"] == "opened"]
        sent_at = instant(feed["sent"])
        first_open = min((moment(e["timestamp"]) for e in opened), default=None)
        last_event = instant(feed.get("lastEventAt"))
        rows.append(
            {
                "message_id": message_id,
                "user_id": feed.get("userId"),
                "from_email": feed.get("fromEmail"),
                "subject": feed.get("subject"),
                "sent_at": sent_at,
                "recipients": len(feed.get("recipients") or []),
                "opens": feed.get("numOpens") or 0,
                "clicks": feed.get("numClicks") or 0,
                "downloads": feed.get("numDownloads") or 0,
                "unique_openers": len(
                    {e["recipientEmail"].lower() for e in opened if e.get("recipientEmail")}
                ),
                "first_opened_at": first_open,
                "seconds_to_first_open": (
                    (first_open - sent_at).total_seconds() if first_open and sent_at else None
                ),
                "replied": bool(feed.get("wasReplied")),
                "bounced": bool(feed.get("wasBounced")),
                "first_open_is_exact": len(opened) >= (feed.get("numOpens") or 0),
                "last_activity_at": last_event or sent_at,
            }
        )
    return canonical_rows(rows, "message_id")


def daily_user_activity(served: Served) -> Mart:
    days: dict[tuple[str, dt.date], dict[str, t.Any]] = defaultdict(
        lambda: {"sent": 0, "opened": set(), "opens": 0, "replied": set(), "unsubscribes": 0}
    )
    for message_id, feed in served.livefeed.items():
        user = feed["userId"]
        sent_at = instant(feed["sent"])
        assert sent_at is not None
        days[(user, sent_at.date())]["sent"] += 1
        for event in served.events[message_id]:
            at = instant(event["timestamp"])
            assert at is not None
            day = days[(user, at.date())]
            if event["type"] == "opened":
                day["opened"].add(message_id)
                day["opens"] += 1
            elif event["type"] == "replied":
                day["replied"].add(message_id)
    for unsubscribe in served.unsubscribes.values():
        at = instant(unsubscribe["createdAt"])
        assert at is not None
        if unsubscribe.get("userId") is not None:  # one without a user counts for no user
            days[(unsubscribe["userId"], at.date())]["unsubscribes"] += 1
    rows = [
        {
            "user_day_id": f"{user}:{day.isoformat()}",
            "user_id": user,
            "activity_date": day,
            "messages_sent": figures["sent"],
            "messages_opened": len(figures["opened"]),
            "opens": figures["opens"],
            "messages_replied": len(figures["replied"]),
            "unsubscribes": figures["unsubscribes"],
        }
        for (user, day), figures in days.items()
    ]
    return canonical_rows(rows, "user_day_id")


def poll_results(served: Served) -> Mart:
    rows = []
    questions = [("poll", p, p.get("question"), p.get("options")) for p in served.polls.values()]
    questions += [("yesno", y, y.get("text"), y.get("answers")) for y in served.yesno.values()]
    for kind, question, text, options in questions:
        options = options or []
        total = sum(len(option.get("respondents") or []) for option in options)
        for position, option in enumerate(options):
            respondents = option.get("respondents") or []
            rows.append(
                {
                    "option_id": f"{kind}:{question['_id']}:{position}",
                    "kind": kind,
                    "question_id": question["_id"],
                    "user_id": question.get("userId"),
                    "question": text,
                    "created_at": instant(question.get("created")),
                    "option_number": position + 1,
                    "option_text": option.get("text"),
                    "votes": len(respondents),
                    "question_votes": total,
                    "vote_share": rate(len(respondents), total),
                    "last_vote_at": max(
                        # A respondent may be a bare address (no time): the tap makes
                        # it {"email": ...}, which has no respondedAt either.
                        (
                            moment(r.get("respondedAt"))
                            for r in respondents
                            if isinstance(r, dict) and r.get("respondedAt") is not None
                        ),
                        default=None,
                    ),
                }
            )
    return canonical_rows(rows, "option_id")


def recipient_engagement(served: Served) -> Mart:
    received: dict[str, set[str]] = defaultdict(set)
    for message_id, feed in served.livefeed.items():
        for person in feed.get("recipients") or []:
            if person.get("email"):
                received[person["email"].lower()].add(message_id)
    acted: dict[str, dict[str, t.Any]] = defaultdict(
        lambda: {"opened": set(), "opens": 0, "clicked": set(), "replied": set(), "last": {}}
    )
    for message_id, events in served.events.items():
        for event in events:
            if not event.get("recipientEmail"):
                continue
            who = acted[event["recipientEmail"].lower()]
            kind = event["type"]
            at = instant(event["timestamp"])
            if kind in ("opened", "clicked", "replied"):
                who[kind].add(message_id)
                who["last"][kind] = max(filter(None, [who["last"].get(kind), at]))
            if kind == "opened":
                who["opens"] += 1
    rows = []
    for email, messages in received.items():
        who = acted[email]
        rows.append(
            {
                "email": email,
                "messages_received": len(messages),
                "messages_opened": len(who["opened"]),
                "opens": who["opens"],
                "messages_clicked": len(who["clicked"]),
                "messages_replied": len(who["replied"]),
                "last_opened_at": who["last"].get("opened"),
                "last_replied_at": who["last"].get("replied"),
                "opens_but_never_replies": bool(who["opened"]) and not who["replied"],
            }
        )
    return canonical_rows(rows, "email")


# Mart name -> (its key column, how to compute it).
MARTS: dict[str, tuple[str, t.Callable[[Served], Mart]]] = {
    "mixmax__sequence_performance": ("sequence_stage_id", sequence_performance),
    "mixmax__message_engagement": ("message_id", message_engagement),
    "mixmax__daily_user_activity": ("user_day_id", daily_user_activity),
    "mixmax__poll_results": ("option_id", poll_results),
    "mixmax__recipient_engagement": ("email", recipient_engagement),
}


def expected_marts(url: str, tokens: list[str], across_accounts: bool = False) -> dict[str, Mart]:
    """The marts' rows. `across_accounts` attributes unsubscribes as if every account saw
    every stage (what the marts must not do), to show that the data can tell the two apart.
    """
    served = read_sandbox(url, tokens)
    if across_accounts:
        everyone = set(range(len(tokens)))
        served.seen_by = {key: everyone for key in served.seen_by}
    return {name: compute(served) for name, (_, compute) in MARTS.items()}


def differences(mart: str, got: Mart, want: Mart, limit: int = 5) -> list[str]:
    """Human-readable differences, at most `limit` of each kind."""
    out = []
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    if missing:
        out.append(f"{mart}: {len(missing)} rows missing, e.g. {missing[:limit]}")
    if extra:
        out.append(f"{mart}: {len(extra)} unexpected rows, e.g. {extra[:limit]}")
    wrong = [key for key in sorted(set(got) & set(want)) if got[key] != want[key]]
    for key in wrong[:limit]:
        fields = {
            name: (got[key].get(name), want[key].get(name))
            for name in sorted(set(got[key]) | set(want[key]))
            if got[key].get(name) != want[key].get(name)
        }
        out.append(f"{mart}[{key}] (got, want): {fields}")
    if len(wrong) > limit:
        out.append(f"{mart}: {len(wrong)} rows differ in all")
    return out
