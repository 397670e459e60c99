# OCloudView ATP. Two commands a newcomer needs:
#   make demo   set up what is missing, start dashboard + worker + demo VMs + VDI simulator
#   make test   set up what is missing, run the whole suite (unit, rig, web, browser)
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed

.PHONY: demo test bench setup system venv rig lint format docs test-sqlite test-postgres clean-rig fuzz soak

demo: setup rig
	$(PY) -m atp_site.devrunner

test: setup rig
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

setup: system venv

# Every benchmark (bench/p<N>_*.py) one after the other; a dated summary in bench/results/
# (bench/README.md quotes it). Only: make bench BENCH_ONLY=P5,P6
bench: setup rig
	$(PY) bench/run_all.py $(if $(BENCH_ONLY),--only $(BENCH_ONLY))

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
	@bash rig/remote-hosts.sh
	@bash guest/build.sh
	@bash guest/build-desktop.sh

# The RabbitMQ variants of the distributed tests (marker amqp) run once, in the PostgreSQL pass:
# PostgreSQL + RabbitMQ is the lab's shape, the SQLite pass stays on Redis.
test-sqlite:
	@echo "=== test suite on SQLite (broker: Redis)"
	$(PY) -m pytest tests -m "not amqp"

# The database-facing tests once more on PostgreSQL (127.0.0.1:5432): the web layer, the
# distributed-execution tests (workers, beat, reaper, restarts: tests/dist) and the browser tests
# (what a person sees, page crawl included).
test-postgres:
	@echo "=== database and browser tests on PostgreSQL (distributed tests on Redis and RabbitMQ)"
	DATABASE_URL=$${ATP_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/atp} \
	  $(PY) -m pytest tests/web tests/dist tests/browser -m "not long_once"

# Long fuzzing of the scenario loader (the suite runs the same properties, fewer examples, a
# fixed seed): ATP_FUZZ_EXAMPLES examples per property (default 10000), fresh ones each time.
fuzz: setup
	ATP_FUZZ_EXAMPLES=$${ATP_FUZZ_EXAMPLES:-10000} $(PY) -m pytest -q -p no:cacheprovider --timeout=0 \
	  tests/unit/test_scenario_loader_fuzz.py

# Long soaks (the suite runs the same tests, shorter): a VM console kept open for 10 minutes.
soak: setup rig
	ATP_CONSOLE_SOAK_SECONDS=$${ATP_CONSOLE_SOAK_SECONDS:-600} $(PY) -m pytest -q \
	  tests/browser/test_vm_console_soak.py

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# The API reference of the engine, from its docstrings (pdoc), into var/api-docs/; a warning
# fails it. The docstring examples run as doctests (tests/unit/test_api_docs.py).
docs: venv
	$(PY) -W error -W ignore::DeprecationWarning docs/build_api.py var/api-docs
	$(PY) -m pytest -q -p no:cacheprovider tests/unit/test_api_docs.py

clean-rig:
	bash rig/stop-daemons.sh
