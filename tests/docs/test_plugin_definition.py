"""plugin/extractors/tap-mixmax.yml, the Hub-format definition, stays meltano.yml's tap-mixmax."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PLUGIN_REF = REPO / "plugin" / "extractors" / "tap-mixmax.yml"
# What `meltano add --from-ref` takes from the file and meltano.yml declares too.
SHARED_KEYS = ("namespace", "executable", "capabilities", "settings_group_validation", "settings")
# Meltano Hub's required keys for a plugin definition, plus what a user reads first.
HUB_KEYS = ("name", "variant", "namespace", "label", "description", "repo", "pip_url")


def project_tap() -> dict:
    project = yaml.safe_load((REPO / "meltano.yml").read_text())
    return next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-mixmax")


def definition() -> dict:
    return yaml.safe_load(PLUGIN_REF.read_text())


def test_the_definition_is_committed_where_git_does_not_ignore_it():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(PLUGIN_REF)], cwd=REPO, check=False
    ).returncode
    assert ignored == 1, f"{PLUGIN_REF.relative_to(REPO)} is git-ignored"


def test_settings_and_capabilities_equal_meltano_yml():
    tap, ref = project_tap(), definition()
    for key in SHARED_KEYS:
        assert ref[key] == tap[key], f"{key} differs between {PLUGIN_REF.name} and meltano.yml"


def test_hub_format_keys_and_installable_pip_url():
    ref = definition()
    for key in HUB_KEYS:
        assert ref.get(key), key
    assert ref["name"] == "tap-mixmax"
    # pyproject.toml's [project.urls] (tomllib is 3.11+; the project supports 3.10)
    found = re.search(r'^Homepage = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M)
    assert found, "no Homepage in pyproject.toml"
    homepage = found[1]
    assert ref["repo"] == homepage
    assert ref["pip_url"] in (f"git+{homepage}.git", "tap-mixmax")
    assert "select" not in ref and "config" not in ref, "a definition, not a project's choices"
