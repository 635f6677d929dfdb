# rectiflow: `make run` serves the demo on SQLite; `make test` runs the whole suite on SQLite,
# then everything but the browser tests on PostgreSQL.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
PYTEST_ARGS ?=
# Each test process imports the service, SpiffWorkflow and pytest's rewritten plugins: let Python keep
# their compiled bytecode (in __pycache__, ignored by git) even where the environment turns that off,
# so the second process and the second pass do not compile everything again.
PYTEST = PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

TRANSLATIONS = service/translations
# gettext keywords besides pybabel's own (_, gettext, ngettext, pgettext, ...): lazy texts in tables
BABEL_KEYWORDS = -k _l -k _lp:1c,2 -k N_

.PHONY: run test test-sqlite test-postgres install bench clean translations

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
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(PYTEST) -n 2 -q $(PYTEST_ARGS)
	# the browser tests serve their pages from SQLite in either pass (the live server's threads
	# share one file), so the PostgreSQL pass leaves them out rather than repeat them unchanged
	RECTIFLOW_DATABASE_URL=$(PG_URL) $(PYTEST) -n 2 -q --ignore=tests/browser $(PYTEST_ARGS)

# UI texts (msgids in English) and model texts (msgids in Chinese): extract the templates, update
# every catalogue, compile. Then translate what is new or fuzzy in zh_CN/messages.po (and
# en/content.po), run this again, and commit the .pot, .po and .mo files together.
translations: install
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file --sort-output \
	    --project=rectiflow --copyright-holder="the rectiflow authors" -o $(TRANSLATIONS)/messages.pot service/web service/templates service/errors.py
	PYTHONPATH=. $(BIN)/pybabel extract -F babel-content.cfg --add-location=file --sort-output \
	    --project=rectiflow --copyright-holder="the rectiflow authors" -o $(TRANSLATIONS)/content.pot bpmn
	$(BIN)/pybabel update -D messages -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --ignore-pot-creation-date
	$(BIN)/pybabel update -D content -i $(TRANSLATIONS)/content.pot -d $(TRANSLATIONS) --ignore-pot-creation-date
	$(BIN)/pybabel compile -D messages -d $(TRANSLATIONS) --statistics
	$(BIN)/pybabel compile -D content -d $(TRANSLATIONS) --statistics

# Every benchmark, beside raw SpiffWorkflow, checked against the targets; figures in bench/results.json.
# Needs PostgreSQL at $(PG_URL) (and Redis for the production server's rate limits). A short run:
# `make bench BENCH_ARGS=--quick`.
BENCH_ARGS ?=
bench: install
	scripts/ensure-services
	RECTIFLOW_BENCH_POSTGRES=$(PG_URL) $(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
