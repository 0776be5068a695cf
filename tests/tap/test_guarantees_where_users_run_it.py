"""The README's reliability guarantees where users run the tap: the `tap-mixmax` command,
the whole catalog selected (lanes at their default), and again in `accounts` mode.

Deadlines, retries, redaction, redirects, bad config and state ("Rate limits, retries and
errors", "What the log says", "Security"). First contact and stops have modules of their
own (test_first_contact.py, test_stops_in_every_wait.py).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import trustme
from cli_process import TapProcess, accounts_of, every_endpoint
from raw_server import ME, page, response_bytes, send, serving
from tap_harness import UNPACED, TapOutput, sandbox_config

TOKEN = "tok_GUARANTEE_0123456789abcdef"
NAMES = ["ana", "bo"]
TOKENS = [TOKEN + "_ana", TOKEN + "_bo"]
MODES = ["catalog", "accounts"]


def in_mode(config: dict, mode: str, tokens: list[str] = TOKENS) -> dict:
    return accounts_of(config, NAMES, tokens) if mode == "accounts" else config


def run(tap: TapProcess, timeout: float = 120) -> TapProcess:
    tap.wait(timeout=timeout)
    return tap


def sandbox(**kwargs):
    from mixmax_sandbox import Sandbox

    return Sandbox(**{"seed": 5, "scale": "tiny", "rate_limit": None, **kwargs})


# -- Deadlines ---------------------------------------------------------------------------


def trickled_headers(request, conn):
    """A status line, then one header byte every 2 s: headers that never end in time."""
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for byte in b"Content-Type: application/json\r\nX-Padding: " + b"x" * 200:
        conn.sendall(bytes([byte]))
        time.sleep(2)


def silent(request, conn):
    time.sleep(60)  # never a byte


@pytest.mark.slow
def test_a_trickling_or_silent_server_ends_in_one_honest_line_within_the_deadlines(tmp_path):
    # request_timeout 5 and a 12 s budget instead of 60 and 900: the watchdog and the
    # budget are the same arithmetic at any value, and the run stays short.
    overrides = {"/v1/messages": trickled_headers, "/v1/polls": silent}
    with serving(every_endpoint(overrides=overrides)) as api:
        config = {
            "api_url": api.url,
            "api_token": TOKEN,
            "request_timeout": 5,
            "retry_budget_seconds": 12,
            "max_requests_per_minute": UNPACED,
        }
        taps = {mode: TapProcess(tmp_path / mode, in_mode(config, mode)) for mode in MODES}
        took = {mode: tap.wait(timeout=120) for mode, tap in taps.items()}
    for mode, tap in taps.items():
        assert tap.returncode == 1, tap.stderr
        assert took[mode] < 12 + 5 + 8, f"{mode}: {took[mode]:.0f} s, past the budget"
        tap.assert_the_log_is_the_taps()  # urllib3's header-parsing traceback included
        assert "not valid JSON" not in tap.stderr, "the cause is the deadline, not the page"
        assert "Failed to parse headers" not in tap.stderr, "urllib3's symptom, not the cause"
        line = tap.error_line()
        assert f"{api.host}:{api.port} sent no complete answer to /v1/" in line, line
        assert "within request_timeout (5 s)" in tap.stderr
        for path in ("/v1/messages", "/v1/polls"):  # each lane named its own cause
            assert f"no complete answer to {path} within" in tap.stderr, (mode, path)
    assert all(name in taps["accounts"].error_line() for name in NAMES)


# -- Retries -----------------------------------------------------------------------------

FAULTS = [  # (kind, path): each fires once, for whichever account asks first
    ("500", "/messages"),
    ("502", "/polls"),
    ("503", "/sequences"),
    ("429", "/unsubscribes"),
    ("drop", "/snippets"),
    ("truncate", "/livefeed"),
    ("slow", "/teams"),
]
# Every time: the plan lacks them. (kind, path, stream)
GATED = [("403", "/qa", "qa"), ("404", "/meetingtypes", "meeting_types")]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_every_transient_fault_is_retried_and_the_sync_is_exact(tmp_path, mode):
    with sandbox(users=2, scale="small") as sb:
        for kind, path in FAULTS:
            sb.add_fault(kind, path=path, times=1, delay=3.0, retry_after=1)
        for kind, path, _stream in GATED:
            sb.add_fault(kind, path=path, times=0)
        config = in_mode(sandbox_config(sb, request_timeout=2), mode, sb.tokens)
        tap = run(TapProcess(tmp_path, config))
        fired = {r.fault for r in sb.requests if r.fault}
        users = range(2) if mode == "accounts" else range(1)
        expected = {
            path: {(index, _id) for index in users for _id in sb.ids(path[1:], user=index)}
            for _kind, path in FAULTS
        }
    assert tap.returncode == 0, tap.stderr
    kinds = {kind for kind, _ in FAULTS} | {kind for kind, _, _ in GATED}
    assert fired == kinds, "a fault never fired: the test proves less"
    tap.assert_the_log_is_the_taps()
    # README "What the log says": the story, and nothing else.
    log = tap.stderr
    assert "METRIC" not in log and "Beginning sync of" not in log
    assert [line.split(" | ")[-1] for line in tap.err_lines if "Sync finished in" in line]
    assert any(line.endswith("Summary:") for line in tap.err_lines)
    for _kind, _path, stream in GATED:  # a feature the plan lacks: a warning, no rows
        skipped = [line for line in tap.err_lines if f"Skipping stream {stream}: " in line]
        assert len(skipped) == len(users), (stream, skipped)
    output = TapOutput.parse("\n".join(tap.out_lines))
    for _kind, _path, stream in GATED:
        assert output.records[stream] == []
    for _kind, path in FAULTS:
        rows = output.records[path[1:]]
        got = [(NAMES.index(r["account"]) if mode == "accounts" else 0, r["_id"]) for r in rows]
        assert len(got) == len(set(got)) and set(got) == expected[path], path
    retries = [line for line in tap.err_lines if "before retry" in line]
    assert len(retries) >= len(FAULTS)
    for kind in ("drop", "slow"):  # failures below HTTP name the host and port tried
        assert any(
            f"from {sb.host}:{sb.port}" in line or f"{sb.host}:{sb.port} sent" in line
            for line in retries
        ), (kind, retries)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_a_retry_after_longer_than_the_budget_fails_at_once_in_one_line(tmp_path, mode):
    # The default budget (900 s), and a Retry-After past it: no sleeping 20 minutes.
    with sandbox(users=2) as sb:
        sb.add_fault("429", path="/messages", times=0, retry_after=1200)
        config = in_mode(sandbox_config(sb), mode, sb.tokens)
        tap = run(TapProcess(tmp_path, config), timeout=15)
    assert tap.returncode == 1, tap.stderr
    assert tap.wait(timeout=1) < 30, "it waited instead of failing at once"
    line = tap.error_line()
    assert (
        "asked stream messages to wait 1200 s (Retry-After), longer than the retry budget" in line
    )
    assert "(retry_budget_seconds 900)" in line


# -- Redaction ---------------------------------------------------------------------------


def echoing(request, conn):
    """Quotes the token it was sent back: in /users/me, in rows, and in a 500's message."""
    token = request.headers.get("x-api-token", "")
    if request.path == "/v1/users/me":
        send(conn, 200, {**ME, "note": f"you sent {token}"})
    elif request.path == "/v1/polls":
        send(conn, 500, {"message": f"token {token} refused\nsecond line"})
    elif request.path == "/v1/messages":
        send(conn, 200, page([{"_id": "m1", "created": 1_700_000_000_000, "echo": token}]))
    else:
        every_endpoint()(request, conn)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_a_token_the_server_echoes_is_masked_everywhere_at_debug(tmp_path, mode):
    with serving(echoing) as api:
        config = {"api_url": api.url, "api_token": TOKEN, "retry_budget_seconds": 2}
        env = {"TAP_MIXMAX_LOGLEVEL": "DEBUG"}
        tap = run(TapProcess(tmp_path, in_mode(config, mode), env=env))
    everything = tap.stderr + "\n".join(tap.out_lines)
    assert tap.returncode == 1, tap.stderr  # polls kept failing
    for token in [TOKEN, *TOKENS]:
        assert token not in everything
    assert "[redacted]" in "\n".join(tap.out_lines), "no echo reached a record: proves nothing"
    assert "second line" in tap.err_lines[-1], "the error is one line"


# -- The token never leaves its origin ---------------------------------------------------


@pytest.fixture(scope="module")
def tls():
    ca = trustme.CA()
    context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return ca, context


@pytest.mark.parametrize("mode", MODES)
def test_https_never_goes_down_to_http_even_on_the_same_host_and_port(tmp_path, tls, mode):
    ca, context = tls
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))

    def down_to_http(request, conn):
        port = request.headers["host"].rsplit(":", 1)[1]
        send(conn, 301, b"", Location=f"http://127.0.0.1:{port}{request.path}")

    with serving(down_to_http, context) as api:
        config = in_mode({"api_url": api.url, "api_token": TOKEN}, mode)
        tap = run(TapProcess(tmp_path, config, env={"REQUESTS_CA_BUNDLE": str(bundle)}), 15)
    assert tap.returncode == 1, tap.stderr
    line = tap.error_line()
    assert f"redirected /v1/users/me to http://127.0.0.1:{api.port}/v1/users/me" in line, line
    # The token would have crossed the wire in clear text, to the same port, over http.
    assert api.connections == (2 if mode == "accounts" else 1), "the redirect was followed"


# -- Bad config and state ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://10.1.2.3/v1", "http://192.168.0.10/v1"])
@pytest.mark.parametrize("mode", MODES)
def test_plain_http_to_a_private_address_is_refused_in_one_line(tmp_path, mode, url):
    tap = run(TapProcess(tmp_path, in_mode({"api_url": url, "api_token": TOKEN}, mode)), 30)
    assert tap.returncode == 1
    assert "api_url must use https (plain http is only allowed for a loopback" in tap.error_line()
    assert tap.out_lines == []


@pytest.mark.parametrize("mode", MODES)
def test_a_bookmark_that_is_not_a_date_is_one_line_and_nothing_is_requested(tmp_path, mode):
    entry: dict[str, Any] = {"replication_key_value": "yesterday"}
    if mode == "accounts":
        entry = {"partitions": [{"context": {"account": "bo"}, **entry}]}
    with serving(every_endpoint()) as api:
        config = in_mode({"api_url": api.url, "api_token": TOKEN}, mode)
        state = {"bookmarks": {"polls": entry}}
        tap = run(TapProcess(tmp_path, config, state=state), 60)
    assert tap.returncode == 1
    line = tap.error_line()
    assert "the bookmark of stream polls is 'yesterday', not a date" in line, line
    assert api.requests == [], "a request was made with an unusable state"


@pytest.mark.parametrize("mode", MODES)
def test_a_token_with_a_line_break_is_one_line_that_never_shows_it(tmp_path, mode):
    broken = [TOKEN[:12] + "\n" + TOKEN[12:], TOKENS[1]]
    config = {"api_url": "http://127.0.0.1:9/v1", "api_token": broken[0]}
    tap = run(TapProcess(tmp_path, in_mode(config, mode, broken)), 30)
    assert tap.returncode == 1
    assert "invalid config" in tap.error_line()
    for part in (TOKEN[:12], TOKEN[12:], TOKENS[1]):
        assert part not in tap.stderr


@pytest.mark.slow
def test_a_page_cut_off_by_the_deadline_is_never_half_used(tmp_path):
    # The body trickles past request_timeout: whatever arrived must not become rows.
    body = page([{"_id": f"m{i}", "created": 1_700_000_000_000} for i in range(50)])

    def slow_body(request, conn):
        raw = response_bytes(200, body)
        conn.sendall(raw[: len(raw) // 2])
        time.sleep(10)

    with serving(every_endpoint(overrides={"/v1/messages": slow_body})) as api:
        config = {"api_url": api.url, "api_token": TOKEN, "request_timeout": 1}
        tap = run(TapProcess(tmp_path, {**config, "retry_budget_seconds": 3}), 60)
    assert tap.returncode == 1
    assert "no complete answer to /v1/messages" in tap.error_line()
    assert TapOutput.parse("\n".join(tap.out_lines)).records["messages"] == []


# -- Incremental: live-feed activity -----------------------------------------------------


@pytest.mark.parametrize("written", ["2026-01-10T12:00:00Z", "2026-01-10T12:00:00.000Z"])
@pytest.mark.parametrize("mode", MODES)
def test_livefeed_events_are_read_for_rows_active_at_or_after_the_bookmark(tmp_path, mode, written):
    # README "How incremental streams work": a row's events are read again when its
    # lastEventAt is at or after the bookmark. The bookmark as the tap writes it, and as
    # a person might (no milliseconds): one instant either way.
    at = 1_768_046_400_000  # 2026-01-10T12:00:00Z in epoch ms
    rows = [
        {"_id": "same", "messageId": "same", "sent": at - 3 * 86_400_000, "lastEventAt": at},
        {"_id": "old", "messageId": "old", "sent": at - 3 * 86_400_000, "lastEventAt": at - 1},
        {"_id": "new", "messageId": "new", "sent": at - 3 * 86_400_000, "lastEventAt": at + 1},
    ]
    asked: list[str] = []

    def events(request, conn):
        asked.append(request.query.get("messageId", ""))
        send(conn, 200, page([]))

    overrides = {
        "/v1/livefeed": lambda r, c: send(c, 200, page(rows)),
        "/v1/livefeed/events": events,
    }
    entry = {"replication_key": "sent", "replication_key_value": written}
    if mode == "accounts":
        entry = {"partitions": [{"context": {"account": name}, **entry} for name in NAMES]}
    with serving(every_endpoint(overrides=overrides)) as api:
        config = in_mode({"api_url": api.url, "api_token": TOKEN}, mode)
        tap = run(TapProcess(tmp_path, config, state={"bookmarks": {"livefeed": entry}}), 60)
    assert tap.returncode == 0, tap.stderr
    accounts = len(NAMES) if mode == "accounts" else 1
    assert sorted(asked) == sorted(["same", "new"] * accounts), asked


# -- No loops; company networks ----------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_cursor_cycle_is_one_line_not_a_loop(tmp_path, mode):
    cursors = {None: "A", "A": "B", "B": "A"}
    row = {"_id": "u1", "email": "u1@example.com", "createdAt": 1_700_000_000_000}

    def cycling(request, conn):
        following = cursors[request.query.get("next")]
        send(conn, 200, page([row], has_next=True, next_cursor=following))

    with serving(every_endpoint(overrides={"/v1/unsubscribes": cycling})) as api:
        tap = run(TapProcess(tmp_path, in_mode({"api_url": api.url, "api_token": TOKEN}, mode)))
        cycled = [r for r in api.requests if r.path == "/v1/unsubscribes"]
    assert tap.returncode == 1
    assert "that it had sent before in the same listing" in tap.error_line()
    accounts = len(NAMES) if mode == "accounts" else 1
    assert len(cycled) == 3 * accounts, "the cycle was followed"  # None, A, B: then A again


@pytest.mark.parametrize("mode", MODES)
def test_an_untrusted_certificate_fails_at_once_naming_the_variable_to_set(tmp_path, tls, mode):
    _ca, context = tls
    env = {"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": "", "CURL_CA_BUNDLE": ""}
    with serving(every_endpoint(), context) as api:
        config = in_mode({"api_url": api.url, "api_token": TOKEN}, mode)
        tap = run(TapProcess(tmp_path, config, env=env), 60)
    assert tap.returncode == 1
    assert tap.wait(timeout=1) < 20, "it retried a certificate that cannot become trusted"
    line = tap.error_line()
    assert "certificate" in line and "REQUESTS_CA_BUNDLE" in line, line
    assert api.connections == (len(NAMES) if mode == "accounts" else 1), "it was retried"
