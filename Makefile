# Omniva: `make demo` runs the whole pipeline on the bundled sample; `make test` runs the tests.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export OMNIVA_HOME ?= $(CURDIR)/.omniva

.PHONY: setup demo test test-fast lint ui emulator bench clean contracts-export

setup:
	@bash scripts/setup.sh

demo: setup
	$(BIN)/omniva demo

# pytest-xdist: one process per core (at most 4: each may load the speech and text models), a
# module's tests in one process, the modules that start the Dagster daemon, Celery or PostgreSQL
# together in one (tests/conftest.py). `make test XDIST=` runs everything in this process.
XDIST ?= -n auto --maxprocesses 4 --dist loadfile

test: setup
	$(BIN)/python -m pytest -q -ra $(XDIST)

# unit/: pure functions, no tools, seconds; assets/: materializations with the real tools on
# small fixtures. (integration/: servers, queue, API, the demo end to end.)
test-fast: setup
	$(BIN)/python -m pytest -q -ra $(XDIST) tests/unit tests/assets

# ruff, the type checker, the import contract (pyproject.toml: layers, no cycles, no dev kit in
# product code) and Dagster's own check of the definitions.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	DAGSTER_HOME=$$(mktemp -d) $(BIN)/dagster definitions validate -m omniva_assets.definitions

# The Dagster UI (webserver + daemon) on http://127.0.0.1:3000 over the demo's instance, and
# `omniva api` with the operator's dashboard on http://127.0.0.1:8090/app/ (#28), with the
# YouTube emulator beside them so uploads launched from either have somewhere to go.
ui: setup
	@mkdir -p $(OMNIVA_HOME)/dagster
	@test -f $(OMNIVA_HOME)/dagster/dagster.yaml || cp dagster.yaml $(OMNIVA_HOME)/dagster/dagster.yaml
	@echo "Dagster UI: http://127.0.0.1:3000"
	@echo "dashboard:  http://127.0.0.1:8090/app/  (sign in with a key from \`omniva api keys create --project ...\`)"
	$(BIN)/omniva youtube-emulator --port 8089 & \
	OMNIVA_DAGSTER_UI=http://127.0.0.1:3000 DAGSTER_HOME=$(OMNIVA_HOME)/dagster $(BIN)/omniva api --port 8090 & \
	DAGSTER_HOME=$(OMNIVA_HOME)/dagster $(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000; \
	kill %1 %2 2>/dev/null || true

emulator: setup
	$(BIN)/omniva youtube-emulator --port 8089

# Stage table (bench/results.json), editing steps, then the end-to-end series with Dagster's
# overhead (bench/e2e.json); Markdown on stdout and in bench/results.md. ~40 minutes here.
bench: setup
	set -o pipefail; { $(BIN)/python bench/run.py && echo && $(BIN)/python bench/render_bench.py && echo && \
	  $(BIN)/python bench/e2e.py; } | tee bench/results.md

# The spec's contracts (omniva/contracts.py) as JSON Schema files in schemas/ (docs/contracts.md).
contracts-export: setup
	$(BIN)/python -m omniva.contracts export schemas/

clean:
	rm -rf .omniva .pytest_cache
