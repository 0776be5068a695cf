#!/usr/bin/env bash
# Install the pipeline tools, each in its own venv under .tools/ (git-ignored):
#
#   scripts/tools.sh meltano   # Meltano 4 in .tools/meltano, then `meltano install`
#                              # (tap-mixmax from this checkout, target-postgres, target-jsonl
#                              # into .meltano/)
#   scripts/tools.sh airflow   # Apache Airflow 3 in .tools/airflow
#   scripts/tools.sh dbt       # dbt with its PostgreSQL and DuckDB adapters in .tools/dbt
#                              # (the models in transform/; Meltano's dbt utilities run it)
#
# A venv that already has its tool is reused; the Makefile reruns this only when the
# files it depends on change, so a cached run costs nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3.11}"
MELTANO_SPEC="meltano[postgres]==4.4.1"
# Airflow 3.1 on PyPI without the constraints file (its host is not reachable here);
# 3.1.8 installs and runs on Python 3.10-3.12.
AIRFLOW_SPEC="apache-airflow==3.1.8"
# dbt 1.12 needs a parser wheel downloaded from GitHub at install time: 1.11 installs from
# PyPI alone. duckdb is pinned to target-duckdb's (meltano.yml): one file, one storage format.
DBT_SPEC="dbt-core==1.11.16 dbt-postgres==1.11.0 dbt-duckdb==1.11.1 duckdb==2.0.1"
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false MELTANO_CLI_DISABLE_VERSION_CHECK=true

# Run a noisy install step; show its output only if it fails.
quiet() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        grep -v "is ignored: it is neither a file nor a directory" "$log" | tail -40 >&2
        rm -f "$log"
        echo "tools.sh: failed: $*" >&2
        return 1
    fi
    rm -f "$log"
}

make_venv() {  # dir, pip specs (space-separated)
    local dir="$1" spec="$2"
    local -a specs
    read -ra specs <<<"$spec"
    if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -m pip show -q "${specs[0]%%[=[<>]*}" >/dev/null 2>&1 &&
        [[ -f "$dir/.spec" && "$(cat "$dir/.spec")" == "$spec" ]]; then
        return 0
    fi
    echo "tools.sh: installing $spec into $dir" >&2
    rm -rf "$dir"
    quiet "$PYTHON" -m venv "$dir"
    quiet "$dir/bin/python" -m pip install --upgrade pip
    quiet "$dir/bin/python" -m pip install "${specs[@]}"
    echo "$spec" >"$dir/.spec"
}

case "${1:-}" in
    meltano)
        start=$SECONDS
        make_venv .tools/meltano "$MELTANO_SPEC"
        echo "tools.sh: meltano install (plugins into .meltano/)" >&2
        quiet .tools/meltano/bin/meltano install
        touch .tools/meltano/.installed
        echo "tools.sh: meltano ready in $((SECONDS - start))s: $(.tools/meltano/bin/meltano --version)" >&2
        ;;
    airflow)
        start=$SECONDS
        make_venv .tools/airflow "$AIRFLOW_SPEC"
        touch .tools/airflow/.installed
        echo "tools.sh: airflow ready in $((SECONDS - start))s" >&2
        ;;
    dbt)
        start=$SECONDS
        make_venv .tools/dbt "$DBT_SPEC"
        touch .tools/dbt/.installed
        echo "tools.sh: dbt ready in $((SECONDS - start))s" >&2
        ;;
    *)
        echo "usage: $0 meltano|airflow|dbt" >&2
        exit 2
        ;;
esac
