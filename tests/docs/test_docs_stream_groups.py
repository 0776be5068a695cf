"""docs/airflow.md's stream groups are meltano.yml's `tap-mixmax--*` extractors and the DAG's.

Reads the table under "What it runs", the extractors of meltano.yml and the DAG's
STREAM_GROUPS (parsed, not imported: Airflow is not in the project venv).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_DOC = REPO / "docs" / "airflow.md"
DAG_FILE = REPO / "orchestrate" / "airflow" / "dags" / "tap_mixmax_dag.py"
GROUP_PREFIX = "tap-mixmax--"
ROW = re.compile(r"^\| `sync_(\w+)` \| `(tap-mixmax--[\w-]+)` \| ([^|]+) \|$")


def documented_groups() -> dict[str, tuple[str, set[str]]]:
    """extractor -> (task id without `sync_`, streams), from the doc's table."""
    groups = {}
    for line in AIRFLOW_DOC.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            streams = {stream.strip() for stream in match[3].split(",")}
            groups[match[2]] = (match[1], streams)
    return groups


def meltano_groups() -> dict[str, set[str]]:
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    return {
        plugin["name"]: {pattern.split(".", 1)[0] for pattern in plugin.get("select", [])}
        for plugin in project["plugins"]["extractors"]
        if plugin["name"].startswith(GROUP_PREFIX)
    }


def dag_groups() -> dict[str, str]:
    """The DAG's STREAM_GROUPS literal: task id (without `sync_`) -> extractor."""
    tree = ast.parse(DAG_FILE.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "STREAM_GROUPS" for t in targets):
                assert node.value is not None
                return ast.literal_eval(node.value)
    raise AssertionError(f"no STREAM_GROUPS in {DAG_FILE}")


def test_the_doc_table_lists_meltano_yml_groups_with_their_streams():
    documented = documented_groups()
    groups = meltano_groups()
    assert groups, "meltano.yml has no tap-mixmax--* extractor"
    assert set(documented) == set(groups)
    for extractor, streams in groups.items():
        assert documented[extractor][1] == streams, extractor


def test_the_doc_table_matches_the_dag_tasks():
    documented = {extractor: task for extractor, (task, _) in documented_groups().items()}
    assert {task: extractor for extractor, task in documented.items()} == dag_groups()


def test_every_group_named_in_the_docs_exists():
    groups = set(meltano_groups())
    texts = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    named = 0
    for path in texts:
        for found in re.findall(r"tap-mixmax--[a-z][\w-]*[a-z]", path.read_text()):
            name = found.split("-to-", 1)[0]  # a state id: <extractor>-to-<loader>
            assert name in groups, f"{path.relative_to(REPO)} names {found}, not in meltano.yml"
            named += 1
    assert named, "the docs name no group: the check would prove nothing"
