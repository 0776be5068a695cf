"""What a stream is handed of the run it belongs to, by the tap that builds it."""

from __future__ import annotations

import dataclasses
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_mixmax.api import MixmaxAPI
    from tap_mixmax.report import SyncReport


@dataclasses.dataclass(frozen=True)
class StreamsRun:
    """One tap's part of the run, as its streams see it (tap.TapMixmax builds it)."""

    account: str | None  # the account records are tagged with and read as
    account_mode: bool  # records carry an `account` column, and keys start with it
    report: SyncReport  # the whole run's one report: every stream counts into it
    check_connection: Callable[[], None]  # proves the token once, before the first stream
    # The token's one API object, shared with the tap's other streams and lanes. Asked
    # for on first use: the tap builds its API (and pacer) after its streams.
    api_of: Callable[[], MixmaxAPI]

    @property
    def api(self) -> MixmaxAPI:
        return self.api_of()
