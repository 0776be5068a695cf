"""`make demo` (scripts/demo.sh). The build check is in test_install_paths.py."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import REPO, meltano_env, run, selected_streams

pytestmark = pytest.mark.e2e


def test_demo_runs_both_pipelines_and_prints_rows_per_stream(postgres, tmp_path):
    env = meltano_env(None, postgres, tmp_path)  # the demo starts its own sandbox
    for key in ("MIXMAX_SANDBOX_URL", "MIXMAX_SANDBOX_TOKEN", "MELTANO_DATABASE_URI"):
        env.pop(key, None)
    output, elapsed = run([str(REPO / "scripts" / "demo.sh")], env, timeout=300)
    print(output)
    for step in range(1, 8):
        assert re.search(rf"^==> \[ *\d+s\] {step}/7 ", output, re.M), f"step {step}/7 not shown"
    assert "rate limit raised" in output
    assert "meltano run tap-mixmax target-postgres" in output
    assert "skipped" not in output, "the demo skipped target-postgres"
    rows = {}
    for line in output.splitlines():
        match = re.match(r"\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)(\s+<- differs)?$", line)
        if match:
            rows[match[1]] = match
    assert set(selected_streams()) <= set(rows), f"summary rows: {sorted(rows)}"
    differing = [name for name, m in rows.items() if m[5]]
    assert not differing, f"JSONL or Postgres rows differ from the sandbox: {differing}"
    assert int(rows["total"][2]) > 0
    # It ends with an answer: the busiest sequence stages, from the dbt mart.
    assert "meltano run dbt-postgres:build" in output
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if re.match(r"\s+sequence\s+stage\s+", line))
    stages = [line.split() for line in lines[header + 1 : header + 9]]
    sent = [int(cells[-8]) for cells in stages if len(cells) >= 11 and cells[-8].isdigit()]
    assert len(sent) == 8 and sent == sorted(sent, reverse=True) and sent[0] > 0, stages
    assert "sandbox stopped" in output
    assert elapsed < 120, f"the demo took {elapsed:.0f}s"
