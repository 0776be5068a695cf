"""Helpers for the dbt package's end-to-end tests: dbt's paths, reading the marts back
from PostgreSQL and DuckDB (in the canonical forms of marts_expected), comparing them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from e2e_helpers import TOOLS, pg_connect
from marts_expected import MARTS, Mart, canonical_rows, differences

DBT_PYTHON = TOOLS / "dbt" / "bin" / "python"


# Reads marts from a DuckDB file with the dbt venv's duckdb (the test venv has none),
# as JSON with the canonical forms of marts_expected.canonical.
DUCKDB_READER = r"""
import datetime as dt, json, sys, duckdb
def canonical(value):
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
conn = duckdb.connect(sys.argv[1], read_only=True)
out = {}
for table in sys.argv[3:]:
    cursor = conn.execute(f'select * from "{sys.argv[2]}"."{table}"')
    names = [d[0] for d in cursor.description]
    out[table] = [{n: canonical(v) for n, v in zip(names, row)} for row in cursor.fetchall()]
print(json.dumps(out))
"""


def dbt_paths(workdir: Path) -> dict[str, str]:
    """dbt's target/ and logs/ in the test's directory, not in transform/."""
    return {
        "DBT_TARGET_PATH": str(workdir / "dbt-target"),
        "DBT_LOG_PATH": str(workdir / "dbt-logs"),
    }


def built_cleanly(output: str) -> None:
    """`dbt build` passed every test, warnings included (the sandbox's data is consistent)."""
    summary = [line for line in output.splitlines() if "Done. PASS=" in line]
    assert summary, f"no dbt summary in:\n{output[-3000:]}"
    assert "WARN=0 ERROR=0" in summary[-1], summary[-1]


def pg_marts(postgres: dict[str, str], schema: str) -> dict[str, Mart]:
    import psycopg.rows

    with pg_connect(postgres) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        marts = {}
        for mart, (key, _) in MARTS.items():
            cur.execute(f'SELECT * FROM "{schema}"."{mart}"')
            marts[mart] = canonical_rows(cur.fetchall(), key)
        return marts


def duckdb_marts(path: Path, schema: str) -> dict[str, Mart]:
    assert DBT_PYTHON.exists(), f"{DBT_PYTHON} missing: run `make dbt-venv`"
    done = subprocess.run(
        [str(DBT_PYTHON), "-c", DUCKDB_READER, str(path), schema, *MARTS],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads(done.stdout)
    return {mart: canonical_rows(rows[mart], key) for mart, (key, _) in MARTS.items()}


def assert_marts_agree(where: str, got: dict[str, Mart], want: dict[str, Mart]) -> None:
    problems = [line for mart in MARTS for line in differences(mart, got[mart], want[mart])]
    assert not problems, f"{where}:\n" + "\n".join(problems)
