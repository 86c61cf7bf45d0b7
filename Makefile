# The two quick-start commands: `make run` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run validate test bench clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed

# The main job: the SPARQL server on the embedded store with the bundled data, on 127.0.0.1:8000.
run: setup
	$(BIN)/ilo-kg serve

validate: setup
	$(BIN)/ilo-kg validate data/

test: setup
	$(BIN)/ruff check server tests
	$(BIN)/python -m pytest -n auto

# Benchmarks against oxigraph serve and rdflib-endpoint (needs Debian's wrk: apt-get install wrk).
TRIPLES ?= 1000000
bench: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run --triples $(TRIPLES) --write bench/RESULTS.md

clean:
	rm -rf $(VENV) .pytest_cache var
