"""target-duckdb keeps every row on data that makes DuckDB's CSV sniffer misfire.

target-duckdb 0.8.0 loads each batch from a headerless CSV file with a bare `COPY`, and
DuckDB may take the first row for a header. The data here is the saved full sync (real
tap output) made hostile three ways, as real Mixmax data can be:

- every row's `_extra` (the first column) holds the same JSON, as when Mixmax adds a field;
- the same, in one-row batches (`batch_size_rows: 1`);
- the same, in one-row batches, behind a first row that is null but for its key.

Each is loaded into the plain 0.8.0 (which must lose rows: the data is hostile) and into
this project's loader (orchestrate/target-duckdb-nosniff, run from this checkout with the
matrix venv's target-duckdb and duckdb), which must hold one row per key in every table.
"""

from __future__ import annotations

import collections
import copy
import json
import subprocess
import typing as t
from pathlib import Path

import pytest
from e2e_helpers import REPO
from saved_runs import RUN_TIMEOUT, Run, Saved, tap_env
from target_matrix import TARGETS_DIR, read_duckdb

pytestmark = pytest.mark.e2e

VENV = TARGETS_DIR / "duckdb" / "bin"
WRAPPER_SOURCE = REPO / "orchestrate" / "target-duckdb-nosniff"
# The wrapper as this checkout has it (scripts/mutants.py breaks the copy it runs in).
RUN_WRAPPER = (
    f"import sys; sys.path.insert(0, {str(WRAPPER_SOURCE)!r}); "
    "import target_duckdb_nosniff; target_duckdb_nosniff.main()"
)
SHARED_EXTRA = {"surprise": "every row has it"}
ONE_ROW_BATCH_RECORDS = 4  # per stream: one-row batches cost a COPY per row
SCHEMA_NAME = "mixmax"

Message = dict[str, t.Any]


def messages(run: Run) -> list[Message]:
    return [json.loads(line) for line in run.path.read_text().splitlines()]


def shared_extra(lines: list[Message]) -> list[Message]:
    out = copy.deepcopy(lines)
    for message in out:
        if message["type"] == "RECORD":
            message["record"]["_extra"] = dict(SHARED_EXTRA)
    return out


def first_records(lines: list[Message], per_stream: int) -> list[Message]:
    seen: collections.Counter[str] = collections.Counter()
    out = []
    for message in lines:
        if message["type"] == "RECORD":
            seen[message["stream"]] += 1
            if seen[message["stream"]] > per_stream:
                continue
        out.append(message)
    return out


def null_first_row(lines: list[Message]) -> list[Message]:
    """Each stream's first record keeps only its key; every other value is null."""
    keys = {m["stream"]: m["key_properties"] for m in lines if m["type"] == "SCHEMA"}
    done: set[str] = set()
    out = copy.deepcopy(lines)
    for message in out:
        if message["type"] == "RECORD" and message["stream"] not in done:
            done.add(message["stream"])
            record = message["record"]
            message["record"] = {
                k: v if k in keys[message["stream"]] else None for k, v in record.items()
            }
    return out


CASES = {
    "a shared JSON first column": (lambda m: shared_extra(m), 100_000),
    "one-row batches": (lambda m: first_records(shared_extra(m), ONE_ROW_BATCH_RECORDS), 1),
    "a first row null but for its key": (
        lambda m: first_records(null_first_row(shared_extra(m)), ONE_ROW_BATCH_RECORDS),
        1,
    ),
}


def load(argv: list[str], lines: list[Message], workdir: Path, batch_rows: int) -> Path:
    warehouse = workdir / "warehouse.duckdb"
    config = workdir / "config.json"
    config.write_text(
        json.dumps(
            {
                "filepath": str(warehouse),
                "default_target_schema": SCHEMA_NAME,
                "batch_size_rows": batch_rows,
            }
        )
    )
    source = "".join(json.dumps(m) + "\n" for m in lines)
    done = subprocess.run(
        [*argv, "--config", str(config)],
        input=source.encode(),
        capture_output=True,
        env=tap_env(),
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return warehouse


def short_tables(warehouse: Path, lines: list[Message]) -> dict[str, str]:
    """Table -> `rows/keys` for every table whose rows are not exactly its distinct keys."""
    keys = {m["stream"]: m["key_properties"] for m in lines if m["type"] == "SCHEMA"}
    sent: dict[str, set[tuple[str, ...]]] = collections.defaultdict(set)
    for m in lines:
        if m["type"] == "RECORD":
            sent[m["stream"]].add(tuple(str(m["record"][k]) for k in keys[m["stream"]]))
    tables = read_duckdb(warehouse, SCHEMA_NAME)
    short = {}
    for stream, want in sent.items():
        table = tables.get(stream)
        rows = table.rows if table else []
        got = (
            {tuple(str(row[table.stored(k)]) for k in keys[stream]) for row in rows}
            if table
            else set()
        )
        if len(rows) != len(want) or got != want:
            short[stream] = f"{len(rows)}/{len(want)}"
    return short


@pytest.mark.parametrize("case", CASES)
def test_duckdb_loads_every_row_the_sniffer_would_drop(case, saved: Saved, tmp_path):
    make, batch_rows = CASES[case]
    lines = make(messages(saved.full))
    (tmp_path / "plain").mkdir()
    (tmp_path / "ours").mkdir()

    plain = load([str(VENV / "target-duckdb")], lines, tmp_path / "plain", batch_rows)
    lost = short_tables(plain, lines)
    assert lost, f"{case}: the plain target lost nothing, so the data is not hostile"

    ours = load([str(VENV / "python"), "-c", RUN_WRAPPER], lines, tmp_path / "ours", batch_rows)
    assert short_tables(ours, lines) == {}, f"{case}: rows lost (plain 0.8.0 lost {lost})"
