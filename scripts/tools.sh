#!/usr/bin/env bash
# Install the pipeline tools, each in its own venv under .tools/ (git-ignored):
#
#   scripts/tools.sh meltano   # Meltano 4 in .tools/meltano, then `meltano install`
#                              # (tap-mixmax from this checkout, target-postgres, target-jsonl
#                              # into .meltano/)
#   scripts/tools.sh airflow   # Apache Airflow 3 in .tools/airflow
#   scripts/tools.sh targets   # the e2e target matrix: each Singer target in its own venv,
#                              # .tools/targets/<name> (tests/e2e/test_target_matrix.py),
#                              # and the warehouse loaders run offline
#                              # (tests/e2e/test_warehouse_loaders.py)
#   scripts/tools.sh dbt       # dbt with its PostgreSQL and DuckDB adapters in .tools/dbt
#                              # (the models in transform/; Meltano's dbt utilities run it)
#
# A venv that already has its tool is reused; the Makefile reruns this only when the
# files it depends on change, so a cached run costs nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The Python of `make` (scripts/find_python.sh): $PYTHON if set, else any 3.10 or later.
PYTHON="$(scripts/find_python.sh "${PYTHON:-}")"
MELTANO_SPEC="meltano[postgres]==4.4.1"
# Airflow 3.1 on PyPI without the constraints file (its host is not reachable here);
# 3.1.8 supports Python 3.10-3.13 (its Requires-Python).
AIRFLOW_SPEC="apache-airflow==3.1.8"
# The target matrix: venv name under .tools/targets, pip spec (and the distribution's name
# when the spec is a path). Keep the versions in step with meltano.yml's loaders.
TARGETS=(
    "postgres-tz ./orchestrate/target-postgres-tz target-postgres-tz"
    "meltanolabs-postgres meltanolabs-target-postgres==0.8.1"
    "pipelinewise-postgres pipelinewise-target-postgres==2.1.2"
    "duckdb ./orchestrate/target-duckdb-nosniff target-duckdb-nosniff"
    "jsonl target-jsonl==0.1.4"
    "csv meltanolabs-target-csv==0.5.0"
)

# Warehouse loaders whose schema mapping and record preparation the e2e suite runs offline
# (tests/e2e/test_warehouse_loaders.py: no warehouse can run here). Each is: venv name
# under .tools/targets | pip specs | specs installed after them without dependencies.
# z3z1ma 0.7.2 needs the Google libraries of its day: protobuf 4 (it calls
# MessageFactory.GetPrototype) and setuptools<81 (fs imports pkg_resources). Both Redshift
# loaders pin psycopg2 2.8.5, which no longer builds: they go in without their pins, after
# the libraries they import.
Z3_BIGQUERY="z3-target-bigquery==0.7.2 protobuf==4.25.9 googleapis-common-protos==1.63.2"
Z3_BIGQUERY+=" grpcio==1.62.3 grpcio-status==1.62.3 grpcio-tools==1.62.3 proto-plus==1.24.0"
Z3_BIGQUERY+=" google-api-core==2.19.2 google-cloud-bigquery==3.25.0 google-cloud-core==2.4.3"
Z3_BIGQUERY+=" google-cloud-bigquery-storage==2.25.0 google-cloud-storage==2.18.2 setuptools<81"
LOADERS=(
    "bigquery-z3z1ma|$Z3_BIGQUERY|"
    "snowflake|meltanolabs-target-snowflake==0.20.4|"
    "redshift-pipelinewise|pipelinewise-singer-python==1.* boto3 psycopg2-binary inflection joblib|pipelinewise-target-redshift==1.6.0"
    "redshift-datamill|arrow psycopg2-binary boto3 singer-python|target-redshift==0.2.4 singer-target-postgres==0.2.4"
)

# dbt 1.12 needs a parser wheel downloaded from GitHub at install time: 1.11 installs from
# PyPI alone. duckdb is pinned to target-duckdb's (orchestrate/target-duckdb-nosniff):
# one file, one storage format.
DBT_SPEC="dbt-core==1.11.16 dbt-postgres==1.11.0 dbt-duckdb==1.11.1 duckdb==1.5.6"
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

make_venv() {  # dir, pip specs (space-separated)[, distribution name when the spec is a path]
    local dir="$1" spec="$2"
    local -a specs
    read -ra specs <<<"$spec"
    local dist="${3:-${specs[0]%%[=[<>]*}}"
    if [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -m pip show -q "$dist" >/dev/null 2>&1 &&
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

make_loader_venv() {  # dir, pip specs, specs without dependencies
    local dir="$1" spec="$2" loose="$3"
    local -a specs loose_specs
    read -ra specs <<<"$spec"
    read -ra loose_specs <<<"$loose"
    if [[ -x "$dir/bin/python" && -f "$dir/.spec" && "$(cat "$dir/.spec")" == "$spec|$loose" ]]; then
        return 0
    fi
    echo "tools.sh: installing $spec $loose into $dir" >&2
    rm -rf "$dir"
    quiet "$PYTHON" -m venv "$dir"
    quiet "$dir/bin/python" -m pip install --upgrade pip
    quiet "$dir/bin/python" -m pip install "${specs[@]}"
    if ((${#loose_specs[@]})); then
        quiet "$dir/bin/python" -m pip install --no-deps "${loose_specs[@]}"
    fi
    echo "$spec|$loose" >"$dir/.spec"
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
    targets)
        start=$SECONDS
        pids=()
        for target in "${TARGETS[@]}"; do
            read -r name spec dist <<<"$target"
            # A local package edited since its install is installed again.
            if [[ -d "$spec" && -f ".tools/targets/$name/.spec" ]] &&
                [[ -n "$(find "$spec" -type f -newer ".tools/targets/$name/.spec" -print -quit)" ]]; then
                rm ".tools/targets/$name/.spec"
            fi
            make_venv ".tools/targets/$name" "$spec" "$dist" &
            pids+=($!)
        done
        for loader in "${LOADERS[@]}"; do
            IFS="|" read -r name spec loose <<<"$loader"
            make_loader_venv ".tools/targets/$name" "$spec" "$loose" &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid"; done
        touch .tools/targets/.installed
        echo "tools.sh: ${#TARGETS[@]} targets and ${#LOADERS[@]} loaders ready in $((SECONDS - start))s" >&2
        ;;
    dbt)
        start=$SECONDS
        make_venv .tools/dbt "$DBT_SPEC"
        touch .tools/dbt/.installed
        echo "tools.sh: dbt ready in $((SECONDS - start))s" >&2
        ;;
    *)
        echo "usage: $0 meltano|airflow|targets|dbt" >&2
        exit 2
        ;;
esac
