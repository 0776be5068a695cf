"""The control API under /_sandbox/: no auth, never limited, faulted or logged.

GET  /_sandbox/ids/<resource>      -> {"ids": [...]}
GET  /_sandbox/records/<resource>  -> {"records": [...]}
GET  /_sandbox/counts              -> {resource: count}
POST /_sandbox/advance {"days": 1} -> summary of what changed
POST /_sandbox/faults {...}        -> {"fault": {...}};  GET lists them; DELETE clears them
GET  /_sandbox/requests            -> {"requests": [...]}; DELETE clears the log
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .faults import fault_from_mapping

if TYPE_CHECKING:
    from .server import App

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
]


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


def handle(app: App, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any]:
    """`(status, JSON body)` for a control call; `path` is relative to /_sandbox."""
    parts = [p for p in path.split("/") if p]
    try:
        if method == "GET" and len(parts) == 2 and parts[0] in ("ids", "records"):
            if parts[1] not in RESOURCES:
                return 404, {"message": f"unknown resource {parts[1]!r}"}
            with app.world.lock:
                if parts[0] == "ids":
                    return 200, {"ids": app.world.ids(parts[1])}
                return 200, {"records": app.world.records(parts[1])}
        if method == "GET" and parts == ["counts"]:
            with app.world.lock:
                return 200, app.world.counts()
        if method == "POST" and parts == ["advance"]:
            days = float(_json_body(body).get("days", 1))
            return 200, app.world.advance(days)
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
            return 200, {"resources": RESOURCES, "url": "/v1", "now": app.world.now.isoformat()}
    except (ValueError, KeyError, TypeError) as error:
        return 400, {"message": f"bad control request: {error}"}
    return 404, {"message": f"no control endpoint {method} /_sandbox{path}"}
