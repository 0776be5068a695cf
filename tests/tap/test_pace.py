"""Pacing measured from the sandbox's request log: the default pace end to end, and the
waits a 429's Retry-After asks for."""

from __future__ import annotations

import email.utils
import json
import threading
import time

import pytest
from tap_harness import TapOutput, run_tap, run_tap_process, sandbox_config, tap_process
from werkzeug import Response

from mixmax_sandbox import Sandbox

MIXMAX_LIMIT = 120  # requests per window, per user (docs/mixmax-api.md 1.5)
MIXMAX_WINDOW = 60.0
# Enough rows for a little more than one window of requests at 10 rows a page.
PACE_PAGE = 10
PACE_MESSAGES = 1_300


def busiest_window(times: list[float], window: float) -> int:
    """The most requests received in any `window` seconds."""
    times = sorted(times)
    busiest, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= window:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_default_pace_stays_under_the_real_limit_and_uses_most_of_it(tmp_path):
    # No X-RateLimit-* headers: the tap's own pace is all that keeps it from 429s.
    with Sandbox(
        seed=4,
        scale="tiny",
        messages=PACE_MESSAGES,
        rate_limit=MIXMAX_LIMIT,
        rate_window=MIXMAX_WINDOW,
        reset_style="none",
    ) as sb:
        # The tap's default max_requests_per_minute: nothing about pace in the config.
        config = {"api_url": sb.url, "api_token": sb.token, "page_size": PACE_PAGE}
        argv = tap_process(tmp_path, config, streams={"messages"})
        result = run_tap_process(argv, timeout=240)
        assert result.returncode == 0, result.stderr[-2000:]
        made = list(sb.requests)
        assert set(TapOutput.parse(result.stdout).ids("messages")) == set(sb.ids("messages"))
    assert len(made) > MIXMAX_LIMIT, "the sync fits in one window: it proves nothing"
    assert [r.status for r in made if r.status != 200] == [], "the tap went over the limit"
    times = [r.time for r in made]
    busiest = busiest_window(times, MIXMAX_WINDOW)
    assert busiest <= MIXMAX_LIMIT
    assert busiest >= 0.9 * MIXMAX_LIMIT, f"only {busiest} requests in the busiest minute"
    assert max(times) - min(times) >= MIXMAX_WINDOW, "the rest did not wait for the window"


RETRY_AFTER = 3  # not 1: a tap that always waits a second must fail
# Our side's share of a wait: the round trip and a thread wake-up on a busy machine.
WAIT_SLACK = 1.0


@pytest.mark.slow
def test_a_429_waits_exactly_what_retry_after_says_in_seconds(caplog):
    with Sandbox(seed=5, scale="small", rate_limit=None) as sb:
        sb.add_fault("429", path="/messages", times=1, retry_after=RETRY_AFTER)
        with caplog.at_level("INFO"):
            output = run_tap(sandbox_config(sb), streams={"messages"})
        assert set(output.ids("messages")) == set(sb.ids("messages"))
        listed = [r for r in sb.requests if r.path == "/v1/messages"]
    assert [r.status for r in listed] == [429, 200]
    waited = listed[1].time - listed[0].time
    assert RETRY_AFTER <= waited < RETRY_AFTER + WAIT_SLACK, f"waited {waited:.2f} s"
    # Logged at INFO with the wait.
    waits = [r for r in caplog.records if "Waiting" in r.getMessage()]
    assert [r.levelname for r in waits] == ["INFO"]
    assert f"{RETRY_AFTER:.1f} s" in waits[0].getMessage()


@pytest.mark.slow
def test_a_429_with_an_http_date_waits_until_that_date(httpserver):
    received: list[float] = []
    lock = threading.Lock()
    row = {"_id": "u1", "email": "a@x.test", "createdAt": 1_700_000_000_000}

    def handler(request):
        with lock:
            received.append(time.monotonic())
            first = len(received) == 1
        if first:
            until = email.utils.formatdate(time.time() + RETRY_AFTER, usegmt=True)
            return Response('{"message":"slow down"}', status=429, headers={"Retry-After": until})
        body = {"results": [row], "hasNext": False}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/users/me").respond_with_json({"_id": "me"})
    httpserver.expect_request("/v1/unsubscribes").respond_with_handler(handler)
    config = {"api_url": httpserver.url_for("/v1"), "api_token": "t"}
    output = run_tap(config, streams={"unsubscribes"})
    assert output.ids("unsubscribes") == ["u1"]
    assert len(received) == 2
    waited = received[1] - received[0]
    # An HTTP date has whole seconds: the wait is RETRY_AFTER less up to one second.
    assert RETRY_AFTER - 1 <= waited < RETRY_AFTER + WAIT_SLACK, f"waited {waited:.2f} s"


def test_the_pace_setting_reaches_the_pacer():
    from tap_mixmax.tap import TapMixmax

    tap = TapMixmax(config={"api_token": "t", "max_requests_per_minute": 7})
    assert tap.pacer.max_requests == 7
    assert TapMixmax(config={"api_token": "t"}).pacer.max_requests == MIXMAX_LIMIT
