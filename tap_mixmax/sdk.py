"""The singer-sdk members the tap overrides that are private or @final, in one place.

Written against singer-sdk 0.54.9 and 0.55. Each override below says why no public hook
serves; the tap's own classes (client.MixmaxStream, tap.TapMixmax) override only the
public hooks these call. tests/unit/test_sdk_boundary.py fails when the SDK changes the
members replaced here, and tests/unit/test_record_fast_path.py when the record
building that `_write_record_message` copies changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
import typing as t

from singer_sdk import RESTStream, Tap
from singer_sdk.helpers._state import PROGRESS_MARKER_NOTE, PROGRESS_MARKERS
from singer_sdk.helpers._util import utc_now
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.plugin_base import _ConfigInput
from singer_sdk.singerlib import RecordMessage
from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context, Record

# The SDK's own members these classes replace: test_sdk_boundary checks each still exists.
STREAM_MEMBERS = (
    "sync",
    "_process_record",
    "_write_schema_message",
    "_write_record_message",
    "_increment_stream_state",
)
TAP_MEMBERS = ("sync_all", "_validate_config", "_setup_signal_handlers")
# Private names imported, not overridden: the progress markers' note (client.py), the
# config input of `--config ENV` (tap.py) and the SDK's clock for time_extracted.
__all__ = [
    "PROGRESS_MARKERS",
    "PROGRESS_MARKER_NOTE",
    "ConfigInput",
    "SdkStream",
    "SdkTap",
    "utc_now",
]
ConfigInput = _ConfigInput


class SdkStream(RESTStream[t.Any]):
    """A REST stream whose private and @final SDK members call public hooks instead."""

    # Every stream class declares these in its body (the SDK types them on instances only,
    # so a stream class, such as streams.STREAM_TYPES holds, would not have them).
    name: str
    path: str
    primary_keys: t.Sequence[str]
    _schema_written = False
    extracted_at: dt.datetime = dt.datetime.min  # set per page by the stream

    def before_sync(self) -> None:
        """Hook: a stream is about to sync (once per parent row for a child)."""

    def after_sync(self, seconds: float) -> None:
        """Hook: its sync took this long (also when it failed or was stopped)."""

    def moves_bookmark(self, record: Record) -> bool:
        """Hook: whether this record may move the stream's bookmark."""
        return True

    # @final: the SDK offers no hook around a stream's sync, and a stop must keep a new
    # stream from starting (before_sync raises) while the report times each one.
    @override  # type: ignore[misc]
    def sync(self, context: Context | None = None) -> None:
        self.before_sync()
        started = time.monotonic()
        try:
            super().sync(context)
        finally:
            self.after_sync(time.monotonic() - started)

    @override
    def _process_record(
        self,
        record: Record,
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        # The SDK's work here is for child streams and partition keys; most streams have
        # neither, and it would copy a context for every row.
        if self.child_streams or partition_context:
            super()._process_record(record, child_context, partition_context)

    @override
    def _write_schema_message(self) -> None:
        # The SDK writes it at every sync() call, i.e. once per parent row for a child
        # stream: once is what the Singer spec asks, and each costs a whole schema.
        if not self._schema_written:
            self._schema_written = True
            super()._write_schema_message()

    @functools.cached_property
    def _records_go_out_as_they_are(self) -> bool:
        # The common case, made cheap: every field selected and the SDK's one default map,
        # so its walk for deselected fields, its map and its type conformance (off here:
        # the shaper already gave the record its schema's shape) would only cost CPU.
        maps = self.stream_maps
        return (
            all(self.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    @override
    def _write_record_message(self, record: Record) -> None:
        if not self._records_go_out_as_they_are:
            super()._write_record_message(record)
            return
        self._tap.write_message(
            RecordMessage(
                stream=self.name,
                record=record,
                version=self._stream_version,
                time_extracted=self.extracted_at,
            )
        )
        self.state_manager.is_flushed = False

    @override
    def _increment_stream_state(
        self, latest_record: Record, *, context: Context | None = None
    ) -> None:
        if self.moves_bookmark(latest_record):
            super()._increment_stream_state(latest_record, context=context)


class SdkTap(Tap):
    """A tap whose private and @final SDK members call public hooks instead."""

    def normalize_config(self, config: dict[str, t.Any]) -> dict[str, t.Any]:
        """Hook: the config as read, before the SDK's JSON Schema check."""
        return config

    def run_sync(self) -> None:
        """Hook: the whole sync, in place of the SDK's one stream loop."""
        self.sync_streams()

    def sync_streams(self) -> None:
        """The SDK's own stream loop (sync_all as the SDK has it)."""
        super().sync_all()

    # @final: with `accounts` and lanes, one stream loop becomes several (run_sync).
    @override  # type: ignore[misc]
    def sync_all(self) -> None:
        self.run_sync()

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # No public hook runs before the SDK's JSON Schema check, whose messages quote
        # values: secrets must be registered for masking before it.
        self._config = self.normalize_config(self._config)
        return super()._validate_config(raise_errors=raise_errors)

    @override
    def _setup_signal_handlers(self) -> None:
        """The CLI handles SIGTERM and SIGINT (tap_mixmax/stopping.py), not the SDK."""
