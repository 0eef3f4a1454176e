# Everything a fresh machine needs is installed from here: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run init test lint bench scenarios clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)
	bash scripts/install_assets.sh

## run: bootstrap ./data (database, demo tenant, intent model) and serve on http://127.0.0.1:8000
run: install
	$(BIN)/chasqui serve --host $(HOST) --port $(PORT)

## init: only the bootstrap (database, demo tenant, intent model), no server
init: install
	$(BIN)/chasqui init

## test: the same bootstrap, then the whole test suite
test: install
	$(BIN)/chasqui init
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check chasqui tests bench

bench: install
	$(BIN)/python bench/nlu.py
	$(BIN)/python bench/webhook.py

## scenarios: the public scenario checker against the shared scripted conversations
scenarios: install
	$(BIN)/python ../shared/scenarios/check.py --chasqui $(BIN)/chasqui ../shared/scenarios/[0-9]*.yaml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
