# Every developer and CI entry point. `.ci/run` calls `make test` and nothing else.
# Any Python 3.10 or later: `make PYTHON=/path/to/python3` chooses one, else
# scripts/find_python.sh takes the first of python3.13 ... python3.10, python3 that runs.
# Only the recipes that build a venv look for it (here, scripts/tools.sh, scripts/demo.sh).
PYTHON ?=
export PYTHON
VENV   := .venv
BIN    := $(VENV)/bin
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export MELTANO_CLI_DISABLE_VERSION_CHECK := true

.PHONY: venv lint format typecheck check unit sdk-prerelease e2e test demo bench docs docs-check clean meltano airflow-venv targets dbt-venv pg-start pg-stop mutants

venv: $(VENV)/.installed

# The dev tools come at the versions constraints-dev.txt pins.
$(VENV)/.installed: pyproject.toml constraints-dev.txt
	python="$$(scripts/find_python.sh "$(PYTHON)")" && echo "venv: $$python" && "$$python" -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' -c constraints-dev.txt
	touch $@

# ruff (every file, new ones too), then the other pre-commit hooks on the tracked files:
# JSON, YAML and TOML that parse, and typos.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SKIP=ruff,ruff-format $(BIN)/pre-commit run --all-files

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# mypy, as pyproject.toml's [tool.mypy] says: strict on tap_mixmax, mixmax_sandbox, scripts/
# and the test helpers, the test modules loosely. Warm (.mypy_cache) in a few seconds.
typecheck: venv
	$(BIN)/mypy

# The inner loop, in under two minutes on 2 cores: lint, types and every test not marked
# `slow` or `e2e`. Its workers mostly wait on sockets and clocks, so there are more of
# them than cores (CHECK_WORKERS=1 runs them in this process).
CHECK_WORKERS ?= 4
check: lint typecheck
	$(BIN)/pytest -m "not slow and not e2e" -q $(if $(filter 1,$(CHECK_WORKERS)),,-n $(CHECK_WORKERS) --dist loadscope)

unit: venv
	$(BIN)/pytest -m "not e2e"

# The non-e2e tests against the newest singer-sdk pre-release, in a venv of their own (CI
# runs this too). SDK_RANGE=allowed: the newest pyproject.toml allows; SDK_RANGE=next: the
# newest of all, the next minor included, to hear of a break before the range widens.
SDK_RANGE ?= allowed
SDK_VENV := .tools/sdk-prerelease
sdk-prerelease:
	python="$$(scripts/find_python.sh "$(PYTHON)")" && "$$python" -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/pip install -q --upgrade pip
	$(SDK_VENV)/bin/pip install -q -e '.[dev]' -c constraints-dev.txt
	$(SDK_VENV)/bin/pip install -q --upgrade --pre -c constraints-dev.txt 'singer-sdk[msgspec]' \
		$(if $(filter next,$(SDK_RANGE)),,-e .)
	$(SDK_VENV)/bin/python -c 'import importlib.metadata as m; print("singer-sdk", m.version("singer-sdk"))'
	$(SDK_VENV)/bin/pytest -m "not e2e" -p no:cacheprovider

bench: venv
	$(BIN)/python scripts/bench.py

# Deliberate breaks of the README's guarantees; each must fail its guarding tests (the
# break of the DuckDB wrapper loads data with the matrix's target-duckdb venv).
# CHANGED=1: only the breaks whose source file or guarding tests differ from MUTANTS_BASE
# (the merge base with main: committed and uncommitted work; MUTANTS_BASE=HEAD for the
# uncommitted work alone).
MUTANTS_BASE ?= main
# The marts' breaks run a Meltano load and dbt build (tests/e2e/test_dbt.py).
mutants: venv meltano targets dbt-venv
	$(BIN)/python scripts/mutants.py $(if $(CHANGED),--changed $(MUTANTS_BASE))

docs: venv
	$(BIN)/python scripts/gen_readme.py

docs-check: venv
	$(BIN)/python scripts/gen_readme.py --check

test: lint typecheck docs-check unit mutants e2e

# Pipelines: Meltano (.tools/meltano + plugins in .meltano/), Airflow (.tools/airflow),
# a throw-away PostgreSQL (scripts/pg.sh), the end-to-end tests and the demo.
# The loaders this project wraps (orchestrate/target-*), installed from their folders.
WRAPPED_LOADERS := $(wildcard orchestrate/target-*/*.toml orchestrate/target-*/*/*.py)
MELTANO_DEPS := meltano.yml pyproject.toml scripts/tools.sh $(WRAPPED_LOADERS)

meltano: venv .tools/meltano/.installed

.tools/meltano/.installed: $(MELTANO_DEPS)
	PYTHON=$(PYTHON) scripts/tools.sh meltano

airflow-venv: .tools/airflow/.installed

.tools/airflow/.installed: scripts/tools.sh
	PYTHON=$(PYTHON) scripts/tools.sh airflow

# The e2e target matrix: each Singer target in its own venv under .tools/targets.
targets: .tools/targets/.installed

.tools/targets/.installed: scripts/tools.sh $(WRAPPED_LOADERS)
	PYTHON=$(PYTHON) scripts/tools.sh targets


# dbt and its adapters for the models in transform/ (Meltano's dbt utilities run it too).
dbt-venv: .tools/dbt/.installed

.tools/dbt/.installed: scripts/tools.sh
	PYTHON=$(PYTHON) scripts/tools.sh dbt


e2e: venv meltano airflow-venv targets dbt-venv
	$(BIN)/pytest -m e2e tests/e2e

demo: venv meltano dbt-venv
	scripts/demo.sh

pg-start:
	scripts/pg.sh start

pg-stop:
	scripts/pg.sh stop

clean:
	rm -rf $(VENV) .tools .meltano output .pytest_cache .mypy_cache .ruff_cache
