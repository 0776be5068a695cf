"""Org-wide Mixmax sync: one mapped Airflow task per group of accounts.

A Mixmax token sees one user's data, so an organisation syncs one account per user
(tap-mixmax's `accounts` setting). For hundreds of users this DAG spreads them over
workers with dynamic task mapping: `account_groups` lists the groups, and `sync_group`
is mapped over them, at most TAP_MIXMAX_DAG_PARALLEL_GROUPS at a time. Each mapped task
runs the same Meltano job,

    meltano --environment=<env> run --state-id-suffix=accounts-<n> tap-mixmax <loader>

with TAP_MIXMAX_ACCOUNTS set to its own accounts, so each group keeps its own Meltano
state ID and a failed group retries alone. Inside a task the tap syncs the group's
accounts concurrently, each within its own rate limit (`max_parallel_accounts`).

Accounts come from the Airflow Variable `mixmax_account_tokens`: a JSON list of
{"name", "api_token"} (Airflow masks it in logs because its name contains "token"; the
test sets it as AIRFLOW_VAR_MIXMAX_ACCOUNT_TOKENS). Only account names pass through
XCom; each task reads the tokens itself and hands them to Meltano in its environment.

An account's group is crc32(name) % TAP_MIXMAX_ACCOUNT_GROUPS: adding or removing an
account never moves another one to a different group, so no one else's bookmarks are
lost. Changing the number of groups moves accounts; a moved account syncs from
`start_date` once under its new state ID (rows are upserted, nothing is lost).

Other environment variables: MELTANO_PROJECT_ROOT, MELTANO_BIN, MELTANO_ENVIRONMENT,
TAP_MIXMAX_DAG_LOADER, TAP_MIXMAX_DAG_RETRIES, TAP_MIXMAX_DAG_TRANSFORM and
TAP_MIXMAX_DAG_DBT (the optional dbt build once every group has loaded; a run's
`transform` param overrides the first), as in tap_mixmax_dag.py. Like that file,
this one is self-contained (it repeats those settings) so either can be deployed alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, Param, Variable, task

DAG_ID = "tap_mixmax_accounts"
ACCOUNTS_VARIABLE = "mixmax_account_tokens"
MELTANO_PROJECT_ROOT = os.environ.get(
    "MELTANO_PROJECT_ROOT", str(Path(__file__).resolve().parents[3])
)
MELTANO_BIN = os.environ.get("MELTANO_BIN", "meltano")
MELTANO_ENVIRONMENT = os.environ.get("MELTANO_ENVIRONMENT", "prod")
LOADER = os.environ.get("TAP_MIXMAX_DAG_LOADER", "target-postgres")
RETRIES = int(os.environ.get("TAP_MIXMAX_DAG_RETRIES", "3"))
ACCOUNT_GROUPS = int(os.environ.get("TAP_MIXMAX_ACCOUNT_GROUPS", "8"))
PARALLEL_GROUPS = int(os.environ.get("TAP_MIXMAX_DAG_PARALLEL_GROUPS", "4"))
STATE_ID_PREFIX = "accounts-"
TRANSFORM = os.environ.get("TAP_MIXMAX_DAG_TRANSFORM", "").lower() in ("1", "true", "yes")
DBT_UTILITY = os.environ.get(
    "TAP_MIXMAX_DAG_DBT", "dbt-duckdb" if LOADER == "target-duckdb" else "dbt-postgres"
)
# BashOperator marks a task that exits with this code as skipped, not failed.
SKIPPED_EXIT_CODE = 99


def group_of(account_name: str, groups: int = ACCOUNT_GROUPS) -> int:
    """Stable: depends on the name alone, never on the other accounts."""
    return zlib.crc32(account_name.encode("utf-8")) % groups


def load_accounts() -> list[dict[str, str]]:
    accounts: list[dict[str, str]] = json.loads(Variable.get(ACCOUNTS_VARIABLE))
    return accounts


default_args = {
    "owner": "data",
    # A failed group resumes from its last committed state, so a retry redoes little.
    "retries": RETRIES,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=6),
}

with DAG(
    dag_id=DAG_ID,
    description="Mixmax -> warehouse for many users: one mapped Meltano task per account group",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    params={"transform": Param(TRANSFORM, type="boolean", description="Build the dbt models")},
    tags=["mixmax", "meltano", "elt", "accounts"],
) as dag:

    @task
    def account_groups() -> list[dict[str, Any]]:
        """The non-empty groups, as names only: tokens never go through XCom."""
        groups: dict[int, list[str]] = {}
        for account in load_accounts():
            groups.setdefault(group_of(account["name"]), []).append(account["name"])
        return [{"group": n, "accounts": names} for n, names in sorted(groups.items())]

    # Each account has its own Mixmax rate limit, so groups only compete for workers.
    @task(max_active_tis_per_dag=PARALLEL_GROUPS)
    def sync_group(group: dict[str, Any]) -> str:
        tokens = {account["name"]: account["api_token"] for account in load_accounts()}
        accounts = [{"name": name, "api_token": tokens[name]} for name in group["accounts"]]
        state_suffix = f"{STATE_ID_PREFIX}{group['group']}"
        env = {
            **os.environ,
            "TAP_MIXMAX_ACCOUNTS": json.dumps(accounts),
            "TAP_MIXMAX_API_TOKEN": "",  # accounts replace the single token
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        }
        command = [
            MELTANO_BIN,
            f"--environment={MELTANO_ENVIRONMENT}",
            "run",
            f"--state-id-suffix={state_suffix}",
            "tap-mixmax",
            LOADER,
        ]
        # The tokens travel in the environment only, never in the command line.
        subprocess.run(command, cwd=MELTANO_PROJECT_ROOT, env=env, check=True)
        return f"{state_suffix}: {len(accounts)} accounts"

    # Once every group has loaded (not after a failed one): `dbt build` on the warehouse,
    # or skipped when the run's `transform` param is off. The models count an object
    # several accounts share once.
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
        env={
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        },
        append_env=True,
    )
    sync_group.expand(group=account_groups()) >> transform
