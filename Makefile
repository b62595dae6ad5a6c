# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-fast lint lock services clean bench browser ui-assets pdf-font

setup: $(STAMP) ui-assets browser pdf-font

HTMX_SRC := node_modules/htmx.org/dist/htmx.min.js
HTMX_DST := src/hunter/web/static/vendor/htmx.min.js

## The UI's JavaScript comes from npm (package-lock.json) and is copied into the package, git-ignored.
ui-assets: $(HTMX_DST)

$(HTMX_DST): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(HTMX_DST))
	cp $(HTMX_SRC) $(HTMX_DST)

## The PDF brief embeds DejaVu Sans (Turkish ğ ş ı İ); Debian's fonts-dejavu-core ships it.
pdf-font:
	@if [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y fonts-dejavu-core; \
	else echo "PDF briefs need a font: run 'sudo apt-get install -y fonts-dejavu-core'."; fi

## Debian's Chromium for the browser tests (never a downloaded browser build).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-dejavu-core; \
	else echo "Chromium is missing: run 'sudo apt-get install -y chromium fonts-dejavu-core' for the browser tests."; fi

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

## Install, start the sandbox, import the sample list, scan it, serve the UI on 127.0.0.1:8000.
demo: setup
	$(BIN)/hunter demo

## Install and run every test (PostgreSQL and Redis are started when they are down).
test: setup services
	$(BIN)/ruff check src tests bench
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: setup
	$(BIN)/python -m pytest -q -x -m "not slow"

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

services:
	@bash scripts/ensure-services.sh

## Re-pin every Python dependency after changing pyproject.toml.
lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

bench: setup
	$(BIN)/python bench/scan_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts node_modules src/hunter/web/static/vendor
