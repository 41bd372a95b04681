# podfence: the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
EXAMPLE := examples/baa
# podfence ui's third-party front-end libraries: from npm (web/package-lock.json), shipped in the package.
VENDOR := src/podfence/ui/static/vendor
STAMP_VENDOR := $(VENDOR)/.installed
# The suite runs on every core; PYTEST_ARGS='' runs it in one process.
PYTEST_ARGS ?= -n auto

.PHONY: run test venv clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_VENDOR): web/package.json web/package-lock.json web/editor-entry.js
	cd web && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp web/node_modules/cytoscape/dist/cytoscape.min.js web/node_modules/dagre/dist/dagre.min.js \
	   web/node_modules/cytoscape-dagre/cytoscape-dagre.js $(VENDOR)/
	web/node_modules/.bin/esbuild web/editor-entry.js --bundle --minify --format=iife --legal-comments=eof \
	   --log-level=warning --outfile=$(VENDOR)/codemirror.js
	touch $@

$(STAMP_RUN): pyproject.toml $(STAMP_VENDOR) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml $(STAMP_VENDOR) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

venv: $(STAMP_RUN)

run: $(STAMP_RUN)
	@bash scripts/run-example.sh $(BIN)/podfence $(EXAMPLE); status=$$?; \
	printf '\npodfence is installed in $(VENV), not on your PATH. Run it as\n'; \
	printf '  $(BIN)/podfence --help           (or: . $(BIN)/activate, then podfence --help)\n'; \
	printf '  sudo $(BIN)/podfence lab ...     (the lab needs root; sudo resets PATH, so give the path)\n'; \
	printf '\nSee the example in your browser (the web UI):\n  $(BIN)/podfence ui -f $(EXAMPLE)\n'; \
	exit $$status

test: $(STAMP_TEST)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP_RUN)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(VENDOR) web/node_modules build dist src/*.egg-info .pytest_cache .hypothesis
