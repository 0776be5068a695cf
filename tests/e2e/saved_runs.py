"""Saved tap runs, shared by the target tests: one full sync, a sandbox day, one incremental
sync, each from a real `tap-mixmax` process and saved to a file, in `api_token` mode and
in `accounts` mode (three users who share sequences and teams).

`Saved.ids` is what the sandbox served each time, as the keys the warehouse must hold:
`(id,)` with a token, `(account, id)` with accounts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from e2e_helpers import (
    TAP_REQUESTS_PER_MINUTE,
    SandboxProcess,
    row_id,
    start_sandbox,
    stop_sandbox,
)

TAP = Path(sys.executable).parent / "tap-mixmax"
RUN_TIMEOUT = 300
ACCOUNT_USERS = 3

Key = tuple[str, ...]


@dataclass
class Run:
    """One saved tap run: its file and what it emitted."""

    path: Path
    records: dict[str, list[dict[str, t.Any]]] = field(default_factory=dict)
    schemas: dict[str, dict[str, t.Any]] = field(default_factory=dict)
    last_state: dict[str, t.Any] | None = None

    @classmethod
    def read(cls, path: Path) -> Run:
        run = cls(path)
        for line in path.read_text().splitlines():
            message = json.loads(line)
            if message["type"] == "RECORD":
                run.records.setdefault(message["stream"], []).append(message["record"])
            elif message["type"] == "SCHEMA":
                run.schemas[message["stream"]] = message
            elif message["type"] == "STATE":
                run.last_state = message["value"]
        return run


@dataclass
class Saved:
    mode: str  # api_token | accounts
    sandbox: SandboxProcess
    config: Path
    full: Run
    incremental: Run
    before: dict[str, set[Key]]  # what the sandbox served before the day passed, per stream
    after: dict[str, set[Key]]

    def schema(self, stream: str) -> dict[str, t.Any]:
        return self.full.schemas[stream]

    def served_key(self, stream: str, record: dict[str, t.Any]) -> Key:
        """A record's key in `before`/`after`: its sandbox id, after its account if any."""
        own = row_id(stream, record.get)
        return (str(record["account"]), own) if self.mode == "accounts" else (own,)


def tap_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_MIXMAX_")}
    env.pop("VIRTUAL_ENV", None)
    return env


def run_tap(saved_dir: Path, config: Path, out: Path, state: dict[str, t.Any] | None) -> Run:
    argv = [str(TAP), "--config", str(config)]
    if state is not None:
        state_path = saved_dir / "state.json"
        state_path.write_text(json.dumps(state))
        argv += ["--state", str(state_path)]
    with out.open("wb") as sink:
        done = subprocess.run(
            argv, stdout=sink, stderr=subprocess.PIPE, env=tap_env(), timeout=RUN_TIMEOUT
        )
    assert done.returncode == 0, done.stderr.decode()[-4000:]
    return Run.read(out)


def served(
    sandbox: SandboxProcess, streams: list[str], names: list[str] | None
) -> dict[str, set[tuple[str, ...]]]:
    if names is None:
        return {stream: {(i,) for i in sandbox.ids(stream)} for stream in streams}
    return {
        stream: {(name, i) for user, name in enumerate(names) for i in sandbox.ids(stream, user)}
        for stream in streams
    }


def save_runs(workdir: Path, mode: str) -> Iterator[Saved]:
    users = ACCOUNT_USERS if mode == "accounts" else 1
    sandbox = start_sandbox(workdir, users=users, scale="small" if users == 1 else "tiny")
    try:
        config: dict[str, t.Any] = {
            "api_url": sandbox.url,
            "start_date": "2020-01-01T00:00:00Z",
            "max_requests_per_minute": TAP_REQUESTS_PER_MINUTE,
        }
        names = None
        if mode == "accounts":
            names = [f"rep{i}" for i in range(users)]
            config["accounts"] = [
                {"name": name, "api_token": token}
                for name, token in zip(names, sandbox.tokens, strict=True)
            ]
        else:
            config["api_token"] = sandbox.token
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(config))
        full = run_tap(workdir, config_path, workdir / "full.jsonl", None)
        streams = sorted(full.schemas)
        before = served(sandbox, streams, names)
        sandbox.advance(days=1)
        after = served(sandbox, streams, names)
        incremental = run_tap(workdir, config_path, workdir / "incremental.jsonl", full.last_state)
        assert any(after[s] - before[s] for s in streams), "the sandbox day created nothing"
        yield Saved(mode, sandbox, config_path, full, incremental, before, after)
    finally:
        stop_sandbox(sandbox)


@pytest.fixture(scope="session")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Saved]:
    """The api_token runs (small world)."""
    yield from save_runs(tmp_path_factory.mktemp("saved"), "api_token")


@pytest.fixture(scope="session")
def saved_accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Saved]:
    """The accounts runs: three users of a tiny world, who share sequences and teams."""
    yield from save_runs(tmp_path_factory.mktemp("saved_accounts"), "accounts")
