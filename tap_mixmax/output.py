"""How Singer messages reach stdout: msgspec-encoded, flushed only at STATE messages.

One buffer keeps the order, so a STATE is never written ahead of the records it covers;
flushing there (and not after every record) means a crash loses only output that no
printed STATE vouches for. After a stop only the final STATE gets through
(tap_mixmax/stopping.py), and a closed stdout is one clear error, not a traceback.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder
from singer_sdk.singerlib.encoding.simple import Message, StateMessage
from typing_extensions import override

from tap_mixmax import errors
from tap_mixmax.stopping import raise_if_stopping


class StateFlushingWriter(MsgSpecWriter):
    """msgspec JSON lines, flushed when a STATE message is written."""

    @override
    def serialize_message(self, message: Message) -> bytes:  # type: ignore[override]
        # Each line in its own bytes: the SDK's writer reuses one module-wide buffer,
        # which lanes, accounts and the SIGTERM handler would splice into each other.
        return encoder.encode(message.to_dict()) + b"\n"

    @override
    def write_message(self, message: Message) -> None:
        raise_if_stopping()
        try:
            sys.stdout.buffer.write(self.format_message(message))
            if isinstance(message, StateMessage):
                sys.stdout.flush()
        except BrokenPipeError:
            raise errors.OutputClosedError(
                "stdout was closed (whatever read the tap's output stopped reading)"
            ) from None
