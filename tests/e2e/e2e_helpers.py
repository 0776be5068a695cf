"""End-to-end helpers and fixtures: the sandbox CLI, a real PostgreSQL, the Meltano project.

Everything here runs real processes: `tap-mixmax-sandbox` as a subprocess, PostgreSQL 15
from scripts/pg.sh (or the server named by E2E_PGHOST/E2E_PGPORT/E2E_PGUSER/
E2E_PGPASSWORD/E2E_PGDATABASE, as in the GitHub workflow), and `meltano run` from
.tools/meltano (`make meltano`). Expected values always come from the sandbox's control
API, never from constants.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import typing as t
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from request_counts import (
    cursor_pages,
    events_requested,
    incremental_minimum,
    requests_by_stream,
)
from tap_harness import STREAM_PATHS

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools"
MELTANO = TOOLS / "meltano" / "bin" / "meltano"
AIRFLOW = TOOLS / "airflow" / "bin" / "airflow"
DAG_FOLDER = REPO / "orchestrate" / "airflow" / "dags"
PG_SH = REPO / "scripts" / "pg.sh"
# E2E_SANDBOX_CLI: another sandbox executable (same command line), e.g. an installed one.
SANDBOX_CLI = Path(
    os.environ.get("E2E_SANDBOX_CLI") or Path(sys.executable).parent / "tap-mixmax-sandbox"
)
# The sandbox's limit is raised so the runs are quick; the tap's pacer follows it.
SANDBOX_RATE_LIMIT = 1000
TAP_REQUESTS_PER_MINUTE = 1000
MELTANO_TIMEOUT = 600


# Streams keyed by something other than `_id`: the sandbox's ids() gives these columns'
# values joined by "/" (a tag's snippet: "<snippetTagId>/<_id>").
KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "team_members": ("memberId",),
    "appointment_links": ("userId",),
    "snippet_tag_snippets": ("snippetTagId", "_id"),
}


def key_columns(stream: str) -> tuple[str, ...]:
    return KEY_COLUMNS.get(stream, ("_id",))


def row_id(stream: str, value: t.Callable[[str], t.Any]) -> str:
    """A row's id as the sandbox's ids() gives it; `value(column)` reads one column."""
    return "/".join(str(value(column)) for column in key_columns(stream))


def key_sql(stream: str) -> str:
    """The SQL expression of `row_id` over a table of the stream."""
    return " || '/' || ".join(f'"{column}"::text' for column in key_columns(stream))


def selected_streams(extractor: str = "tap-mixmax") -> list[str]:
    """Stream names the `select` of an extractor in meltano.yml names (`<stream>.*`)."""
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    for plugin in project["plugins"]["extractors"]:
        if plugin["name"] == extractor:
            return [pattern.split(".", 1)[0] for pattern in plugin["select"]]
    raise KeyError(extractor)


@dataclass
class SandboxProcess:
    url: str
    control_url: str
    token: str
    proc: subprocess.Popen[bytes]
    log: Path
    tokens: list[str] = field(default_factory=list)  # one per user; tokens[0] == token
    _calls: list[str] = field(default_factory=list)

    def _get(self, path: str) -> t.Any:
        with urllib.request.urlopen(f"{self.control_url}{path}", timeout=30) as resp:
            return json.load(resp)

    def ids(self, stream: str, user: int = 0) -> set[str]:
        return {str(i) for i in self._get(f"/ids/{stream}?user={user}")["ids"]}

    def records(self, stream: str, user: int = 0) -> list[dict[str, t.Any]]:
        """The rows the API serves, newest first."""
        records: list[dict[str, t.Any]] = self._get(f"/records/{stream}?user={user}")["records"]
        return records

    def requests(self) -> list[dict[str, t.Any]]:
        """Every API request since the last clear_requests(), in order."""
        requests: list[dict[str, t.Any]] = self._get("/requests")["requests"]
        return requests

    def clear_requests(self) -> None:
        req = urllib.request.Request(f"{self.control_url}/requests", method="DELETE")
        with urllib.request.urlopen(req, timeout=30):
            pass

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self._get("/counts")
        return counts

    def advance(self, days: int = 1) -> t.Any:
        req = urllib.request.Request(
            f"{self.control_url}/advance",
            data=json.dumps({"days": days}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.load(resp)


def start_sandbox(
    workdir: Path,
    *,
    seed: int = 42,
    rate_limit: int = SANDBOX_RATE_LIMIT,
    scale: str = "small",
    users: int = 1,
    drift: tuple[str, ...] = (),  # drift options, e.g. ("--optional-field", "x.y")
) -> SandboxProcess:
    assert SANDBOX_CLI.exists(), f"{SANDBOX_CLI} missing: run `make venv`"
    ready = workdir / "sandbox-ready.json"
    log = workdir / "sandbox.log"
    cmd = [
        str(SANDBOX_CLI),
        "--port", "0",
        "--seed", str(seed),
        "--scale", scale,
        "--users", str(users),
        "--rate-limit", str(rate_limit),
        "--ready-file", str(ready),
        *drift,
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ready.exists() and ready.stat().st_size:
            try:
                info = json.loads(ready.read_text())
            except ValueError:
                info = None  # still being written
            if info:
                return SandboxProcess(
                    url=info["url"],
                    control_url=info["control_url"],
                    token=info["token"],
                    proc=proc,
                    log=log,
                    tokens=list(info.get("tokens") or [info["token"]]),
                )
        if proc.poll() is not None:
            pytest.fail(f"sandbox exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"sandbox not ready after 60 s:\n{log.read_text()[-3000:]}")


def stop_sandbox(sandbox: SandboxProcess) -> None:
    if sandbox.proc.poll() is None:
        sandbox.proc.send_signal(signal.SIGTERM)
        try:
            sandbox.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            sandbox.proc.kill()
            sandbox.proc.wait()


@pytest.fixture
def e2e_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    """A fresh `tap-mixmax-sandbox` process (seed 42, small) for one test."""
    sandbox = start_sandbox(tmp_path)
    try:
        yield sandbox
    finally:
        stop_sandbox(sandbox)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """libpq variables (PGHOST...) of a running PostgreSQL; started here unless given."""
    if os.environ.get("E2E_PGHOST"):
        yield {
            "PGHOST": os.environ["E2E_PGHOST"],
            "PGPORT": os.environ.get("E2E_PGPORT", "5432"),
            "PGUSER": os.environ.get("E2E_PGUSER", "postgres"),
            "PGPASSWORD": os.environ.get("E2E_PGPASSWORD", ""),
            "PGDATABASE": os.environ.get("E2E_PGDATABASE", "postgres"),
        }
        return
    state = tmp_path_factory.mktemp("pg") / "state.env"
    env = {**os.environ, "PG_STATE_FILE": str(state)}
    started = subprocess.run(
        [str(PG_SH), "start"], env=env, capture_output=True, text=True, timeout=600
    )
    if started.returncode != 0:
        pytest.fail(f"scripts/pg.sh start failed:\n{started.stdout}\n{started.stderr}")
    pg: dict[str, str] = {}
    for line in started.stdout.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export ") :].partition("=")
            pg[key] = value
    try:
        yield pg
    finally:
        subprocess.run([str(PG_SH), "stop"], env=env, capture_output=True, timeout=120)


def pg_connect(pg: dict[str, str], dbname: str | None = None) -> t.Any:
    import psycopg

    return psycopg.connect(
        host=pg["PGHOST"],
        port=int(pg["PGPORT"]),
        user=pg["PGUSER"],
        password=pg["PGPASSWORD"],
        dbname=dbname or pg["PGDATABASE"],
        autocommit=True,
    )


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def meltano_env(
    sandbox: SandboxProcess | None, pg: dict[str, str] | None, workdir: Path, **extra: str
) -> dict[str, str]:
    """Environment for `meltano` in the repo's project, isolated in `workdir`.

    The `sandbox` environment of meltano.yml reads the sandbox URL and token and the
    libpq variables; state goes to a fresh system database in `workdir`.
    """
    assert MELTANO.exists(), f"{MELTANO} missing: run `make meltano`"
    env = {
        **os.environ,
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
        **(
            {"MIXMAX_SANDBOX_URL": sandbox.url, "MIXMAX_SANDBOX_TOKEN": sandbox.token}
            if sandbox
            else {}
        ),
        "TAP_MIXMAX_MAX_REQUESTS_PER_MINUTE": str(TAP_REQUESTS_PER_MINUTE),
        **(pg or {}),
        **extra,
    }
    # The project's own .venv must not leak into the plugins' venvs, nor a real token
    # or URL from the caller's shell override the sandbox's.
    for key in ("VIRTUAL_ENV", "TAP_MIXMAX_API_TOKEN", "TAP_MIXMAX_API_URL"):
        env.pop(key, None)
    return env


def airflow_env(
    sandbox: SandboxProcess | None, pg: dict[str, str] | None, tmp_path: Path, **extra: str
) -> dict[str, str]:
    """meltano_env's environment for Airflow (test_airflow.py, test_dbt.py), home in `tmp_path`."""
    airflow_home = tmp_path / "airflow"
    airflow_home.mkdir()
    env = meltano_env(
        sandbox,
        pg,
        tmp_path,
        MELTANO_BIN=str(MELTANO),
        MELTANO_PROJECT_ROOT=str(REPO),
        TAP_MIXMAX_DAG_RETRIES="0",
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAG_FOLDER),
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        **extra,
    )
    for key in [k for k in env if k.startswith("PYTEST") or k == "PYTHONPATH"]:
        env.pop(key)
    return env


def run(
    cmd: list[str], env: dict[str, str], *, timeout: int = MELTANO_TIMEOUT
) -> tuple[str, float]:
    """Run a command in the repo; fail the test with its output's tail unless it exits 0."""
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {done.returncode} after {elapsed:.1f}s\n"
            f"--- stdout ---\n{done.stdout[-4000:]}\n--- stderr ---\n{done.stderr[-8000:]}"
        )
    print(f"[e2e] {' '.join(cmd[1:4])}...: {elapsed:.1f}s")
    return done.stdout + done.stderr, elapsed


def meltano(args: list[str], env: dict[str, str]) -> tuple[str, float]:
    return run([str(MELTANO), *args], env)


def stream_schemas() -> dict[str, dict[str, t.Any]]:
    """JSON Schema and primary keys of every stream, from the tap itself."""
    from tap_mixmax.tap import TapMixmax

    tap = TapMixmax(
        config={"api_token": "x", "api_url": "http://127.0.0.1:1/v1"},
        validate_config=False,
        setup_mapper=False,
    )
    return {
        name: {"schema": stream.schema, "primary_keys": list(stream.primary_keys or [])}
        for name, stream in tap.streams.items()
    }


def datetime_properties(schema: dict[str, t.Any]) -> set[str]:
    """Top-level properties typed `format: date-time` (directly or in anyOf)."""
    found = set()
    for name, prop in schema.get("properties", {}).items():
        options = [prop, *prop.get("anyOf", []), *prop.get("oneOf", [])]
        if any(option.get("format") == "date-time" for option in options):
            found.add(name)
    return found


# Small pages, so that re-reading a whole list costs more requests than reading what changed.
INCREMENTAL_PAGE_SIZE = 20


def assert_read_only_what_changed(sandbox: SandboxProcess, state: dict[str, t.Any]) -> None:
    """The incremental run's requests per incremental stream are exactly the fewest that
    read from the bookmarks (less their lookback), and events are read for exactly the
    messages with new activity."""
    made = sandbox.requests()
    expected, active = incremental_minimum(sandbox.records, made, state, INCREMENTAL_PAGE_SIZE)
    assert set(expected) == {"messages", "polls", "unsubscribes", "livefeed"}
    counts = requests_by_stream(made, STREAM_PATHS)
    assert {stream: counts[stream] for stream in expected} == expected
    everything = cursor_pages(len(sandbox.records("messages")), INCREMENTAL_PAGE_SIZE)
    assert expected["messages"] < everything, "a full re-read would cost the same"
    assert events_requested(made) == active
    assert len(active) < len(sandbox.records("livefeed")), "every message's events re-read"
    # Nothing read twice (but /users/me: each Meltano run, e.g. each Airflow task, checks
    # its token once).
    signatures = [
        (r["path"], tuple(sorted(r["query"].items()))) for r in made if r["path"] != "/v1/users/me"
    ]
    assert len(signatures) == len(set(signatures)), "a request was repeated"
