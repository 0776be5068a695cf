"""The example DAG under real Airflow 3: `airflow dags test` against the sandbox and Postgres.

Meltano's system database (state) is a PostgreSQL database here, as docs/airflow.md
recommends for workers that share it.
"""

from __future__ import annotations

import pytest
import yaml
from e2e_helpers import (
    AIRFLOW,
    MELTANO,
    REPO,
    meltano,
    meltano_env,
    pg_connect,
    row_key,
    run,
    selected_streams,
    unique_name,
)

pytestmark = pytest.mark.e2e

DAG_FOLDER = REPO / "orchestrate" / "airflow" / "dags"
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


def test_airflow_dag_syncs_every_group_into_postgres(e2e_sandbox, postgres, tmp_path):
    assert AIRFLOW.exists(), f"{AIRFLOW} missing: run `make airflow-venv`"
    schema = unique_name("e2e_airflow")
    state_db = unique_name("meltano_state")
    with pg_connect(postgres) as conn:
        conn.execute(f'CREATE DATABASE "{state_db}"')
    state_uri = (
        f"postgresql+psycopg://{postgres['PGUSER']}:{postgres['PGPASSWORD']}"
        f"@{postgres['PGHOST']}:{postgres['PGPORT']}/{state_db}"
    )
    airflow_home = tmp_path / "airflow"
    airflow_home.mkdir()
    env = meltano_env(
        e2e_sandbox,
        postgres,
        tmp_path,
        MELTANO_DATABASE_URI=state_uri,
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        MELTANO_BIN=str(MELTANO),
        MELTANO_PROJECT_ROOT=str(REPO),
        TAP_MIXMAX_DAG_RETRIES="0",
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAG_FOLDER),
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
    )
    for key in [k for k in env if k.startswith("PYTEST") or k == "PYTHONPATH"]:
        env.pop(key)
    groups = stream_groups()
    expected = {
        stream: e2e_sandbox.ids(stream) for streams in groups.values() for stream in streams
    }

    run([str(AIRFLOW), "db", "migrate"], env)
    try:
        run([str(AIRFLOW), "dags", "test", DAG_ID], env, timeout=900)
    except pytest.fail.Exception as failure:
        task_logs = "\n".join(
            f"--- {log.relative_to(airflow_home)} ---\n{log.read_text()[-3000:]}"
            for log in sorted(airflow_home.glob("logs/**/*.log"))
        )
        pytest.fail(f"{failure}\n{task_logs}")

    with pg_connect(postgres) as conn, conn.cursor() as cur:
        for stream, ids in sorted(expected.items()):
            if not ids:
                continue
            cur.execute(f'SELECT "{row_key(stream)}"::text FROM "{schema}"."{stream}"')
            got = [row[0] for row in cur.fetchall()]
            assert len(got) == len(set(got)), f"{stream}: duplicated _id"
            assert set(got) == ids, f"{stream}: {len(got)} rows, sandbox has {len(ids)}"

    # Each group keeps its own state in the (PostgreSQL) system database.
    listed, _ = meltano(["state", "list"], {**env, "MELTANO_DATABASE_URI": state_uri})
    for extractor in groups:
        state_id = f"sandbox:{extractor}-to-target-postgres"
        assert state_id in listed, f"no state {state_id} in:\n{listed}"
