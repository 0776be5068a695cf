"""The Singer output writer: every message its own whole line, whichever thread writes it."""

from __future__ import annotations

import json
import sys
import threading

from singer_sdk.singerlib.encoding.simple import RecordMessage, StateMessage

from tap_mixmax.output import StateFlushingWriter


def test_a_serialized_message_is_not_overwritten_by_the_next():
    writer = StateFlushingWriter()
    first = writer.format_message(RecordMessage("messages", {"_id": "a"}))
    writer.format_message(StateMessage({"bookmarks": {}}))
    assert json.loads(first)["record"] == {"_id": "a"}


def test_threads_and_a_signal_handler_never_mix_their_lines():
    # A signal handler (the SDK's final STATE on SIGTERM) serializes on the main thread
    # while lanes serialize on theirs: a shared buffer would splice their lines.
    writer = StateFlushingWriter()
    broken: list[str] = []

    def serialize(worker: int) -> None:
        for n in range(2_000):
            record = {"_id": f"{worker}-{n}", "body": "x" * (n % 97)}
            line = bytes(writer.format_message(RecordMessage("messages", record)))
            if not line.endswith(b"\n") or json.loads(line)["record"] != record:
                broken.append(line.decode())

    threads = [threading.Thread(target=serialize, args=(worker,)) for worker in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert broken == []
