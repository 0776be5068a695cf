"""Daily Mixmax warehouse sync: the repo's Meltano project, one Airflow task per stream group.

Each task runs `meltano run <group extractor> <loader>`. The group extractors are defined
in meltano.yml (`tap-mixmax--core-messages`, ...): they inherit tap-mixmax, select a
subset of streams and so keep their own state in Meltano's system database
(`.meltano/meltano.db`, or wherever MELTANO_DATABASE_URI points; use PostgreSQL when
several workers share it). Each group paces itself to 60 requests per minute and at most
two run at a time (`max_active_tasks`), so the DAG stays inside Mixmax's limit of 120
requests per minute per token.

Configure with environment variables of the Airflow workers (docs/airflow.md):
  MELTANO_PROJECT_ROOT   the Meltano project (default: this repository's root)
  MELTANO_BIN            the meltano executable (default: `meltano` on PATH)
  MELTANO_ENVIRONMENT    the Meltano environment (default: `prod`)
  TAP_MIXMAX_DAG_LOADER  the loader (default: `target-postgres`)
  TAP_MIXMAX_DAG_RETRIES retries per task (default 3; the test sets 0)
  TAP_MIXMAX_DAG_TRANSFORM  `true` to build the dbt models (transform/) after every
                         group has loaded (default off; a run's `transform` param
                         overrides it: `airflow dags test ... -c '{"transform": true}'`)
  TAP_MIXMAX_DAG_DBT     the Meltano dbt utility (default: dbt-duckdb after
                         target-duckdb, dbt-postgres otherwise)
plus the settings themselves (TAP_MIXMAX_API_TOKEN, TARGET_POSTGRES_HOST, ...), which
the tasks inherit.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param

DAG_ID = "tap_mixmax_daily"
MELTANO_PROJECT_ROOT = os.environ.get(
    "MELTANO_PROJECT_ROOT", str(Path(__file__).resolve().parents[3])
)
MELTANO_BIN = os.environ.get("MELTANO_BIN", "meltano")
MELTANO_ENVIRONMENT = os.environ.get("MELTANO_ENVIRONMENT", "prod")
LOADER = os.environ.get("TAP_MIXMAX_DAG_LOADER", "target-postgres")
RETRIES = int(os.environ.get("TAP_MIXMAX_DAG_RETRIES", "3"))
TRANSFORM = os.environ.get("TAP_MIXMAX_DAG_TRANSFORM", "").lower() in ("1", "true", "yes")
DBT_UTILITY = os.environ.get(
    "TAP_MIXMAX_DAG_DBT", "dbt-duckdb" if LOADER == "target-duckdb" else "dbt-postgres"
)
# BashOperator marks a task that exits with this code as skipped, not failed.
SKIPPED_EXIT_CODE = 99
MELTANO_ENV = {
    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
}

# task id -> extractor in meltano.yml. Each group has its own Meltano state id,
# `<environment>:<extractor>-to-<loader>`, so a failed group retries alone.
STREAM_GROUPS: dict[str, str] = {
    "core_messages": "tap-mixmax--core-messages",
    "sequences": "tap-mixmax--sequences",
    "livefeed": "tap-mixmax--livefeed",
    "reference": "tap-mixmax--reference",
}

default_args = {
    "owner": "data",
    # A failed sync resumes from its last committed state, so a retry redoes little.
    "retries": RETRIES,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=3),
}

with DAG(
    dag_id=DAG_ID,
    description="Mixmax -> warehouse through Meltano (tap-mixmax), one task per stream group",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    # Two groups at 60 requests/minute each share the token's 120 requests/minute.
    max_active_tasks=2,
    default_args=default_args,
    params={"transform": Param(TRANSFORM, type="boolean", description="Build the dbt models")},
    tags=["mixmax", "meltano", "elt"],
) as dag:
    syncs = [
        BashOperator(
            task_id=f"sync_{task_id}",
            bash_command=(
                f'"{MELTANO_BIN}" --environment="{MELTANO_ENVIRONMENT}" run {extractor} {LOADER}'
            ),
            cwd=MELTANO_PROJECT_ROOT,
            env=MELTANO_ENV,
            # Keep the worker's environment: PATH, the token, the database settings.
            append_env=True,
        )
        for task_id, extractor in STREAM_GROUPS.items()
    ]
    # Once every group has loaded (not after a failed one): `dbt build` on the warehouse,
    # or skipped when the run's `transform` param is off.
    transform = BashOperator(
        task_id="transform",
        bash_command=(
            "{% if params.transform %}"
            f'"{MELTANO_BIN}" --environment="{MELTANO_ENVIRONMENT}" run {DBT_UTILITY}:build'
            "{% else %}"
            f"echo 'transform is off (TAP_MIXMAX_DAG_TRANSFORM)'; exit {SKIPPED_EXIT_CODE}"
            "{% endif %}"
        ),
        skip_on_exit_code=SKIPPED_EXIT_CODE,
        cwd=MELTANO_PROJECT_ROOT,
        env=MELTANO_ENV,
        append_env=True,
    )
    syncs >> transform
