# Every developer and CI entry point. `.ci/run` calls `make test` and nothing else.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export MELTANO_CLI_DISABLE_VERSION_CHECK := true

.PHONY: venv lint typecheck unit e2e test demo bench docs docs-check clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
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

docs: venv
	$(BIN)/python scripts/gen_readme.py

docs-check: venv
	$(BIN)/python scripts/gen_readme.py --check

test: lint typecheck docs-check unit

clean:
	rm -rf $(VENV) .tools .meltano output .pytest_cache .mypy_cache .ruff_cache
