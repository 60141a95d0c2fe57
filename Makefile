# Veiviser's two front doors: `make run` and `make test`. Both install into .venv and bring the stack up.
# Prerequisites: Python 3.11+, Java 17+, Maven (the Kafka broker is resolved from Maven Central), and root
# or an existing PostgreSQL+PostGIS server (VEIVISER_DATABASE_URL) for the database.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser up down status run test test-unit lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + "): set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Debian's Chromium and its driver, for the browser tests of the web pages (no test tool downloads a browser).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  echo "installing Debian's chromium and chromium-driver (browser tests)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends chromium chromium-driver; }

up: install
	$(BIN)/veiviser up

down:
	$(BIN)/veiviser down

status:
	$(BIN)/veiviser status

# The main job: the stack, the geo data in PostGIS, and the whole pipeline (router and planner workers, the
# health sampler, the intake, field and operator services) fed by simulated office systems (Ctrl-C stops it).
run: up
	$(BIN)/veiviser geo load
	$(BIN)/veiviser run --events 5000 --rate 100

# The whole test suite against the real stack (unit, integration, e2e).
test: up browser
	$(BIN)/pytest

test-unit: install
	$(BIN)/pytest -m unit

lint: install
	$(BIN)/ruff check .

bench: up
	$(BIN)/veiviser bench kafka

clean: down
	rm -rf $(VENV) .run
