# casework: `make demo` and `make test` each set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-case

.PHONY: setup system-deps demo test lint typecheck bench clean

$(BIN)/casework: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,dask]'
	@touch $@

setup: $(BIN)/casework

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

test: setup system-deps lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
