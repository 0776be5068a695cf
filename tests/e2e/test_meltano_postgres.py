"""`meltano run tap-mixmax target-postgres` against the sandbox and a real PostgreSQL 15."""

from __future__ import annotations

import json

import pytest
from e2e_helpers import (
    INCREMENTAL_PAGE_SIZE,
    assert_read_only_what_changed,
    datetime_properties,
    key_sql,
    meltano,
    meltano_env,
    pg_connect,
    selected_streams,
    stream_schemas,
    unique_name,
)

pytestmark = pytest.mark.e2e


def table_ids(cur, schema: str, table: str, key: str = '"_id"::text') -> list[str]:
    cur.execute(f'SELECT {key} FROM "{schema}"."{table}"')
    return [row[0] for row in cur.fetchall()]


def column_types(cur, schema: str, table: str) -> dict[str, str]:
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s",
        (schema, table),
    )
    return dict(cur.fetchall())


def primary_key(cur, schema: str, table: str) -> list[str]:
    cur.execute(
        "SELECT kcu.column_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu "
        "  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema "
        "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = %s "
        "  AND tc.table_name = %s ORDER BY kcu.ordinal_position",
        (schema, table),
    )
    return [row[0] for row in cur.fetchall()]


def test_meltano_run_into_postgres_then_incremental(e2e_sandbox, postgres, tmp_path):
    schema = unique_name("e2e_pg")
    streams = selected_streams()
    specs = stream_schemas()
    env = meltano_env(
        e2e_sandbox,
        postgres,
        tmp_path,
        TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema,
        TAP_MIXMAX_PAGE_SIZE=str(INCREMENTAL_PAGE_SIZE),
    )
    before = {stream: e2e_sandbox.ids(stream) for stream in streams}
    assert sum(map(len, before.values())) > 0, "the sandbox has no records at all"

    meltano(["run", "tap-mixmax", "target-postgres"], env)

    with pg_connect(postgres) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        )
        tables = {row[0] for row in cur.fetchall()}
        # Every selected stream with records has its table (the target creates a table
        # when a stream's first record arrives).
        missing = {s for s in streams if before[s]} - tables
        assert not missing, f"no table for {sorted(missing)}; tables: {sorted(tables)}"
        assert tables <= set(streams), f"unselected streams loaded: {tables - set(streams)}"

        checked_timestamps = 0
        for stream in sorted(tables):
            ids = table_ids(cur, schema, stream, key_sql(stream))
            assert len(ids) == len(set(ids)), f"{stream}: duplicated _id"
            assert set(ids) == before[stream], (
                f"{stream}: {len(ids)} rows, sandbox has {len(before[stream])}; "
                f"missing {sorted(before[stream] - set(ids))[:5]}, "
                f"extra {sorted(set(ids) - before[stream])[:5]}"
            )
            assert sorted(primary_key(cur, schema, stream)) == sorted(
                specs[stream]["primary_keys"]
            ), stream
            types = column_types(cur, schema, stream)
            for column in datetime_properties(specs[stream]["schema"]):
                if column in types:
                    assert types[column] == "timestamp with time zone", (
                        f"{stream}.{column} is {types[column]}"
                    )
                    checked_timestamps += 1
            naive = [c for c, ty in types.items() if ty == "timestamp without time zone"]
            assert not naive, f"{stream}: timestamp without time zone: {naive}"
        assert checked_timestamps > 0, "no date-time column was checked"

    # A day passes in the sandbox: new messages, recipients, events...
    e2e_sandbox.advance(days=1)
    after = {stream: e2e_sandbox.ids(stream) for stream in streams}
    new = {stream: after[stream] - before[stream] for stream in streams}
    assert any(new.values()), "advancing the sandbox created no records"

    state_id = "sandbox:tap-mixmax-to-target-postgres"
    state_out, _ = meltano(["state", "get", state_id], env)
    state = json.loads(state_out[state_out.index("{") : state_out.rindex("}") + 1])
    assert state.get("singer_state", {}).get("bookmarks"), f"no bookmarks in {state_id}"

    e2e_sandbox.clear_requests()
    meltano(["run", "tap-mixmax", "target-postgres"], env)
    assert_read_only_what_changed(e2e_sandbox, state["singer_state"])

    with pg_connect(postgres) as conn, conn.cursor() as cur:
        for stream in streams:
            if not after[stream]:
                continue
            ids = table_ids(cur, schema, stream, key_sql(stream))
            assert len(ids) == len(set(ids)), f"{stream}: duplicated _id after the 2nd run"
            got = set(ids)
            assert new[stream] <= got, (
                f"{stream}: new rows missing: {sorted(new[stream] - got)[:5]}"
            )
            assert after[stream] <= got, f"{stream}: rows missing after the 2nd run"
            # Rows the sandbox no longer lists may stay (soft delete), but nothing unknown.
            assert got <= after[stream] | before[stream], f"{stream}: unknown ids"
