#!/usr/bin/env bash
# Build the wheel and sdist (into $DIST_DIR, default dist/), check their metadata with `twine check --strict`,
# install the wheel into a clean venv and check `tap-mixmax --about --format=json`.
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
echo "check_build: ok"
