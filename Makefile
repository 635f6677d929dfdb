# rectiflow: `make run` serves the demo on SQLite; `make test` runs the whole suite
# on SQLite and on PostgreSQL.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres install bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate setup.cfg
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/rectiflow init-db
	$(BIN)/rectiflow seed-demo
	$(BIN)/rectiflow run --host $(HOST) --port $(PORT)

test: install
	scripts/ensure-services
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)
	RECTIFLOW_DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/engine_bench.py

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
