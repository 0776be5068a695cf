"""Hostile and broken servers: the token stays home, nothing hangs, one bad row never kills.

Every server here is real (a loopback socket whose every byte the test controls, see
tests/raw_server.py). Each test names the guarantee of the README's "Security" section
that it holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib
from typing import Any

import pytest
import trustme
from raw_server import ME, Request, page, response_bytes, send, serving, trickle
from tap_harness import TAP_EXECUTABLE, TapOutput, run_tap, write_json

from tap_mixmax import errors, first_contact

TOKEN = "tok_S3CRET_0123456789abcdef"
UNPACED = 1_000_000


def config_for(server, **extra):
    return {
        "api_url": server.url,
        "api_token": TOKEN,
        "max_requests_per_minute": UNPACED,
        "retry_budget_seconds": 3,
        "request_timeout": 2,
        **extra,
    }


def run_cli(tmp_path, config, *extra: str, env=None, timeout=60):
    """The real tap-mixmax process; returns (returncode, stdout, stderr)."""
    argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "config.json", config))]
    result = subprocess.run(
        [*argv, *extra],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return result.returncode, result.stdout, result.stderr


def only_streams(tmp_path, config, streams):
    from tap_harness import catalog_for

    return str(write_json(tmp_path / "catalog.json", catalog_for(set(streams), config)))


def error_line(stderr: str, *, debug: bool = False) -> str:
    """The tap's one error line; fails if there is more than one, or (unless at DEBUG,
    which logs the detail for bug reports) a traceback."""
    assert debug or "Traceback" not in stderr, stderr
    errors_ = [line for line in stderr.splitlines() if line.startswith("tap-mixmax: error:")]
    assert len(errors_) == 1, stderr
    return errors_[0]


def unsubscribe(i, created):
    return {"_id": f"{i:024x}", "email": f"u{i}@example.com", "createdAt": created}


NOW_MS = int(time.time() * 1000)


# -- 1. The token never leaves its origin -----------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_port_is_refused_and_gets_no_token(tmp_path, status):
    with serving(lambda r, c: send(c, 200, ME)) as elsewhere:
        target = f"{elsewhere.url}/users/me"
        with serving(lambda r, c: send(c, status, b"", Location=target)) as api:
            code, stdout, stderr = run_cli(tmp_path, config_for(api))
        assert code == 1
        line = error_line(stderr)
        assert f"to {elsewhere.origin}/v1/users/me" in line, line
        assert elsewhere.requests == [], "the other server was contacted"
        assert "RECORD" not in stdout


def test_a_redirect_to_localhost_instead_of_127_0_0_1_is_another_origin(tmp_path):
    seen: list[Request] = []

    def handler(request, conn):
        seen.append(request)
        port = request.headers["host"].rsplit(":", 1)[1]
        send(conn, 302, b"", Location=f"http://localhost:{port}/v1/users/me")

    with serving(handler) as api:
        code, _, stderr = run_cli(tmp_path, config_for(api))
    assert code == 1
    assert "to http://localhost:" in error_line(stderr)
    assert len(seen) == 1, "the redirect was followed (with the token)"


def test_a_redirect_within_the_origin_is_followed(tmp_path):
    def handler(request, conn):
        if request.path == "/v1/users/me":
            send(conn, 307, b"", Location="/v1/users/me/again")
        else:
            send(conn, 200, ME)

    with serving(handler) as api:
        output = run_tap(config_for(api), streams={"users"})
    assert output.ids("users") == ["u1"]
    assert [r.path for r in api.requests] == ["/v1/users/me", "/v1/users/me/again"]
    assert all(r.headers["x-api-token"] == TOKEN for r in api.requests)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


def tls_context(ca):
    context = __import__("ssl").create_default_context(__import__("ssl").Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


def test_https_never_goes_down_to_http(tmp_path, ca):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    with serving(lambda r, c: send(c, 200, ME)) as plain:
        target = f"{plain.url}/users/me"
        with serving(lambda r, c: send(c, 301, b"", Location=target), tls_context(ca)) as api:
            code, _, stderr = run_cli(
                tmp_path, config_for(api), env={"REQUESTS_CA_BUNDLE": str(bundle)}
            )
        assert code == 1
        assert f"to {plain.origin}/v1/users/me" in error_line(stderr)
        assert plain.requests == []


# -- 7. Company networks: the system's CA bundle, and no retries on a bad certificate --


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_ca_bundle_from_the_environment_is_trusted(tmp_path, ca, variable):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    env = {"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": "", "CURL_CA_BUNDLE": ""}
    env[variable] = str(bundle)
    with serving(lambda r, c: send(c, 200, ME), tls_context(ca)) as api:
        catalog = only_streams(tmp_path, config_for(api), {"users"})
        code, stdout, stderr = run_cli(tmp_path, config_for(api), "--catalog", catalog, env=env)
    assert code == 0, stderr
    assert TapOutput.parse(stdout).ids("users") == ["u1"]


def test_an_untrusted_certificate_fails_at_once_without_retries(tmp_path, ca):
    env = {"REQUESTS_CA_BUNDLE": "", "SSL_CERT_FILE": "", "CURL_CA_BUNDLE": ""}
    with serving(lambda r, c: send(c, 200, ME), tls_context(ca)) as api:
        started = time.monotonic()
        code, _, stderr = run_cli(tmp_path, config_for(api, retry_budget_seconds=120), env=env)
        elapsed = time.monotonic() - started
    assert code == 1
    line = error_line(stderr)
    assert "certificate" in line and "REQUESTS_CA_BUNDLE" in line, line
    assert api.connections == 1, "a certificate failure was retried"
    assert elapsed < 30, "it waited instead of failing at once"


# -- 2. Every text that reaches a log, an exception or stdout is masked -------------------


def echoing(status_by_path):
    """Answers with the token it was sent quoted back, as a careless server might."""

    def handler(request, conn):
        token = request.headers.get("x-api-token", "")
        if request.path == "/v1/users/me":
            send(conn, 200, {**ME, "note": f"you sent {token}"})
            return
        status = status_by_path.get(request.path, 200)
        if status == 200:
            send(conn, 200, page([{**unsubscribe(1, NOW_MS), "echo": token, "email": token}]))
        else:
            send(conn, status, {"message": f"token {token} refused\nsecond line"})

    return handler


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        ({"/v1/unsubscribes": 500}, 1),  # the retry lines, then the final error
        ({"/v1/unsubscribes": 400}, 1),  # the fatal error
        ({"/v1/unsubscribes": 403}, 0),  # an optional stream's warning
        ({"/v1/unsubscribes": 404}, 0),
        ({}, 0),  # a page whose rows quote the token
    ],
)
def test_a_token_the_server_echoes_is_masked_everywhere_even_at_debug(tmp_path, statuses, code):
    with serving(echoing(statuses)) as api:
        config = config_for(api, retry_budget_seconds=2)
        catalog = only_streams(tmp_path, config, {"users", "unsubscribes"})
        returncode, stdout, stderr = run_cli(
            tmp_path, config, "--catalog", catalog, env={"TAP_MIXMAX_LOGLEVEL": "DEBUG"}
        )
    assert returncode == code, stderr
    assert TOKEN not in stdout and TOKEN not in stderr
    assert "[redacted]" in stdout + stderr, "the echo never reached the output: proves nothing"
    if code:
        assert "second line" in error_line(stderr, debug=True), "the message is one line"


def test_config_errors_never_print_tokens_in_any_shape(tmp_path):
    cases: list[dict[str, Any]] = [
        # accounts as JSON text (how environment variables carry arrays), one entry bad
        {"accounts": json.dumps([{"name": "a", "api_token": TOKEN}, {"api_token": TOKEN + "2"}])},
        # accounts as bare tokens
        {"accounts": [TOKEN, TOKEN + "2"]},
        # a token that is not text
        {"accounts": [{"name": "a", "api_token": 123456789012}]},
        # a token with a line break inside
        {"api_token": TOKEN[:10] + "\n" + TOKEN[10:]},
        # a token with a character no header can carry
        {"api_token": TOKEN + "\u201d"},
    ]
    for config in cases:
        code, _, stderr = run_cli(tmp_path, {"api_url": "http://127.0.0.1:9/v1", **config})
        assert code == 1, config
        line = error_line(stderr)
        assert "invalid config" in line
        for secret in (TOKEN, TOKEN[:10], TOKEN[10:], "123456789012"):
            assert secret not in stderr, (config, stderr)


def test_accounts_given_as_json_text_are_accepted(tmp_path):
    with serving(lambda r, c: send(c, 200, ME)) as api:
        config = config_for(api)
        del config["api_token"]
        config["accounts"] = json.dumps([{"name": "ana", "api_token": TOKEN}])
        catalog = only_streams(tmp_path, {**config_for(api)}, {"users"})
        code, stdout, stderr = run_cli(tmp_path, config, "--catalog", catalog)
    assert code == 0, stderr
    records = TapOutput.parse(stdout).records["users"]
    assert [r["account"] for r in records] == ["ana"]


def test_a_token_with_a_trailing_newline_is_stripped(tmp_path):
    with serving(lambda r, c: send(c, 200, ME)) as api:
        output = run_tap({**config_for(api), "api_token": f"  {TOKEN}\n"}, streams={"users"})
    assert output.ids("users") == ["u1"]
    assert api.requests[0].headers["x-api-token"] == TOKEN


# -- 3. Deadlines -------------------------------------------------------------------------


def slow_body(request, conn):
    if request.path == "/v1/users/me":
        send(conn, 200, ME)
        return
    body = json.dumps(page([unsubscribe(1, NOW_MS)])).encode()
    conn.sendall(response_bytes(200, body)[: -len(body)])
    trickle(conn, body, every=0.3)


def slow_headers(request, conn):
    if request.path == "/v1/users/me":
        send(conn, 200, ME)
        return
    trickle(conn, response_bytes(200, page([])), every=0.3)


@pytest.mark.slow
@pytest.mark.parametrize("handler", [slow_body, slow_headers], ids=["body", "headers"])
def test_request_timeout_bounds_the_whole_response_however_slowly_it_trickles(handler):
    with serving(handler) as api:
        config = config_for(api, request_timeout=1, retry_budget_seconds=3)
        started = time.monotonic()
        with pytest.raises(errors.MixmaxError, match="no complete answer") as caught:
            run_tap(config, streams={"unsubscribes"})
        elapsed = time.monotonic() - started
    # Each byte comes well inside the read timeout: without a deadline on the whole
    # response this would take the body's length times 0.3 s, minutes.
    assert elapsed < 8, f"{elapsed:.1f} s"
    assert "unsubscribes" in str(caught.value)


@pytest.mark.slow
def test_the_retry_budget_holds_while_a_request_is_in_flight():
    def silent(request, conn):
        if request.path == "/v1/users/me":
            send(conn, 200, ME)
            return
        time.sleep(30)  # never answers

    with serving(silent) as api:
        config = config_for(api, request_timeout=60, retry_budget_seconds=2)
        started = time.monotonic()
        with pytest.raises(errors.MixmaxError):
            run_tap(config, streams={"unsubscribes"})
        assert time.monotonic() - started < 6


def test_an_api_that_cannot_be_reached_fails_within_the_first_contact_limit(monkeypatch):
    monkeypatch.setattr(first_contact, "FIRST_CONTACT_SECONDS", 2.0)  # 60 s in real life
    config = {"api_url": "http://127.0.0.1:9/v1", "api_token": TOKEN, "retry_budget_seconds": 20}
    started = time.monotonic()
    with pytest.raises(errors.UnreachableError, match=r"cannot connect to 127\.0\.0\.1:9"):
        run_tap(config, streams={"users"})
    assert time.monotonic() - started < 6


def test_an_unknown_host_fails_within_the_first_contact_limit_naming_it(monkeypatch):
    monkeypatch.setattr(first_contact, "FIRST_CONTACT_SECONDS", 2.0)
    config = {"api_url": "https://no-such-host.invalid/v1", "api_token": TOKEN}
    started = time.monotonic()
    with pytest.raises(
        errors.UnreachableError, match=r"cannot connect to no-such-host\.invalid:443"
    ):
        run_tap({**config, "retry_budget_seconds": 900}, streams={"users"})
    assert time.monotonic() - started < 10


@pytest.mark.slow
def test_a_blip_in_the_middle_of_a_sync_keeps_retrying_within_the_budget(monkeypatch):
    monkeypatch.setattr(first_contact, "FIRST_CONTACT_SECONDS", 0.5)
    state = {"blipped": False}

    def handler(request, conn):
        if request.path == "/v1/users/me":
            send(conn, 200, ME)
        elif not state["blipped"]:
            state["blipped"] = True
            api.refuse_connections_for(2.0)  # refused, longer than first contact allows
        else:
            send(conn, 200, page([unsubscribe(1, NOW_MS)]))

    with serving(handler) as api:
        output = run_tap(config_for(api, retry_budget_seconds=30), streams={"unsubscribes"})
    assert output.ids("unsubscribes") == [f"{1:024x}"]


# -- 4. A repeated cursor -----------------------------------------------------------------


def test_a_cursor_cycle_is_an_error_not_a_loop():
    cursors = {None: "A", "A": "B", "B": "A"}

    def handler(request, conn):
        if request.path == "/v1/users/me":
            send(conn, 200, ME)
            return
        current = request.query.get("next")
        row = unsubscribe(len(api.requests), NOW_MS)
        send(conn, 200, page([row], has_next=True, next_cursor=cursors[current]))

    cycle = pytest.raises(errors.MixmaxError, match="sent before in the same listing")
    with serving(handler) as api, cycle:
        run_tap(config_for(api), streams={"unsubscribes"})
    assert len(api.requests) == 4  # /users/me, then None, A, B: A again is refused


# -- 5. A bad value never kills a sync ----------------------------------------------------


def raw_page(text: str):
    def handler(request, conn):
        if request.path == "/v1/users/me":
            send(conn, 200, ME)
        else:
            send(conn, 200, text)

    return handler


def test_unreadable_timestamps_become_null_and_keep_their_raw_value_in_extra(caplog):
    rows = [
        '{"_id": "a", "created": NaN, "sent": Infinity}',
        '{"_id": "b", "created": 1e400, "updatedAt": -Infinity}',
        '{"_id": "c", "created": {"$date": 1}, "scheduled": [1, 2]}',
        '{"_id": "d", "created": true}',
        '{"_id": "e", "created": 99999999999999999999999}',
        f'{{"_id": "f", "created": {NOW_MS}}}',
    ]
    text = '{"results": [' + ",".join(rows) + '], "hasNext": false}'
    with serving(raw_page(text)) as api:
        output = run_tap(config_for(api), streams={"messages"})
    records = {r["_id"]: r for r in output.records["messages"]}
    assert set(records) == set("abcdef")
    assert records["a"]["created"] is None and records["a"]["_extra"]["created"] == "NaN"
    assert records["a"]["_extra"]["sent"] == "Infinity"
    assert records["b"]["_extra"]["created"] == "Infinity"
    assert records["b"]["_extra"]["updatedAt"] == "-Infinity"
    assert records["c"]["_extra"] == {"created": {"$date": 1}, "scheduled": [1, 2]}
    assert records["d"]["_extra"]["created"] is True
    assert records["e"]["created"] is None
    assert records["f"]["created"].endswith("Z")
    # Only the readable row moves the bookmark.
    bookmark = output.final_state["bookmarks"]["messages"]["replication_key_value"]
    assert bookmark == records["f"]["created"]
    warnings = [r for r in caplog.records if "no readable created" in r.getMessage()]
    assert len(warnings) == 1 and "5 rows" in warnings[0].getMessage()


def test_a_row_without_its_replication_key_is_emitted_and_does_not_move_the_bookmark():
    rows: list[dict[str, Any]] = [{"_id": "x"}, {"_id": "y", "createdAt": NOW_MS - 1000}]
    with serving(raw_page(json.dumps(page(rows)))) as api:
        output = run_tap(config_for(api), streams={"unsubscribes"})
    assert sorted(output.ids("unsubscribes")) == ["x", "y"]
    state = output.final_state["bookmarks"]["unsubscribes"]
    assert state["replication_key_value"] == next(
        r["createdAt"] for r in output.records["unsubscribes"] if r["_id"] == "y"
    )


def test_a_row_without_its_key_ends_the_sync_with_one_clear_line():
    rows = [{"_id": 7, "created": NOW_MS}, {"created": NOW_MS - 1000}]  # the second: no key
    with (
        serving(raw_page(json.dumps(page(rows)))) as api,
        pytest.raises(errors.MixmaxError) as caught,
    ):
        run_tap(config_for(api), streams={"messages"})
    assert str(caught.value) == (
        "Mixmax sent a messages row without its key '_id': the tap cannot emit a row that "
        "no target could key"
    )


def test_rules_keep_mixmax_filter_objects_and_ask_for_actions_that_are_not_rows():
    rules: list[dict[str, Any]] = [
        {"_id": "r1", "filter": '{"a": 1}', "filterObject": {"b": 2}, "actions": [1, "x"]},
        {"_id": "r2", "filter": "[1]", "actions": []},
    ]

    def handler(request, conn):
        answers = {"/v1/users/me": ME, "/v1/rules": page(rules)}
        answers["/v1/rules/r1/actions"] = page([{"_id": "a1", "ruleId": "r1"}])
        send(conn, 200, answers[request.path])

    with serving(handler) as api:
        output = run_tap(config_for(api), streams={"rules", "rule_actions"})
    emitted = {r["_id"]: r for r in output.records["rules"]}
    assert emitted["r1"]["filterObject"] == {"b": 2}  # Mixmax's own, not overwritten
    assert emitted["r2"]["filterObject"] is None  # a JSON list: `filter` keeps it
    assert output.ids("rule_actions") == ["a1"]
    assert [r.path for r in api.requests].count("/v1/rules/r1/actions") == 1


def test_a_pathologically_nested_page_is_malformed_retried_then_one_line():
    text = '{"results": [{"_id": "x", "deep": ' + "[" * 100_000 + "]" * 100_000 + "}]}"
    with serving(raw_page(text)) as api, pytest.raises(errors.MixmaxError) as caught:
        run_tap(config_for(api, retry_budget_seconds=2), streams={"unsubscribes"})
    message = str(caught.value)
    assert "nested too deeply" in message and "/v1/unsubscribes" in message
    assert len([r for r in api.requests if r.path == "/v1/unsubscribes"]) > 1, "not retried"


@pytest.fixture(scope="module")
def gzip_bomb():
    """About 0.3 MB of gzip that inflates to 300 MB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * 2**20
    parts = [compressor.compress(chunk) for _ in range(300)]
    return b"".join(parts) + compressor.flush()


def test_a_compression_bomb_is_refused_at_the_cap_and_costs_little_memory(tmp_path, gzip_bomb):
    def handler(request, conn):
        if request.path == "/v1/users/me":
            send(conn, 200, ME)
            return
        conn.sendall(response_bytes(200, gzip_bomb, {"Content-Encoding": "gzip"}))

    with serving(handler) as api:
        config = config_for(api, max_response_megabytes=16, retry_budget_seconds=1)
        catalog = only_streams(tmp_path, config, {"unsubscribes"})
        argv = [TAP_EXECUTABLE, "--config", str(write_json(tmp_path / "c.json", config))]
        # A parent of its own, so that its children's peak is the tap's alone.
        result = subprocess.run(
            [sys.executable, "-c", PEAK_OF_CHILD, *argv, "--catalog", catalog],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1
    assert "over 16 MB" in error_line(result.stderr.rsplit("\n", 2)[0])
    peak_mib = int(result.stderr.strip().splitlines()[-1]) / 1024
    # The tap alone is ~50 MiB; reading the whole body would take 300 MiB and more.
    assert peak_mib < 150, f"peak {peak_mib:.0f} MiB"


PEAK_OF_CHILD = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


# -- 6. Config and state mistakes: one line, naming the setting or file -----------------


@pytest.mark.parametrize(
    ("config", "needle"),
    [
        ({"request_timeout": 0}, "request_timeout must be at least 1"),
        ({"lookback_days": -1}, "lookback_days must be 0 or more"),
        ({"livefeed_activity_days": -3}, "livefeed_activity_days must be 0 or more"),
        ({"user_agent": "me\r\nX-Evil: 1"}, "user_agent"),
        ({"max_response_megabytes": 0}, "max_response_megabytes"),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(tmp_path, config, needle):
    code, stdout, stderr = run_cli(
        tmp_path, {"api_url": "http://127.0.0.1:9/v1", "api_token": TOKEN, **config}
    )
    assert code == 1 and stdout == ""
    assert needle in error_line(stderr)


@pytest.mark.parametrize(
    ("bookmark", "needle"),
    [("yesterday", "'yesterday', not a date"), ({"a": 1}, "not a date"), (True, "not a date")],
)
def test_a_bookmark_that_is_not_a_date_is_one_line_naming_the_stream(tmp_path, bookmark, needle):
    with serving(lambda r, c: send(c, 200, ME)) as api:
        config = config_for(api)
        state = {"bookmarks": {"messages": {"replication_key_value": bookmark}}}
        state_file = str(write_json(tmp_path / "state.json", state))
        catalog = only_streams(tmp_path, config, {"messages"})
        code, _, stderr = run_cli(tmp_path, config, "--catalog", catalog, "--state", state_file)
    assert code == 1
    line = error_line(stderr)
    assert "stream messages" in line and needle in line, line
    assert api.requests == [], "a request was made with an unusable state"


def test_a_bookmark_in_the_future_warns_and_syncs_from_now_minus_the_lookback(caplog):
    rows = [unsubscribe(i, NOW_MS - i * 3_600_000) for i in range(3)]
    with serving(raw_page(json.dumps(page(rows)))) as api:
        state = {"bookmarks": {"unsubscribes": {"replication_key_value": "9999-01-01T00:00:00Z"}}}
        output = run_tap(config_for(api), streams={"unsubscribes"}, state=state)
        # With the bookmark pulled back to now, the next sync starts from a sane place.
        again = run_tap(config_for(api), streams={"unsubscribes"}, state=output.last_state)
    assert len(output.ids("unsubscribes")) == 0  # all older than now: nothing new, but...
    final = output.final_state["bookmarks"]["unsubscribes"]["replication_key_value"]
    assert final < "9999", "the bookmark stayed in the year 9999"
    assert any(
        "in the future" in r.getMessage() and "unsubscribes" in r.getMessage()
        for r in caplog.records
    )
    assert again.last_state is not None


@pytest.mark.parametrize(
    ("option", "content", "needle"),
    [
        ("--config", None, "the config file {path} does not exist"),
        ("--config", "{not json", "the config file {path} is not valid JSON (line 1, column 2"),
        ("--config", "[1, 2]", "must hold a JSON object, not a list"),
        ("--state", None, "the state file {path} does not exist"),
        ("--state", "{'bookmarks': {}}", "the state file {path} is not valid JSON"),
        ("--catalog", "", "the catalog file {path} is not valid JSON"),
    ],
)
def test_a_missing_or_broken_file_is_one_line_naming_it(tmp_path, option, content, needle):
    path = tmp_path / f"given{option.replace('-', '_')}.json"
    if content is not None:
        path.write_text(content)
    config = write_json(
        tmp_path / "good.json", {"api_token": TOKEN, "api_url": "http://127.0.0.1:9/v1"}
    )
    argv = [TAP_EXECUTABLE]
    if option != "--config":
        argv += ["--config", str(config)]
    result = subprocess.run([*argv, option, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert needle.format(path=path) in error_line(result.stderr)


def test_the_epoch_rule_has_one_home():
    from tap_mixmax import pacing, records

    assert records.epoch_seconds(2_000_000_000_000) == 2_000_000_000
    assert records.epoch_seconds(2_000_000_000) == 2_000_000_000
    # X-RateLimit-Reset reads epoch values by the same rule as timestamps.
    assert pacing.parse_reset("2000000030000", now=2_000_000_000.0) == 30.0
    assert pacing.parse_reset(str(10**11 + 30), now=10**8 + 0.03) == pytest.approx(0.0, abs=1)
    assert sys.modules["tap_mixmax.pacing"].epoch_seconds is records.epoch_seconds
