#!/usr/bin/env bash
# `make demo`: the whole pipeline against the bundled Mixmax sandbox.
#
#   1. the project venv and Meltano with its plugins (cached in .venv, .tools, .meltano),
#      built by `make` with $PYTHON if set, else any Python 3.10+ (scripts/find_python.sh)
#   2. a sandbox API on loopback (seed 42, small)
#   3. meltano run tap-mixmax target-jsonl      -> output/demo/jsonl/<stream>.jsonl
#   4. a PostgreSQL: the one in PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE if it answers,
#      else a throw-away one from scripts/pg.sh (skipped if neither is possible)
#   5. meltano run tap-mixmax target-postgres   -> schema mixmax_demo
#   6. rows per stream: sandbox vs JSONL vs PostgreSQL
#   7. meltano run dbt-postgres:build            -> schema mixmax_demo_analytics, and
#      the top rows of the sequence performance mart
#
# The sandbox, and a PostgreSQL started here, are stopped on exit. Meltano's state goes
# to a temporary system database, so the demo never touches .meltano/meltano.db.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"

export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_CLI_DISABLE_VERSION_CHECK=true
DEMO_RATE_LIMIT="${DEMO_RATE_LIMIT:-1000}"
OUT="$REPO/output/demo"
MELTANO="$REPO/.tools/meltano/bin/meltano"
PY="$REPO/.venv/bin/python"
T0=$SECONDS
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tapmixmax-demo.XXXXXX")"
SANDBOX_PID=""
PG_STARTED=""

step() { printf '\n==> [%3ss] %s\n' "$((SECONDS - T0))" "$*"; }
note() { printf '    %s\n' "$*"; }

cleanup() {
    local rc=$?
    if [[ -n "$SANDBOX_PID" ]] && kill -0 "$SANDBOX_PID" 2>/dev/null; then
        kill -TERM "$SANDBOX_PID" 2>/dev/null || true
        wait "$SANDBOX_PID" 2>/dev/null || true
        note "sandbox stopped"
    fi
    if [[ -n "$PG_STARTED" ]]; then
        PG_STATE_FILE="$TMP/pg.env" scripts/pg.sh stop 2>/dev/null || true
        note "PostgreSQL stopped"
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run a meltano command quietly, with its log in $TMP; show the tail if it fails.
meltano_run() {
    local name="$1"; shift
    local start=$SECONDS
    if ! "$MELTANO" "$@" >"$TMP/$name.log" 2>&1; then
        tail -40 "$TMP/$name.log" >&2
        echo "demo: meltano $* failed" >&2
        exit 1
    fi
    note "done in $((SECONDS - start))s (meltano $*)"
}

step "1/7 venv, Meltano plugins and dbt"
if [[ ! -f .venv/.installed || ! -f .tools/meltano/.installed || ! -f .tools/dbt/.installed ]]; then
    make --no-print-directory venv meltano dbt-venv
fi
note "$("$MELTANO" --version), plugins in .meltano/"

step "2/7 sandbox Mixmax API (rate limit raised to $DEMO_RATE_LIMIT requests/min for the demo; Mixmax allows 120)"
"${SANDBOX_CLI:-.venv/bin/tap-mixmax-sandbox}" --port 0 --seed 42 --scale small --rate-limit "$DEMO_RATE_LIMIT" \
    --ready-file "$TMP/sandbox.json" >"$TMP/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 300); do
    [[ -s "$TMP/sandbox.json" ]] && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || { cat "$TMP/sandbox.log" >&2; exit 1; }
    sleep 0.1
done
[[ -s "$TMP/sandbox.json" ]] || { echo "demo: sandbox not ready" >&2; exit 1; }
sleep 0.2  # let the writer finish the file
read -r MIXMAX_SANDBOX_URL MIXMAX_SANDBOX_TOKEN SANDBOX_CONTROL < <("$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["url"], d["token"], d["control_url"])' "$TMP/sandbox.json")
export MIXMAX_SANDBOX_URL MIXMAX_SANDBOX_TOKEN
note "serving $MIXMAX_SANDBOX_URL (pid $SANDBOX_PID)"

export MELTANO_ENVIRONMENT=sandbox
export MELTANO_DATABASE_URI="sqlite:///$TMP/meltano.db"
export TAP_MIXMAX_MAX_REQUESTS_PER_MINUTE="$DEMO_RATE_LIMIT"
export TARGET_JSONL_DESTINATION_PATH="$OUT/jsonl" TARGET_JSONL_DO_TIMESTAMP_FILE=false
export TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=mixmax_demo
export DBT_POSTGRES_SOURCE_SCHEMA=mixmax_demo DBT_POSTGRES_TARGET_SCHEMA=mixmax_demo_analytics
export DBT_TARGET_PATH="$TMP/dbt-target" DBT_LOG_PATH="$TMP/dbt-logs"
unset VIRTUAL_ENV TAP_MIXMAX_API_TOKEN TAP_MIXMAX_API_URL  # the sandbox, not a real account

step "3/7 meltano run tap-mixmax target-jsonl"
rm -rf "$OUT/jsonl"
meltano_run jsonl run tap-mixmax target-jsonl
note "files in ${OUT#"$REPO"/}/jsonl/"

step "4/7 PostgreSQL"
PG_OK=""
pg_answers() {
    "$PY" -c 'import psycopg; psycopg.connect(connect_timeout=3).close()' 2>/dev/null
}
if [[ -n "${PGHOST:-}" ]] && pg_answers; then
    PG_OK=1
    note "using the server in PGHOST=$PGHOST PGPORT=${PGPORT:-5432}"
elif out="$(PG_STATE_FILE="$TMP/pg.env" scripts/pg.sh start 2>"$TMP/pg.log")"; then
    PG_STARTED=1
    eval "$out"
    PG_OK=1
    note "throw-away PostgreSQL on $PGHOST:$PGPORT (scripts/pg.sh)"
else
    note "no PostgreSQL available and none could be started; skipping target-postgres:"
    sed 's/^/      /' "$TMP/pg.log" | tail -5
fi

if [[ -n "$PG_OK" ]]; then
    step "5/7 meltano run tap-mixmax target-postgres"
    meltano_run postgres run tap-mixmax target-postgres
    note "tables in schema $TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA of database ${PGDATABASE:-}"
else
    step "5/7 meltano run tap-mixmax target-postgres: skipped (no PostgreSQL)"
fi

step "6/7 rows per stream"
"$PY" - "$SANDBOX_CONTROL" "$OUT/jsonl" "$PG_OK" <<'EOF'
import json, os, sys, urllib.request
from pathlib import Path

import yaml

control, jsonl_dir, pg_ok = sys.argv[1], Path(sys.argv[2]), bool(sys.argv[3])
project = yaml.safe_load(Path("meltano.yml").read_text())
tap = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-mixmax")
streams = [pattern.split(".", 1)[0] for pattern in tap["select"]]
pg_rows = {}
if pg_ok:
    import psycopg

    schema = os.environ["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
    with psycopg.connect() as conn:
        for stream in streams:
            try:
                pg_rows[stream] = conn.execute(f'SELECT count(*) FROM "{schema}"."{stream}"').fetchone()[0]
            except psycopg.errors.UndefinedTable:
                conn.rollback()
                pg_rows[stream] = 0
print(f"    {'stream':<22}{'sandbox':>9}{'jsonl':>9}{'postgres':>10}")
totals = [0, 0, 0]
for stream in streams:
    with urllib.request.urlopen(f"{control}/ids/{stream}", timeout=30) as resp:
        expected = len(json.load(resp)["ids"])
    path = jsonl_dir / f"{stream}.jsonl"
    jsonl = sum(1 for line in path.open() if line.strip()) if path.exists() else 0
    pg = pg_rows.get(stream)
    totals = [totals[0] + expected, totals[1] + jsonl, totals[2] + (pg or 0)]
    pg_text = "-" if pg is None else str(pg)
    flag = "" if jsonl == expected and pg in (None, expected) else "  <- differs"
    print(f"    {stream:<22}{expected:>9}{jsonl:>9}{pg_text:>10}{flag}")
print(f"    {'total':<22}{totals[0]:>9}{totals[1]:>9}{totals[2] if pg_ok else '-':>10}")
EOF

if [[ -n "$PG_OK" ]]; then
    step "7/7 meltano run dbt-postgres:build (transform/), then the sequence performance mart"
    meltano_run dbt run dbt-postgres:build
    note "models in schema $DBT_POSTGRES_TARGET_SCHEMA; the stages that reached most people:"
    "$PY" - "$DBT_POSTGRES_TARGET_SCHEMA" <<'EOF'
import sys

import psycopg

query = f'''
    SELECT sequence_name, stage_number, recipients, sent, opened, clicked, replied, bounced,
           unsubscribed, open_rate, click_rate
    FROM "{sys.argv[1]}".mixmax__sequence_performance
    ORDER BY sent DESC, sequence_name, stage_number
    LIMIT 8'''
header = ("sequence", "stage", "recipients", "sent", "opened", "clicked", "replied",
          "bounced", "unsubscribed", "open %", "click %")
with psycopg.connect() as conn:
    rows = conn.execute(query).fetchall()
table = [header] + [
    (*row[:9], *("-" if rate is None else f"{100 * rate:.1f}" for rate in row[9:]))
    for row in rows
]
widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
for row in table:
    cells = [str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths))]
    print("    " + "  ".join(cells))
EOF
else
    step "7/7 dbt: skipped (no PostgreSQL); on DuckDB: $MELTANO run tap-mixmax target-duckdb dbt-duckdb:build"
fi

step "done in $((SECONDS - T0))s. Against the real API: TAP_MIXMAX_API_TOKEN=... $MELTANO --environment=prod run tap-mixmax target-postgres (docs/meltano.md)"
