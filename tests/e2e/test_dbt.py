"""The dbt package (transform/) on real warehouses: its marts agree with the sandbox.

The sandbox goes through the tap into PostgreSQL and into DuckDB with
`meltano run tap-mixmax <loader> dbt-<adapter>:build`; every mart's rows must equal the
figures tests/e2e/marts_expected.py computes from what the sandbox's API serves, exactly,
before and after a day passes (the second build is incremental). Also: an `accounts`
load with a plan that lacks polls and yes/no, and a warehouse with no Mixmax table at all.
"""

from __future__ import annotations

import json
import subprocess
import typing as t
from pathlib import Path

import pytest
from e2e_helpers import (
    REPO,
    TOOLS,
    meltano,
    meltano_env,
    pg_connect,
    selected_streams,
    start_sandbox,
    stop_sandbox,
    stream_schemas,
    unique_name,
)
from marts_expected import MARTS, Mart, canonical_rows, differences, expected_marts

pytestmark = pytest.mark.e2e

DBT_PYTHON = TOOLS / "dbt" / "bin" / "python"
DUCKDB_SCHEMA = "mixmax_sandbox"
# Incremental marts, and what their filter compiles to on an incremental build.
INCREMENTAL_FILTERS = {
    "mixmax__message_engagement": "max(last_activity_at)",
    "mixmax__daily_user_activity": "max(activity_date)",
}

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


def duckdb_select() -> dict[str, str]:
    """target-duckdb cannot load a column whose schema allows a string or an object (the
    value must parse as JSON): leave such columns out until the schemas give each one
    type (issue 14). Nothing is left out once they do."""
    mixed = []
    for stream, spec in stream_schemas().items():
        for name, prop in spec["schema"]["properties"].items():
            types = prop.get("type") if isinstance(prop.get("type"), list) else [prop.get("type")]
            if "object" in types and len([x for x in types if x not in (None, "null")]) > 1:
                mixed.append(f"!{stream}.{name}")
    if not mixed:
        return {}
    return {"TAP_MIXMAX__SELECT": json.dumps([f"{s}.*" for s in selected_streams()] + mixed)}


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


def assert_not_trivial(want: dict[str, Mart]) -> None:
    """The comparison exercises every figure: each is non-zero somewhere."""
    stages = want["mixmax__sequence_performance"].values()
    for figure in ("recipients", "sent", "opened", "clicked", "bounced", "unsubscribed"):
        assert any(row[figure] for row in stages), f"no stage has {figure}"
    messages = want["mixmax__message_engagement"].values()
    for figure in ("opens", "clicks", "downloads", "replied", "bounced", "seconds_to_first_open"):
        assert any(row[figure] for row in messages), f"no message has {figure}"
    assert any(not row["first_open_is_exact"] for row in messages), "no capped message"
    days = want["mixmax__daily_user_activity"].values()
    for figure in ("messages_sent", "messages_opened", "messages_replied", "unsubscribes"):
        assert any(row[figure] for row in days), f"no day has {figure}"
    assert {row["kind"] for row in want["mixmax__poll_results"].values() if row["votes"]} == {
        "poll",
        "yesno",
    }
    people = want["mixmax__recipient_engagement"].values()
    assert any(row["opens_but_never_replies"] for row in people)
    assert any(row["messages_replied"] for row in people)


def test_marts_agree_with_the_sandbox_on_postgres_and_duckdb(e2e_sandbox, postgres, tmp_path):
    schema = unique_name("e2e_dbt")
    analytics = f"{schema}_analytics"
    duckdb_file = tmp_path / "warehouse.duckdb"
    (tmp_path / "pg").mkdir()
    (tmp_path / "duckdb").mkdir()
    pg_env = meltano_env(
        e2e_sandbox,
        postgres,
        tmp_path / "pg",
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        DBT_POSTGRES_SOURCE_SCHEMA=schema,
        DBT_POSTGRES_TARGET_SCHEMA=analytics,
        **dbt_paths(tmp_path / "pg"),
    )
    duck_env = meltano_env(
        e2e_sandbox,
        None,
        tmp_path / "duckdb",
        TARGET_DUCKDB_FILEPATH=str(duckdb_file),
        TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA=DUCKDB_SCHEMA,
        DBT_DUCKDB_PATH=str(duckdb_file),
        DBT_DUCKDB_SOURCE_SCHEMA=DUCKDB_SCHEMA,
        DBT_DUCKDB_TARGET_SCHEMA="analytics",
        **duckdb_select(),
        **dbt_paths(tmp_path / "duckdb"),
    )

    for day in ("first sync", "a day later"):
        if day == "a day later":
            e2e_sandbox.advance(days=1)
        output, _ = meltano(["run", "tap-mixmax", "target-postgres", "dbt-postgres:build"], pg_env)
        built_cleanly(output)
        output, _ = meltano(["run", "tap-mixmax", "target-duckdb", "dbt-duckdb:build"], duck_env)
        built_cleanly(output)

        want = expected_marts(e2e_sandbox.url, [e2e_sandbox.token])
        assert_not_trivial(want)
        assert_marts_agree(f"PostgreSQL, {day}", pg_marts(postgres, analytics), want)
        assert_marts_agree(f"DuckDB, {day}", duckdb_marts(duckdb_file, "analytics"), want)

    # The second build of each incremental mart read only the recent rows.
    for env in (pg_env, duck_env):
        for mart, incremental_filter in INCREMENTAL_FILTERS.items():
            compiled = next(Path(env["DBT_TARGET_PATH"]).glob(f"compiled/**/{mart}.sql"))
            assert incremental_filter in compiled.read_text(), f"{mart}: built in full again"


def test_accounts_and_a_plan_without_polls_on_duckdb(tmp_path):
    """`accounts` rows carry `account`; shared sequences count once; no polls table."""
    sandbox = start_sandbox(tmp_path, scale="tiny", users=3)
    try:
        for path in ("/polls", "/yesno"):  # the plan lacks the feature: 403 every time
            req = {"kind": "403", "path": path, "times": 0}
            run_control(sandbox.control_url, "/faults", req)
        accounts = [{"name": f"rep{i}", "api_token": tok} for i, tok in enumerate(sandbox.tokens)]
        duckdb_file = tmp_path / "org.duckdb"
        env = meltano_env(
            sandbox,
            None,
            tmp_path,
            MIXMAX_SANDBOX_TOKEN="",
            TAP_MIXMAX_ACCOUNTS=json.dumps(accounts),
            TARGET_DUCKDB_FILEPATH=str(duckdb_file),
            TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA=DUCKDB_SCHEMA,
            DBT_DUCKDB_PATH=str(duckdb_file),
            DBT_DUCKDB_SOURCE_SCHEMA=DUCKDB_SCHEMA,
            DBT_DUCKDB_TARGET_SCHEMA="analytics",
            **duckdb_select(),
            **dbt_paths(tmp_path),
        )
        output, _ = meltano(["run", "tap-mixmax", "target-duckdb", "dbt-duckdb:build"], env)
        built_cleanly(output)
        want = expected_marts(sandbox.url, sandbox.tokens)
        shared = set(sandbox_get(sandbox.control_url, "/shared/sequences")["ids"])
    finally:
        stop_sandbox(sandbox)

    assert shared, "the organisation shares no sequence"
    assert not want["mixmax__poll_results"], "the 403 did not hide polls"
    got = duckdb_marts(duckdb_file, "analytics")
    assert_marts_agree("DuckDB with accounts", got, want)
    stage_sequences = {row["sequence_id"] for row in got["mixmax__sequence_performance"].values()}
    assert shared <= stage_sequences

    # Staging keeps one row per account that saw an object, keyed by account.
    copies = duckdb_query(
        duckdb_file,
        "select count(*), count(distinct sequence_id), count(distinct account),"
        " count(distinct sequence_key) from analytics.stg_mixmax__sequences",
    )
    rows, sequences, account_names, keys = copies[0]
    assert account_names == len(accounts)
    assert rows == keys > sequences, "shared sequences should have one staging row per account"


def test_models_build_on_a_warehouse_without_mixmax_tables(postgres, tmp_path):
    """Every model builds, empty, when no stream has loaded yet (or none is in the plan)."""
    schema = unique_name("e2e_dbt_empty")
    env = meltano_env(
        None,
        postgres,
        tmp_path,
        DBT_POSTGRES_SOURCE_SCHEMA=unique_name("no_such_schema"),
        DBT_POSTGRES_TARGET_SCHEMA=schema,
        **dbt_paths(tmp_path),
    )
    output, _ = meltano(["run", "dbt-postgres:build"], env)
    built_cleanly(output)
    with pg_connect(postgres) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        )
        models = sorted(row[0] for row in cur.fetchall())
        models_dir = REPO / "transform" / "models"
        assert models == sorted(p.stem for p in models_dir.glob("*/*.sql"))
        for model in models:
            cur.execute(f'SELECT count(*) FROM "{schema}"."{model}"')
            assert cur.fetchone()[0] == 0, model


def sandbox_get(control_url: str, path: str) -> t.Any:
    import urllib.request

    with urllib.request.urlopen(f"{control_url}{path}", timeout=30) as resp:
        return json.load(resp)


def run_control(control_url: str, path: str, body: dict[str, t.Any]) -> t.Any:
    import urllib.request

    req = urllib.request.Request(
        f"{control_url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def duckdb_query(path: Path, sql: str) -> list[list[t.Any]]:
    script = (
        "import duckdb, json, sys;"
        "conn = duckdb.connect(sys.argv[1], read_only=True);"
        "print(json.dumps(conn.execute(sys.argv[2]).fetchall()))"
    )
    done = subprocess.run(
        [str(DBT_PYTHON), "-c", script, str(path), sql], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)
