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
from dbt_helpers import (
    DBT_PYTHON,
    assert_marts_agree,
    built_cleanly,
    dbt_paths,
    duckdb_marts,
    pg_marts,
)
from e2e_helpers import (
    AIRFLOW,
    REPO,
    airflow_env,
    meltano,
    meltano_env,
    pg_connect,
    start_sandbox,
    stop_sandbox,
    unique_name,
)
from marts_expected import Mart, expected_marts
from target_matrix import assert_one_row_per_served_key, read_duckdb, read_postgres

pytestmark = pytest.mark.e2e

DUCKDB_SCHEMA = "mixmax_sandbox"
# Incremental marts, and what their filter compiles to on an incremental build.
INCREMENTAL_FILTERS = {
    "mixmax__message_engagement": "max(last_activity_at)",
    "mixmax__daily_user_activity": "max(activity_date)",
}


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
        **dbt_paths(tmp_path / "duckdb"),
    )

    for day in ("first sync", "a day later"):
        if day == "a day later":
            e2e_sandbox.advance(days=1)
        output, _ = meltano(["run", "tap-mixmax", "target-postgres", "dbt-postgres:build"], pg_env)
        built_cleanly(output)
        output, _ = meltano(["run", "tap-mixmax", "target-duckdb", "dbt-duckdb:build"], duck_env)
        built_cleanly(output)

        # The warehouses first: every row the sandbox serves, once.
        assert_one_row_per_served_key(read_postgres(postgres, schema), e2e_sandbox)
        assert_one_row_per_served_key(read_duckdb(duckdb_file, DUCKDB_SCHEMA), e2e_sandbox)
        want = expected_marts(e2e_sandbox.url, [e2e_sandbox.token])
        assert_not_trivial(want)
        assert_marts_agree(f"PostgreSQL, {day}", pg_marts(postgres, analytics), want)
        assert_marts_agree(f"DuckDB, {day}", duckdb_marts(duckdb_file, "analytics"), want)

    # The second build of each incremental mart read only the recent rows.
    for env in (pg_env, duck_env):
        for mart, incremental_filter in INCREMENTAL_FILTERS.items():
            compiled = next(Path(env["DBT_TARGET_PATH"]).glob(f"compiled/**/{mart}.sql"))
            assert incremental_filter in compiled.read_text(), f"{mart}: built in full again"


def test_accounts_added_later_and_a_plan_without_polls_on_duckdb(tmp_path):
    """`accounts` rows carry `account`; shared sequences count once; no polls table; an
    account added later brings its whole history into the incremental marts."""
    # Half the unsubscribes lack userId (optional in Mixmax): they count for no user.
    sandbox = start_sandbox(
        tmp_path, scale="small", users=3, drift=("--optional-field", "unsubscribes.userId")
    )
    try:
        for path in ("/polls", "/yesno"):  # the plan lacks the feature: 403 every time
            run_control(sandbox.control_url, "/faults", {"kind": "403", "path": path, "times": 0})
        accounts = [{"name": f"rep{i}", "api_token": tok} for i, tok in enumerate(sandbox.tokens)]
        duckdb_file = tmp_path / "org.duckdb"
        env = meltano_env(
            sandbox,
            None,
            tmp_path,
            MIXMAX_SANDBOX_TOKEN="",
            TARGET_DUCKDB_FILEPATH=str(duckdb_file),
            TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA=DUCKDB_SCHEMA,
            DBT_DUCKDB_PATH=str(duckdb_file),
            DBT_DUCKDB_SOURCE_SCHEMA=DUCKDB_SCHEMA,
            DBT_DUCKDB_TARGET_SCHEMA="analytics",
            **dbt_paths(tmp_path),
        )
        for team in (accounts[:2], accounts):  # the third account joins on the second run
            env["TAP_MIXMAX_ACCOUNTS"] = json.dumps(team)
            output, _ = meltano(["run", "tap-mixmax", "target-duckdb", "dbt-duckdb:build"], env)
            built_cleanly(output)
        names = [account["name"] for account in accounts]
        loaded = read_duckdb(duckdb_file, DUCKDB_SCHEMA)
        assert_one_row_per_served_key(loaded, sandbox, names, frozenset({"polls", "yesno"}))
        want = expected_marts(sandbox.url, sandbox.tokens)
        # What attribution across accounts would give instead: it must differ somewhere.
        crossed = (
            want["mixmax__sequence_performance"]
            != expected_marts(sandbox.url, sandbox.tokens, across_accounts=True)[
                "mixmax__sequence_performance"
            ]
        )
        shared = set(sandbox_get(sandbox.control_url, "/shared/sequences")["ids"])
    finally:
        stop_sandbox(sandbox)

    assert shared, "the organisation shares no sequence"
    assert not want["mixmax__poll_results"], "the 403 did not hide polls"
    assert any(row["unsubscribes"] for row in want["mixmax__daily_user_activity"].values())
    assert crossed, "no unsubscribe would count against another account's stage"
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


# What Airflow makes of both DAGs' transform task (parsed by real Airflow, no database).
DAG_PROBE = r"""
import json, subprocess
import jinja2
from airflow.models.dagbag import DagBag

bag = DagBag(include_examples=False)
assert not bag.import_errors, bag.import_errors
out = {}
for dag_id, dag in bag.dags.items():
    task = dag.get_task("transform")
    commands = {
        str(on): jinja2.Template(task.bash_command).render(params={"transform": on})
        for on in (False, True)
    }
    off = subprocess.run(["bash", "-c", commands["False"]], capture_output=True, text=True)
    out[dag_id] = {
        "default": dag.params["transform"],
        "upstream": sorted(task.upstream_task_ids),
        "syncs": sorted(t.task_id for t in dag.tasks if t.task_id.startswith("sync_")),
        "on": commands["True"],
        "off_exit": off.returncode,
        "skip_codes": list(task.skip_on_exit_code),
    }
print(json.dumps(out))
"""


@pytest.mark.parametrize("switch", ["", "true"])
def test_dags_transform_after_every_sync_and_only_when_asked(tmp_path, switch):
    env = airflow_env(None, None, tmp_path, TAP_MIXMAX_DAG_TRANSFORM=switch)
    done = subprocess.run(
        [str(AIRFLOW.with_name("python")), "-c", DAG_PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dags = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(dags) == {"tap_mixmax_daily", "tap_mixmax_accounts"}
    for dag_id, dag in dags.items():
        assert dag["default"] is bool(switch), dag_id
        assert dag["upstream"] == dag["syncs"] != [], dag_id
        assert dag["on"].endswith(" run dbt-postgres:build"), dag_id
        assert dag["off_exit"] in dag["skip_codes"], f"{dag_id}: off would fail, not skip"
