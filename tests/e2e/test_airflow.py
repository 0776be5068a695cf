"""The example DAG under real Airflow 3: `airflow dags test` against the sandbox and Postgres.

Meltano's system database (state) is a PostgreSQL database here, as docs/airflow.md
recommends for workers that share it.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
import yaml
from dbt_helpers import assert_marts_agree, dbt_paths, pg_marts
from e2e_helpers import (
    AIRFLOW,
    INCREMENTAL_PAGE_SIZE,
    REPO,
    airflow_env,
    assert_read_only_what_changed,
    key_sql,
    meltano,
    pg_connect,
    run,
    selected_streams,
    start_sandbox,
    stop_sandbox,
    unique_name,
)
from marts_expected import expected_marts

from tap_mixmax.accounts import accounts_in_state

pytestmark = pytest.mark.e2e

DAG_ID = "tap_mixmax_daily"
GROUP_PREFIX = "tap-mixmax--"


def stream_groups() -> dict[str, list[str]]:
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    return {
        plugin["name"]: selected_streams(plugin["name"])
        for plugin in project["plugins"]["extractors"]
        if plugin["name"].startswith(GROUP_PREFIX)
    }


def test_groups_cover_the_default_selection():
    grouped = [stream for streams in stream_groups().values() for stream in streams]
    assert len(grouped) == len(set(grouped)), "a stream is in two groups"
    assert set(grouped) == set(selected_streams())


def state_database(postgres) -> str:
    """A fresh PostgreSQL database for Meltano's state, as several workers would share."""
    name = unique_name("meltano_state")
    with pg_connect(postgres) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return (
        f"postgresql+psycopg://{postgres['PGUSER']}:{postgres['PGPASSWORD']}"
        f"@{postgres['PGHOST']}:{postgres['PGPORT']}/{name}"
    )


def run_dag(dag_id: str, env: dict[str, str]) -> None:
    """`airflow db migrate` then `airflow dags test`; on failure, show the task logs."""
    assert AIRFLOW.exists(), f"{AIRFLOW} missing: run `make airflow-venv`"
    airflow_home = Path(env["AIRFLOW_HOME"])
    run([str(AIRFLOW), "db", "migrate"], env)
    try:
        run([str(AIRFLOW), "dags", "test", dag_id], env, timeout=900)
    except pytest.fail.Exception as failure:
        task_logs = "\n".join(
            f"--- {log.relative_to(airflow_home)} ---\n{log.read_text()[-3000:]}"
            for log in sorted(airflow_home.glob("logs/**/*.log"))
        )
        pytest.fail(f"{failure}\n{task_logs}")


def test_airflow_dag_syncs_every_group_into_postgres(e2e_sandbox, postgres, tmp_path):
    schema = unique_name("e2e_airflow")
    state_uri = state_database(postgres)
    env = airflow_env(
        e2e_sandbox,
        postgres,
        tmp_path,
        MELTANO_DATABASE_URI=state_uri,
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        # The optional dbt step, on: the models build on what the groups loaded.
        TAP_MIXMAX_DAG_TRANSFORM="true",
        DBT_POSTGRES_SOURCE_SCHEMA=schema,
        DBT_POSTGRES_TARGET_SCHEMA=f"{schema}_analytics",
        **dbt_paths(tmp_path),
        TAP_MIXMAX_PAGE_SIZE=str(INCREMENTAL_PAGE_SIZE),
    )
    groups = stream_groups()
    expected = {
        stream: e2e_sandbox.ids(stream) for streams in groups.values() for stream in streams
    }
    run_dag(DAG_ID, env)

    with pg_connect(postgres) as conn, conn.cursor() as cur:
        for stream, ids in sorted(expected.items()):
            if not ids:
                continue
            cur.execute(f'SELECT {key_sql(stream)} FROM "{schema}"."{stream}"')
            got = [row[0] for row in cur.fetchall()]
            assert len(got) == len(set(got)), f"{stream}: duplicated _id"
            assert set(got) == ids, f"{stream}: {len(got)} rows, sandbox has {len(ids)}"

    want = expected_marts(e2e_sandbox.url, [e2e_sandbox.token])
    assert_marts_agree("the DAG's transform", pg_marts(postgres, f"{schema}_analytics"), want)

    # Each group keeps its own state in the (PostgreSQL) system database.
    listed, _ = meltano(["state", "list"], {**env, "MELTANO_DATABASE_URI": state_uri})
    bookmarks: dict = {}
    for extractor in groups:
        state_id = f"sandbox:{extractor}-to-target-postgres"
        assert state_id in listed, f"no state {state_id} in:\n{listed}"
        text, _ = meltano(["state", "get", state_id], env)
        state, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
        bookmarks.update(state.get("singer_state", state)["bookmarks"])

    # A day later the DAG runs again, each group from its own state: it reads only what
    # changed, and loads it.
    e2e_sandbox.advance(days=1)
    e2e_sandbox.clear_requests()
    run_dag(DAG_ID, env)
    assert_read_only_what_changed(e2e_sandbox, {"bookmarks": bookmarks})
    with pg_connect(postgres) as conn, conn.cursor() as cur:
        for stream in ("messages", "livefeed_events", "sequence_recipients"):
            cur.execute(f'SELECT {key_sql(stream)} FROM "{schema}"."{stream}"')
            got = [row[0] for row in cur.fetchall()]
            assert len(got) == len(set(got)), f"{stream}: duplicated _id after the rerun"
            assert set(got) >= e2e_sandbox.ids(stream) > expected[stream], stream


ACCOUNTS_DAG_ID = "tap_mixmax_accounts"
ACCOUNT_USERS = 7
ACCOUNT_GROUPS = 3
ACCOUNT_STREAMS = ("sequences", "sequence_recipients", "snippets", "messages", "teams")


def account_group(name: str) -> int:
    """The DAG's documented grouping: crc32 of the name, modulo the number of groups."""
    return zlib.crc32(name.encode("utf-8")) % ACCOUNT_GROUPS


def test_accounts_dag_maps_one_task_per_group_with_its_own_state(postgres, tmp_path):
    sandbox = start_sandbox(tmp_path, scale="tiny", users=ACCOUNT_USERS)
    try:
        accounts = [
            {"name": f"rep{i}", "api_token": token} for i, token in enumerate(sandbox.tokens)
        ]
        assert len(accounts) == ACCOUNT_USERS
        groups: dict[int, list[str]] = {}
        for account in accounts:
            groups.setdefault(account_group(account["name"]), []).append(account["name"])
        assert len(groups) == ACCOUNT_GROUPS, "pick names that fill every group"
        schema = unique_name("e2e_accounts")
        state_uri = state_database(postgres)
        env = airflow_env(
            sandbox,
            postgres,
            tmp_path,
            MELTANO_DATABASE_URI=state_uri,
            TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
            MIXMAX_SANDBOX_TOKEN="",  # the sandbox environment's single token: unset
            AIRFLOW_VAR_MIXMAX_ACCOUNT_TOKENS=json.dumps(accounts),
            TAP_MIXMAX_ACCOUNT_GROUPS=str(ACCOUNT_GROUPS),
            TAP_MIXMAX_DAG_PARALLEL_GROUPS="2",
        )
        expected = {
            (stream, account["name"]): sandbox.ids(stream, user=index)
            for stream in ACCOUNT_STREAMS
            for index, account in enumerate(accounts)
        }
        run_dag(ACCOUNTS_DAG_ID, env)
    finally:
        stop_sandbox(sandbox)

    # The mapped task is limited as documented (real Airflow parses the DAG).
    probe = (
        "from airflow.models.dagbag import DagBag;"
        f"dag = DagBag(include_examples=False).get_dag({ACCOUNTS_DAG_ID!r});"
        "print('LIMIT', dag.get_task('sync_group').max_active_tis_per_dag)"
    )
    printed, _ = run([str(AIRFLOW.with_name("python")), "-c", probe], env)
    assert "LIMIT 2\n" in printed

    with pg_connect(postgres) as conn, conn.cursor() as cur:
        for stream in ACCOUNT_STREAMS:
            cur.execute(f'SELECT account, "_id"::text FROM "{schema}"."{stream}"')
            rows = cur.fetchall()
            assert len(rows) == len(set(rows)), f"{stream}: duplicated (account, _id)"
            for account in accounts:
                got = {row_id for name, row_id in rows if name == account["name"]}
                want = expected[(stream, account["name"])]
                assert got == want, f"{stream}/{account['name']}: {len(got)} rows, want {len(want)}"
            if stream in ("sequences", "snippets", "teams"):
                seen_by: dict[str, int] = {}
                for _name, row_id in rows:
                    seen_by[row_id] = seen_by.get(row_id, 0) + 1
                assert any(count > 1 for count in seen_by.values()), f"{stream}: nothing shared"
        cur.execute(
            "SELECT kcu.column_name FROM information_schema.table_constraints tc"
            " JOIN information_schema.key_column_usage kcu"
            " ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema"
            " WHERE tc.table_schema = %s AND tc.table_name = 'sequences'"
            " AND tc.constraint_type = 'PRIMARY KEY' ORDER BY kcu.ordinal_position",
            (schema,),
        )
        # target-postgres orders the key's columns its own way; the set is what counts.
        assert sorted(row[0] for row in cur.fetchall()) == ["_id", "account"]

    # One Meltano state ID per group, holding exactly that group's accounts.
    state_env = {**env, "MELTANO_DATABASE_URI": state_uri}
    for group, names in groups.items():
        state_id = f"sandbox:tap-mixmax-to-target-postgres:accounts-{group}"
        text, _ = meltano(["state", "get", state_id], state_env)
        state, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
        singer_state = state.get("singer_state", state)
        assert sorted(accounts_in_state(singer_state)) == sorted(names), state_id
