#!/usr/bin/env bash
# Print the path of the Python that builds the project's venvs: the one given as $1 (the
# Makefile passes `make PYTHON=...`), else the first of python3.13 ... python3.10, python3
# on PATH that runs and is 3.10 or later. A name that is on PATH but does not run (a pyenv
# shim of a version not selected) is skipped. Exit 1, with one line, when none is found.
set -euo pipefail

MINIMUM="3.10"
CANDIDATES=(python3.13 python3.12 python3.11 python3.10 python3)

version_of() {  # "3.11.7", or fail if $1 does not run
    "$1" -c 'import platform; print(platform.python_version())' 2>/dev/null
}

is_recent_enough() {
    "$1" -c "import sys; sys.exit(sys.version_info < tuple(map(int, '$MINIMUM'.split('.'))))" \
        2>/dev/null
}

if [[ -n "${1:-}" ]]; then
    chosen="$1"
    if ! command -v "$chosen" >/dev/null 2>&1; then
        echo "find_python.sh: PYTHON=$chosen is not an executable" >&2
        exit 1
    fi
    if ! version="$(version_of "$chosen")"; then
        echo "find_python.sh: PYTHON=$chosen does not run" >&2
        exit 1
    fi
    if ! is_recent_enough "$chosen"; then
        echo "find_python.sh: PYTHON=$chosen is Python $version; tap-mixmax needs $MINIMUM or later" >&2
        exit 1
    fi
    command -v "$chosen"
    exit 0
fi

for candidate in "${CANDIDATES[@]}"; do
    if command -v "$candidate" >/dev/null 2>&1 && is_recent_enough "$candidate"; then
        command -v "$candidate"
        exit 0
    fi
done
echo "find_python.sh: no Python $MINIMUM or later on PATH (tried ${CANDIDATES[*]}); choose one with make PYTHON=/path/to/python3" >&2
exit 1
