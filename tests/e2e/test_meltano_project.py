"""meltano.yml stays in step with the tap (fast: no processes, runs with the unit tests)."""

from __future__ import annotations

import yaml
from e2e_helpers import REPO, stream_schemas

KINDS = {"string": "string", "integer": "integer", "boolean": "boolean"}


def project() -> dict:
    return yaml.safe_load((REPO / "meltano.yml").read_text())


def plugin(kind: str, name: str) -> dict:
    return next(p for p in project()["plugins"][kind] if p["name"] == name)


def test_every_tap_setting_is_declared_with_its_kind():
    from tap_mixmax.tap import SETTINGS

    declared = {s["name"]: s for s in plugin("extractors", "tap-mixmax")["settings"]}
    properties = SETTINGS.to_dict()["properties"]
    assert set(declared) == set(properties)
    for name, prop in properties.items():
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        json_type = next(t for t in types if t != "null")
        if json_type == "array":
            assert declared[name]["kind"] == "array", name
            assert declared[name].get("sensitive") is bool(prop.get("secret")), name
        elif prop.get("secret"):
            assert declared[name]["kind"] == "password", name
            assert declared[name].get("sensitive") is True, name
        elif prop.get("format") == "date-time":
            assert declared[name]["kind"] == "date_iso8601", name
        elif "enum" in prop:  # a choice: Meltano's options, the same values
            assert declared[name]["kind"] == "options", name
            assert [o["value"] for o in declared[name]["options"]] == prop["enum"], name
        else:
            assert declared[name]["kind"] == KINDS[json_type], name
        if "default" in prop:
            assert declared[name].get("value") == prop["default"], name


def test_tap_plugin_needs_no_hub():
    tap = plugin("extractors", "tap-mixmax")
    assert tap["namespace"] == "tap_mixmax"
    assert tap["pip_url"] == "-e ."
    assert tap["executable"] == "tap-mixmax"
    assert set(tap["capabilities"]) >= {"catalog", "discover", "state", "about", "stream-maps"}
    loaders = {loader["name"]: loader for loader in project()["plugins"]["loaders"]}
    assert set(loaders) >= {
        "target-postgres",
        "target-postgres-pipelinewise",
        "target-duckdb",
        "target-jsonl",
        "target-csv",
    }
    for name, loader in loaders.items():
        assert loader["pip_url"] and loader["namespace"] and loader["settings"], name


def test_selected_streams_exist():
    streams = set(stream_schemas())
    for extractor in project()["plugins"]["extractors"]:
        for pattern in extractor.get("select", []):
            assert pattern.split(".", 1)[0] in streams, (extractor["name"], pattern)
