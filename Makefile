# supportapp: `make run` serves the app, `make test` runs the checks. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup db run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p instance

db: setup
	$(FLASK) db upgrade

run: db
	$(FLASK) seed
	@echo ""
	@echo "  supportapp is starting on http://$(HOST):$(PORT)/"
	@echo "    front page:  http://$(HOST):$(PORT)/"
	@echo "    a section:   http://$(HOST):$(PORT)/sections/local-government"
	@echo "    health:      http://$(HOST):$(PORT)/healthz"
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
