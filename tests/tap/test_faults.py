"""Sync through every fault the sandbox can throw; fail fast and clearly on fatal ones."""

from __future__ import annotations

import pytest
from tap_harness import TapOutput, run_tap, run_tap_process, sandbox_config, tap_process

STREAMS = {"messages", "sequences", "sequence_recipients"}


def sandbox_with(**kwargs):
    from mixmax_sandbox import Sandbox

    return Sandbox(seed=5, scale="small", **{"rate_limit": None, **kwargs})


def assert_exact(output: TapOutput, sb, streams=STREAMS) -> None:
    assert streams and all(sb.ids(stream) for stream in streams), "nothing to compare"
    for stream in streams:
        ids = output.ids(stream)
        assert len(ids) == len(set(ids)), f"duplicates in {stream}"
        assert set(ids) == set(sb.ids(stream)), stream


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["500", "502", "503", "429", "drop", "truncate", "slow"])
@pytest.mark.parametrize("target", ["list", "child"])
def test_each_transient_fault_is_retried_and_the_sync_is_exact(kind, target):
    with sandbox_with() as sb:
        path = "/messages" if target == "list" else "/sequences/"
        sb.add_fault(kind, path=path, times=2, delay=3.0, retry_after=1)
        config = sandbox_config(sb, page_size=50, request_timeout=1)
        output = run_tap(config, streams=STREAMS)
        assert_exact(output, sb)
        faulted = [r for r in sb.requests if r.fault == kind]
        assert len(faulted) == 2, "the fault never fired: the test proves nothing"


@pytest.mark.slow
def test_faults_on_a_random_tenth_of_requests_lose_nothing():
    with sandbox_with() as sb:
        for kind in ("500", "drop", "truncate"):
            sb.add_fault(kind, probability=0.05, seed=hash(kind) % 1000, times=0)
        output = run_tap(sandbox_config(sb, page_size=40), streams=STREAMS)
        assert_exact(output, sb)
        assert any(r.fault for r in sb.requests)


@pytest.mark.slow
def test_a_tight_server_limit_is_obeyed_from_its_headers_alone():
    # The tap's own pace is off (sandbox_config); X-RateLimit-Remaining/Reset must do it.
    # One lane: no request in flight when the window fills, so not a single 429.
    with sandbox_with(rate_limit=10, rate_window=1.0) as sb:
        config = sandbox_config(sb, page_size=50, max_parallel_streams=1)
        output = run_tap(config, streams=STREAMS)
        assert_exact(output, sb)
        answered = [r for r in sb.requests if r.status == 200]
        too_many = [r for r in sb.requests if r.status == 429]
        assert len(answered) > 30, "too few requests to exercise the limit"
        assert too_many == [], f"{len(too_many)} 429s"


@pytest.mark.parametrize("stream", ["qa", "meeting_types"])
@pytest.mark.parametrize("status", ["403", "404"])
def test_a_feature_gated_endpoint_is_skipped_with_one_warning(caplog, stream, status):
    from tap_mixmax.streams import STREAM_TYPES

    path = next(s.path for s in STREAM_TYPES if s.name == stream)
    with sandbox_with() as sb:
        sb.add_fault(status, path=path, times=0)
        with caplog.at_level("WARNING"):
            output = run_tap(sandbox_config(sb), streams={stream, "messages"})
        assert output.ids(stream) == []
        assert set(output.ids("messages")) == set(sb.ids("messages"))
        warnings = [
            r for r in caplog.records if r.levelname == "WARNING" and stream in r.getMessage()
        ]
        assert len(warnings) == 1


def test_a_sequence_deleted_mid_sync_is_skipped_not_fatal(caplog):
    with sandbox_with() as sb:
        gone = sb.ids("sequences")[0]
        sb.add_fault("404", path=f"/sequences/{gone}/recipients", times=0)
        with caplog.at_level("WARNING"):
            output = run_tap(sandbox_config(sb), streams={"sequences", "sequence_recipients"})
        expected = {r["_id"] for r in sb.records("sequence_recipients") if r["sequenceId"] != gone}
        assert set(output.ids("sequence_recipients")) == expected
        assert any(gone in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def _one_line_failure(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("tap-mixmax: error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_wrong_token_fails_once_with_one_line_and_no_retry(tmp_path):
    with sandbox_with() as sb:
        config = {**sandbox_config(sb), "api_token": "wrong-token"}
        result = run_tap_process(tap_process(tmp_path, config, streams={"messages"}))
        line = _one_line_failure(result)
        assert "401" in line and "app.mixmax.com" in line
        assert len(sb.requests) == 1
        assert result.stdout.strip() == "" or "RECORD" not in result.stdout


def test_a_403_on_the_connection_check_is_fatal(tmp_path):
    with sandbox_with() as sb:
        sb.add_fault("403", path="/users/me", times=0)
        result = run_tap_process(tap_process(tmp_path, sandbox_config(sb), streams={"messages"}))
        assert "403" in _one_line_failure(result)
        assert [r.path for r in sb.requests] == ["/v1/users/me"]


@pytest.mark.slow
def test_a_dead_network_fails_with_one_line_naming_where_after_the_budget(tmp_path):
    config = {"api_url": "http://127.0.0.1:9/v1", "api_token": "x", "retry_budget_seconds": 2}
    result = run_tap_process(tap_process(tmp_path, config, streams={"messages"}), timeout=60)
    assert "cannot connect to 127.0.0.1:9 (Connection refused)" in _one_line_failure(result)


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({}, "api_token"),
        ({"api_token": "t", "start_date": "last tuesday"}, "start_date"),
        ({"api_token": "t", "api_url": "http://api.mixmax.com/v1"}, "https"),
        ({"api_token": "t", "page_size": 1000}, "page_size"),
    ],
)
def test_bad_config_ends_with_one_clear_line(tmp_path, config, needle):
    from tap_harness import TAP_EXECUTABLE, write_json

    argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "c.json", config))]
    assert needle in _one_line_failure(run_tap_process(argv))


def test_the_token_never_leaks_even_at_debug(tmp_path):
    from mixmax_sandbox import Sandbox

    token = "tok_LEAKCHECK_9f8e7d6c5b4a"
    with Sandbox(seed=5, scale="small", rate_limit=None, token=token) as sb:
        sb.add_fault("500", nth=3)
        config = sandbox_config(sb)
        env = {"LOGLEVEL": "DEBUG", "TAP_MIXMAX_LOGLEVEL": "DEBUG"}
        outputs = []
        result = run_tap_process(tap_process(tmp_path, config), env=env)
        assert result.returncode == 0, result.stderr[-2000:]
        outputs += [result.stdout, result.stderr]
        about = run_tap_process(
            tap_process(tmp_path, config, extra_args=("--about", "--format=json"))
        )
        outputs += [about.stdout, about.stderr]
        assert sb.requests, "no request was made: the check would prove nothing"
        for request in sb.requests:
            assert token not in request.path and token not in str(request.query)
            assert request.headers.get("X-API-Token") == token
        assert "DEBUG" in result.stderr, "DEBUG logging was not on: the scan proves little"
        for text in outputs:
            assert token not in text
