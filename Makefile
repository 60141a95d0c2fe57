# Veiviser's two front doors: `make run` and `make test`. Both install into .venv and bring the stack up.
# Prerequisites: Python 3.11+, Java 17+, Maven (the Kafka broker is resolved from Maven Central), and root
# or an existing PostgreSQL+PostGIS server (VEIVISER_DATABASE_URL) for the database.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install up down status run test test-unit lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "): set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

up: install
	$(BIN)/veiviser up

down:
	$(BIN)/veiviser down

status:
	$(BIN)/veiviser status

# The main job: the stack, then the pipeline's parts that exist (see README, "What runs").
run: up
	$(BIN)/veiviser status
	$(BIN)/veiviser bench kafka --messages 20000

# The whole test suite against the real stack (unit, integration, e2e).
test: up
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest -m unit

lint: install
	$(BIN)/ruff check .

bench: up
	$(BIN)/veiviser bench kafka

clean: down
	rm -rf $(VENV) .run
