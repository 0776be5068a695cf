"""First contact where users run it: the `tap-mixmax` command, the whole catalog, accounts.

README "Security", Deadlines: until the API has answered once in a run, a connection that
cannot be made at all fails within 60 s, in one line naming host:port, however many
streams, lanes or accounts run. These tests use the real 60 s (FIRST_CONTACT_SECONDS)
and the default request_timeout, retry budget, lanes and parallel accounts.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time

import pytest
from cli_process import TapProcess, accounts_of
from tap_harness import run_tap

from tap_mixmax import errors, first_contact
from tap_mixmax.first_contact import FIRST_CONTACT_SECONDS

TOKEN = "tok_FIRSTCONTACT_0123456789"
# Six accounts, four at a time (the default): two wait for a slot, and must not get
# another 60 s of their own once it has run out.
ACCOUNTS = [f"acct{index}" for index in range(6)]
# Process start and a loaded machine; a refused connection fails at once, so the run ends
# at the limit itself (the "plus one request timeout" is for a connect that hangs).
SLACK_SECONDS = 8


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def hanging_port():
    """A port whose connects hang: its backlog is full and nobody accepts, so the kernel
    drops new SYNs, as a firewall does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # it stays half open, in the backlog
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.2)
    yield port
    for sock in [*fillers, server]:
        sock.close()


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_a_dead_api_url_ends_the_run_within_60_s_in_one_line_whole_catalog_and_accounts(
    tmp_path,
):
    port = closed_port()
    refused = {"api_url": f"http://127.0.0.1:{port}/v1", "api_token": TOKEN}
    unknown = {"api_url": "https://no-such-host.invalid/v1", "api_token": TOKEN}
    tokens = [f"{TOKEN}_{name}" for name in ACCOUNTS]
    # The three run at once: a minute of waiting, not three.
    runs = {
        "refused": TapProcess(tmp_path / "refused", refused),
        "unknown": TapProcess(tmp_path / "unknown", unknown),
        "accounts": TapProcess(tmp_path / "accounts", accounts_of(refused, ACCOUNTS, tokens)),
    }
    limit = time.monotonic() + FIRST_CONTACT_SECONDS + SLACK_SECONDS
    took = {}
    for name, run in runs.items():
        try:
            took[name] = run.wait(timeout=max(0.1, limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            pytest.fail(f"{name}: still running past {FIRST_CONTACT_SECONDS:.0f} s:\n{run.stderr}")
    for name, run in runs.items():
        assert run.returncode == 1, (name, run.stderr)
        # The rule ended it: every try failed at once, so it retried up to the limit.
        assert FIRST_CONTACT_SECONDS - 5 <= took[name] <= FIRST_CONTACT_SECONDS + SLACK_SECONDS, (
            name,
            took[name],
        )
        run.assert_the_log_is_the_taps()
        assert not any("failed as well" in line for line in run.err_lines), run.stderr

    line = runs["refused"].error_line()
    assert f"cannot connect to 127.0.0.1:{port} (Connection refused)" in line, line
    assert "has not answered once in this run; check api_url" in line
    assert "cannot connect to no-such-host.invalid:443 (" in runs["unknown"].error_line()

    accounts = runs["accounts"]
    line = accounts.error_line()
    # One mention of the host for the run, every account named in it...
    assert line.count(f"127.0.0.1:{port}") == 1, line
    assert f"6 of 6 accounts failed: {', '.join(ACCOUNTS)}: cannot connect" in line, line
    # ...and each account failed alone, naming itself.
    for name in ACCOUNTS:
        own = [row for row in accounts.err_lines if f"Account {name} failed, the others" in row]
        assert len(own) == 1, accounts.stderr
    assert not any(token in accounts.stderr for token in tokens)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["catalog", "accounts"])
def test_a_connect_that_hangs_is_cut_by_a_stop_at_once(tmp_path, hanging_port, mode):
    # The default request_timeout (60 s) holds each connect: a stop must not wait for it.
    config = {"api_url": f"http://127.0.0.1:{hanging_port}/v1", "api_token": TOKEN}
    if mode == "accounts":
        config = accounts_of(config, ["ana", "bo"], [TOKEN + "a", TOKEN + "b"])
    tap = TapProcess(tmp_path, config)
    tap.wait_for_stderr(r"Stream users: full table")
    time.sleep(1.5)  # well inside the connect, which nothing answers
    assert tap.proc.poll() is None
    elapsed = tap.signal_and_time_exit(signal.SIGTERM)
    assert elapsed < 2.0, f"{elapsed:.1f} s to stop"
    assert tap.returncode == 128 + signal.SIGTERM
    assert tap.messages[-1]["type"] == "STATE", "the last line must be the state"
    tap.assert_the_log_is_the_taps()


@pytest.mark.slow
def test_a_connect_that_hangs_fails_as_a_connect_naming_request_timeout(tmp_path, hanging_port):
    # request_timeout 2 and a 7 s budget instead of 60 and 900: the watchdog's arithmetic
    # is the same at any value, and the connect is what it cuts.
    config = {
        "api_url": f"http://127.0.0.1:{hanging_port}/v1",
        "api_token": TOKEN,
        "request_timeout": 2,
        "retry_budget_seconds": 7,
    }
    tap = TapProcess(tmp_path, config)
    took = tap.wait(timeout=60)
    assert tap.returncode == 1
    assert took < 7 + 2 + SLACK_SECONDS
    line = tap.error_line()
    assert f"cannot connect to 127.0.0.1:{hanging_port} (no connection within " in line, line
    assert "request_timeout (2 s)" in tap.stderr, "no try was cut at request_timeout"


# -- The same rules in-process, with the limit patched down to 2 s (fast, for mutants) ------


@pytest.fixture
def two_second_limit(monkeypatch):
    monkeypatch.setattr(first_contact, "FIRST_CONTACT_SECONDS", 2.0)  # 60 s in real life


def unreachable(**extra):
    return {
        "api_url": f"http://127.0.0.1:{closed_port()}/v1",
        "api_token": TOKEN,
        "retry_budget_seconds": 15,  # far past the 2 s limit, and a mutant fails soon
        **extra,
    }


def test_first_contact_holds_for_every_lane_of_the_whole_catalog(two_second_limit):
    started = time.monotonic()
    with pytest.raises(errors.UnreachableError, match=r"cannot connect to 127\.0\.0\.1:"):
        run_tap(unreachable())  # the users lane first, then every other lane
    assert time.monotonic() - started < 6


@pytest.mark.slow
def test_first_contact_is_one_per_run_across_accounts(two_second_limit):
    tokens = [f"{TOKEN}_{name}" for name in ACCOUNTS]
    started = time.monotonic()
    with pytest.raises(errors.MixmaxError) as caught:
        run_tap(accounts_of(unreachable(), ACCOUNTS, tokens))
    # The two accounts that wait for a slot fail at once, in the same words.
    assert time.monotonic() - started < 6
    assert str(caught.value).startswith(f"6 of 6 accounts failed: {', '.join(ACCOUNTS)}: cannot")


@pytest.mark.slow
def test_accounts_after_first_contact_failed_fail_at_once_in_its_words(
    two_second_limit, hanging_port
):
    # One account at a time, to a host whose connects hang: the first spends the limit,
    # the next ones start after it has passed, and must not try again (nor fail as
    # "no time left", another cause).
    config = {
        **unreachable(max_parallel_accounts=1),
        "api_url": f"http://127.0.0.1:{hanging_port}/v1",
    }
    names = ACCOUNTS[:3]
    started = time.monotonic()
    with pytest.raises(errors.MixmaxError) as caught:
        run_tap(accounts_of(config, names, [f"{TOKEN}_{name}" for name in names]))
    assert time.monotonic() - started < 5
    assert str(caught.value).startswith(f"3 of 3 accounts failed: {', '.join(names)}: cannot")


def test_a_tls_handshake_that_fails_is_a_connect_failure(two_second_limit, shared_sandbox):
    # https to a plain http server: it answers the TLS hello with an HTTP error.
    config = {**unreachable(), "api_url": shared_sandbox.url.replace("http:", "https:")}
    with pytest.raises(errors.UnreachableError, match=r"\(TLS handshake failed: "):
        run_tap(config, streams={"users"})


@pytest.mark.slow
def test_a_dns_lookup_that_hangs_is_cut_at_request_timeout(two_second_limit, monkeypatch):
    # getaddrinfo has no timeout of its own: a resolver that never answers would hold
    # the request, and a stop, for as long as it likes.
    def never_answers(*args, **kwargs):
        time.sleep(10)

    monkeypatch.setattr(socket, "getaddrinfo", never_answers)
    config = {**unreachable(), "api_url": "https://api.example.test/v1", "request_timeout": 1}
    started = time.monotonic()
    with pytest.raises(errors.UnreachableError, match=r"example\.test:443 \(no connection"):
        run_tap(config, streams={"users"})
    assert time.monotonic() - started < 6
