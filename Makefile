# RightsGuard developer commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint setup messages migrate seed clean system-deps

$(STAMP): pyproject.toml
	bash scripts/system-deps --build
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) messages

messages: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v0

# Embedded default: SQLite file under var/, tasks run in-process, demo data, MFA off for the demo.
run: export DJANGO_DEBUG ?= 1
run: export RIGHTSGUARD_MFA_REQUIRED ?= 0
run: setup
	mkdir -p var
	$(PY) manage.py migrate --no-input -v0
	$(PY) manage.py seed_demo
	@echo "RightsGuard: http://$(HOST):$(PORT)/  (accounts officer / supervisor / admin, password rightsguard-demo)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# The whole suite. Uses DATABASE_URL and REDIS_URL when set (CI sets PostgreSQL and Redis), else SQLite.
# TEST_WORKERS parallel processes (pytest-xdist), each with its own test database and Redis database; many tests
# wait on a browser, a server or a subprocess, so a worker more than the cores keeps them busy. TEST_WORKERS=0
# runs in one process.
TEST_WORKERS ?= 3
test: export DJANGO_SECRET_KEY ?= insecure-key-for-the-test-suite-only
test: setup system-deps
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

system-deps:
	bash scripts/system-deps

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DJANGO_DEBUG=1 $(PY) manage.py check
	DJANGO_DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DJANGO_DEBUG=1 $(VENV)/bin/mypy
	$(VENV)/bin/bandit -q -r accounts cases demo rightsguard -x '*/migrations/*' --severity-level high
	$(VENV)/bin/semgrep scan --config .semgrep/rules.yml --metrics=off --error --quiet --disable-version-check accounts cases demo rightsguard

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .hypothesis
