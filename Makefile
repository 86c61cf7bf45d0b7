# The two quick-start commands: `make run` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup browser run validate test bench clean

WEB := server/web

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The query editor (YASGUI) and the API docs (Swagger UI) come from the npm registry and are
# served by the server itself. --ignore-scripts: no package needs an install script to work.
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js 18 or newer) is needed for the web UI's packages"; exit 1; }
	npm ci --prefix $(WEB) --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed $(WEB)/node_modules/.installed

# Debian packages the tests need: Chromium for the browser tests (never a browser downloaded by
# Playwright), libseccomp for the workers' system-call filter (server/workers/containment.py),
# Virtuoso as an external store the HTTP suites also run on, and HAProxy for the replicas' test.
# The tests run Virtuoso on databases of their own; the package's own instance is not used (its
# DBA password, which the package asks for, is set to a random one).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) && /sbin/ldconfig -p | grep -q 'libseccomp.so.2 ' && command -v virtuoso-t >/dev/null \
		&& command -v isql-vt >/dev/null && { command -v haproxy || test -x /usr/sbin/haproxy; } >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		PASSWORD=$$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'); \
		printf 'virtuoso-opensource-7 virtuoso-opensource-7/dba-password password %s\nvirtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password %s\n' $$PASSWORD $$PASSWORD | $$SUDO debconf-set-selections; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium libseccomp2 virtuoso-opensource haproxy >/dev/null; }

# The main job: the SPARQL server on the embedded store with the bundled data, on 127.0.0.1:8000.
run: setup
	$(BIN)/ilo-kg serve

validate: setup
	$(BIN)/ilo-kg validate data/

# The source of ontology/iati-codelists.ttl, which the tests regenerate and compare: the IATI 2.03 codelists in
# pyIATI's source package, downloaded (never installed: its pinned dependencies predate this Python).
IATI_CODELISTS := build/pyIATI-0.4.1.tar.gz
$(IATI_CODELISTS): $(BIN)/.installed
	$(BIN)/pip download --quiet --no-deps --no-binary :all: --no-build-isolation pyIATI==0.4.1 -d build

test: setup browser $(IATI_CODELISTS)
	$(BIN)/ruff check server tests
	ILOKG_TEST_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -n auto

# Benchmarks against oxigraph serve and rdflib-endpoint (needs Debian's wrk: apt-get install wrk).
TRIPLES ?= 1000000
bench: setup
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run --triples $(TRIPLES) --write bench/RESULTS.md

clean:
	rm -rf $(VENV) .pytest_cache var test-artifacts $(WEB)/node_modules
