"""`tap-mixmax --doctor`: right when the sandbox answers as the API notes say, and when not.

Each drift (mixmax_sandbox/drift.py) breaks one guess; the report must flag exactly that
check, say what it saw and what to change, and leave the others OK.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from typing import Any

import pytest
from tap_harness import TAP_EXECUTABLE, write_json

from mixmax_sandbox import Sandbox
from tap_mixmax import doctor
from tap_mixmax.api import MixmaxAPI
from tap_mixmax.doctor import client as doctor_client
from tap_mixmax.streams import STREAM_TYPES

# A list longer than a page, so the page-size check can conclude on the sandbox.
BIG_LIST: dict[str, Any] = {"messages": 400}
ASSUMPTION_CHECKS = {
    "live feed search parameter",
    "live feed sent: window",
    "events message parameter",
    "rules expand=actions",
    "paging flags",
    "largest page size",
    "last page",
    "recipients page size",
    "timestamp formats",
    "unknown fields",
    "value types",
    "rate-limit headers",
}
STREAM_NAMES = {stream.name for stream in STREAM_TYPES}


def run_doctor(capsys, tmp_path, config, *args):
    """(exit code, parsed JSON report or None, stdout, stderr) of an in-process run."""
    path = write_json(tmp_path / "config.json", config)
    code = doctor.main(["--doctor", "--config", str(path), "--format", "json", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else None), out, err


def sandbox_config(sb, **overrides):
    return {"api_url": sb.url, "api_token": sb.token, **overrides}


def findings(report, account=0):
    return {f["check"]: f for f in report["accounts"][account]["findings"]}


def test_a_sandbox_that_matches_the_notes_is_all_ok_in_about_40_requests(capsys, tmp_path):
    with Sandbox(seed=42, scale="small", **BIG_LIST) as sb:
        code, report, out, _ = run_doctor(capsys, tmp_path, sandbox_config(sb))
        sent = sb.requests
        # Field names and types only: no value of the rows it read reaches the report.
        rows = [sb.records(name)[0] for name in ("users", "messages", "livefeed", "sequences")]
    values = {v for row in rows for v in row.values() if isinstance(v, str) and len(v) > 3}
    assert values and not {value for value in values if value in out}
    found = findings(report)
    assert set(found) == {"token"} | STREAM_NAMES | ASSUMPTION_CHECKS
    assert {name: f["status"] for name, f in found.items() if f["status"] != "OK"} == {}
    assert code == 0
    assert report["accounts"][0]["requests"] == len(sent)
    assert len(STREAM_NAMES) <= len(sent) <= doctor.MAX_REQUESTS_PER_ACCOUNT
    assert all(r.headers.get("X-API-Token") == sb.token and "apiToken" not in r.query for r in sent)
    assert sb.token not in out
    # What was seen, not merely a status: the figures the sandbox really serves.
    assert "Reset is seconds until reset" in found["rate-limit headers"]["seen"]
    assert found["largest page size"]["seen"] == "limit=300 on messages returned 300 rows"
    assert "messages: created epoch ms" in "\n".join(found["timestamp formats"]["details"])
    assert "sequences: createdAt ISO-8601" in "\n".join(found["timestamp formats"]["details"])
    assert found["sequence_recipients"]["seen"].startswith("/sequences/{sequenceId}/recipients:")


# (sandbox arguments, the check that must change, its status, fragments of what it says,
#  other findings that change as a consequence)
CASES: dict[str, tuple[dict[str, Any], str, str, list[str], dict[str, str]]] = {
    "search parameter": (
        {"drift": {"livefeed_query_param": "search"}},
        "live feed search parameter", "DIFFERENT",
        ["reads the search string from 'search'", "livefeed_query_param: 'search'"], {},
    ),
    "events parameter": (
        {"drift": {"events_message_param": "message"}},
        "events message parameter", "DIFFERENT",
        ["reads the message from 'message'", "LIVEFEED_EVENTS_MESSAGE_PARAM = 'message'"],
        {"livefeed_events": "DIFFERENT"},  # the tap's own request gets a 400
    ),
    "search parameter unknown": (
        {"drift": {"livefeed_query_param": "filter"}},
        "live feed search parameter", "DIFFERENT",
        ["none of query, q, search filtered", "(with 'query', it kept its rows)"],
        {"live feed sent: window": "UNAVAILABLE"},
    ),
    "events parameter unknown": (
        {"drift": {"events_message_param": "msg"}},
        "events message parameter", "DIFFERENT",
        ["none of messageId, message, id picked one message",
         "with 'messageId': 400 The msg parameter is required"],
        {"livefeed_events": "DIFFERENT"},
    ),
    "page cap": (
        {"drift": {"max_limit": 100}},
        "largest page size", "DIFFERENT", ["limit=300 to 100 rows", "page_size: 100"],
        {"recipients page size": "DIFFERENT"},  # the cap holds for recipients too
    ),
    "rules expand": (
        {"drift": {"rules_expand": False}},
        "rules expand=actions", "DIFFERENT", ["without 'actions'", "once per rule"], {},
    ),
    "no hasNext": (
        {"drift": {"paging_flags": False}},
        "paging flags", "DIFFERENT", ["no boolean hasNext from", "CursorPaginator.has_more"],
        {"last page": "UNAVAILABLE"},
    ),
    "unreadable timestamp": (
        {"drift": {"timestamp_styles": {"messages.created": "rfc2822"}}},
        "timestamp formats", "DIFFERENT",
        ["messages.created (the replication key)", "to_datetime in tap_mixmax/records.py"], {},
    ),
    "unreadable timestamp, not the replication key": (
        {"drift": {"timestamp_styles": {"messages.sent": "rfc2822"}}},
        "timestamp formats", "DIFFERENT",
        ["cannot read messages.sent as a time", "to_datetime in tap_mixmax/records.py"], {},
    ),
    "epoch seconds are readable": (
        {"drift": {"timestamp_styles": {"snippets.createdAt": "seconds"}}},
        "timestamp formats", "OK", ["is readable", "snippets: createdAt epoch s"], {},
    ),
    "unknown field": (
        {"drift": {"extra_fields": ("polls.mood",)}},
        "unknown fields", "DIFFERENT", ["polls: mood", "tap_mixmax/schemas/<stream>.json"], {},
    ),
    "reset in epoch ms": (
        {"reset_style": "epoch_ms"}, "rate-limit headers", "OK",
        ["Reset is epoch milliseconds"], {},
    ),
    "reset in epoch s": (
        {"reset_style": "epoch"}, "rate-limit headers", "OK", ["Reset is epoch seconds"], {},
    ),
    "reset as a date": (
        {"reset_style": "http_date"}, "rate-limit headers", "DIFFERENT",
        ["not a number", "cannot read", "parse_reset in tap_mixmax/pacing.py"], {},
    ),
    "another limit": (
        {"rate_limit": 60}, "rate-limit headers", "DIFFERENT",
        ["Limit 60", "max_requests_per_minute"], {},
    ),
    "endpoint forbidden": (
        {"faults": ["403:path=/polls,times=0"]}, "polls", "UNAVAILABLE",
        ["/polls: 403", "the tap skips it"], {},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_broken_guess_is_reported_and_only_that(case, capsys, tmp_path):
    sandbox_args, check, status, fragments, knock_on = CASES[case]
    with Sandbox(seed=42, scale="small", **BIG_LIST, **sandbox_args) as sb:
        code, report, out, _ = run_doctor(capsys, tmp_path, sandbox_config(sb))
        assert len(sb.requests) <= doctor.MAX_REQUESTS_PER_ACCOUNT
    found = findings(report)
    finding = found[check]
    assert finding["status"] == status
    said = " ".join([finding["seen"], finding["assumed"], finding["change"], *finding["details"]])
    for fragment in fragments:
        assert fragment in said
    others = {name: f["status"] for name, f in found.items() if f["status"] != "OK"}
    assert others == {**knock_on, check: status} if status != "OK" else others == knock_on
    problems = {"DIFFERENT", "FAILED"} & set(others.values())
    assert code == (1 if problems else 0)
    assert sb.token not in out


def test_what_the_account_lacks_is_unavailable_not_ok(capsys, tmp_path):
    # No rule at all, and no list longer than a page (small scale: 150 messages).
    with Sandbox(seed=42, scale="small", rules=0) as sb:
        code, report, _, _ = run_doctor(capsys, tmp_path, sandbox_config(sb))
    found = findings(report)
    assert found["rules expand=actions"]["status"] == "UNAVAILABLE"
    assert found["rule_actions"]["status"] == "UNAVAILABLE"
    assert "no rules row" in found["rule_actions"]["seen"]
    assert found["largest page size"]["status"] == "UNAVAILABLE"
    assert "largest: 150" in found["largest page size"]["seen"]
    assert code == 0


def test_the_text_report_shows_what_to_change(capsys, tmp_path):
    with Sandbox(seed=42, scale="small", **BIG_LIST, drift={"livefeed_query_param": "q"}) as sb:
        path = write_json(tmp_path / "config.json", sandbox_config(sb))
        code = doctor.main(["--doctor", "--config", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "live feed search parameter" in line)
    assert re.match(r"\s+DIFFERENT\s+live feed search parameter\s+Mixmax reads", lines[at])
    assert lines[at + 1].strip().startswith("tap assumes: the search string goes in 'query'")
    assert lines[at + 2].strip() == "change: livefeed_query_param: 'q' in the config"
    assert re.search(r"^  Result: 41 OK, 1 DIFFERENT$", out, re.MULTILINE)


def test_a_rejected_token_fails_after_one_request(capsys, tmp_path):
    with Sandbox(seed=42, scale="small") as sb:
        config = sandbox_config(sb, api_token="sbx_not_a_real_token")
        code, report, out, _ = run_doctor(capsys, tmp_path, config)
        assert len(sb.requests) == 1
    assert code == 1
    assert [(f["check"], f["status"]) for f in report["accounts"][0]["findings"]] == [
        ("token", "FAILED")
    ]
    assert "401" in report["accounts"][0]["findings"][0]["seen"]
    assert "sbx_not_a_real_token" not in out


@pytest.mark.slow
def test_nothing_answering_fails_with_the_host_named(capsys, tmp_path):
    with Sandbox(seed=42) as sb:
        url = sb.url  # the port is free once the sandbox stops
    code, report, _, _ = run_doctor(capsys, tmp_path, {"api_url": url, "api_token": "t0ken"})
    token = findings(report)["token"]
    assert code == 1 and token["status"] == "FAILED"
    assert token["seen"].startswith("no answer from 127.0.0.1: cannot connect (Connection refused)")


@pytest.mark.slow
def test_retry_after_is_honoured(capsys, tmp_path):
    with Sandbox(seed=42, scale="small", **BIG_LIST) as sb:
        sb.add_fault("429", nth=5, retry_after=2)
        code, report, _, err = run_doctor(capsys, tmp_path, sandbox_config(sb))
        log = sb.requests
    limited = next(i for i, r in enumerate(log) if r.status == 429)
    assert log[limited + 1].path == log[limited].path
    assert log[limited + 1].time - log[limited].time >= 2.0
    assert re.fullmatch(
        r"tap-mixmax --doctor: Waiting 2\.0 s before retry 1 of GET \S+: rate limited on \S+\n", err
    )
    assert code == 0 and "Retry-After came 1 time: seconds" in str(report)


@pytest.mark.slow
def test_it_slows_down_before_the_limit_instead_of_hitting_it(capsys, tmp_path):
    with Sandbox(seed=42, scale="small", **BIG_LIST, rate_limit=16, rate_window=1.0) as sb:
        started = time.monotonic()
        _, report, _, _ = run_doctor(capsys, tmp_path, sandbox_config(sb))
        elapsed = time.monotonic() - started
        statuses = [r.status for r in sb.requests]
    assert 429 not in statuses and len(statuses) > 24
    assert elapsed >= 1.0  # it waited for the window at least once
    assert "Limit 16" in findings(report)["rate-limit headers"]["seen"]


def test_the_request_budget_is_a_hard_stop():
    with Sandbox(seed=42, scale="small") as sb:
        client = doctor.DoctorClient(sb.url, sb.token, budget=10)
        report = doctor.check_account(client, "test")
        assert len(sb.requests) == 10
    assert report.findings[-1].status is doctor.Status.UNAVAILABLE
    assert report.findings[-1].seen == "the budget of 10 requests is spent"


def test_every_try_goes_through_the_tap_api_object_with_the_doctor_try_count(monkeypatch):
    """The doctor has no HTTP of its own: each request the sandbox logs was sent by
    MixmaxAPI.send (the sync's transport, pace and first contact), and a server that
    keeps failing gets the doctor's MAX_TRIES tries of the shared retry policy."""
    sent = []
    send = MixmaxAPI.send

    def spy(self, request, retrying, figures):
        sent.append(request.path_url.split("?")[0])
        return send(self, request, retrying, figures)

    monkeypatch.setattr(MixmaxAPI, "send", spy)
    with Sandbox(seed=42, scale="small") as sb:
        sb.add_fault("503", path="/snippets", times=None)
        report = doctor.check_account(doctor.DoctorClient(sb.url, sb.token), "test")
        log = [r.path for r in sb.requests]
    assert len(log) > 30 and sent == log and report.requests == len(log)
    assert log.count("/v1/snippets") == doctor_client.MAX_TRIES
    found = {f.check: f for f in report.findings}
    assert found["snippets"].status is doctor.Status.FAILED
    assert found["snippets"].seen == "/snippets: 503 Service Unavailable"


def test_accounts_are_each_checked_or_one_by_name(capsys, tmp_path):
    with Sandbox(seed=42, scale="small", users=2) as sb:
        accounts = [
            {"name": "alice", "api_token": sb.tokens[0]},
            {"name": "bob", "api_token": sb.tokens[1]},
        ]
        config = {"api_url": sb.url, "accounts": accounts}
        code, report, out, _ = run_doctor(capsys, tmp_path, config)
        per_user = [sum(r.user == user for r in sb.requests) for user in (0, 1)]
        assert [a["account"] for a in report["accounts"]] == [
            "account 1 of 2 in accounts",
            "account 2 of 2 in accounts",
        ]
        assert [a["requests"] for a in report["accounts"]] == per_user
        assert all(0 < n <= doctor.MAX_REQUESTS_PER_ACCOUNT for n in per_user)
        assert not {sb.tokens[0], sb.tokens[1], "alice", "bob"} & set(re.findall(r"[\w-]+", out))
        sb.clear_requests()
        code, report, _, _ = run_doctor(capsys, tmp_path, config, "--account", "bob")
        assert {r.user for r in sb.requests} == {1}
        assert [a["account"] for a in report["accounts"]] == ["account 2 of 2 in accounts"]
        code, report, _, err = run_doctor(capsys, tmp_path, config, "--account", "carol")
    assert code == 2 and report is None
    assert err == "tap-mixmax --doctor: error: no account named 'carol' in accounts (2 set)\n"


def test_tokens_emails_and_names_never_reach_the_report(capsys, tmp_path, httpserver):
    """An API whose messages quote the user: the report must still show none of it."""
    token = "tok_SECRET_42"
    httpserver.expect_request("/v1/users/me").respond_with_json(
        {"_id": "u1", "name": "Ada Lovelace", "email": "ada@example.org"}
    )
    quoting = {"message": f"refused for Ada Lovelace <ada@example.org>, token {token}"}
    httpserver.expect_request(re.compile("/v1/.*")).respond_with_json(quoting, status=400)
    config = {"api_url": httpserver.url_for("/v1"), "api_token": token}
    for output in ("json", "text"):
        path = write_json(tmp_path / "config.json", config)
        code = doctor.main(["--doctor", "--config", str(path), "--format", output])
        out = capsys.readouterr().out
        assert code == 1
        assert "400 refused for [redacted] <<email>>, token [redacted]" in out
        for secret in ("Ada", "Lovelace", "ada@example.org", token, "example.org"):
            assert secret.lower() not in out.lower()
        assert "the check broke" not in out  # every check copes with an API refusing all


def test_a_check_that_breaks_is_reported_and_the_others_still_run(monkeypatch):
    def broken(visit):
        raise RuntimeError("a bug")

    checks = list(doctor.CHECKS)
    checks.insert(2, broken)
    monkeypatch.setattr(doctor, "CHECKS", tuple(checks))
    with Sandbox(seed=42, scale="small") as sb:
        report = doctor.check_account(doctor.DoctorClient(sb.url, sb.token), "test")
    found = {f.check: f for f in report.findings}
    assert found["broken"].status is doctor.Status.FAILED
    assert found["broken"].seen == "the check broke: RuntimeError"
    assert found["rate-limit headers"].status is doctor.Status.OK


def test_redact():
    text = "Ada Lovelace <ada@example.org> sent tok_1 to Adam; ADA again"
    assert doctor.redact(text, {"Ada Lovelace", "Ada", "Lovelace", "tok_1"}) == (
        "[redacted] <<email>> sent [redacted] to Adam; [redacted] again"
    )
    assert doctor.redact("me@x.io", set()) == "<email>"


def test_the_tap_command_runs_the_doctor_against_a_sandbox_process(tmp_path):
    ready = tmp_path / "ready.json"
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "mixmax_sandbox", "--port", "0", "--seed", "42",
         "--livefeed-query-param", "search", "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        config = write_json(
            tmp_path / "config.json", {"api_url": info["url"], "api_token": info["token"]}
        )
        done = subprocess.run(
            [TAP_EXECUTABLE, "--doctor", "--config", str(config)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    assert done.returncode == 1, done.stderr
    assert re.search(r"DIFFERENT\s+live feed search parameter\s+Mixmax reads the search string "
                     r"from 'search'", done.stdout)  # fmt: skip
    assert info["token"] not in done.stdout + done.stderr
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "the config file {path} does not exist"),
     ("{not json", "the config file {path} is not valid JSON (line 1, column 2: Expecting "
                   "property name enclosed in double quotes)"),
     ('{"api_token": ""}', "invalid config: api_token is empty (set api_token or accounts)")],
)  # fmt: skip
def test_a_bad_config_is_one_line(tmp_path, content, message):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    done = subprocess.run(
        [TAP_EXECUTABLE, "--doctor", "--config", str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == f"tap-mixmax --doctor: error: {message.format(path=path)}\n"
    assert done.stdout == ""
