"""The two shapes of Mixmax rows: what live rows show (served), and what the docs guessed.

The world (world.py) serves the shapes that connectors built against the live API show
(docs/mixmax-api.md, "Field sources"): the live feed's `numOpens`/`numClicks`/
`numDownloads` and 0/1 flags, numeric `scheduleBetween` hours, `shared` as `{users,
teams}`, meeting types' bare-boolean integrations and numeric round-robin queues, and the
preference and meeting-type keys only live rows carry. The fields those rows add are
built here, from the row's own index or seed (never the build's random stream, so ids
and counts stay the same).

`documented(resource, row)` turns a served row into the shapes the tap's first schemas
guessed from the docs (boolean flags, `numOpen`, `"09:00"`, a `[{userEmail, confirmed}]`
list, `{"enabled": ...}`, queue members as text, no live-only keys): the `shapes` drift
(drift.py) serves those, so the tap meets both.
"""

from __future__ import annotations

from typing import Any

SERVED, DOCUMENTED = "evidenced", "documented"
SHAPES = (SERVED, DOCUMENTED)

# The sending window of a sequence stage, in whole hours as live rows give them.
WINDOW_START_HOUR, WINDOW_END_HOUR = 9, 17
LIVEFEED_COUNTERS = {"numOpens": "numOpen", "numClicks": "numClick", "numDownloads": "numDownload"}
LIVEFEED_FLAGS = (
    "showContentTeamFeed",
    "trackingMuted",
    "wasReplied",
    "wasBounced",
    "wasAccepted",
    "wasDeclined",
    "wasTentative",
)
LIVEFEED_LIVE_ONLY = frozenset({"wasDeliveredWithTrackedOpens", "wasSentViaMixmax"})
UNSUBSCRIBE_LIVE_ONLY = ("orgId", "sequenceId")
STAGE_FLAGS = ("hasOpens", "hasLinks", "hasFiles")
INTEGRATIONS = ("zoom", "hangoutsMeet")


def meeting_type_fields(index: int) -> dict[str, Any]:
    """The 9 keys live meeting types carry beyond the documented ones (empty lists, as seen)."""
    return {
        "type": "roundRobin" if index % 2 else "individual",
        "anyRoomInBuilding": [],
        "customFields": [],
        "defaultGuests": [],
        "guestsCanModifyInvites": index % 3 == 0,
        "includeMessagePermaLink": True,
        "preventDoubleBooking": [],
        "reducedInterval": False,
        "roomsAndResources": [],
    }


MEETING_TYPE_LIVE_ONLY = frozenset(meeting_type_fields(0))


def round_robin_queue(index: int) -> list[int]:
    """Members of a round-robin meeting type's queue: numbers, as live rows show them."""
    return [1000 + index, 2000 + index] if index % 2 else []


def preference_fields() -> dict[str, Any]:
    """The 36 preference keys live rows carry beyond the documented ones."""
    return {
        "appHotkeyMac": "Meta+J",
        "appHotkeyWin": "Ctrl+J",
        "archiveOnCmdEnter": False,
        "archiveOnReminder": True,
        "autoLinkConversionEnabled": True,
        "calendarDragChunkingEnabled": True,
        "calendarHourFormatAMPM": False,
        "defaultCalendarType": "google",
        "defaultDashboardNavDrawerWidth": "240px",
        "defaultFileTrackingEnabled": True,
        "defaultFollowup": {"autoRemind": False, "trigger": "noReply", "unparsedDate": "in 3 days"},
        "defaultFontSize": "small",
        "defaultImportantReminders": False,
        "defaultLinkTrackingEnabled": True,
        "defaultMeetingLength": 30,
        "defaultMeetingType": "",
        "defaultNakedLinkTrackingEnabled": False,
        "defaultNarrowWidthEnabled": False,
        "defaultNotificationsEnabled": True,
        "defaultSlackNotificationsEnabled": False,
        "defaultSmartRemindersEnabled": True,
        "disableEUTracking": False,
        "emojiEnabled": True,
        "enableTrackingIndicatorsInGmail": True,
        "followupPresets": {"reminder": ["in 2 days", "next week"], "sendLater": ["tomorrow 9am"]},
        "hideVisibleCalendarsSidebar": False,
        "includeMessagePermaLink": True,
        "inlinePDFPreviewEnabled": True,
        "newsletterOptIn": False,
        "preventDoubleBookings": True,
        "sidebarEnabled": True,
        "slashCommandMenuEnabled": True,
        "slashMeeting": {"slots": 3},
        "templateShortcutMenuEnabled": True,
        "undoDelay": 10,
        "undoSendEnabled": True,
    }


def share_user(person: dict[str, Any], role: str = "read-only") -> dict[str, Any]:
    """One entry of `shared.users`: a Mixmax user the row is shared with."""
    return {"userId": person["_id"], "email": person["email"], "role": role, "accepted": True}


# ------------------------------------------------------------------ documented shapes
def _flags(row: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if isinstance(row.get(name), int):
            row[name] = bool(row[name])


def _livefeed(row: dict[str, Any]) -> dict[str, Any]:
    out = {LIVEFEED_COUNTERS.get(k, k): v for k, v in row.items() if k not in LIVEFEED_LIVE_ONLY}
    _flags(out, LIVEFEED_FLAGS)
    return out


def _recipient(row: dict[str, Any]) -> dict[str, Any]:
    stages = []
    for served in row.get("stages") or []:
        stage = dict(served)
        window = stage.get("scheduleBetween")
        if isinstance(window, dict):
            ends = ("start", "end")
            hours = {k: f"{window[k]:02d}:00" for k in ends if type(window.get(k)) is int}
            stage["scheduleBetween"] = {**window, **hours}
        for name in STAGE_FLAGS:
            if type(stage.get(name)) is int:
                stage[name] = stage[name] > 0
        stages.append(stage)
    return {**row, "stages": stages}


def _shared_list(row: dict[str, Any]) -> dict[str, Any]:
    shared = row.get("shared")
    if not isinstance(shared, dict):
        return row
    users = shared.get("users") or []
    listed = [{"userEmail": u["email"], "confirmed": u["accepted"]} for u in users]
    return {**row, "shared": listed}


def _meeting_type(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in MEETING_TYPE_LIVE_ONLY}
    integrations = row.get("integrations")
    if isinstance(integrations, dict):
        out["integrations"] = {
            k: {"enabled": v} if k in INTEGRATIONS and isinstance(v, bool) else v
            for k, v in integrations.items()
        }
    out["roundRobinQueue"] = [str(m) for m in row.get("roundRobinQueue") or []]
    return out


def _drop(names: tuple[str, ...]) -> Any:
    return lambda row: {k: v for k, v in row.items() if k not in names}


_DOCUMENTED = {
    "livefeed": _livefeed,
    "sequence_recipients": _recipient,
    "snippets": _shared_list,
    "snippet_tags": _shared_list,
    "meeting_types": _meeting_type,
    "unsubscribes": _drop(UNSUBSCRIBE_LIVE_ONLY),
    "user_preferences": _drop(tuple(preference_fields())),
}


def documented(resource: str | None, row: dict[str, Any]) -> dict[str, Any]:
    """A served row in the shapes the docs guessed (a new dict: the world is not touched)."""
    rewrite = _DOCUMENTED.get(resource or "")
    return rewrite(row) if rewrite else row
