"""What the target matrix needs besides the fixtures: the targets, their stores, and the
README's "Types in each target" table, which is the one statement of what each target
makes of each kind of column (the tests check it; nothing else says it).

A store is read into `Table`s: column name -> type as the README names it, and rows as
Python values. `canonical()` turns a stored value and an emitted one into the same form,
so a row can be compared with the record the tap wrote, whatever the target did to it.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import json
import re
import subprocess
import typing as t
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from e2e_helpers import REPO, TOOLS, pg_connect, row_id

from tap_mixmax.records import declared_type

TARGETS_DIR = TOOLS / "targets"
README = REPO / "README.md"
TYPES_TABLE = ("<!-- target-types:start -->", "<!-- target-types:end -->")
KINDS = ("date-time", "object", "array", "integer")
# Targets run in this zone: one that read our UTC timestamps as local time would show it.
TARGET_TZ = "America/New_York"
# PostgreSQL's type names, shortened as the README writes them.
PG_ALIASES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "character varying": "varchar",
}
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Target:
    """One row of the README's table: where the target lives and how it stores rows."""

    name: str  # the first `code` of its README row
    venv: str  # .tools/targets/<venv> (scripts/tools.sh targets)
    executable: str
    loader: str  # the meltano.yml loader whose settings it runs with
    store: str  # postgres | duckdb | jsonl | csv
    upserts: bool  # a rerun adds no rows
    appends: bool = False  # each run adds its rows to the same files (target-jsonl)
    blank_is_null: bool = False  # an empty string is stored as null

    @property
    def path(self) -> Path:
        return TARGETS_DIR / self.venv / "bin" / self.executable


TARGETS = (
    Target(
        "target-postgres", "postgres-tz", "target-postgres-tz", "target-postgres", "postgres",
        upserts=True,
    ),
    # The loader's settings too: it is the target our wrapper runs, unwrapped.
    Target(
        "meltanolabs-target-postgres", "meltanolabs-postgres", "target-postgres",
        "target-postgres", "postgres", upserts=True,
    ),
    Target(
        "pipelinewise-target-postgres", "pipelinewise-postgres", "target-postgres",
        "target-postgres-pipelinewise", "postgres", upserts=True, blank_is_null=True,
    ),
    Target(
        "target-duckdb", "duckdb", "target-duckdb-nosniff", "target-duckdb", "duckdb",
        upserts=True, blank_is_null=True,
    ),
    Target(
        "target-jsonl", "jsonl", "target-jsonl", "target-jsonl", "jsonl", upserts=False,
        appends=True,
    ),
    Target(
        "target-csv", "csv", "target-csv", "target-csv", "csv", upserts=False,
        blank_is_null=True,
    ),
)  # fmt: skip


def documented_types() -> dict[str, dict[str, set[str]]]:
    """README table: target -> kind -> the column types it may make (its `code` words)."""
    text = README.read_text()
    start, end = TYPES_TABLE
    body = text[text.index(start) + len(start) : text.index(end)]
    rows = [line for line in body.strip().splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header[1:] == list(KINDS), header
    table = {}
    for line in rows[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = re.findall(r"`([^`]+)`", cells[0])[0]
        table[name] = {
            kind: set(re.findall(r"`([^`]+)`", cell))
            for kind, cell in zip(KINDS, cells[1:], strict=True)
        }
    return table


def loader_settings(loader: str) -> list[dict[str, t.Any]]:
    """A loader's settings, as meltano.yml declares them."""
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    plugin = next(p for p in project["plugins"]["loaders"] if p["name"] == loader)
    return list(plugin["settings"])


def target_config(
    target: Target, workdir: Path, pg: dict[str, str] | None, schema: str
) -> dict[str, t.Any]:
    """meltano.yml's settings for the target, pointed at this test's database or files."""
    settings = loader_settings(target.loader)
    config = {s["name"]: s["value"] for s in settings if "value" in s}
    if target.store == "postgres":
        assert pg is not None
        # MeltanoLabs calls it `database`, pipelinewise `dbname`.
        names = {s["name"] for s in settings}
        database_key = "dbname" if "dbname" in names else "database"
        config.update(
            host=pg["PGHOST"],
            port=int(pg["PGPORT"]),
            user=pg["PGUSER"],
            password=pg["PGPASSWORD"],
            default_target_schema=schema,
        )
        config[database_key] = pg["PGDATABASE"]
    elif target.store == "duckdb":
        config.update(filepath=str(workdir / "warehouse.duckdb"), default_target_schema=schema)
    elif target.store == "jsonl":
        config.update(destination_path=str(workdir / "jsonl"), do_timestamp_file=False)
    else:
        config.update(output_path=str(workdir / "csv"))
    return config


# ------------------------------------------------------------------------------ stores
@dataclass
class Table:
    columns: dict[str, str]  # stored column name -> type as the README names it
    rows: list[dict[str, t.Any]] = field(default_factory=list)

    def column(self, prop: str) -> str | None:
        """The stored name of a property's column (some targets lower-case names)."""
        if prop in self.columns:
            return prop
        folded = {name.casefold(): name for name in self.columns}
        return folded.get(prop.casefold())

    def stored(self, prop: str) -> str:
        """column(), of a property the table must have."""
        name = self.column(prop)
        assert name is not None, f"no column for {prop!r} in {sorted(self.columns)}"
        return name

    def reader(self, row: dict[str, t.Any]) -> t.Callable[[str], t.Any]:
        """A property's value in one stored row, whatever case the target stored it in."""
        return lambda prop: row[self.stored(prop)]


def read_postgres(pg: dict[str, str], schema: str) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    with pg_connect(pg) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
            (schema,),
        )
        for table, column, sql_type in cur.fetchall():
            base = re.sub(r"\(.*\)", "", sql_type)
            tables.setdefault(table, Table({})).columns[column] = PG_ALIASES.get(base, base)
        for name, table in tables.items():
            cur.execute(f'SELECT * FROM "{schema}"."{name}"')
            names = [d.name for d in cur.description]
            table.rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return tables


# Runs in target-duckdb's own venv (its duckdb reads its own files): tables as JSON.
DUCKDB_DUMP = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
out = {}
for table, column, kind in con.execute(
    "SELECT table_name, column_name, data_type FROM information_schema.columns "
    "WHERE table_schema = ? ORDER BY table_name, ordinal_position", [sys.argv[2]]
).fetchall():
    out.setdefault(table, {"columns": {}, "rows": []})["columns"][column] = kind
for table, entry in out.items():
    cursor = con.execute(f'SELECT * FROM "{sys.argv[2]}"."{table}"')
    names = [d[0] for d in cursor.description]
    entry["rows"] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
print(json.dumps(out, default=str))
"""


def read_duckdb(path: Path, schema: str) -> dict[str, Table]:
    python = TARGETS_DIR / "duckdb" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", DUCKDB_DUMP, str(path), schema],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {name: Table(e["columns"], e["rows"]) for name, e in json.loads(done.stdout).items()}


def json_kind(value: t.Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return {str: "string", dict: "object", list: "array", int: "integer", float: "number"}[
        type(value)
    ]


def read_jsonl(directory: Path) -> dict[str, Table]:
    tables = {}
    for path in directory.glob("*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        kinds: dict[str, set[str]] = {}
        for row in rows:
            for name, value in row.items():
                if value is not None:
                    kinds.setdefault(name, set()).add(json_kind(value))
        columns = {name: "/".join(sorted(found)) for name, found in kinds.items()}
        tables[path.stem] = Table(columns, rows)
    return tables


def read_csv(directory: Path) -> dict[str, Table]:
    tables = {}
    for path in directory.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            tables[path.stem] = Table(dict.fromkeys(reader.fieldnames or [], "text"), rows)
    return tables


def read_store(
    target: Target, workdir: Path, pg: dict[str, str] | None, schema: str
) -> dict[str, Table]:
    if target.store == "postgres":
        assert pg is not None
        return read_postgres(pg, schema)
    if target.store == "duckdb":
        return read_duckdb(workdir / "warehouse.duckdb", schema)
    if target.store == "jsonl":
        return read_jsonl(workdir / "jsonl")
    return read_csv(workdir / "csv")


# ------------------------------------------------------------------------------ values
def kind_of(prop: dict[str, t.Any]) -> str | None:
    """date-time, or the property's one JSON type."""
    return "date-time" if prop.get("format") == "date-time" else declared_type(prop)


def canonical(kind: str | None, value: t.Any, target: Target, emitted: bool) -> t.Any:
    """One comparable form of a value, emitted by the tap or read back from a store."""
    if target.blank_is_null and value == "":
        return None
    if target.store == "csv" and not emitted and value is not None:
        if kind in ("object", "array"):
            return ast.literal_eval(value)
        if kind == "integer":
            return int(value)
        if kind == "boolean":
            return {"True": True, "False": False}[value]
    if value is None:
        return None
    if kind == "date-time":
        moment = (
            value
            if isinstance(value, dt.datetime)
            else dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        )
        if moment.tzinfo is None:
            # A zone-less column holds the UTC wall time; files must keep the offset.
            assert target.store in ("postgres", "duckdb"), f"{target.name}: no zone in {value!r}"
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    if kind in ("object", "array") and isinstance(value, str) and not emitted:
        return json.loads(value)  # DuckDB's JSON arrives as text
    if kind == "integer" and isinstance(value, (Decimal, str)):
        return int(value)
    if kind == "number" and isinstance(value, (int, float, Decimal, str)):
        return float(value)  # text in a CSV, a Decimal from numeric, or the emitted number
    return value


def assert_one_row_per_served_key(
    tables: dict[str, Table],
    sandbox: t.Any,
    accounts: list[str] | None = None,
    refused: frozenset[str] = frozenset(),
) -> None:
    """Each loaded table holds one row per key the sandbox serves, and every such key
    (`(account, id)` with accounts); a loss or a duplicate names its table. The API
    refuses the `refused` streams (a plan without them): their tables must be empty."""
    for stream, table in tables.items():
        if stream in refused:
            assert not table.rows, f"{stream}: rows from a refused endpoint"
            continue
        want: set[tuple[str, ...]]
        got: list[tuple[str, ...]]
        if accounts is None:
            want = {(i,) for i in sandbox.ids(stream)}
            got = [(row_id(stream, table.reader(row)),) for row in table.rows]
        else:
            want = {
                (name, i) for user, name in enumerate(accounts) for i in sandbox.ids(stream, user)
            }
            account_column = table.stored("account")
            got = [
                (str(row[account_column]), row_id(stream, table.reader(row))) for row in table.rows
            ]
        assert len(got) == len(set(got)), f"{stream}: {len(got) - len(set(got))} duplicated rows"
        assert set(got) == want, (
            f"{stream}: {len(want - set(got))} rows lost, {len(set(got) - want)} unexpected"
        )
