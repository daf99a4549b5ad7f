# Line 19 — the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG := var/line19.toml
SIPP_CALLER_IP ?= 127.0.0.2
CALLER ?= 0612345678

.PHONY: help venv system-deps postgres sandbox sandbox-down demo-operators run call \
        test test-unit test-integration test-e2e test-browser lint format bench clean

help:
	@echo "make run    - set everything up and run the gateway (SQLite, Asterisk sandbox, demo operators)"
	@echo "make call   - place a call to 19 with sipp (CALLER=0612345678 SIPP_CALLER_IP=127.0.0.2)"
	@echo "make test   - set everything up and run every test tier"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - run the benchmarks (writes docs/benchmarks.md)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the real-component tiers need (root, as on the project's machines).
system-deps:
	@bash .ci/system-deps.sh

postgres:
	@bash .ci/ensure-postgres.sh

sandbox: venv system-deps
	$(BIN)/line19 asterisk up --write-gateway-config $(CONFIG)

sandbox-down: venv
	$(BIN)/line19 asterisk down

demo-operators: system-deps
	@bash tests/sipp/demo-operators.sh start

run: sandbox demo-operators
	@echo
	@echo "Line 19 gateway starting (SQLite: var/line19.db, HTTP http://127.0.0.1:8019)."
	@echo "In another terminal: 'make call' places a call to 19 through Asterisk;"
	@echo "then 'curl -s http://127.0.0.1:8019/api/v1/calls | python3 -m json.tool'."
	@echo
	$(BIN)/line19 serve --config $(CONFIG)

call: system-deps
	@bash tests/sipp/call.sh $(SIPP_CALLER_IP) $(CALLER)

test: venv system-deps postgres lint
	$(BIN)/pytest tests/unit tests/integration -q
	$(BIN)/pytest tests/e2e -q
	$(BIN)/pytest tests/browser -q

test-unit: venv
	$(BIN)/pytest tests/unit -q

test-integration: venv postgres
	$(BIN)/pytest tests/integration -q

test-e2e: venv system-deps postgres
	$(BIN)/pytest tests/e2e -q

# The operator console in the real Chromium (Debian's, from system-deps); screenshots are
# kept in var/artifacts/screenshots/.
test-browser: venv system-deps
	$(BIN)/pytest tests/browser -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv system-deps
	$(BIN)/python -m bench.intake_capacity --write docs/benchmarks.md

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
