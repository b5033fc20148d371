# Two commands do everything on a fresh machine:
#   make run   - set up and run the app (admin, worker, beat) on SQLite and a broker-less transport
#   make test  - set up (with Debian's chromium for the browser tests) and run lint, migration check
#                and the whole test suite on PostgreSQL + Redis
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint migrations-check pytest browser bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# `make run`'s state (SQLite, the file broker, supervisord's socket and log) and admin port.
NOJACKAL_DATA_DIR ?= $(CURDIR)/var
NOJACKAL_PORT ?= 8000
RUN_ENV := DJANGO_DEBUG=1 NOJACKAL_DATA_DIR="$(NOJACKAL_DATA_DIR)" NOJACKAL_PORT="$(NOJACKAL_PORT)"

# supervisord (config/supervisord.conf) runs web, worker and beat and restarts any that dies;
# Ctrl-C stops all three.
run: install
	@mkdir -p "$(NOJACKAL_DATA_DIR)"
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py demo
	$(RUN_ENV) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/supervisord -c config/supervisord.conf

# lint-imports: monitoring never imports outreach, no import circle inside an app (pyproject.toml)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

migrations-check: install
	DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres $(BIN)/python manage.py makemigrations --check --dry-run

# The browser tests (tests/browser) drive Debian's Chromium through Playwright; no browser is
# downloaded (`playwright install` cannot reach its servers): apt installs it once, when missing.
CHROMIUM := /usr/bin/chromium
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "$(CHROMIUM) is missing and apt-get is not here: install Debian's chromium package"; exit 1; }
	$(APT_GET) install -y -q chromium || { $(APT_GET) update -q && $(APT_GET) install -y -q chromium; } \
	  || { echo "Could not install chromium with apt-get (root and Debian's package registry are needed); the browser tests need $(CHROMIUM)"; exit 1; }

browser: $(CHROMIUM)

pytest: install browser
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint migrations-check pytest

clean:
	rm -rf var staticfiles .pytest_cache .ruff_cache .mypy_cache
