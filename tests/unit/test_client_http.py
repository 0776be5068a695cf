"""The base stream's HTTP policy against a fake server (pytest-httpserver)."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from tap_harness import run_tap
from werkzeug import Response

from tap_mixmax import errors

ME = {"_id": "u1", "email": "me@example.com"}


def unsubscribe(i: int, created_ms: int) -> dict:
    return {"_id": f"{i:024x}", "email": f"u{i}@example.com", "createdAt": created_ms}


@pytest.fixture
def api(httpserver):
    httpserver.expect_request("/v1/users/me").respond_with_json(ME)
    return httpserver


def config(api, **extra):
    return {"api_url": api.url_for("/v1"), "api_token": "t", **extra}


def paged(rows_per_page: list[list[dict]], last_next: str | None = "tail"):
    """A handler serving pages by cursor: p0, p1, ...; `next` is present on the last page too."""

    def handler(request):
        cursor = request.args.get("next", "p0")
        if not re.fullmatch(r"p\d+", cursor) or int(cursor[1:]) >= len(rows_per_page):
            # Mixmax rejects a cursor it did not issue: following one fails, never loops.
            return Response('{"message":"Invalid next cursor"}', status=400)
        index = int(cursor[1:])
        page = rows_per_page[index]
        more = index + 1 < len(rows_per_page)
        body = {"results": page, "hasNext": more, "hasPrevious": index > 0}
        if page:
            body["next"] = f"p{index + 1}" if more else last_next
            body["previous"] = "prev"
        return Response(json.dumps(body), content_type="application/json")

    return handler


def test_follows_next_while_has_next_and_stops_on_the_last_page_even_with_next(api):
    pages = [
        [unsubscribe(i * 10 + j, 2_000_000_000_000 - i * 10 - j) for j in range(3)]
        for i in range(3)
    ]
    api.expect_request("/v1/unsubscribes").respond_with_handler(paged(pages))
    output = run_tap(config(api), streams={"unsubscribes"})
    assert len(output.ids("unsubscribes")) == 9
    listed = [r for r, _ in api.log if r.path == "/v1/unsubscribes"]
    assert [r.args.get("next") for r in listed] == [None, "p1", "p2"]
    assert all(r.args["limit"] == "300" for r in listed)
    assert all(r.headers["X-API-Token"] == "t" and "apiToken" not in r.args for r in listed)


def test_incremental_stops_once_a_whole_page_is_older_than_the_bookmark(api):
    base = 1_700_000_000_000
    pages = [
        [unsubscribe(i * 2 + j, base - (i * 2 + j) * 1000) for j in range(2)] for i in range(6)
    ]
    api.expect_request("/v1/unsubscribes").respond_with_handler(paged(pages))
    bookmark = "2023-11-14T22:13:17.000Z"  # base - 3 s: rows 0..3 are at or after it
    state = {
        "bookmarks": {
            "unsubscribes": {"replication_key": "createdAt", "replication_key_value": bookmark}
        }
    }
    output = run_tap(config(api), streams={"unsubscribes"}, state=state)
    assert output.ids("unsubscribes") == [unsubscribe(i, 0)["_id"] for i in range(4)]
    listed = [r for r, _ in api.log if r.path == "/v1/unsubscribes"]
    assert len(listed) == 3, "page 3 is the first entirely older page; nothing after it"


def test_the_same_cursor_twice_fails_instead_of_looping(api):
    def handler(request):
        body = {"results": [unsubscribe(1, 2_000_000_000_000)], "hasNext": True, "next": "same"}
        return Response(json.dumps(body), content_type="application/json")

    api.expect_request("/v1/unsubscribes").respond_with_handler(handler)
    with pytest.raises(errors.MixmaxError, match="sent before in the same listing"):
        run_tap(config(api), streams={"unsubscribes"})
    assert len([r for r, _ in api.log if r.path == "/v1/unsubscribes"]) == 2


def test_has_next_without_next_is_a_clear_error(api):
    body = {"results": [unsubscribe(1, 2_000_000_000_000)], "hasNext": True}
    api.expect_request("/v1/unsubscribes").respond_with_json(body)
    with pytest.raises(errors.MixmaxError, match="no next cursor"):
        run_tap(config(api), streams={"unsubscribes"})


def test_a_400_is_not_retried(api):
    api.expect_request("/v1/unsubscribes").respond_with_json({"message": "bad limit"}, status=400)
    with pytest.raises(errors.BadRequestError, match="bad limit"):
        run_tap(config(api), streams={"unsubscribes"})
    assert len([r for r, _ in api.log if r.path == "/v1/unsubscribes"]) == 1


def test_a_page_of_non_objects_is_retried_then_fails_clearly(api):
    api.expect_request("/v1/unsubscribes").respond_with_json({"results": "nope", "hasNext": False})
    with pytest.raises(errors.MixmaxError, match="kept failing"):
        run_tap(config(api, retry_budget_seconds=1), streams={"unsubscribes"})


def test_http_date_retry_after_and_html_502_are_retried(api):
    calls = {"n": 0}
    rows = [unsubscribe(1, 2_000_000_000_000)]

    def handler(request):
        calls["n"] += 1
        if calls["n"] == 1:
            return Response(
                "<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html"
            )
        if calls["n"] == 2:
            return Response(
                '{"message":"slow down"}',
                status=429,
                headers={"Retry-After": "Thu, 01 Jan 1970 00:00:00 GMT"},
            )
        return Response(
            json.dumps({"results": rows, "hasNext": False, "next": "x"}),
            content_type="application/json",
        )

    api.expect_request("/v1/unsubscribes").respond_with_handler(handler)
    output = run_tap(config(api), streams={"unsubscribes"})
    assert output.ids("unsubscribes") == [rows[0]["_id"]]
    assert calls["n"] == 3


def test_an_unknown_field_is_kept_in_extra_with_one_warning(api, caplog):
    row = {**unsubscribe(1, 2_000_000_000_000), "brandNewField": {"x": 1}}
    api.expect_request("/v1/unsubscribes").respond_with_json(
        {"results": [row], "hasNext": False, "next": "x"}
    )
    with caplog.at_level("WARNING"):
        output = run_tap(config(api), streams={"unsubscribes"})
    (record,) = output.records["unsubscribes"]
    assert record["_extra"] == {"brandNewField": {"x": 1}}
    assert "brandNewField" not in record
    assert record["createdAt"] == "2033-05-18T03:33:20.000Z"
    warnings = [r.getMessage() for r in caplog.records if "brandNewField" in r.getMessage()]
    assert len(warnings) == 1 and "_extra" in warnings[0]


def test_a_child_streams_unknown_field_is_warned_about_once_not_per_parent(api, caplog):
    teams = [{"_id": f"team{i}", "name": f"T{i}", "createdAt": 1_700_000_000_000} for i in range(3)]
    api.expect_request("/v1/teams").respond_with_json({"results": teams, "hasNext": False})
    for team in teams:
        member = {"memberId": f"m-{team['_id']}", "role": "member", "surpriseField": 1}
        api.expect_request(f"/v1/teams/{team['_id']}/members").respond_with_json(
            {"results": [member], "hasNext": False}
        )
    with caplog.at_level("WARNING"):
        output = run_tap(config(api), streams={"teams", "team_members"})
    assert [r["_extra"] for r in output.records["team_members"]] == [{"surpriseField": 1}] * 3
    warnings = [r for r in caplog.records if "surpriseField" in r.getMessage()]
    assert len(warnings) == 1


def test_an_unreadable_replication_value_is_kept_and_does_not_stop_paging(api):
    rows = [
        {"_id": "a", "email": "a@x.test", "createdAt": "not a date"},
        unsubscribe(2, 2_000_000_000_000),
    ]
    api.expect_request("/v1/unsubscribes").respond_with_json({"results": rows, "hasNext": False})
    bookmark = {"replication_key": "createdAt", "replication_key_value": "2030-01-01T00:00:00.000Z"}
    output = run_tap(
        config(api), streams={"unsubscribes"}, state={"bookmarks": {"unsubscribes": bookmark}}
    )
    by_id = {r["_id"]: r for r in output.records["unsubscribes"]}
    assert by_id["a"]["createdAt"] is None
    assert by_id["a"]["_extra"] == {"createdAt": "not a date"}
    assert unsubscribe(2, 0)["_id"] in by_id


def test_a_page_with_a_broken_row_is_retried_whole_and_never_half_emitted(api):
    rows = [unsubscribe(i, 2_000_000_000_000 - i) for i in range(3)]
    answers = iter([
        {"results": [rows[0], rows[1], 42], "hasNext": False},  # a row that is not an object
        {"results": rows, "hasNext": False},
    ])  # fmt: skip
    api.expect_request("/v1/unsubscribes").respond_with_handler(
        lambda request: Response(json.dumps(next(answers)), content_type="application/json")
    )
    output = run_tap(config(api), streams={"unsubscribes"})
    assert output.ids("unsubscribes") == [row["_id"] for row in rows]


def test_a_200_that_is_not_json_is_retried(api):
    rows = [unsubscribe(1, 2_000_000_000_000)]
    answers = iter([
        Response("<html><body>Service is warming up</body></html>", content_type="text/html"),
        Response(json.dumps({"results": rows, "hasNext": False}), content_type="application/json"),
    ])  # fmt: skip
    api.expect_request("/v1/unsubscribes").respond_with_handler(lambda request: next(answers))
    output = run_tap(config(api), streams={"unsubscribes"})
    assert output.ids("unsubscribes") == [rows[0]["_id"]]
    assert len([r for r, _ in api.log if r.path == "/v1/unsubscribes"]) == 2


@contextmanager
def raw_http(answer: Callable[[str, int], bytes]) -> Iterator[str]:
    """A loopback HTTP server writing `answer(path, n)` (the raw response bytes to the nth
    request, from 1) and closing each connection: it can send less than Content-Length."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # to notice `stop`
    served: dict[str, int] = {}
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                head = connection.recv(65536).decode("latin-1")
                path = head.split(" ", 2)[1].split("?")[0]
                served[path] = served.get(path, 0) + 1
                connection.sendall(answer(path, served[path]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def http_response(body: bytes, length: int | None = None) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n\r\n"
    )
    return head.encode() + body


def test_a_body_cut_short_of_its_content_length_is_retried():
    rows = [unsubscribe(i, 2_000_000_000_000 - i) for i in range(50)]
    page = json.dumps({"results": rows, "hasNext": False}).encode()

    def answer(path: str, n: int) -> bytes:
        if path == "/v1/users/me":
            return http_response(json.dumps(ME).encode())
        if n == 1:  # the connection drops half-way through the body
            return http_response(page[: len(page) // 2], length=len(page))
        return http_response(page)

    with raw_http(answer) as url:
        output = run_tap({"api_url": url, "api_token": "t"}, streams={"unsubscribes"})
    assert output.ids("unsubscribes") == [row["_id"] for row in rows]
