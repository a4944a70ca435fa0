# The commands that matter: `make run` (set up and start everything) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin

# Local overrides (copy .env.example to .env); make run is for development, so DEBUG defaults on.
ifneq (,$(wildcard .env))
include .env
export $(shell sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' .env)
endif
DEBUG ?= true
export DEBUG

.PHONY: help install run web worker emulator test test-fast lint fmt migrate seed clean bench bench-growth faults

help:
	@echo "make run        set up .venv, migrate, seed the demo, start web + worker/beat + emulator"
	@echo "make test       run the test suite (on DATABASE_URL / CELERY_BROKER_URL if set)"
	@echo "make test-fast  run the tests not marked slow or browser (a quicker loop while working)"
	@echo "make lint       ruff check, ruff format --check, mypy, import contracts, makemigrations --check"
	@echo "make fmt        fix what ruff can fix and format the code"
	@echo "make bench      run every benchmark on PostgreSQL + Redis and print one table (var/bench/)"
	@echo "make bench-growth  each benchmark at 1x and 10x the work: cost per unit and the ratio"
	@echo "make faults     kill / restart workers, beat, Redis, PostgreSQL, the emulator; check convergence"

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo "Starting web on http://127.0.0.1:8000/ , the worker with beat, and the emulator. Ctrl-C stops all."
	PATH="$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks are measured on PostgreSQL + Redis (DESIGN.md); override either variable to aim elsewhere.
BENCH_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/dashboard_bench
BENCH_BROKER_URL ?= redis://127.0.0.1:6379/15

bench: install
	DATABASE_URL="$${DATABASE_URL:-$(BENCH_DATABASE_URL)}" \
	CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(BENCH_BROKER_URL)}" \
	$(BIN)/python bench/run_all.py $(if $(ONLY),--only $(ONLY))

bench-growth: install
	DATABASE_URL="$${DATABASE_URL:-$(BENCH_DATABASE_URL)}" \
	CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(BENCH_BROKER_URL)}" \
	$(BIN)/python bench/growth.py $(if $(ONLY),--only $(ONLY))

# Fault drills (bench/faults.py): each starts its own PostgreSQL and Redis on free ports, never the
# configured ones. `make faults ONLY=kill-worker` for one; FAULTS_ARGS="--outage-seconds 30" to pass options.
faults: install
	$(BIN)/python bench/faults.py $(or $(ONLY),all) $(FAULTS_ARGS)

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache
