"""The tap where users run it: a real `tap-mixmax` process, the whole catalog selected.

Each process gets a directory of its own (so several can run at once); its stderr and
stdout are read as they come, so a test can wait for a line, signal, and time the exit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tap_harness import TAP_EXECUTABLE, catalog_for, write_json

TRACEBACK = "Traceback (most recent call last)"
_started: list[subprocess.Popen[str]] = []


def kill_leftovers() -> None:
    """Kill every tap process a test started and left running (a test that failed)."""
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


class TapProcess:
    """`tap-mixmax --config --catalog [--state]`; the catalog selects every stream unless
    `streams` names some."""

    def __init__(
        self,
        directory: Path,
        config: dict[str, Any],
        *,
        streams: set[str] | None = None,
        state: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        argv = [TAP_EXECUTABLE, "--config", str(write_json(directory / "config.json", config))]
        catalog = write_json(directory / "catalog.json", catalog_for(streams, config))
        argv += ["--catalog", str(catalog)]
        if state is not None:
            argv += ["--state", str(write_json(directory / "state.json", state))]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        _started.append(self.proc)
        self.err_lines: list[str] = []
        self.out_lines: list[str] = []
        self.ended_at: float | None = None
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err_lines)),
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out_lines)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    @staticmethod
    def _read(stream: Any, lines: list[str]) -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_for_stderr(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first stderr line matching `pattern` (a regular expression), once it comes."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.err_lines):
                if match := regex.search(line):
                    return match
            assert self.proc.poll() is None, f"exited before {pattern!r}:\n{self.stderr}"
            time.sleep(0.02)
        raise AssertionError(f"{pattern!r} never logged:\n{self.stderr}")

    def signal_and_time_exit(self, signum: int) -> float:
        """Seconds from the signal to the process's exit."""
        sent = time.monotonic()
        self.proc.send_signal(signum)
        self.wait(timeout=15)  # far past the promise: fail soon
        return (self.ended_at or time.monotonic()) - sent

    def wait(self, timeout: float) -> float:
        """Seconds from the start to the exit."""
        self.proc.wait(timeout=timeout)
        self.ended_at = time.monotonic()
        for reader in self._readers:
            reader.join(timeout=10)
        return self.ended_at - self.started

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    @property
    def stderr(self) -> str:
        return "\n".join(self.err_lines)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out_lines if line.strip()]

    def error_line(self) -> str:
        """The one `tap-mixmax: error:` line, the last of stderr, with no traceback before."""
        assert TRACEBACK not in self.stderr, self.stderr
        errors = [line for line in self.err_lines if line.startswith("tap-mixmax: error:")]
        assert len(errors) == 1, self.stderr
        assert self.err_lines[-1] == errors[0], "the error is not the last line"
        return errors[0]

    def assert_the_log_is_the_taps(self) -> None:
        """No traceback, and no line of a library's own logger, at the default level."""
        assert TRACEBACK not in self.stderr, self.stderr
        for line in self.err_lines:
            fields = [field.strip() for field in line.split(" | ")]
            if len(fields) >= 3:
                assert fields[2].startswith("tap-mixmax"), f"a library's line: {line}"


def accounts_of(config: dict[str, Any], names: list[str], tokens: list[str]) -> dict[str, Any]:
    """The config with `accounts` instead of `api_token`."""
    config = {key: value for key, value in config.items() if key != "api_token"}
    config["accounts"] = [
        {"name": name, "api_token": token} for name, token in zip(names, tokens, strict=True)
    ]
    return config


def every_endpoint(
    *,
    rows: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Any:
    """A raw-server handler (tests/raw_server.py) for every endpoint of the catalog.

    /users/me answers ME; each list answers `rows` (none by default) in its own envelope
    (`results` and `hasNext`, or a bare array), with `headers`; `overrides` maps a path
    (`/v1/messages`) to a handler of its own.
    """
    from raw_server import ME, page, send

    from tap_mixmax.streams import STREAM_TYPES

    envelopes = [
        (re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", stream.path) + "$"), stream.records_key)
        for stream in STREAM_TYPES
    ]
    extra = {name.replace("-", "_"): value for name, value in (headers or {}).items()}

    def handler(request: Any, conn: Any) -> None:
        if overrides and request.path in overrides:
            overrides[request.path](request, conn)
        elif request.path == "/v1/users/me":
            send(conn, 200, ME, **extra)
        else:
            records_key = next((key for regex, key in envelopes if regex.match(request.path)), "")
            body = list(rows or []) if records_key is None else page(list(rows or []))
            send(conn, 200, body, **extra)

    return handler
