"""Every fault kind, each targeting mode, and the request log."""

from __future__ import annotations

import time

import pytest
import requests
from sandbox_http import get

from mixmax_sandbox import Sandbox


def test_500_json(fresh, http):
    fresh.add_fault("500", path="/messages")
    response = get(http, fresh, "/messages")
    assert response.status_code == 500 and "message" in response.json()
    assert get(http, fresh, "/messages").status_code == 200  # times=1
    assert [r.fault for r in fresh.requests] == ["500", None]
    assert fresh.requests[0].path == "/v1/messages"


def test_502_html(fresh, http):
    fresh.add_fault("502")
    response = get(http, fresh, "/users/me")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Bad Gateway" in response.text


def test_503_and_429_carry_retry_after():
    with Sandbox(seed=1, rate_limit=100) as sb:
        sb.add_fault("503", retry_after=3)
        sb.add_fault("429", nth=2, retry_after=2)
        http = requests.Session()
        first = get(http, sb, "/users/me")
        assert first.status_code == 503 and first.headers["Retry-After"] == "3"
        second = get(http, sb, "/users/me")
        assert second.status_code == 429 and second.headers["Retry-After"] == "2"
        assert second.headers["X-RateLimit-Limit"] == "100"
        assert "message" in second.json()


def test_drop_closes_the_connection_without_a_response(fresh, http):
    fresh.add_fault("drop", path="/messages", times=2)
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            get(http, fresh, "/messages")
    assert get(http, fresh, "/messages").status_code == 200
    assert [(r.fault, r.status) for r in fresh.requests] == [("drop", 0), ("drop", 0), (None, 200)]


def test_truncate_is_a_200_with_half_a_json_body(fresh, http):
    fresh.add_fault("truncate", path="/messages")
    response = get(http, fresh, "/messages", limit=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert int(response.headers["Content-Length"]) == len(response.content)
    with pytest.raises(ValueError):
        response.json()
    assert len(get(http, fresh, "/messages", limit=10).json()["results"]) == 10


def test_slow_answers_normally_after_the_delay(fresh, http):
    fresh.add_fault("slow", delay=0.5)
    started = time.monotonic()
    response = get(http, fresh, "/users/me")
    assert response.status_code == 200 and time.monotonic() - started >= 0.5
    assert fresh.requests[-1].fault == "slow"


@pytest.mark.parametrize("status", ["404", "403"])
def test_404_and_403_for_gates_and_deleted_parents(fresh, http, status):
    seq = fresh.ids("sequences")[0]
    fresh.add_fault(status, path=f"/sequences/{seq}/recipients", times=0)
    for _ in range(3):
        response = get(http, fresh, f"/sequences/{seq}/recipients")
        assert response.status_code == int(status) and "message" in response.json()
    assert get(http, fresh, "/sequences").status_code == 200


def test_nth_counts_api_requests_only(fresh, http):
    fresh.add_fault("500", nth=3)
    statuses = []
    for _ in range(5):
        http.get(f"{fresh.base_url}/_sandbox/counts", timeout=10)  # not counted
        statuses.append(get(http, fresh, "/users/me").status_code)
    assert statuses == [200, 200, 500, 200, 200]
    assert len(fresh.requests) == 5


def test_probability_with_a_seed_is_repeatable(http):
    def run() -> list[int]:
        with Sandbox(seed=1, rate_limit=None) as sb:
            sb.add_fault("500", probability=0.3, seed=7, times=0)
            return [get(http, sb, "/users/me").status_code for _ in range(40)]

    first, second = run(), run()
    assert first == second
    assert 3 <= first.count(500) <= 25


def test_start_up_faults_and_clear(http):
    with Sandbox(seed=1, rate_limit=None, faults=["500:nth=1", {"kind": "502", "nth": 2}]) as sb:
        assert get(http, sb, "/users/me").status_code == 500
        assert get(http, sb, "/users/me").status_code == 502
        sb.add_fault("500", times=0)
        sb.clear_faults()
        assert get(http, sb, "/users/me").status_code == 200


def test_control_api_faults_and_request_log(fresh, http):
    control = fresh.control_url
    http.post(f"{control}/faults", json={"kind": "500", "path": "/polls", "times": 1}, timeout=10)
    assert get(http, fresh, "/polls").status_code == 500
    log = http.get(f"{control}/requests", timeout=10).json()["requests"]
    assert [(r["path"], r["status"], r["fault"]) for r in log] == [("/v1/polls", 500, "500")]
    assert log[0]["headers"]["X-API-Token"] == fresh.token
    http.delete(f"{control}/requests", timeout=10)
    get(http, fresh, "/polls", limit=3)
    assert fresh.requests[0].query == {"limit": "3"}
    http.post(f"{control}/faults", json={"kind": "500", "times": 0}, timeout=10)
    http.delete(f"{control}/faults", timeout=10)
    assert get(http, fresh, "/polls").status_code == 200
    bad = http.post(f"{control}/faults", json={"kind": "teapot"}, timeout=10)
    assert bad.status_code == 400
