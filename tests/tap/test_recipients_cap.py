"""A sequence past Mixmax's 10,000-recipient cap: read up to the cap, warn, never a 400."""

from __future__ import annotations

import pytest
from tap_harness import run_tap, sandbox_config

from mixmax_sandbox import Sandbox

CAP = 10_000


@pytest.mark.slow
def test_the_cap_is_read_to_the_last_row_and_named_in_a_warning(caplog):
    with Sandbox(seed=3, scale="small", rate_limit=None, big_sequence_recipients=CAP + 50) as sb:
        by_sequence: dict[str, list[str]] = {}
        for row in sb.records("sequence_recipients"):
            by_sequence.setdefault(row["sequenceId"], []).append(row["_id"])
        big = next(s for s, rows in by_sequence.items() if len(rows) > CAP)
        with caplog.at_level("WARNING"):
            output = run_tap(sandbox_config(sb), streams={"sequences", "sequence_recipients"})
        emitted = [r for r in output.records["sequence_recipients"] if r["sequenceId"] == big]
        assert len(emitted) == CAP == len({r["_id"] for r in emitted})
        # Everything readable in every other sequence arrived too.
        others = {i for s, rows in by_sequence.items() if s != big for i in rows}
        assert others <= set(output.ids("sequence_recipients"))
        made = [r for r in sb.requests if r.path == f"/v1/sequences/{big}/recipients"]
        assert all(r.status == 200 for r in made)
        assert [int(r.query["offset"]) for r in made] == list(range(0, CAP, 300))
        assert int(made[-1].query["offset"]) + int(made[-1].query["limit"]) == CAP
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert any(big in message and "10000" in message for message in warnings), warnings
