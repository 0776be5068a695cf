"""Every documented target loads every stream: one row per key, and the README's types.

One full sync and one incremental sync (after a sandbox day) are saved once, from a real
tap process, and piped into each target of the README's "Types in each target" table,
each from its own virtualenv (.tools/targets, `scripts/tools.sh targets`) and with the
settings its meltano.yml loader declares. After each load, every column of every stream
must have the type the README names for its kind, every row must equal the record the
tap emitted, and each key must appear once (per run for the targets that do not upsert).
Upserting targets then take the incremental sync again and must add nothing.

The loaders that meltano.yml defines also run under Meltano itself: target-duckdb with
`meltano run` (full, then incremental), pipelinewise and target-csv with `meltano invoke`
on the saved sync; target-postgres and target-jsonl have their own `meltano run` tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import typing as t
from pathlib import Path

import pytest
from e2e_helpers import (
    MELTANO,
    REPO,
    meltano,
    meltano_env,
    row_id,
    selected_streams,
    unique_name,
)
from saved_runs import RUN_TIMEOUT, TAP, Run, Saved, tap_env
from target_matrix import (
    KINDS,
    README,
    TARGET_TZ,
    TARGETS,
    Table,
    Target,
    canonical,
    documented_types,
    kind_of,
    read_duckdb,
    read_store,
    target_config,
)

Key = tuple[str, ...]
MODES = ("api_token", "accounts")


# -------------------------------------------------------------------------- the checks
def stored_key(table: Table, row: dict[str, t.Any], key_properties: list[str]) -> Key:
    return tuple(str(row[table.column(prop) or prop]) for prop in key_properties)


def emitted_key(record: dict[str, t.Any], key_properties: list[str]) -> Key:
    return tuple(str(record[prop]) for prop in key_properties)


def check_types(target_name: str, tables: dict[str, Table], saved: Saved) -> None:
    """Every column of every kind has a type the README's row names, and each one shows."""
    documented = documented_types()[target_name]
    seen: dict[str, set[str]] = {kind: set() for kind in KINDS}
    wrong = []
    for stream, table in tables.items():
        for prop, prop_schema in saved.schema(stream)["schema"]["properties"].items():
            kind, column = kind_of(prop_schema), table.column(prop)
            if kind not in KINDS or column is None or column not in table.columns:
                continue
            made = table.columns[column]
            seen[kind].add(made)
            if made not in documented[kind]:
                wrong.append(f"{stream}.{prop} ({kind}) is {made}, README says {documented[kind]}")
    assert not wrong, "\n".join(wrong)
    for kind in KINDS:
        assert seen[kind] == documented[kind], (
            f"{target_name} {kind}: made {seen[kind]}, README says {documented[kind]}"
        )


def check_rows(
    target: Target,
    tables: dict[str, Table],
    saved: Saved,
    expected: dict[str, dict[Key, dict[str, t.Any]]],
    row_counts: dict[str, int],
) -> None:
    """Each table holds exactly the expected keys (`row_counts` rows) and the tap's values."""
    assert set(tables) == {s for s, rows in expected.items() if rows}, sorted(tables)
    for stream, table in tables.items():
        keys = saved.schema(stream)["key_properties"]
        stored = [stored_key(table, row, keys) for row in table.rows]
        assert len(stored) == row_counts[stream], (
            f"{target.name} {stream}: {len(stored)} rows, expected {row_counts[stream]}"
        )
        assert set(stored) == set(expected[stream]), (
            f"{target.name} {stream}: missing {sorted(set(expected[stream]) - set(stored))[:3]}, "
            f"extra {sorted(set(stored) - set(expected[stream]))[:3]}"
        )
        latest = {stored_key(table, row, keys): row for row in table.rows}  # last one wins
        properties = saved.schema(stream)["schema"]["properties"]
        for key, row in latest.items():
            record = expected[stream][key]
            for prop, prop_schema in properties.items():
                column = table.column(prop)
                if column is None:
                    continue
                kind = kind_of(prop_schema)
                got = canonical(kind, row.get(column), target, emitted=False)
                want = canonical(kind, record.get(prop), target, emitted=True)
                assert got == want, f"{target.name} {stream} {key} {prop}: {got!r} != {want!r}"


def by_key(saved: Saved, runs: list[Run]) -> dict[str, dict[Key, dict[str, t.Any]]]:
    """The newest record of each key over `runs`, per stream."""
    out: dict[str, dict[Key, dict[str, t.Any]]] = {stream: {} for stream in saved.full.schemas}
    for run in runs:
        for stream, records in run.records.items():
            keys = saved.schema(stream)["key_properties"]
            for record in records:
                out[stream][emitted_key(record, keys)] = record
    return out


def load(target: Target, config: Path, run: Run, workdir: Path) -> None:
    """Pipe a saved run into the target; it must end by echoing the run's last STATE."""
    env = {**tap_env(), "TZ": TARGET_TZ}
    with run.path.open("rb") as source:
        done = subprocess.run(
            [str(target.path), "--config", str(config)],
            stdin=source,
            capture_output=True,
            cwd=workdir,
            env=env,
            timeout=RUN_TIMEOUT,
        )
    assert done.returncode == 0, (
        f"{target.name} exited {done.returncode}:\n{done.stderr.decode()[-4000:]}"
    )
    states = [line for line in done.stdout.decode().splitlines() if line.strip()]
    assert states and json.loads(states[-1]) == run.last_state, f"{target.name}: final STATE"


# -------------------------------------------------------------------------- the matrix
def test_the_readme_table_names_exactly_the_targets_of_the_matrix():
    """Fast (no e2e marker): the README and the matrix list the same targets and kinds."""
    table = documented_types()
    assert list(table) == [target.name for target in TARGETS]
    for name, kinds in table.items():
        assert all(kinds[kind] for kind in KINDS), f"{name}: a kind without a type"


def served_keys(saved: Saved, table: Table, stream: str) -> set[Key]:
    """The stored rows' keys in the sandbox's terms (`Saved.before`)."""
    keys: set[Key] = set()
    for row in table.rows:
        own = row_id(stream, table.reader(row))
        keys.add((str(row[table.stored("account")]), own) if saved.mode == "accounts" else (own,))
    return keys


@pytest.mark.e2e
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", TARGETS, ids=[target.name for target in TARGETS])
def test_target_loads_full_then_incremental(target, mode, tmp_path, request):
    """Each load is checked against what the tap emitted (check_rows: one row per key,
    every key, the tap's values) and the rerun of an upserting target adds nothing."""
    assert target.path.exists(), f"{target.path} missing: run `scripts/tools.sh targets`"
    saved: Saved = request.getfixturevalue("saved" if mode == "api_token" else "saved_accounts")
    pg = request.getfixturevalue("postgres") if target.store == "postgres" else None
    schema = unique_name("matrix")
    config = tmp_path / "target-config.json"
    config.write_text(json.dumps(target_config(target, tmp_path, pg, schema)))
    full, incremental = saved.full, saved.incremental

    # The saved full sync is every sandbox row once (per account).
    for stream, records in full.records.items():
        keys = [saved.served_key(stream, r) for r in records]
        assert len(keys) == len(set(keys)) and set(keys) == saved.before[stream], stream
    if mode == "accounts":  # shared objects: the same id under several accounts
        assert any(len({key[1:] for key in keys}) < len(keys) for keys in saved.before.values()), (
            "no object is shared between accounts"
        )

    load(target, config, full, tmp_path)
    tables = read_store(target, tmp_path, pg, schema)
    check_types(target.name, tables, saved)
    counts = {stream: len(records) for stream, records in full.records.items()}
    check_rows(target, tables, saved, by_key(saved, [full]), counts)

    load(target, config, incremental, tmp_path)
    tables = read_store(target, tmp_path, pg, schema)
    if target.upserts:
        expected = by_key(saved, [full, incremental])
        counts = {stream: len(keys) for stream, keys in expected.items()}
        for stream, table in tables.items():  # what the sandbox lists now is all there
            stored = served_keys(saved, table, stream)
            assert saved.after[stream] <= stored <= saved.after[stream] | saved.before[stream]
    elif target.appends:
        expected = by_key(saved, [full, incremental])
        counts = {
            stream: len(full.records.get(stream, [])) + len(incremental.records.get(stream, []))
            for stream in expected
        }
    else:  # rewrites the files of the streams the run has records for
        expected = {
            stream: by_key(saved, [incremental if incremental.records.get(stream) else full])[
                stream
            ]
            for stream in full.schemas
        }
        counts = {stream: len(keys) for stream, keys in expected.items()}
    check_rows(target, tables, saved, expected, counts)

    if target.upserts:
        load(target, config, incremental, tmp_path)
        again = read_store(target, tmp_path, pg, schema)
        assert {s: len(tb.rows) for s, tb in again.items()} == {
            s: len(tb.rows) for s, tb in tables.items()
        }, f"{target.name}: the rerun added rows"


# -------------------------------------------------------------------------- under Meltano
def meltano_invoke(loader: str, run: Run, env: dict[str, str]) -> None:
    with run.path.open("rb") as source:
        done = subprocess.run(
            [str(MELTANO), "invoke", loader],
            stdin=source,
            capture_output=True,
            cwd=REPO,
            env={**env, "TZ": TARGET_TZ},
            timeout=RUN_TIMEOUT,
        )
    assert done.returncode == 0, done.stderr.decode()[-6000:]


@pytest.mark.e2e
def test_meltano_runs_tap_into_duckdb_then_incremental(e2e_sandbox, saved, tmp_path):
    """The loader meltano.yml defines for an ad hoc warehouse, driven by Meltano itself."""
    schema = unique_name("meltano_duckdb")
    warehouse = tmp_path / "warehouse.duckdb"
    env = meltano_env(
        e2e_sandbox,
        None,
        tmp_path,
        TARGET_DUCKDB_FILEPATH=str(warehouse),
        TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA=schema,
    )
    streams = selected_streams()
    before = {stream: e2e_sandbox.ids(stream) for stream in streams}
    meltano(["run", "tap-mixmax", "target-duckdb"], env)
    tables = read_duckdb(warehouse, schema)
    assert set(tables) == {s for s in streams if before[s]}
    for stream, table in tables.items():
        ids = [row_id(stream, table.reader(row)) for row in table.rows]
        assert len(ids) == len(set(ids)) and set(ids) == before[stream], stream
    check_types("target-duckdb", tables, saved)  # same tap, same schemas as the saved sync

    e2e_sandbox.advance(days=1)
    after = {stream: e2e_sandbox.ids(stream) for stream in streams}
    meltano(["run", "tap-mixmax", "target-duckdb"], env)
    for stream, table in read_duckdb(warehouse, schema).items():
        ids = [row_id(stream, table.reader(row)) for row in table.rows]
        assert len(ids) == len(set(ids)), f"{stream}: duplicated after the 2nd run"
        assert after[stream] <= set(ids) <= after[stream] | before[stream], stream


@pytest.mark.e2e
@pytest.mark.parametrize("loader", ["target-postgres-pipelinewise", "target-csv"])
def test_meltano_drives_the_loader_on_the_saved_sync(loader, saved, tmp_path, request):
    """meltano.yml's definition (pip_url, executable, settings) loads the saved full sync."""
    target = next(t for t in TARGETS if t.loader == loader)
    pg = request.getfixturevalue("postgres") if target.store == "postgres" else None
    schema = unique_name("meltano_invoke")
    prefix = loader.upper().replace("-", "_")
    extra = (
        {f"{prefix}_DEFAULT_TARGET_SCHEMA": schema}
        if target.store == "postgres"
        else {f"{prefix}_OUTPUT_PATH": str(tmp_path / "csv")}
    )
    env = meltano_env(None, pg, tmp_path, **extra)
    meltano_invoke(loader, saved.full, env)
    tables = read_store(target, tmp_path, pg, schema)
    check_types(target.name, tables, saved)
    counts = {stream: len(records) for stream, records in saved.full.records.items()}
    check_rows(target, tables, saved, by_key(saved, [saved.full]), counts)


@pytest.mark.e2e
def test_the_readme_duckdb_one_liner_builds_a_warehouse(saved, tmp_path):
    """The README's commands, with the venv they create swapped for the matrix's."""
    text = README.read_text()
    block = text[text.index("### DuckDB: a warehouse in one file") :]
    commands = re.search(r"```bash\n(.*?)```", block, re.S)
    assert commands, "no DuckDB code block in the README"
    lines = commands[1].strip().splitlines()
    assert lines[0].startswith("python3 -m venv .duckdb"), lines[0]
    venv_bin = str(Path(target_for("target-duckdb").path).parent) + "/"
    (tmp_path / "config.json").write_text(saved.config.read_text())
    env = {**tap_env(), "PATH": f"{TAP.parent}:{os.environ['PATH']}"}
    for line in lines[1:]:
        done = subprocess.run(
            ["bash", "-c", line.replace(".duckdb/bin/", venv_bin)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        assert done.returncode == 0, f"{line}\n{done.stderr[-3000:]}"
    # The last command prints the messages count: all the sandbox's messages.
    assert re.search(rf"\b{len(saved.sandbox.ids('messages'))}\b", done.stdout), done.stdout


def target_for(name: str) -> Target:
    return next(target for target in TARGETS if target.name == name)
