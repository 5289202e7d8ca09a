# Dokani console. Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Background-job workers `make run` starts beside the console (more: `python -m dokani worker` anywhere)
WORKERS ?= 1
# The machine's PostgreSQL service, for running the integration tests on a second server version.
PG15_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-unit test-pg15 test-pgbouncer e2e bench seed migrate clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) -m dokani migrate
	$(PY) -m dokani seed --if-empty
	$(PY) -m dokani serve --port $(PORT) --workers $(WORKERS)

# axe-core, which the accessibility browser test injects into every page (npm registry; Node.js on the machine).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test: $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest

test-unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit

# Integration tests again, on the machine's PostgreSQL service (CI covers both server versions).
test-pg15: $(VENV)/.installed
	TEST_DATABASE_URL=$(PG15_URL) $(PY) -m pytest tests/integration

# Integration tests again with the app and its job queue connecting through PgBouncer in transaction mode
# (Debian's pgbouncer; tests/pgbouncer.py starts one in front of the test server; migrations go direct).
test-pgbouncer: $(VENV)/.installed
	$(PY) -m tests.pgbouncer tests/integration

e2e: $(VENV)/.installed node_modules/.installed
	$(PY) -m pytest tests/e2e

bench: $(VENV)/.installed
	$(PY) -m bench

migrate: $(VENV)/.installed
	$(PY) -m dokani migrate

seed: $(VENV)/.installed
	$(PY) -m dokani seed

clean:
	rm -rf .pgdata .pgdata-test .pytest_cache
