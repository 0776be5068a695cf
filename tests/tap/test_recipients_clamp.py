"""A recipients endpoint that clamps its page size silently loses no row, at a known cost.

Through the real `tap-mixmax` command with the whole catalog selected, against a sandbox
that serves at most 50 or 200 recipients per page whatever `limit` says (the drift
`recipients_max_limit`), and in `accounts` mode: every recipient arrives once, the clamp
is logged once per account, every request after it asks for the clamp, and each stream
costs exactly the requests tests/request_counts.py works out from the rows.
"""

from __future__ import annotations

import collections

import pytest
import requests
from request_counts import full_sync_minimum, offset_requests, requests_by_stream
from tap_harness import STREAM_PATHS, TapOutput, run_tap_process, sandbox_config, tap_process

from mixmax_sandbox import Sandbox

CLAMP_LINE = "serves at most"


def recipients_per_sequence(sb, user: int = 0) -> list[int]:
    counts = collections.Counter(r["sequenceId"] for r in sb.records("sequence_recipients", user))
    return [counts[sequence] for sequence in sb.ids("sequences", user)]


def recipient_limits(requests) -> list[int]:
    return [int(r.query["limit"]) for r in requests if r.path.endswith("/recipients")]


@pytest.mark.parametrize("clamp", [None, 50, 200])
def test_a_silent_clamp_loses_no_recipient_through_the_command(tmp_path, clamp):
    drift = {"recipients_max_limit": clamp} if clamp else None
    with Sandbox(seed=7, scale="small", rate_limit=None, drift=drift) as sb:
        result = run_tap_process(tap_process(tmp_path, sandbox_config(sb)))
        assert result.returncode == 0, result.stderr[-2000:]
        output = TapOutput.parse(result.stdout)
        emitted = output.ids("sequence_recipients")
        assert len(emitted) == len(set(emitted))
        assert sorted(emitted) == sorted(sb.ids("sequence_recipients"))
        if clamp:
            assert max(recipients_per_sequence(sb)) > clamp, "the clamp never bites"
        # Exactly the fewest requests the proof rule allows, every stream of the catalog.
        made = requests_by_stream(sb.requests, STREAM_PATHS)
        expected = full_sync_minimum(sb, recipients_max_limit=clamp)
        assert dict(made) == {stream: n for stream, n in expected.items() if n}
        limits = recipient_limits(sb.requests)
    clamp_lines = [line for line in result.stderr.splitlines() if CLAMP_LINE in line]
    if clamp is None:
        assert clamp_lines == []
        assert set(limits) == {300}
        return
    assert len(clamp_lines) == 1, clamp_lines
    assert f"serves at most {clamp} per page" in clamp_lines[0]
    # Learnt in the first sequence longer than the clamp; every request after asks for it.
    learnt = next(i for i, limit in enumerate(limits) if limit < 300)
    assert set(limits[:learnt]) == {300} and set(limits[learnt:]) == {clamp}
    assert learnt <= 2 * len(recipients_per_sequence(sb))


def test_the_cost_of_proof_in_the_default_mode_is_one_request_per_unproven_short_page():
    with Sandbox(seed=7, scale="small", rate_limit=None) as sb:
        order = recipients_per_sequence(sb)
    # Trusting the limit, a short page ends a list: rows // 300 full pages, then one more.
    trusting = sum(rows // 300 + 1 for rows in order)
    proven = sum(offset_requests(order))
    # Proof costs one empty page per list shorter than a page that holds at least as many
    # rows as any page read before it in the sync (a list of 300 or more proves itself).
    extra, largest = 0, 0
    for rows in order:
        if 0 < rows < 300 and rows >= largest:
            extra += 1
        largest = max(largest, min(rows, 300))
    assert proven - trusting == extra > 0


def test_a_silent_clamp_loses_no_recipient_in_accounts_mode(tmp_path):
    users, clamp = 2, 50
    with Sandbox(
        seed=21, scale="small", users=users, rate_limit=None, drift={"recipients_max_limit": clamp}
    ) as sb:
        config = sandbox_config(sb)
        config.pop("api_token")
        config["accounts"] = [{"name": f"user{i}", "api_token": sb.tokens[i]} for i in range(users)]
        result = run_tap_process(tap_process(tmp_path, config))
        assert result.returncode == 0, result.stderr[-2000:]
        output = TapOutput.parse(result.stdout)
        for user in range(users):
            mine = [
                r["_id"]
                for r in output.records["sequence_recipients"]
                if r["account"] == f"user{user}"
            ]
            assert len(mine) == len(set(mine))
            assert sorted(mine) == sorted(sb.ids("sequence_recipients", user))
            assert max(recipients_per_sequence(sb, user)) > clamp
            # Each account learns the clamp for itself, so its counts are its own.
            theirs = [r for r in sb.requests if r.user == user]
            made = requests_by_stream(theirs, STREAM_PATHS)
            expected = full_sync_minimum(sb, recipients_max_limit=clamp, user=user)
            assert dict(made) == {stream: n for stream, n in expected.items() if n}, user
    clamp_lines = [line for line in result.stderr.splitlines() if CLAMP_LINE in line]
    assert len(clamp_lines) == users, clamp_lines
    assert all(any(f"user{user}" in line for line in clamp_lines) for user in range(users))


def test_an_accounts_lanes_share_what_it_learnt_of_page_sizes_and_accounts_do_not(monkeypatch):
    from tap_harness import run_tap

    from tap_mixmax.client import MixmaxStream

    # token -> the page-size memories its streams read, and the lanes (taps) they ran in
    limits: dict[str, set[int]] = collections.defaultdict(set)
    lanes: dict[str, set[int]] = collections.defaultdict(set)
    original = MixmaxStream.request_decorator

    def spy(self, func):  # a public SDK hook every stream calls before its first request
        token = self.api.auth(requests.Request("GET", self.url_base).prepare()).headers
        limits[token["X-API-Token"]].add(id(self.api.offset_limits))
        lanes[token["X-API-Token"]].add(id(self._tap))
        return original(self, func)

    monkeypatch.setattr(MixmaxStream, "request_decorator", spy)
    with Sandbox(seed=21, scale="tiny", users=2, rate_limit=None) as sb:
        config = sandbox_config(sb, max_parallel_streams=4)
        config.pop("api_token")
        config["accounts"] = [{"name": f"user{i}", "api_token": sb.tokens[i]} for i in range(2)]
        run_tap(config)
        tokens = set(sb.tokens[:2])
    assert set(limits) == tokens, "every account's streams must have run"
    assert all(len(lanes[token]) > 1 for token in tokens), "each account must run in lanes"
    assert all(len(limits[token]) == 1 for token in tokens), "an account's lanes learnt apart"
    assert len(set().union(*limits.values())) == 2, "two accounts shared what they learnt"
