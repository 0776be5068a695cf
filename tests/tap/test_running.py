"""Running the real CLI as a person would: prompt stops, one-line mistakes, readable logs."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import threading
import time

import pytest
from tap_harness import TAP_EXECUTABLE, TapOutput, catalog_for, sandbox_config, write_json

STREAMS = {"messages", "polls", "unsubscribes", "livefeed", "livefeed_events"}


def sandbox_with(**kwargs):
    from mixmax_sandbox import Sandbox

    return Sandbox(**{"seed": 5, "scale": "small", "rate_limit": None, **kwargs})


class TapProcess:
    """A real tap process whose stderr lines are read as they come."""

    def __init__(self, tmp_path, config, streams=STREAMS, *, extra=(), env=None, stdout=None):
        argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "config.json", config))]
        catalog = write_json(tmp_path / "catalog.json", catalog_for(streams, config))
        argv += ["--catalog", str(catalog), *extra]
        self.proc = subprocess.Popen(
            argv,
            stdout=stdout or subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.err_lines: list[str] = []
        self.out_lines: list[str] = []
        self._threads = [threading.Thread(target=self._read_err, daemon=True)]
        if stdout is None:
            self._threads.append(threading.Thread(target=self._read_out, daemon=True))
        for thread in self._threads:
            thread.start()

    def _read_err(self):
        assert self.proc.stderr is not None  # opened with stderr=PIPE
        for line in self.proc.stderr:
            self.err_lines.append(line.rstrip("\n"))

    def _read_out(self):
        assert self.proc.stdout is not None  # read only when opened with stdout=PIPE
        for line in self.proc.stdout:
            self.out_lines.append(line)

    def wait_for_stderr(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in line for line in self.err_lines):
                return
            assert self.proc.poll() is None, "\n".join(self.err_lines)
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never logged:\n" + "\n".join(self.err_lines))

    def signal_and_time_exit(self, signum: int) -> float:
        sent = time.monotonic()
        self.proc.send_signal(signum)
        self.proc.wait(timeout=30)
        elapsed = time.monotonic() - sent
        for thread in self._threads:
            thread.join(timeout=10)
        return elapsed

    @property
    def messages(self):
        return [json.loads(line) for line in self.out_lines if line.strip()]


# -- stopping -----------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_while_waiting_for_the_rate_limit_is_prompt_and_honest(tmp_path, signum):
    with sandbox_with() as sb:
        config = sandbox_config(sb, max_requests_per_minute=6, page_size=10, lookback_days=0)
        tap = TapProcess(tmp_path, config)
        tap.wait_for_stderr("for the rate limit")  # 6 requests made: ~60 s to wait
        started_before = sum("Stream " in line for line in tap.err_lines)
        elapsed = tap.signal_and_time_exit(signum)
    assert elapsed < 2.0, f"took {elapsed:.1f} s to stop"
    assert tap.proc.returncode == 128 + signum
    assert tap.messages[-1]["type"] == "STATE", "the last line must be the newest state"
    started_after = sum("Stream " in line and ": " in line for line in tap.err_lines)
    assert started_after == started_before, "a stream started after the signal"
    assert any("stopped by" in line for line in tap.err_lines)


def test_a_stop_while_waiting_out_a_retry_after_is_prompt(tmp_path):
    with sandbox_with() as sb:
        sb.add_fault("429", path="/messages", times=1, retry_after=120)
        config = sandbox_config(sb, max_parallel_streams=1)
        tap = TapProcess(tmp_path, config, {"messages"})
        tap.wait_for_stderr("Waiting 120.0 s before retry")
        elapsed = tap.signal_and_time_exit(signal.SIGTERM)
    assert elapsed < 2.0, f"took {elapsed:.1f} s to stop"
    assert tap.proc.returncode == 128 + signal.SIGTERM
    assert tap.messages[-1]["type"] == "STATE"


@pytest.mark.slow
def test_a_second_ctrl_c_exits_at_once_even_when_the_first_cannot_finish(tmp_path):
    with sandbox_with(scale="medium") as sb:
        # Nobody reads stdout: the tap blocks writing, and the first stop cannot write
        # its last STATE. The second Ctrl-C must not wait for that.
        tap = TapProcess(tmp_path, sandbox_config(sb), {"messages"}, stdout=subprocess.PIPE)
        time.sleep(3)  # long enough to fill the pipe
        assert tap.proc.poll() is None
        tap.proc.send_signal(signal.SIGINT)
        time.sleep(1)
        elapsed = tap.signal_and_time_exit(signal.SIGINT)
    assert elapsed < 2.0
    assert tap.proc.returncode == 128 + signal.SIGINT


def test_a_closed_stdout_ends_with_one_line(tmp_path):
    with sandbox_with() as sb:
        tap = TapProcess(tmp_path, sandbox_config(sb), {"messages"}, stdout=subprocess.PIPE)
        assert tap.proc.stdout is not None
        tap.proc.stdout.readline()
        tap.proc.stdout.close()
        tap.proc.wait(timeout=60)
        for thread in tap._threads:
            thread.join(timeout=10)
    assert tap.proc.returncode == 1
    assert not any("Traceback" in line or "Exception ignored" in line for line in tap.err_lines)
    errors = [line for line in tap.err_lines if line.startswith("tap-mixmax: error:")]
    assert errors == [
        "tap-mixmax: error: stdout was closed (whatever read the tap's output stopped reading)"
    ]


# -- mistakes -----------------------------------------------------------------------------


def catalog_selecting(config, names):
    catalog = catalog_for({"messages"}, config)
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "messages")
    catalog["streams"] = [{**entry, "tap_stream_id": name, "stream": name} for name in names]
    return catalog


def test_a_misspelt_stream_warns_and_the_known_ones_sync(tmp_path):
    with sandbox_with() as sb:
        config = sandbox_config(sb)
        catalog = catalog_selecting(config, ["messages", "mesages"])
        argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "c.json", config))]
        argv += ["--catalog", str(write_json(tmp_path / "cat.json", catalog))]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "The catalog selects stream 'mesages', which this tap does not have" in result.stderr
    assert TapOutput.parse(result.stdout).ids("messages")


def test_a_catalog_selecting_no_known_stream_is_an_error(tmp_path):
    config = {"api_token": "tok_0123456789", "api_url": "http://127.0.0.1:9/v1"}
    catalog = catalog_selecting(config, ["mesages"])
    argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "c.json", config))]
    argv += ["--catalog", str(write_json(tmp_path / "cat.json", catalog))]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-mixmax: error: the catalog selects no stream this tap has"), last
    assert "(unknown: mesages)" in last and "Traceback" not in result.stderr


# -- logs ---------------------------------------------------------------------------------


def run_default(tmp_path, config, streams=STREAMS, env=None):
    argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "c.json", config))]
    argv += ["--catalog", str(write_json(tmp_path / "cat.json", catalog_for(streams, config)))]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def test_the_default_log_tells_the_story_and_nothing_else(tmp_path):
    with sandbox_with() as sb:
        result = run_default(tmp_path, sandbox_config(sb, start_date="2020-01-01T00:00:00Z"))
    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert "METRIC" not in log
    assert "Skipping parse of env var settings" not in log
    assert "not resumable" not in log and "not resumable" not in result.stdout
    assert "Beginning sync of" not in log
    # One start line per stream, with its mode and where it starts.
    assert "Stream messages: incremental on created, from 2020-01-01T00:00:00.000Z" in log
    assert "Stream livefeed_events: full table, per livefeed row" in log
    assert log.count("Stream livefeed_events:") == 1, "once, not once per parent row"
    # The summary: a line per stream, then the outcome.
    lines = [line.split(" | ")[-1] for line in log.splitlines()]
    at = lines.index("Summary:")
    # Every stream that made a request: the selected ones, and `users` for the token check.
    shown = STREAMS | {"users"}
    table = lines[at + 1 : at + 2 + len(shown)]
    assert table[0].split() == ["stream", "rows", "requests", "retries", "429s", "time"]
    assert sorted(row.split()[0] for row in table[1:]) == sorted(shown)
    assert lines[at + 2 + len(shown)].startswith("Sync finished in ")
    state = TapOutput.parse(result.stdout).last_state
    assert "Progress is not resumable" not in json.dumps(state)


@pytest.mark.slow
def test_a_long_sync_logs_progress_with_rows_requests_pace_and_waits(monkeypatch, caplog):
    from tap_harness import run_tap

    from tap_mixmax import report

    monkeypatch.setattr(report, "PROGRESS_INTERVAL_SECONDS", 0.5)  # 30 s in real life
    caplog.set_level(logging.INFO, logger="tap-mixmax")
    with sandbox_with() as sb:
        sb.add_fault("slow", probability=1.0, seed=1, times=0, delay=0.05)
        config = sandbox_config(sb, page_size=5, max_requests_per_minute=600)
        run_tap(config, streams={"messages"})
        served = len([r for r in sb.requests if r.path == "/v1/messages"])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Progress:")]
    assert len(lines) >= 2, "no progress line in a sync of several seconds"
    pattern = re.compile(
        r"Progress: ([\d,]+) rows, ([\d,]+) requests in .+; (\d+) requests in the last minute "
        r"\((\d+)% of the rate limit\), .+ spent waiting for it"
    )
    progress = pattern.match(lines[-1])
    assert progress, lines[-1]
    rows, requests, last_minute, share = (int(g.replace(",", "")) for g in progress.groups())
    assert rows > 0 and 0 < requests <= served + 1
    assert share == round(100 * last_minute / 600)


def test_metric_lines_come_back_with_log_metrics(tmp_path):
    with sandbox_with() as sb:
        result = run_default(tmp_path, sandbox_config(sb, log_metrics=True), {"messages"})
    assert result.returncode == 0
    assert "METRIC" in result.stderr
    assert "Syncing 1 stream from " in result.stderr, "a count and its noun disagree"


def test_the_summary_counts_requests_and_rows_as_the_server_saw_them(tmp_path):
    with sandbox_with() as sb:
        result = run_default(tmp_path, sandbox_config(sb, page_size=20), {"messages"})
        served = [r for r in sb.requests if r.path == "/v1/messages"]
        rows = len(sb.ids("messages"))
    row = next(
        line.split(" | ")[-1].split()
        for line in result.stderr.splitlines()
        if line.split(" | ")[-1].strip().startswith("messages ")
    )
    assert row[1] == f"{rows:,}" and row[2] == str(len(served))


def test_test_mode_passes_without_error_lines(tmp_path):
    with sandbox_with() as sb:
        config = sandbox_config(sb)
        argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "c.json", config)), "--test"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0
    assert "ERROR" not in result.stderr, result.stderr
    assert TapOutput.parse(result.stdout).records, "--test read no row"
