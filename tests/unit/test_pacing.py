"""The pacer: free below the limit, exact at it, and obedient to the server's headers."""

import email.utils

import pytest

from tap_mixmax.pacing import (
    PACING_MARGIN_SECONDS,
    RATE_LIMIT_WINDOW_SECONDS,
    RequestPacer,
    parse_reset,
    parse_retry_after,
)


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_pacer(limit: int) -> tuple[RequestPacer, FakeClock]:
    clock = FakeClock()
    return RequestPacer(limit, clock=clock, sleep=clock.sleep), clock


def test_requests_below_the_limit_never_wait():
    pacer, clock = make_pacer(120)
    for _ in range(120):
        assert pacer.wait_for_slot() == 0
        clock.now += 0.01
    assert clock.sleeps == []


def test_the_request_over_the_limit_waits_for_the_window_to_slide():
    pacer, clock = make_pacer(3)
    for _ in range(3):
        pacer.wait_for_slot()
        clock.now += 1
    waited = pacer.wait_for_slot()
    # The first request was sent at 1000; it leaves the window 60 s (+ margin) later.
    assert waited == pytest.approx(1000 + RATE_LIMIT_WINDOW_SECONDS + PACING_MARGIN_SECONDS - 1003)


def test_a_long_run_never_exceeds_the_limit_in_any_window():
    pacer, clock = make_pacer(10)
    sent = []
    for _ in range(55):
        pacer.wait_for_slot()
        sent.append(clock.now)
        clock.now += 0.5
    for i, start in enumerate(sent):
        in_window = [s for s in sent[i:] if s < start + RATE_LIMIT_WINDOW_SECONDS]
        assert len(in_window) <= 10


def test_remaining_zero_blocks_until_reset():
    pacer, _clock = make_pacer(120)
    pacer.wait_for_slot()
    pacer.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "7"})
    waited = pacer.wait_for_slot()
    assert waited == pytest.approx(7 + PACING_MARGIN_SECONDS)


@pytest.mark.parametrize("reset", ["86400", "2000086400", "2000086400000"])
def test_a_reset_far_away_is_never_obeyed_past_the_window(reset):
    # A day away, as a delta, epoch seconds and epoch ms: the limit's own window at most.
    assert parse_reset(reset, now=2_000_000_000.0) == RATE_LIMIT_WINDOW_SECONDS
    pacer, _clock = make_pacer(120)
    pacer.observe({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "86400"})
    assert pacer.wait_for_slot() == pytest.approx(RATE_LIMIT_WINDOW_SECONDS + PACING_MARGIN_SECONDS)


def test_remaining_above_zero_does_not_block():
    pacer, _clock = make_pacer(120)
    pacer.observe({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": "7"})
    assert pacer.wait_for_slot() == 0


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("12") == 12
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    date = email.utils.formatdate(2000.0 + 30, usegmt=True)
    assert parse_retry_after(date, now=2000.0) == pytest.approx(30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("42", 42.0), ("2000000030", 30.0), ("2000000030000", 30.0), ("x", None), (None, None)],
)
def test_reset_accepts_delta_epoch_seconds_and_epoch_ms(value, expected):
    assert parse_reset(value, now=2_000_000_000.0) == expected
