"""meltano.yml's and the plugin file's `settings:` lists are SETTINGS, written by the generator."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import gen_plugin_settings as gen  # noqa: E402
import gen_readme  # noqa: E402

from tap_mixmax.settings import SETTINGS  # noqa: E402


def tap_settings(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text())
    if "plugins" in data:
        data = next(p for p in data["plugins"]["extractors"] if p["name"] == "tap-mixmax")
    return data["settings"]


def test_the_committed_files_are_what_the_generator_writes():
    assert gen.stale_files(write=False) == [], "run `make docs`"


@pytest.mark.parametrize("path", list(gen.FILES), ids=lambda p: p.name)
def test_each_file_declares_every_setting_with_its_default(path):
    declared = {s["name"]: s for s in tap_settings(path)}
    properties = SETTINGS.to_dict()["properties"]
    assert list(declared) == list(properties)
    for name, prop in properties.items():
        assert declared[name]["label"] == prop["title"], name
        assert declared[name].get("value") == prop.get("default"), name
        assert declared[name].get("sensitive", False) is bool(prop.get("secret")), name
        assert declared[name]["description"].startswith(prop["description"]), name


def test_a_drifted_default_is_rewritten_and_the_rest_is_kept():
    path = REPO / "meltano.yml"
    current = path.read_text()
    drifted = current.replace("      value: 300\n", "      value: 100\n", 1)
    assert drifted != current
    assert gen.render(drifted, gen.FILES[path]) == current


def test_only_the_lines_between_the_markers_change():
    text = f"# head comment\nsettings:\n{gen.START}\n- name: old\n{gen.END}\n# tail: kept\n"
    rendered = gen.render(text, 0)
    assert rendered.startswith(f"# head comment\nsettings:\n{gen.START}\n- name: api_token\n")
    assert rendered.endswith(f"{gen.END}\n# tail: kept\n")
    assert "name: old" not in rendered


def test_missing_markers_stop_the_generator():
    with pytest.raises(SystemExit, match="markers are missing"):
        gen.render("settings:\n- name: api_token\n", 0)


def test_docs_check_fails_when_a_file_drifts(tmp_path, monkeypatch, capsys):
    files = {}
    for path, indent in gen.FILES.items():
        copy = tmp_path / path.name
        copy.write_text(path.read_text())
        files[copy] = indent
    monkeypatch.setattr(gen, "FILES", files)
    monkeypatch.setattr(sys, "argv", ["gen_readme.py", "--check"])
    assert gen_readme.main() == 0
    drifted = tmp_path / "meltano.yml"
    drifted.write_text(drifted.read_text().replace("      value: 900\n", "      value: 90\n", 1))
    assert gen_readme.main() == 1
    assert "meltano.yml is stale" in capsys.readouterr().err
