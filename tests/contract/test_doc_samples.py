"""Contract tests: Mixmax's own documented sample responses, served verbatim, and the record
the tap must make of each, written out by hand (see samples/SOURCES.md).

The sandbox was written from the same reading of the API as the tap, so it cannot catch a
misreading both share; these samples were written by Mixmax.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tap_harness import run_tap
from werkzeug import Request, Response

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def api(httpserver):
    httpserver.expect_request("/v1/users/me").respond_with_json({"_id": "kZYPwDDiGPTfQDj5n"})
    return httpserver


def serve(api, path: str, sample: str, **wanted: str) -> None:
    """The documentation's bytes, exactly, as Mixmax's answer on `path` to a request with
    the `wanted` query parameters (anything else there is a 400)."""
    body = (SAMPLES / sample).read_bytes()

    def handler(request: Request) -> Response:
        if any(request.args.get(name) != value for name, value in wanted.items()):
            return Response('{"message":"unexpected query"}', status=400)
        return Response(body, content_type="application/json; charset=utf-8")

    api.expect_request(path).respond_with_handler(handler)


def sync(api, streams: set[str]) -> Any:
    # A request the samples cannot answer fails the sync at once, not after 15 minutes.
    config = {"api_url": api.url_for("/v1"), "api_token": "t", "retry_budget_seconds": 5}
    return run_tap(config, streams=streams)


def assert_record(record: dict[str, Any], expected: dict[str, Any]) -> None:
    """Field by field, then nothing more and nothing less."""
    for field, value in expected.items():
        assert field in record, f"{field} missing"
        assert record[field] == value, f"{field}: {record[field]!r} != {value!r}"
    assert set(record) == set(expected), f"unexpected fields {set(record) - set(expected)}"


def test_documented_message(api):
    serve(api, "/v1/messages", "messages.json")
    output = sync(api, {"messages"})
    (record,) = output.records["messages"]
    assert_record(
        record,
        {
            "_id": "lAh716dny9EiTzt2E",
            "userId": "kZYPwDDiGPTfQDj5n",
            "created": "2016-11-04T18:37:27.090Z",  # 1478284647090 ms
            "trackingEnabled": True,
            "linkTrackingEnabled": False,
            "notificationsEnabled": False,
            "from": {"email": "hello@mixmax.com", "name": "Mixmax Hello"},
            "teamIds": [],
            "updatedAt": "2016-11-04T18:54:22.022Z",  # 1478285662022 ms
            "_extra": None,
        },
    )
    bookmark = output.last_state["bookmarks"]["messages"]
    assert bookmark["replication_key"] == "created"
    assert bookmark["replication_key_value"] == "2016-11-04T18:37:27.090Z"


def test_documented_sequence(api):
    serve(api, "/v1/sequences", "sequences.json")
    (record,) = sync(api, {"sequences"}).records["sequences"]
    assert_record(
        record,
        {
            "_id": "5815495f8447b9058a310430",
            "userId": "kZYPwDDiGPTfQDj5n",
            "createdAt": "2016-10-30T01:14:07.790Z",
            "updatedAt": "2016-10-30T01:14:10.688Z",
            "name": "Sales leads - second batch",
            "sendStagesAsReplies": True,
            "linkTrackingEnabled": True,
            "notificationsEnabled": True,
            "stages": ["5815495f8447b9058a31042f"],
            "variables": ["Email", "First name"],
            "_extra": None,
        },
    )


def test_documented_livefeed_row_and_its_event(api):
    serve(api, "/v1/livefeed", "livefeed.json")
    # The row has no messageId field: its events are asked for by the row's _id.
    serve(api, "/v1/livefeed/events", "livefeed_events.json", messageId="u6nw5I9kk4FHEFQ3L")
    output = sync(api, {"livefeed", "livefeed_events"})
    (row,) = output.records["livefeed"]
    assert_record(
        row,
        {
            "_id": "u6nw5I9kk4FHEFQ3L",
            "userId": "PsASf8S3AzBJYTLg5",
            "recipients": [{"name": "Elijah Baley", "email": "elijah.baley@usr.com"}],
            "fromEmail": "susan.calvin@usr.com",
            "fromName": "Susan Calvin",
            "subject": "Message Subject",
            "sent": "2017-08-29T06:30:00.000Z",  # 1503988200000 ms
            "service": "gmail",
            "serviceMessageId": "15e2cae9772f8b1a",
            "serviceThreadId": "15e2cae9772f8b1a",
            "includeInTeamLiveFeed": 1,
            "_extra": None,
        },
    )
    (event,) = output.records["livefeed_events"]
    assert_record(
        event,
        {
            "_id": "59a50a20678f1a269412732d",
            "messageId": "u6nw5I9kk4FHEFQ3L",  # the parent row, named by the tap
            "type": "replied",
            "timestamp": "2017-08-29T06:30:16.000Z",  # 1503988216000 ms
            "recipientEmail": "susan.calvin@usr.com",
            "recipientName": "Susan Calvin",
            "country": "United States",
            "region": "California",
            "city": "San Francisco",
            "os": "Mac OS X",
            "program": "Gmail",
            "isMobile": 0,
            "linkUrl": None,
            "_extra": None,
        },
    )
    assert output.last_state["bookmarks"]["livefeed"]["replication_key_value"] == (
        "2017-08-29T06:30:00.000Z"
    )


def test_documented_team_with_nested_timestamps(api):
    serve(api, "/v1/teams", "teams.json")
    (record,) = sync(api, {"teams"}).records["teams"]
    assert_record(
        record,
        {
            "_id": "5sptmGaYoc8D2Cv4Z",
            "createdAt": "2016-11-02T21:13:41.296Z",
            "modifiedAt": "2016-11-02T21:13:41.296Z",
            "name": "my team",
            "users": [
                {
                    "accepted": True,
                    "dateAccepted": "2016-11-02T21:13:41.296Z",
                    "dateInvited": "2016-11-02T21:13:41.296Z",
                    "role": "admin",
                    "userId": "TNonXrfCfvxEgoAvN",
                },
                {
                    "accepted": True,
                    "dateAccepted": "2016-11-02T21:27:02.485Z",
                    "dateInvited": "2016-11-02T21:13:41.330Z",
                },
            ],
            "_extra": None,
        },
    )
