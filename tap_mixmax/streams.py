"""Mixmax streams: what to read and how to key it. The base classes do the work."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

from typing_extensions import override

from tap_mixmax.client import ChildStream, MixmaxStream
from tap_mixmax.offsets import OffsetChildStream
from tap_mixmax.records import format_utc, to_datetime
from tap_mixmax.settings import LIVEFEED_QUERY_PARAM

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

# docs/mixmax-api.md section 6: /livefeed/events takes the message in `messageId`.
LIVEFEED_EVENTS_MESSAGE_PARAM = "messageId"
LIVEFEED_FROM_TERM = "from:everyone"  # the whole team's feed, not only the token user's
# `sent:` works in whole days in a timezone we cannot know; pad the window by one.
LIVEFEED_DAY_PADDING = 1
LIVEFEED_DATE_FORMAT = "%m/%d/%Y"


class UsersStream(MixmaxStream):
    """The token's own user: also the connection check, so a 403 here is fatal."""

    name = "users"
    path = "/users/me"
    primary_keys = ("_id",)
    records_key = None
    optional_endpoint = False


class SequencesStream(MixmaxStream):
    """Full table: edits move no sortable field (`updatedAt` tracks recipients only)."""

    name = "sequences"
    path = "/sequences"
    primary_keys = ("_id",)

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        self._recipients = RecipientsPass(self.config, self.stream_state.get(RecipientsPass.KEY))
        yield from super().get_records(context)
        # Every child has synced by now: a pass that read recipients may be recorded.
        if any(child.selected for child in self.child_streams):
            self.stream_state[RecipientsPass.KEY] = self._recipients.finished()

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        if self._recipients.should_read(record.get("updatedAt")):
            yield {"sequenceId": record["_id"]}


class RecipientsPass:
    """Which sequences' recipients a sync reads.

    By default, all of them, every sync. With `recipients_skip_unchanged_sequences`, a
    sequence is skipped when its `updatedAt` (which Mixmax moves when a recipient is added)
    is older than the newest `updatedAt` of the previous pass: nothing was added since.
    That misses state changes (active to completed, opens) of recipients in such sequences
    until the next full pass, every `recipients_full_pass_days`. State stays two values.
    """

    KEY = "recipients_pass"

    def __init__(self, config: t.Mapping[str, t.Any], previous: dict[str, t.Any] | None) -> None:
        previous = previous or {}
        now = dt.datetime.now(dt.timezone.utc)
        full_every = dt.timedelta(days=float(config.get("recipients_full_pass_days", 7)))
        last_full = previous.get("lastFullPass")
        self.full = (
            not config.get("recipients_skip_unchanged_sequences")
            or not previous.get("newestUpdatedAt")
            or not last_full
            or to_datetime(last_full) + full_every <= now
        )
        self._since = None if self.full else previous["newestUpdatedAt"]
        self._last_full = format_utc(now) if self.full else last_full
        self._newest: str | None = previous.get("newestUpdatedAt")

    def should_read(self, updated_at: str | None) -> bool:
        if updated_at is not None and (self._newest is None or updated_at > self._newest):
            self._newest = updated_at
        return self._since is None or updated_at is None or updated_at >= self._since

    def finished(self) -> dict[str, t.Any]:
        return {"newestUpdatedAt": self._newest, "lastFullPass": self._last_full}


class SequenceRecipientsStream(OffsetChildStream):
    """Every activated recipient of every sequence (drafts are never returned).

    Mixmax serves at most 10,000 recipients per sequence; past that a warning names it.
    """

    name = "sequence_recipients"
    path = "/sequences/{sequenceId}/recipients"
    primary_keys = ("_id",)
    parent_stream_type = SequencesStream
    extra_params: t.ClassVar[dict[str, t.Any]] = {"includeVariables": "true"}


class MessagesStream(MixmaxStream):
    """Incremental on `created`; the lookback re-reads drafts that were sent later."""

    name = "messages"
    path = "/messages"
    primary_keys = ("_id",)
    replication_key = "created"
    is_sorted = False
    lookback_setting = "lookback_days"


class SnippetsStream(MixmaxStream):
    """Full table: edits move `savedAt`, which is not the sort."""

    name = "snippets"
    path = "/snippets"
    primary_keys = ("_id",)


class PollsStream(MixmaxStream):
    """Incremental on `created`; the lookback catches votes that arrive later."""

    name = "polls"
    path = "/polls"
    primary_keys = ("_id",)
    replication_key = "created"
    is_sorted = False
    lookback_setting = "lookback_days"


class UnsubscribesStream(MixmaxStream):
    """Incremental on `createdAt`: an unsubscribe never changes."""

    name = "unsubscribes"
    path = "/unsubscribes"
    primary_keys = ("_id",)
    replication_key = "createdAt"
    is_sorted = False


class LivefeedStream(MixmaxStream):
    """Sent messages with their activity, re-read for `livefeed_activity_days`."""

    name = "livefeed"
    path = "/livefeed"
    primary_keys = ("_id",)
    replication_key = "sent"
    is_sorted = False
    lookback_setting = "livefeed_activity_days"

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        start = self.get_starting_replication_key_value(context)
        # In the records' own form: "…00Z" and "…00.000Z" are one instant, not two.
        self._last_sync_bookmark = None if start is None else format_utc(to_datetime(start))
        yield from super().get_records(context)

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        terms = [LIVEFEED_FROM_TERM]
        if self.window.cutoff:
            padding = dt.timedelta(days=LIVEFEED_DAY_PADDING)
            first = to_datetime(self.window.cutoff).date() - padding
            last = dt.datetime.now(dt.timezone.utc).date() + padding
            terms.append(f"sent:{first:{LIVEFEED_DATE_FORMAT}}-{last:{LIVEFEED_DATE_FORMAT}}")
        params = super().get_url_params(context, next_page_token)
        params[self.query_param] = " ".join(terms)
        return params

    @property
    def query_param(self) -> str:
        return query_param_of(self.config)

    @classmethod
    @override
    def fixed_params(cls, config: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        # Without a cutoff, the search is this term alone (get_url_params adds the window).
        return {**super().fixed_params(config), query_param_of(config): LIVEFEED_FROM_TERM}

    @override
    def generate_child_contexts(
        self, record: Record, context: Context | None
    ) -> t.Iterable[Context | None]:
        if self.has_new_activity(record):
            yield {"messageId": record.get("messageId") or record["_id"]}

    def has_new_activity(self, record: Record) -> bool:
        """Events can only be new if the row's last event is at or after the last sync.

        Every event after the previous sync is newer than that sync's bookmark (the
        newest `sent` it saw), so older activity was already read. A row without the
        `lastEventAt` field at all is always read: we cannot tell.
        """
        if "lastEventAt" not in record:
            return True
        last_event = record["lastEventAt"]
        if last_event is None:
            return False
        return self._last_sync_bookmark is None or last_event >= self._last_sync_bookmark


def query_param_of(config: t.Mapping[str, t.Any]) -> str:
    return str(config.get("livefeed_query_param") or LIVEFEED_QUERY_PARAM)


class LivefeedEventsStream(ChildStream):
    """Opens, clicks, replies... of each live-feed message (Mixmax keeps 200 per message)."""

    name = "livefeed_events"
    path = "/livefeed/events"
    primary_keys = ("_id",)
    parent_stream_type = LivefeedStream

    @override
    def get_url_params(self, context: Context | None, next_page_token: t.Any) -> dict[str, t.Any]:
        params = super().get_url_params(context, next_page_token)
        params[LIVEFEED_EVENTS_MESSAGE_PARAM] = (context or {})["messageId"]
        return params


class TeamsStream(MixmaxStream):
    """Full table: edits move `modifiedAt`, which is not the sort."""

    name = "teams"
    path = "/teams"
    primary_keys = ("_id",)

    @override
    def get_child_context(self, record: Record, context: Context | None) -> Context:
        return {"teamId": record["_id"]}


class TeamMembersStream(ChildStream):
    """Full table per team; pending invites carry `email` instead of `userId`."""

    name = "team_members"
    path = "/teams/{teamId}/members"
    primary_keys = ("teamId", "memberId")
    parent_stream_type = TeamsStream


RULES_EXPAND_PARAMS: dict[str, str] = {"expand": "actions"}
RULE_ACTIONS_FIELD = "actions"  # where expand=actions embeds a rule's actions


class RulesStream(MixmaxStream):
    """Asks for `expand=actions`, so rule actions cost no request of their own."""

    name = "rules"
    path = "/rules"
    primary_keys = ("_id",)
    extra_params = RULES_EXPAND_PARAMS

    @override
    def post_process(self, row: Record, context: Context | None = None) -> Record | None:
        actions = row.pop(RULE_ACTIONS_FIELD, None)
        if row.get("filterObject") is None:  # Mixmax's own, when it sends one
            # Before shaping, so the object is shaped (and made text) like Mixmax's own.
            row["filterObject"] = json_object(row.get("filter"))
        record = super().post_process(row, context)
        if record is None:
            return None
        # Actions that are not all rows are asked for per rule instead (nothing is lost).
        if isinstance(actions, list) and all(isinstance(action, dict) for action in actions):
            for child in self.child_streams:
                if child.selected and isinstance(child, RuleActionsStream):
                    child.embedded_actions[record["_id"]] = actions
        return record

    @override
    def get_child_context(self, record: Record, context: Context | None) -> Context:
        return {"ruleId": record["_id"]}


def json_object(text: t.Any) -> dict[str, t.Any] | None:
    """The object a JSON text holds, or None (the text itself is kept in its own field)."""
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


class RuleActionsStream(ChildStream):
    """Uses the actions embedded by `expand=actions`; asks per rule only if absent."""

    name = "rule_actions"
    path = "/rules/{ruleId}/actions"
    primary_keys = ("_id",)
    parent_stream_type = RulesStream

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        # Actions of the rule just emitted, handed over by RulesStream, keyed by rule.
        self.embedded_actions: dict[str, list[dict[str, t.Any]]] = {}

    @override
    def request_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        embedded = self.embedded_actions.pop((context or {}).get("ruleId", ""), None)
        if embedded is not None:
            return embedded
        return super().request_records(context)


class SnippetTagsStream(MixmaxStream):
    """Full table: renames move `savedAt`, which is not the sort."""

    name = "snippet_tags"
    path = "/snippettags"
    primary_keys = ("_id",)

    @override
    def get_child_context(self, record: Record, context: Context | None) -> Context:
        return {"snippetTagId": record["_id"]}


class SnippetTagSnippetsStream(ChildStream):
    """The snippets each tag holds, the only link from a tag to its snippets: full table
    per tag, since tagging moves no date. Lighter rows than `snippets` (join on `_id`)."""

    name = "snippet_tag_snippets"
    path = "/snippettags/{snippetTagId}/snippets"
    primary_keys = ("snippetTagId", "_id")  # one snippet can sit under several tags
    parent_stream_type = SnippetTagsStream


class SequenceFoldersStream(MixmaxStream):
    """Full table: edits move `savedAt`, which is not the sort."""

    name = "sequence_folders"
    path = "/sequencefolders"
    primary_keys = ("_id",)


class CodeSnippetsStream(MixmaxStream):
    """Full table: small, and edits are not dated."""

    name = "code_snippets"
    path = "/codesnippets"
    primary_keys = ("_id",)


class MeetingTypesStream(MixmaxStream):
    """Full table: edits move `updatedAt`, which is not the sort."""

    name = "meeting_types"
    path = "/meetingtypes"
    primary_keys = ("_id",)


class MeetingInvitesStream(MixmaxStream):
    """Full table: invites are updated in place (timeslots booked)."""

    name = "meeting_invites"
    path = "/meetinginvites"
    primary_keys = ("_id",)


class InsightsReportsStream(MixmaxStream):
    """Full table: edits move `updatedAt`, which is not the sort."""

    name = "insights_reports"
    path = "/insightsreports"
    primary_keys = ("_id",)


class QAStream(MixmaxStream):
    """Full table: answers arrive after creation and move nothing sortable."""

    name = "qa"
    path = "/qa"
    primary_keys = ("_id",)


class YesNoStream(MixmaxStream):
    """Full table: answers arrive after creation and move nothing sortable."""

    name = "yesno"
    path = "/yesno"
    primary_keys = ("_id",)


class FileRequestsStream(MixmaxStream):
    """Full table: uploads arrive after creation and move nothing sortable."""

    name = "file_requests"
    path = "/filerequests"
    primary_keys = ("_id",)


class IntegrationCommandsStream(MixmaxStream):
    """Slash commands of the workspace's developer integrations. Full table: a handful of
    rows, edited in place, and not dated."""

    name = "integration_commands"
    path = "/integrations/commands"
    primary_keys = ("_id",)


class IntegrationEnhancementsStream(MixmaxStream):
    """Compose-window enhancements of developer integrations. Full table: a handful of
    rows, edited in place, and not dated."""

    name = "integration_enhancements"
    path = "/integrations/enhancements"
    primary_keys = ("_id",)


class IntegrationLinkResolversStream(MixmaxStream):
    """Link resolvers of developer integrations. Full table although rows carry
    `createdAt`: editing `regex` or `resolverUrl` moves no date and the list's order is
    undocumented, so reading by `createdAt` would miss edits to save about one request."""

    name = "integration_link_resolvers"
    path = "/integrations/linkresolvers"
    primary_keys = ("_id",)


class IntegrationSidebarsStream(MixmaxStream):
    """Sidebars of developer integrations. Full table: a handful of rows, edited in
    place, and not dated."""

    name = "integration_sidebars"
    path = "/integrations/sidebars"
    primary_keys = ("_id",)


class UserPreferencesStream(MixmaxStream):
    """The token's user preferences: one row."""

    name = "user_preferences"
    path = "/userpreferences/me"
    primary_keys = ("_id",)
    records_key = None


class AppointmentLinksStream(MixmaxStream):
    """The token's user's appointment link: one row, keyed by `userId`."""

    name = "appointment_links"
    path = "/appointmentlinks/me"
    primary_keys = ("userId",)
    records_key = None


CORE_STREAMS: tuple[type[MixmaxStream], ...] = (
    UsersStream,
    SequencesStream,
    SequenceRecipientsStream,
    MessagesStream,
    SnippetsStream,
    PollsStream,
    UnsubscribesStream,
    LivefeedStream,
    LivefeedEventsStream,
)
REFERENCE_STREAMS: tuple[type[MixmaxStream], ...] = (
    TeamsStream,
    TeamMembersStream,
    RulesStream,
    RuleActionsStream,
    SnippetTagsStream,
    SnippetTagSnippetsStream,
    SequenceFoldersStream,
    CodeSnippetsStream,
    MeetingTypesStream,
    MeetingInvitesStream,
    InsightsReportsStream,
    QAStream,
    YesNoStream,
    FileRequestsStream,
    IntegrationCommandsStream,
    IntegrationEnhancementsStream,
    IntegrationLinkResolversStream,
    IntegrationSidebarsStream,
    UserPreferencesStream,
    AppointmentLinksStream,
)
STREAM_TYPES = CORE_STREAMS + REFERENCE_STREAMS
