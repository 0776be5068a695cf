#!/usr/bin/env bash
# Build the wheel and sdist (into $DIST_DIR, default dist/), check their metadata with `twine check --strict`,
# install the wheel into a clean venv, check `tap-mixmax --about --format=json`, and run the
# README's quick start (scripts/run_readme.py) against the sandbox with the installed wheel.
# Used by .github/workflows/build.yml; runs the same here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The Python of `make` (scripts/find_python.sh): $PYTHON if set, else any 3.10 or later.
PYTHON="$(scripts/find_python.sh "${PYTHON:-}")"
DIST_DIR="${DIST_DIR:-dist}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tapmixmax-build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

"$PYTHON" -m venv "$TMP/tools"
"$TMP/tools/bin/pip" install -q build twine 2>&1 | grep -v "is ignored" || true
rm -rf "$DIST_DIR"
"$TMP/tools/bin/python" -m build --outdir "$DIST_DIR" . >"$TMP/build.log" 2>&1 || { tail -30 "$TMP/build.log"; exit 1; }
ls -l "$DIST_DIR"
"$TMP/tools/bin/twine" check --strict "$DIST_DIR"/*

"$PYTHON" -m venv "$TMP/wheel"
"$TMP/wheel/bin/pip" install -q "$DIST_DIR"/*.whl 2>&1 | grep -v "is ignored" || true
"$TMP/wheel/bin/tap-mixmax" --about --format=json >"$TMP/about.json"
"$TMP/wheel/bin/python" - "$TMP/about.json" <<'PY'
import json, sys
about = json.load(open(sys.argv[1]))
assert about["name"] == "tap-mixmax", about["name"]
for capability in ("catalog", "discover", "state", "about", "stream-maps"):
    assert capability in about["capabilities"], capability
settings = about["settings"]["properties"]
assert settings["api_token"].get("secret") is True, "api_token must be secret"
for name in ("api_url", "start_date", "max_requests_per_minute", "retry_budget_seconds"):
    assert name in settings, name
print(f"--about ok: {about['name']} {about.get('version')}, {len(settings)} settings")
PY
"$TMP/wheel/bin/tap-mixmax-sandbox" --help >/dev/null

# The wheel alone, away from the checkout: its modules load from the fresh venv, and the
# README's quick start (the sandbox entry point, discovery, a first and an incremental
# sync) runs with nothing but that venv's bin on PATH.
(cd "$TMP" && "$TMP/wheel/bin/python" - "$TMP/wheel" <<'PY'
import sys
from pathlib import Path

import mixmax_sandbox, tap_mixmax

venv = Path(sys.argv[1]).resolve()
for module in (tap_mixmax, mixmax_sandbox):
    where = Path(module.__file__).resolve()
    assert venv in where.parents, f"{module.__name__} loads from {where}, not the wheel's venv"
print(f"wheel modules load from {venv}")
PY
)
"$TMP/wheel/bin/python" scripts/run_readme.py --bin "$TMP/wheel/bin"
echo "check_build: ok"
