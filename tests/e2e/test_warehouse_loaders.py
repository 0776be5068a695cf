"""The warehouse loaders no server can run here, through their own code, offline.

The saved full syncs (api_token and accounts) with `_extra` filled in every row, as
Mixmax's new fields fill it, go through each loader's schema mapping and record
preparation (tests/e2e/loader_probe.py, in the loader's venv under .tools/targets), once
as the tap emits them by default and once with `open_objects_as: json_text`. The README's
"Warehouse loaders" table says what each makes of each kind of column and which setting
it needs; with that setting, no record is refused and no value is left out of its row.
"""

from __future__ import annotations

import json
import re
import subprocess
import typing as t
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from saved_runs import Saved
from target_matrix import KINDS, README, TARGETS_DIR, kind_of

from tap_mixmax.open_objects import AS_JSON_TEXT, AS_OBJECT, declare, open_object_paths

pytestmark = pytest.mark.e2e

PROBE = Path(__file__).with_name("loader_probe.py")
TABLE = ("<!-- loader-types:start -->", "<!-- loader-types:end -->")
COLUMNS = (*KINDS, "open object", "open object, json_text")
SHARED_EXTRA = {"surprise": "every row has it"}
RECORDS_PER_STREAM = 60
# A z3z1ma denormalized row refuses a nested field its schema does not declare; the tap
# keeps those where they arrive (README, "Fields the schema does not know").
UNDECLARED_NESTED = re.compile(r"has no field named")


@dataclass(frozen=True)
class Loader:
    name: str  # the code words of its README row's first cell
    venv: str
    probe: str  # loader_probe.py's name for it
    needs: tuple[str, ...]  # the open_objects_as values it loads without loss


EITHER = (AS_OBJECT, AS_JSON_TEXT)
LOADERS = (
    Loader("z3-target-bigquery denormalized: false", "bigquery-z3z1ma", "bigquery-fixed", EITHER),
    Loader(
        "z3-target-bigquery denormalized: true", "bigquery-z3z1ma", "bigquery-denormalized",
        (AS_JSON_TEXT,),
    ),
    Loader("meltanolabs-target-snowflake", "snowflake", "snowflake", EITHER),
    Loader(
        "pipelinewise-target-redshift", "redshift-pipelinewise", "redshift-pipelinewise", EITHER
    ),
    Loader("target-redshift", "redshift-datamill", "redshift-datamill", (AS_JSON_TEXT,)),
)  # fmt: skip


def documented() -> dict[str, dict[str, set[str]]]:
    """README loader table: loader -> column -> the `code` words of its cell."""
    text = README.read_text()
    start, end = TABLE
    rows = [line for line in text[text.index(start) + len(start) : text.index(end)].splitlines()]
    rows = [line for line in rows if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert header[1 : 1 + len(COLUMNS)] == list(COLUMNS), header
    table = {}
    for line in rows[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        name = " ".join(re.findall(r"`([^`]+)`", cells[0]))  # its code words
        table[name] = {
            column: set(re.findall(r"`([^`]+)`", cell))
            for column, cell in zip(COLUMNS, cells[1:], strict=False)
        }
    return table


def messages(saved: Saved, how: str) -> list[dict[str, t.Any]]:
    """The saved full sync, `_extra` filled, as the tap emits it with `how` (at most
    RECORDS_PER_STREAM records of each stream: the loaders' code is slow to run)."""
    out, finish, count = [], {}, Counter[str]()
    for line in saved.full.path.read_text().splitlines():
        message = json.loads(line)
        if message["type"] == "SCHEMA":
            message["schema"], finish[message["stream"]] = declare(message["schema"], how)
        elif message["type"] == "RECORD":
            count[message["stream"]] += 1
            if count[message["stream"]] > RECORDS_PER_STREAM:
                continue
            message["record"]["_extra"] = dict(SHARED_EXTRA)
            convert = finish[message["stream"]]
            message["record"] = convert(message["record"]) if convert else message["record"]
        out.append(message)
    return out


def probe(loader: Loader, files: list[Path]) -> list[dict[str, t.Any]]:
    python = TARGETS_DIR / loader.venv / "bin" / "python"
    assert python.exists(), f"{python} missing: run `scripts/tools.sh targets`"
    done = subprocess.run(
        [str(python), "-W", "ignore", str(PROBE), loader.probe, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def runs(saved, saved_accounts, tmp_path_factory) -> list[tuple[Saved, str, Path, list]]:
    """(saved runs, open_objects_as, its file, its messages), both modes and both values."""
    workdir = tmp_path_factory.mktemp("loaders")
    out = []
    for run in (saved, saved_accounts):
        for how in (AS_OBJECT, AS_JSON_TEXT):
            lines = messages(run, how)
            path = workdir / f"{run.mode}-{how}.jsonl"
            path.write_text("".join(json.dumps(m) + "\n" for m in lines))
            out.append((run, how, path, lines))
    return out


@pytest.mark.parametrize("loader", LOADERS, ids=[loader.probe for loader in LOADERS])
def test_loader_maps_every_schema_and_keeps_every_value(loader, runs):
    readme = documented()[loader.name]
    results = probe(loader, [path for _, _, path, _ in runs])
    for (saved, how, _, lines), got in zip(runs, results, strict=True):
        where = f"{loader.name}, {saved.mode}, {how}"
        schemas = {m["stream"]: m["schema"] for m in lines if m["type"] == "SCHEMA"}
        open_column = "open object" if how == AS_OBJECT else "open object, json_text"
        seen: dict[str, set[str]] = {column: set() for column in (*KINDS, open_column)}
        for stream, entry in got.items():
            object_form = saved.schema(stream)["schema"]
            opens = {p for p in open_object_paths(object_form) if "." not in p and "[" not in p}
            for prop, prop_schema in schemas[stream]["properties"].items():
                column = open_column if prop in opens else kind_of(prop_schema)
                if column in seen:
                    made = entry["columns"].get(prop, "dropped")
                    seen[column].add(made)
                    assert made in readme[column], (
                        f"{where}: {stream}.{prop} is {made}, README says {readme[column]}"
                    )
            refused = entry["error"] or ""
            if how in loader.needs:
                if entry["rejected"] and loader.probe == "bigquery-denormalized":
                    assert UNDECLARED_NESTED.search(refused), f"{where}: {stream}: {refused}"
                else:
                    assert entry["rejected"] == 0, f"{where}: {stream}: {refused}"
                assert entry["dropped"] == [], f"{where}: {stream} drops {entry['dropped']}"
            else:  # the README says what goes wrong without the setting
                lost = entry["rejected"] or set(entry["dropped"]) & opens
                assert lost, f"{where}: {stream} loads whole, the README says it does not"
        for column, made in seen.items():
            assert made == readme[column], (
                f"{where}: {column} makes {made}, README {readme[column]}"
            )
