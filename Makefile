# lnob — the two commands of the quick start are `make demo` and `make test`.
# Each creates .venv and installs the project when missing (only Python 3.11+ and make are needed).

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.lnob-installed
SCALE ?= 1.0
PYTEST_ARGS ?=

.PHONY: demo test bench lint dictionary clean-demo help

help:
	@echo "make demo   — generate a province's review data, submit, validate, build and publish the marts"
	@echo "make test   — run the whole test suite (SQLite and PostgreSQL registry tests, e2e)"
	@echo "make bench  — benchmark the nightly build against DuckDB, the scan floor and pandas (SCALE=0.01 for a quick run)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "lnob needs Python 3.11 or newer (python3.11, python3.12 …) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lnob demo

# One pytest worker per core (a file's tests stay together: they share module fixtures); the real servers
# the e2e tests start listen on free loopback ports and PostgreSQL tests each get a schema of their own.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench --scale $(SCALE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

dictionary: $(STAMP)
	$(BIN)/python -m schemas.dictionary > docs/data-dictionary.md
