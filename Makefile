# The exchange's two everyday commands are `make run` and `make test`.
SHELL := /bin/bash
# The distribution's interpreter comes first. It and the python:3.11 image the
# container ships are optimised builds; a default pyenv build, which may come first
# on PATH, is not. So what runs and is benchmarked here is the kind of build that
# ships (docs/performance.md). An existing .venv keeps its interpreter: `make clean`.
PYTHON ?= $(shell for p in /usr/bin/python3.11 /usr/bin/python3.12 /usr/bin/python3.13 \
	python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 \
	&& $$p -c 'import sys, ensurepip, venv; sys.exit(not (3,11) <= sys.version_info[:2] < (3,14))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# serve-prod's live side (uvicorn), next to gunicorn on PORT.
STREAMS_PORT ?= $(shell expr $(PORT) + 1)
PYTEST_ARGS ?=

.PHONY: venv run test smoke lint check format serve-prod bench chaos infra-check clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 to 3.13 is required" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Development server on the embedded default (SQLite + local-memory cache): one
# uvicorn process serves the REST API, the market streams (/ws, /stream) and the
# WebSocket API (/ws-api/v3) on one port; the order path's events reach the
# streams in process.
run: venv
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-1} BIND_HOST=$(HOST) STREAMS_PORT=$(PORT) bash scripts/serve-streams.sh

# The whole suite, on whatever DATABASE_URL / REDIS_URL say (embedded by default).
test: venv
	$(BIN)/pytest $(PYTEST_ARGS)

# A short end-to-end check of a served exchange on the embedded default.
smoke: venv
	bash tools/smoke.sh

# The production-like stack: gunicorn on PostgreSQL + Redis, DEBUG off, and the
# live side on uvicorn on STREAMS_PORT (default PORT + 1), fed through Redis. The
# image runs the very same two commands, one per Deployment.
serve-prod: venv
	bash scripts/prod-prepare.sh
	set -a && . var/prod.env && . var/prod-settings.env && set +a && { STREAMS_PORT=$(STREAMS_PORT) bash scripts/serve-streams.sh & trap 'kill $$! 2>/dev/null' EXIT INT TERM; } && $(BIN)/gunicorn --config gunicorn.conf.py exchange.wsgi:application

# Locust at steady rates against serve-prod; writes the table to docs/performance.md.
bench: venv
	bash scripts/install-wrk.sh
	$(BIN)/python -m tools.bench --write-docs

# Faults under load on a throwaway stack (own PostgreSQL, Redis, gunicorn under
# var/chaos): worker kills, Redis and PostgreSQL outages, duplicate orders; then
# the invariants. About 5 minutes; CHAOS_ARGS=--quick for 60 s. Not part of CI.
chaos: venv
	$(BIN)/python -m tools.chaos --write-docs $(CHAOS_ARGS)

infra-check:
	bash .ci/infra-check

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# What CI checks besides the tests: lint, the import arrows, types, and that every
# model change has its migration.
check: lint
	$(BIN)/lint-imports
	$(BIN)/mypy
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles
