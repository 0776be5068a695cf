"""`meltano run tap-mixmax target-jsonl`: one file per stream, ids equal the sandbox's."""

from __future__ import annotations

import json

import pytest
from e2e_helpers import meltano, meltano_env, row_id, selected_streams

pytestmark = pytest.mark.e2e


def test_meltano_run_into_jsonl(e2e_sandbox, tmp_path):
    out = tmp_path / "jsonl"
    streams = selected_streams()
    env = meltano_env(
        e2e_sandbox,
        None,
        tmp_path,
        TARGET_JSONL_DESTINATION_PATH=str(out),
        TARGET_JSONL_DO_TIMESTAMP_FILE="false",
    )
    expected = {stream: e2e_sandbox.ids(stream) for stream in streams}
    assert sum(map(len, expected.values())) > 0, "the sandbox has no records at all"

    meltano(["run", "tap-mixmax", "target-jsonl"], env)

    files = {path.stem: path for path in out.glob("*.jsonl")}
    # target-jsonl writes a file when a stream's first record arrives.
    assert set(files) == {s for s in streams if expected[s]}, sorted(files)
    for stream, path in sorted(files.items()):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        ids = [row_id(stream, row.get) for row in rows]
        assert len(ids) == len(set(ids)), f"{stream}: duplicated _id"
        assert set(map(str, ids)) == expected[stream], (
            f"{stream}: {len(ids)} rows, sandbox has {len(expected[stream])}"
        )
