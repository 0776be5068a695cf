"""transform/ and its Meltano wiring stay in step (fast: no processes, runs with the unit tests)."""

from __future__ import annotations

import re

import yaml
from e2e_helpers import REPO

PROFILES = REPO / "transform" / "profiles" / "profiles.yml"
SOURCES = REPO / "transform" / "models" / "staging" / "_mixmax__sources.yml"
ADAPTERS = {"dbt-postgres": "postgres", "dbt-duckdb": "duckdb"}


def project() -> dict:
    return yaml.safe_load((REPO / "meltano.yml").read_text())


def utility(name: str) -> dict:
    return next(p for p in project()["plugins"]["utilities"] if p["name"] == name)


def exported_env(plugin: dict) -> set[str]:
    """The variables Meltano sets from a plugin's settings (its `env`, or NAMESPACE_NAME)."""
    prefix = plugin["name"].upper().replace("-", "_")
    return {s.get("env") or f"{prefix}_{s['name'].upper()}" for s in plugin["settings"]}


def test_each_dbt_utility_sets_what_its_profile_and_sources_read():
    profiles = yaml.safe_load(PROFILES.read_text())["mixmax"]["outputs"]
    assert set(profiles) == set(ADAPTERS.values())
    sources = SOURCES.read_text()
    assert "env_var('DBT_' ~ target.type | upper ~ '_SOURCE_SCHEMA'" in sources
    for name, output in ADAPTERS.items():
        plugin = utility(name)
        assert plugin["executable"] == ".tools/dbt/bin/dbt", name
        assert "build" in plugin["commands"], name
        exported = exported_env(plugin)
        # The profile picks the output from DBT_TARGET; dbt itself reads the two dirs.
        assert {"DBT_TARGET", "DBT_PROJECT_DIR", "DBT_PROFILES_DIR"} <= exported, name
        target = next(s for s in plugin["settings"] if s.get("env") == "DBT_TARGET")
        assert target["value"] == output == profiles[output]["type"], name
        prefix = f"DBT_{output.upper()}_"
        read = set(re.findall(r"env_var\('(DBT_[A-Z_]+)'", PROFILES.read_text()))
        wanted = {v for v in read if v.startswith(prefix)} | {f"{prefix}SOURCE_SCHEMA"}
        assert wanted <= exported, f"{name} does not set {sorted(wanted - exported)}"


def test_the_analytics_jobs_load_then_build():
    jobs = {job["name"]: job["tasks"] for job in project()["jobs"]}
    assert jobs["mixmax-analytics-postgres"] == ["tap-mixmax target-postgres dbt-postgres:build"]
    assert jobs["mixmax-analytics-duckdb"] == ["tap-mixmax target-duckdb dbt-duckdb:build"]
    schedules = {s["name"]: s for s in project()["schedules"]}
    assert schedules["daily-mixmax-analytics-postgres"]["job"] == "mixmax-analytics-postgres"


def test_duckdb_is_the_same_version_for_the_loader_and_dbt():
    """dbt-duckdb opens the file target-duckdb writes: one DuckDB, one storage format."""
    tools = (REPO / "scripts" / "tools.sh").read_text()
    dbt_spec = re.search(r'^DBT_SPEC="([^"]+)"', tools, re.M)
    assert dbt_spec, "DBT_SPEC missing from scripts/tools.sh"
    loader = next(p for p in project()["plugins"]["loaders"] if p["name"] == "target-duckdb")
    # The loader is a folder of this project (a wrapper): its pins are in its pyproject.
    loader_spec = (REPO / loader["pip_url"] / "pyproject.toml").read_text()
    dbt_pin, loader_pin = (
        re.search(r"(?<![\w-])duckdb==([\d.]+)", spec) for spec in (dbt_spec[1], loader_spec)
    )
    assert dbt_pin and loader_pin, (dbt_spec[1], loader_spec)
    assert dbt_pin[1] == loader_pin[1]
