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

.PHONY: venv lint typecheck unit e2e test demo bench docs docs-check clean meltano airflow-venv targets dbt-venv pg-start pg-stop mutants

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python="$$(scripts/find_python.sh "$(PYTHON)")" && echo "venv: $$python" && "$$python" -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -m "not e2e"

bench: venv
	$(BIN)/python scripts/bench.py

# Deliberate breaks of the README's guarantees; each must fail its guarding tests (the
# break of the DuckDB wrapper loads data with the matrix's target-duckdb venv).
mutants: venv targets
	$(BIN)/python scripts/mutants.py

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
