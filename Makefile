# OCloudView ATP. Two commands a newcomer needs:
#   make demo   set up what is missing, start dashboard + worker + demo VMs + VDI simulator
#   make test   set up what is missing, run the whole suite (unit, rig, web, browser)
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed

.PHONY: demo test setup system venv rig lint format test-sqlite test-postgres clean-rig

demo: setup rig
	$(PY) -m atp_site.devrunner

test: setup rig
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

setup: system venv

system:
	@bash rig/install.sh

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	@touch $(STAMP)

rig:
	@bash rig/start-daemons.sh
	@bash guest/build.sh

test-sqlite:
	@echo "=== test suite on SQLite"
	$(PY) -m pytest tests

# The database-facing tests once more on PostgreSQL (127.0.0.1:5432): the web layer, the
# distributed-execution tests (workers, beat, reaper, restarts: tests/dist) and the browser tests
# (what a person sees, page crawl included).
test-postgres:
	@echo "=== database and browser tests on PostgreSQL"
	DATABASE_URL=$${ATP_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/atp} \
	  $(PY) -m pytest tests/web tests/dist tests/browser

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

clean-rig:
	bash rig/stop-daemons.sh
