"""The control API under /_sandbox/: no auth, never limited, faulted or logged.

GET  /_sandbox/ids/<resource>?user=N      -> {"ids": [...]}  (what user N sees; default 0)
GET  /_sandbox/records/<resource>?user=N  -> {"records": [...]}
GET  /_sandbox/shared/<resource>          -> {"ids": [...]}  (seen by 2 or more users)
GET  /_sandbox/counts?user=N              -> {resource: count}
GET  /_sandbox/users                      -> {"users": [{"index", "id", "email", "token"}]}
POST /_sandbox/revoke {"user": N}         -> that token answers 401 from now on
POST /_sandbox/restore {"user": N}        -> undoes revoke
POST /_sandbox/advance {"days": 1}        -> summary of what changed
POST /_sandbox/faults {...}        -> {"fault": {...}};  GET lists them; DELETE clears them
GET  /_sandbox/requests            -> {"requests": [...]}; DELETE clears the log
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from .faults import FaultBook, fault_from_mapping
from .org import Org

RESOURCES = [
    "users",
    "sequences",
    "sequence_recipients",
    "messages",
    "snippets",
    "polls",
    "unsubscribes",
    "livefeed",
    "livefeed_events",
    "teams",
    "team_members",
    "rules",
    "rule_actions",
    "snippet_tags",
    "sequence_folders",
    "code_snippets",
    "meeting_types",
    "meeting_invites",
    "insights_reports",
    "qa",
    "yesno",
    "file_requests",
    "user_preferences",
    "appointment_links",
    "snippet_tag_snippets",
    "integration_commands",
    "integration_enhancements",
    "integration_link_resolvers",
    "integration_sidebars",
]


class LoggedRequest(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class App(Protocol):
    """What the control API drives: server.App is one. Declared here so the server
    depends on this module and not the other way round."""

    org: Org
    faults: FaultBook
    revoked: set[int]

    def revoke(self, user: int) -> None: ...

    def restore(self, user: int) -> None: ...

    def request_log(self) -> Sequence[LoggedRequest]: ...

    def clear_requests(self) -> None: ...


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def _users(app: App) -> list[dict[str, Any]]:
    return [
        {"index": index, "id": world.me["_id"], "email": world.me["email"], "token": token}
        for index, (world, token) in enumerate(zip(app.org.worlds, app.org.tokens, strict=True))
    ]


def handle(app: App, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
    """`(status, JSON body)` for a control call; `path` is relative to /_sandbox."""
    parts = [p for p in path.split("/") if p]
    try:
        if method == "GET" and len(parts) == 2 and parts[0] in ("ids", "records", "shared"):
            if parts[1] not in RESOURCES:
                return 404, {"message": f"unknown resource {parts[1]!r}"}
            if parts[0] == "shared":
                return 200, {"ids": app.org.shared_ids(parts[1])}
            user = app.org.check_user(int(query.get("user", 0)))
            if parts[0] == "ids":
                return 200, {"ids": app.org.ids(parts[1], user)}
            return 200, {"records": app.org.records(parts[1], user)}
        if method == "GET" and parts == ["counts"]:
            return 200, app.org.counts(app.org.check_user(int(query.get("user", 0))))
        if method == "GET" and parts == ["users"]:
            return 200, {"users": _users(app)}
        if method == "POST" and parts in (["revoke"], ["restore"]):
            user = int(_json_body(body)["user"])
            (app.revoke if parts == ["revoke"] else app.restore)(user)
            return 200, {"user": user, "revoked": user in app.revoked}
        if method == "POST" and parts == ["advance"]:
            days = float(_json_body(body).get("days", 1))
            return 200, app.org.advance(days)
        if parts == ["faults"]:
            if method == "POST":
                return 200, {
                    "fault": app.faults.add(fault_from_mapping(_json_body(body))).describe()
                }
            if method == "DELETE":
                app.faults.clear()
                return 200, {"faults": []}
            if method == "GET":
                return 200, {"faults": app.faults.describe()}
        if parts == ["requests"]:
            if method == "GET":
                return 200, {"requests": [r.to_json() for r in app.request_log()]}
            if method == "DELETE":
                app.clear_requests()
                return 200, {"requests": []}
        if method == "GET" and not parts:
            return 200, {
                "resources": RESOURCES,
                "url": "/v1",
                "now": app.org.now.isoformat(),
                "users": len(app.org),
            }
    except IndexError as error:
        return 404, {"message": str(error)}
    except (ValueError, KeyError, TypeError) as error:
        return 400, {"message": f"bad control request: {error}"}
    return 404, {"message": f"no control endpoint {method} /_sandbox{path}"}
