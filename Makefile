# supportapp: `make run` serves the app, `make test` runs the checks. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup db run reset test lint clean vendor chromium axe

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p instance

db: setup
	$(FLASK) db upgrade

# One process migrates, seeds and serves (scripts/run_dev.py): the app is imported once.
run: setup
	$(BIN)/python scripts/run_dev.py --host $(HOST) --port $(PORT)

# Back to nothing, asking nothing: the development database (a SQLite file) and its tracking
# journal, the Stripe emulator's state and instance/mail/; it says what it removed. The next
# `make run` migrates and seeds again. Refuses while `make run` is up.
reset: setup
	$(BIN)/python scripts/reset_dev.py

lint: setup
	$(BIN)/ruff check .

# Finds the Chromium the browser tests drive, else tries Playwright's download, then apt as
# root on Debian; without one the browser tests are skipped (CI=true: they fail).
# SUPPORTAPP_CHROMIUM=/path/to/chrome picks one, SUPPORTAPP_CHROMIUM=none pretends there is none.
chromium: setup
	$(BIN)/python scripts/chromium.py --install

# axe-core, the accessibility checker the browser tests inject (package-lock.json pins it):
# `npm ci` when node_modules is missing or older than the lock. Without npm, or when the
# install fails, the accessibility tests are skipped (CI=true: they fail).
node_modules/.package-lock.json: package-lock.json
	@if ! command -v npm >/dev/null; then \
		echo "No npm: the accessibility tests will $(if $(filter true,$(CI)),fail (CI=true),be skipped)"; \
	elif ! npm ci --no-audit --no-fund; then \
		echo "npm ci failed: the accessibility tests will $(if $(filter true,$(CI)),fail (CI=true),be skipped)"; \
	fi

axe: node_modules/.package-lock.json

test: lint chromium axe
	$(BIN)/python -m pytest

# Re-copy the vendored front-end libraries from npm (package-lock.json pins them). Not part
# of run or test: the copies live in static/vendor/ so the app needs no Node.
vendor:
	npm ci --no-audit --no-fund
	mkdir -p static/vendor/chart.js
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md \
		static/vendor/chart.js/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
