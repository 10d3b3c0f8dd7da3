# casework: `make demo` and `make test` each set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-case

VENV_COMPILED ?= .venv-compiled

.PHONY: setup compiled system-deps demo test lint typecheck clean

$(BIN)/casework: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,dask]'
	@touch $@

setup: $(BIN)/casework

# The ingest path compiled by mypyc, in a venv of its own (the source tree stays pure Python).
$(VENV_COMPILED)/bin/casework: pyproject.toml scripts/build-compiled.sh $(shell find src -name '*.py')
	PYTHON=$(PYTHON) bash scripts/build-compiled.sh $(VENV_COMPILED)
	@touch $@

compiled: $(VENV_COMPILED)/bin/casework

system-deps:
	@bash scripts/system-deps.sh

demo: setup
	$(BIN)/casework investigate examples/checkout-incident --out $(DEMO_OUT)
	@echo
	@echo "Report: $(DEMO_OUT)/report.html  (also report.md, findings.json, inventory.json, case.duckdb)"

lint: setup
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: setup
	$(BIN)/mypy src

# The suite runs twice: on the source as written, then on the compiled build (mypyc can
# differ from CPython, e.g. on the identity of tuples, and the scan's redaction depends on it).
test: setup system-deps lint typecheck compiled
	$(BIN)/pytest -q -p no:cacheprovider
	$(VENV_COMPILED)/bin/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) $(VENV_COMPILED) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
