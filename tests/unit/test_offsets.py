"""Offset paging ends a list only on proof, and learns a silent clamp once (no HTTP here).

Each case lists, by hand, the windows (offset, limit) the tap must ask for, list by list,
from a server holding `rows` per list and serving at most `clamp` per page.
"""

from __future__ import annotations

import logging
import types

import pytest
from request_counts import offset_requests

from tap_mixmax.api import _BODY_ATTR
from tap_mixmax.offsets import ProvenOffsetPaginator
from tap_mixmax.page_sizes import OffsetLimits

CAP = 10_000


def page(rows: int) -> types.SimpleNamespace:
    """A response whose parsed body (what validate_response keeps) holds `rows` rows."""
    return types.SimpleNamespace(**{_BODY_ATTR: [{"_id": str(i)} for i in range(rows)]})


def read(lists, *, clamp=None, page_size=300, limits=None, cap=CAP):
    """The windows asked per list, driving the paginator as the SDK does."""
    limits = limits or OffsetLimits()
    asked = []
    for rows in lists:
        paginator = ProvenOffsetPaginator("recipients", page_size, cap, limits, lambda: None)
        windows = []
        while not paginator.finished:
            window = paginator.current_value
            windows.append(tuple(window))
            served = max(0, min(window.limit, clamp or window.limit, rows - window.offset))
            if not served:
                break  # the SDK stops on an empty page without asking the paginator
            paginator.advance(page(served))  # type: ignore[arg-type]  # a stand-in response
        asked.append(windows)
    return asked


def test_a_short_page_ends_a_list_only_once_a_longer_one_was_served():
    assert read([40, 10, 60, 400]) == [
        [(0, 300), (40, 300)],  # 40 of 300 proves nothing yet: one empty page to be sure
        [(0, 300)],  # 10 < 40 served before: the server did not cut it
        [(0, 300), (60, 300)],  # 60 is the most served so far: proof costs one request
        [(0, 300), (300, 300)],  # a full page, then 100 < 300: the end
    ]


def test_a_silent_clamp_is_learnt_and_every_later_request_asks_for_it(caplog):
    limits = OffsetLimits(logging.getLogger("tap-mixmax.test"))
    with caplog.at_level(logging.WARNING):
        windows = read([120, 30, 50, 0, 75], clamp=50, limits=limits)
    assert windows == [
        [(0, 300), (50, 300), (100, 50)],  # 50 of 300, then more rows: it clamps at 50
        [(0, 50)],  # 30 < 50: the end
        [(0, 50), (50, 50)],  # a full 50, then an empty page
        [(0, 50)],
        [(0, 50), (50, 50)],
    ]
    assert limits.clamp("recipients") == 50
    clamps = [r.getMessage() for r in caplog.records if "serves at most" in r.getMessage()]
    assert clamps == [
        "Stream recipients: Mixmax served 50 rows for limit=300 and more rows followed, so "
        "it serves at most 50 per page; the rest of this sync asks for 50 at a time"
    ]


def test_the_next_offset_follows_the_rows_served_not_the_limit_asked():
    windows = read([130], clamp=60, page_size=100)
    assert windows == [[(0, 100), (60, 100), (120, 60)]]


def test_the_cap_stops_a_clamped_list_and_limits_never_pass_it():
    capped = []
    limits = OffsetLimits()
    paginator = ProvenOffsetPaginator("recipients", 300, 1_000, limits, lambda: capped.append(1))
    offsets = []
    while not paginator.finished:
        window = paginator.current_value
        offsets.append(tuple(window))
        paginator.advance(page(min(window.limit, 200)))  # type: ignore[arg-type]  # a stand-in response
    assert offsets == [(0, 300), (200, 300), (400, 200), (600, 200), (800, 200)]
    assert capped == [1]
    assert all(offset + limit <= 1_000 for offset, limit in offsets)


def test_a_lower_clamp_replaces_a_higher_one_and_a_higher_never_does():
    limits = OffsetLimits()
    limits.learn_clamp("recipients", 200, 300)
    limits.learn_clamp("recipients", 50, 200)
    limits.learn_clamp("recipients", 100, 300)
    assert limits.limit("recipients", 300) == 50
    assert limits.limit("other", 300) == 300


@pytest.mark.parametrize(
    ("lists", "clamp", "expected"),
    [
        ([40, 10, 60, 400], None, [2, 1, 2, 2]),
        ([120, 30, 50, 0, 75], 50, [3, 1, 2, 1, 2]),
        ([130], 60, [3]),
        ([0, 300, 5], None, [1, 2, 1]),
    ],
)
def test_the_request_count_model_agrees_with_the_windows_above(lists, clamp, expected):
    assert offset_requests(lists, served_max=clamp) == expected
    assert [len(windows) for windows in read(lists, clamp=clamp)] == expected


@pytest.mark.parametrize("value", ["", "two words", "1q", "q&x=1"])
def test_a_bad_livefeed_query_param_is_one_line(value):
    from tap_mixmax import errors
    from tap_mixmax.checks import check_config

    with pytest.raises(errors.ConfigError, match=r"^invalid config: livefeed_query_param must"):
        check_config({"api_token": "t0ken-123", "livefeed_query_param": value})
    check_config({"api_token": "t0ken-123", "livefeed_query_param": "q"})
