"""Auth failures, and the rate limit's headers and 429."""

from __future__ import annotations

import time

import pytest
import requests

from mixmax_sandbox import Sandbox


def test_missing_and_wrong_tokens_are_401(sb, http):
    missing = http.get(f"{sb.url}/users/me", timeout=10)
    assert missing.status_code == 401
    assert missing.json()["message"].startswith("No API token provided")
    wrong = http.get(f"{sb.url}/users/me", headers={"X-API-Token": "nope"}, timeout=10)
    assert wrong.status_code == 401 and "message" in wrong.json()
    by_query = http.get(f"{sb.url}/users/me", params={"apiToken": sb.token}, timeout=10)
    assert by_query.status_code == 200
    assert sb.requests[-1].status == 200


def test_token_is_derived_from_the_seed_and_can_be_chosen():
    assert Sandbox(seed=1).token == Sandbox(seed=1).token != Sandbox(seed=2).token
    assert Sandbox(seed=1).token.startswith("sbx_") and len(Sandbox(seed=1).token) == 36
    assert Sandbox(seed=1, token="mine").token == "mine"


@pytest.mark.slow
@pytest.mark.parametrize("style", ["delta", "epoch", "epoch_ms"])
def test_rate_limit_headers_429_and_recovery(style):
    with Sandbox(seed=1, rate_limit=5, rate_window=2.0, reset_style=style) as sb:
        session = requests.Session()
        headers = {"X-API-Token": sb.token}
        seen = []
        for _ in range(5):
            response = session.get(f"{sb.url}/users/me", headers=headers, timeout=10)
            assert response.status_code == 200
            seen.append(int(response.headers["X-RateLimit-Remaining"]))
            assert response.headers["X-RateLimit-Limit"] == "5"
        assert seen == [4, 3, 2, 1, 0]
        reset = int(response.headers["X-RateLimit-Reset"])
        if style == "delta":
            assert 1 <= reset <= 2
        elif style == "epoch":
            assert abs(reset - time.time()) <= 3
        else:
            assert abs(reset / 1000 - time.time()) <= 3
        limited = session.get(f"{sb.url}/users/me", headers=headers, timeout=10)
        assert limited.status_code == 429
        assert "message" in limited.json()
        assert 1 <= int(limited.headers["Retry-After"]) <= 2
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        # Rejected requests do not use up quota: after the window, 5 more succeed.
        time.sleep(float(limited.headers["Retry-After"]) + 0.1)
        for _ in range(5):
            assert session.get(f"{sb.url}/users/me", headers=headers, timeout=10).ok
        # The control API is never limited.
        assert session.get(f"{sb.base_url}/_sandbox/counts", timeout=10).ok


def test_no_limit_means_no_rate_headers(sb, http):
    response = http.get(f"{sb.url}/users/me", headers={"X-API-Token": sb.token}, timeout=10)
    assert "X-RateLimit-Limit" not in response.headers


def test_keep_alive_reuses_one_connection(sb, http):
    for _ in range(3):
        response = http.get(f"{sb.url}/users/me", headers={"X-API-Token": sb.token}, timeout=10)
        assert response.headers.get("Connection", "keep-alive").lower() != "close"
    assert len(http.adapters["http://"].poolmanager.pools) == 1


def test_errors_and_faults_carry_rate_headers_too():
    with Sandbox(seed=1, rate_limit=10) as sb:
        sb.add_fault("500")
        session = requests.Session()
        faulted = session.get(f"{sb.url}/users/me", headers={"X-API-Token": sb.token}, timeout=10)
        assert faulted.status_code == 500 and faulted.headers["X-RateLimit-Limit"] == "10"
        anonymous = session.get(f"{sb.url}/users/me", timeout=10)
        assert anonymous.status_code == 401 and "X-RateLimit-Remaining" in anonymous.headers
        missing = session.get(f"{sb.url}/nope", headers={"X-API-Token": sb.token}, timeout=10)
        assert missing.status_code == 404 and missing.headers["X-RateLimit-Remaining"] == "9"


def test_reset_style_none_limits_without_rate_headers():
    with Sandbox(seed=1, rate_limit=2, rate_window=2.0, reset_style="none") as sb:
        session = requests.Session()
        headers = {"X-API-Token": sb.token}
        answers = [session.get(f"{sb.url}/users/me", headers=headers, timeout=10) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        for answer in answers:
            assert not [h for h in answer.headers if h.lower().startswith("x-ratelimit")]
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 2
