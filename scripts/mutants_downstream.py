"""Breaks of the downstream guarantees (README "Types in each target", "Analytics"): the
DuckDB loader keeps every row, open objects load as declared, and the marts never mix
accounts. scripts/mutants.py runs them with the others.
"""

from __future__ import annotations

from mutant_runner import Mutant

T_OPEN = "tests/tap/test_open_objects.py::"
T_DBT = "tests/e2e/test_dbt.py::"

DOWNSTREAM_MUTANTS: tuple[Mutant, ...] = (
    # -- Loaders and open objects (README "Types in each target") --------------------------
    # The DuckDB break runs an e2e test: it needs `make targets` (.tools is linked in).
    Mutant(
        name="duckdb-copy-sniffs-the-header",
        guarantee="target-duckdb loads every row, however its first row looks",
        file="orchestrate/target-duckdb-nosniff/target_duckdb_nosniff/__init__.py",
        original='    return f"COPY {table} FROM {sql_text(path)} ({options})"',
        replacement="    return f\"COPY {table} FROM {sql_text(path)} (new_line '\\\\r\\\\n')\"",
        tests=(
            "tests/e2e/test_duckdb_rows.py::test_duckdb_loads_every_row_the_sniffer_would_drop",
        ),
    ),
    Mutant(
        name="open-objects-stay-objects",
        guarantee="open_objects_as: json_text declares every open object as a string",
        file="tap_mixmax/open_objects.py",
        original="        return _as_text(node), json_text",
        replacement="        return node, None",
        tests=(T_OPEN + "test_every_schema_declares_its_open_objects_as_text_and_nothing_else",),
    ),
    Mutant(
        name="open-objects-declared-text-sent-as-objects",
        guarantee="with json_text, every record carries the JSON text its SCHEMA declares",
        file="tap_mixmax/client.py",
        original="            record = self._finish(record)",
        replacement="            pass",
        tests=(T_OPEN + "test_json_text_through_the_command_reads_back_as_the_default_objects",),
    ),
    # -- The marts (README "Analytics"): e2e, a Meltano load and dbt build (~2 min each) --------
    Mutant(
        name="unsubscribes-attributed-across-accounts",
        guarantee="An unsubscribe never counts against another account's stage",
        file="transform/models/intermediate/int_mixmax__unsubscribe_attribution.sql",
        original=(
            "    on {{ mixmax_same_account('sent_stages', 'unsubscribes') }}\n"
            "    and sent_stages.email"
        ),
        replacement="    on sent_stages.email",
        tests=(T_DBT + "test_accounts_added_later_and_a_plan_without_polls_on_duckdb",),
    ),
    Mutant(
        name="unsubscribe-without-user-counted",
        guarantee="An unsubscribe without a user counts for no user",
        file="transform/models/marts/mixmax__daily_user_activity.sql",
        original="  where user_id is not null\n),",
        replacement="),",
        tests=(T_DBT + "test_accounts_added_later_and_a_plan_without_polls_on_duckdb",),
    ),
)
