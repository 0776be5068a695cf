"""Run the tap in-process or as a real process and collect what it printed."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TAP_EXECUTABLE = str(Path(sys.executable).with_name("tap-mixmax"))


def _stream_paths() -> dict[str, str]:
    from tap_mixmax.streams import STREAM_TYPES

    return {stream.name: stream.path for stream in STREAM_TYPES}


# Stream name -> its path template, e.g. "/sequences/{sequenceId}/recipients".
STREAM_PATHS = _stream_paths()


class StreamRecords(Mapping[str, list[dict[str, Any]]]):
    """RECORD rows by stream: the streams that sent rows, and [] for any other real stream.

    A name that is neither a stream of the tap nor one this output named (a misspelling)
    raises KeyError, `get` included: a test must not pass by reading rows of nothing.
    """

    def __init__(self, by_stream: dict[str, list[dict[str, Any]]], named: set[str]) -> None:
        self._by_stream = by_stream
        self._named = named | set(by_stream)

    def __getitem__(self, stream: str) -> list[dict[str, Any]]:
        if stream not in self._named:
            raise KeyError(f"{stream!r} is no stream of the tap nor of this output")
        return self._by_stream.get(stream, [])

    def get(self, stream: str, default: Any = None) -> Any:
        rows = self[stream]  # raises on a misspelling, whatever the default
        return rows if stream in self._by_stream else default

    def __contains__(self, stream: object) -> bool:
        return stream in self._by_stream  # only streams that sent rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_stream)

    def __len__(self) -> int:
        return len(self._by_stream)


@dataclass
class TapOutput:
    """Singer messages of one run, by type and stream."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> TapOutput:
        return cls([json.loads(line) for line in text.splitlines() if line.strip()])

    @property
    def records(self) -> StreamRecords:
        by_stream: dict[str, list[dict[str, Any]]] = {}
        named = set(STREAM_PATHS)
        for message in self.messages:
            if message["type"] == "RECORD":
                by_stream.setdefault(message["stream"], []).append(message["record"])
            elif message["type"] == "SCHEMA":
                named.add(message["stream"])  # a stream map's alias, say
        return StreamRecords(by_stream, named)

    def ids(self, stream: str, key: str = "_id") -> list[str]:
        return [record[key] for record in self.records[stream]]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, Any] | None:
        states = self.states
        return states[-1] if states else None

    @property
    def final_state(self) -> dict[str, Any]:
        """last_state, of a run that must have emitted one."""
        state = self.last_state
        assert state is not None, "the tap emitted no STATE"
        return state

    def schemas(self) -> dict[str, dict[str, Any]]:
        return {m["stream"]: m for m in self.messages if m["type"] == "SCHEMA"}


# Tests pace by the sandbox's headers; the tap's own 120/min would only make them slow.
UNPACED = 1_000_000


def sandbox_config(sandbox: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "api_url": sandbox.url,
        "api_token": sandbox.token,
        "max_requests_per_minute": UNPACED,
        **overrides,
    }


def catalog_for(streams: set[str] | None, config: dict[str, Any]) -> dict[str, Any]:
    """The tap's own discovered catalog with only `streams` selected (all when None)."""
    from tap_mixmax.tap import TapMixmax

    catalog = TapMixmax(config=config, validate_config=False).catalog_dict
    for entry in catalog["streams"]:
        selected = streams is None or entry["tap_stream_id"] in streams
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = selected
    return catalog


def run_tap(
    config: dict[str, Any],
    *,
    streams: set[str] | None = None,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
) -> TapOutput:
    """Sync in this process (fast); returns everything written to stdout.

    The catalog is the discovered one with `streams` selected, unless one is given.
    """
    from tap_mixmax.tap import TapMixmax

    tap = TapMixmax(config=config, state=state, catalog=catalog or catalog_for(streams, config))
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    with contextlib.redirect_stdout(stdout):
        tap.sync_all()
        stdout.flush()
    return TapOutput.parse(raw.getvalue().decode("utf-8"))


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def tap_process(
    tmp_path: Path,
    config: dict[str, Any],
    *,
    streams: set[str] | None = None,
    state: dict[str, Any] | None = None,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> list[str]:
    """The argv of a real `tap-mixmax` process for this config, catalog and state."""
    argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "config.json", config))]
    argv += ["--catalog", str(write_json(tmp_path / "catalog.json", catalog_for(streams, config)))]
    if state is not None:
        argv += ["--state", str(write_json(tmp_path / "state.json", state))]
    return argv + list(extra_args)


def run_tap_process(
    argv: list[str], timeout: float = 300, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **kwargs.pop("env", {})}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, **kwargs)


def run_until_killed(argv: list[str], kill_after_lines: int) -> list[dict[str, Any]]:
    """Start a real tap process, read `kill_after_lines` lines, then SIGKILL it."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    messages = []
    assert process.stdout is not None
    for line in process.stdout:
        messages.append(json.loads(line))
        if len(messages) >= kill_after_lines:
            process.kill()
            break
    process.wait(timeout=60)
    return messages


STOP_HEARD = "received: stopping"  # the line tap_mixmax/cli.py says as a stop is heard


def run_until_terminated(argv: list[str], after_lines: int) -> tuple[list[dict[str, Any]], float]:
    """Start a real tap, SIGTERM it after `after_lines` lines, read what it still writes.

    Returns its messages and when the tap said it heard the signal (`time.monotonic()`),
    so that a loaded machine's delay in running the handler is not counted as the tap's.
    """
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    assert process.stdout is not None and process.stderr is not None
    heard: list[float] = []

    def watch(stderr: Any) -> None:
        for line in stderr:
            if STOP_HEARD in line and not heard:
                heard.append(time.monotonic())

    watcher = threading.Thread(target=watch, args=(process.stderr,), daemon=True)
    watcher.start()
    lines: list[str] = []
    signalled = float("inf")
    for line in process.stdout:
        lines.append(line)
        if len(lines) == after_lines:
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            break
    lines += process.stdout.readlines()
    process.wait(timeout=60)
    watcher.join(timeout=10)
    assert signalled < float("inf"), f"the tap ended after {len(lines)} lines, before the signal"
    assert heard, "the tap never said it heard the stop"
    assert heard[0] - signalled < 2, f"the stop was heard {heard[0] - signalled:.1f} s late"
    return [json.loads(line) for line in lines], heard[0]


def record_ids(messages: list[dict[str, Any]], stream: str, account: str | None = None) -> set[str]:
    """The `_id`s of a stream's RECORD messages (of one account, when given)."""
    return {
        m["record"]["_id"]
        for m in messages
        if m["type"] == "RECORD"
        and m["stream"] == stream
        and (account is None or m["record"].get("account") == account)
    }


def assert_last_state_is_the_newest(
    messages: list[dict[str, Any]], bookmarks_of: Any = lambda state: state.get("bookmarks", {})
) -> None:
    """The last STATE holds every bookmark any earlier STATE held, at least as far on.

    `bookmarks_of(state)` gives one {stream: entry} mapping (with `accounts`, call this
    once per account). A STATE older than the records before it passes a resume test
    (rows repeat, none are lost), so only this catches a stale last word.
    """
    states = [bookmarks_of(m["value"]) for m in messages if m["type"] == "STATE"]
    assert states, "no STATE at all"
    final, earlier = states[-1], states[:-1]
    seen = 0
    for bookmarks in earlier:
        for stream, entry in bookmarks.items():
            value = entry.get("replication_key_value")
            if value:
                seen += 1
                last = final.get(stream, {}).get("replication_key_value") or ""
                assert last >= value, f"{stream}: the last STATE is behind an earlier one"
    assert seen, "no bookmark before the last STATE: the check proves nothing"
