"""The README's install paths, for real: the wheel in a fresh virtualenv, and the Meltano
plugin definition added to a fresh Meltano project.

The wheel is built once (scripts/check_build.sh, as the GitHub build workflow runs it):
it checks the metadata, installs the wheel into a new venv, and runs the README's quick
start with only that venv's bin on PATH. The Meltano test then installs the same wheel
through `meltano add --from-ref plugin/extractors/tap-mixmax.yml`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from e2e_helpers import MELTANO, REPO, meltano_env, row_id, run, selected_streams

pytestmark = pytest.mark.e2e

PLUGIN_REF = REPO / "plugin" / "extractors" / "tap-mixmax.yml"


@pytest.fixture(scope="module")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the wheel, check_build.sh's output)."""
    dist = tmp_path_factory.mktemp("dist")
    env = {
        **os.environ,
        "PYTHON": getattr(sys, "_base_executable", sys.executable),
        "DIST_DIR": str(dist),
    }
    env.pop("VIRTUAL_ENV", None)
    output, _ = run([str(REPO / "scripts" / "check_build.sh")], env, timeout=900)
    wheels = sorted(dist.glob("tap_mixmax-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0], output


def test_wheel_installs_in_a_fresh_venv_and_runs_the_quick_start(built_wheel):
    _, output = built_wheel
    assert re.search(r"^--about ok: tap-mixmax ", output, re.M), output
    assert re.search(r"^wheel modules load from ", output, re.M), output
    assert re.search(r"^run_readme: .*/wheel/bin; sync 1: .*sync 2 from state\.json", output, re.M)
    assert "check_build: ok" in output


def meltano_in(project: Path, args: list[str], env: dict[str, str]) -> str:
    output, _ = run([str(MELTANO), "--cwd", str(project), *args], env)
    return output


def test_meltano_add_from_ref_in_a_fresh_project(built_wheel, e2e_sandbox, tmp_path):
    wheel, _ = built_wheel
    env = meltano_env(None, None, tmp_path)
    env.pop("MELTANO_ENVIRONMENT")  # the new project's own default environment

    # As docs/meltano.md says: init, add from the definition without installing, point
    # pip_url at the wheel, add a loader, install.
    project = tmp_path / "project"
    run([str(MELTANO), "init", str(project), "--no-usage-stats"], env)
    add = ["add", "--plugin-type", "extractor", "tap-mixmax", "--from-ref", str(PLUGIN_REF)]
    added = meltano_in(project, [*add, "--no-install"], env)
    assert "Added extractor 'tap-mixmax'" in added, added
    config = yaml.safe_load((project / "meltano.yml").read_text())
    [tap] = config["plugins"]["extractors"]
    assert set(config["plugins"]) == {"extractors"}, "add created another plugin"
    tap["pip_url"] = str(wheel)
    repo_project = yaml.safe_load((REPO / "meltano.yml").read_text())
    config["plugins"]["loaders"] = [
        loader for loader in repo_project["plugins"]["loaders"] if loader["name"] == "target-jsonl"
    ]
    (project / "meltano.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    meltano_in(project, ["install"], env)

    listed = meltano_in(project, ["config", "list", "tap-mixmax"], env)
    assert "one of the following combinations is required" in listed, listed
    assert "api_token (required by group" in listed, listed

    out = tmp_path / "jsonl"
    run_env = {
        **env,
        "TAP_MIXMAX_API_URL": e2e_sandbox.url,
        "TAP_MIXMAX_API_TOKEN": e2e_sandbox.token,
        "TAP_MIXMAX_START_DATE": "2020-01-01T00:00:00Z",
        "TARGET_JSONL_DESTINATION_PATH": str(out),
        "TARGET_JSONL_DO_TIMESTAMP_FILE": "false",
    }
    meltano_in(project, ["run", "tap-mixmax", "target-jsonl"], run_env)

    venv = project / ".meltano" / "extractors" / "tap-mixmax" / "venv"
    [origin] = venv.glob("lib/python*/site-packages/tap_mixmax-*.dist-info/direct_url.json")
    assert json.loads(origin.read_text())["url"].endswith(wheel.name), (
        "not installed from the wheel"
    )
    expected = {stream: e2e_sandbox.ids(stream) for stream in selected_streams()}
    landed = {path.stem: path for path in out.glob("*.jsonl")}
    assert set(landed) == {stream for stream, ids in expected.items() if ids}, sorted(landed)
    for stream, path in sorted(landed.items()):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        assert {row_id(stream, row.get) for row in rows} == expected[stream], stream
