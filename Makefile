# podfence: the two commands a fresh machine needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
EXAMPLE := examples/baa
# The suite runs on every core; PYTEST_ARGS='' runs it in one process.
PYTEST_ARGS ?= -n auto

.PHONY: run test venv clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

venv: $(STAMP_RUN)

run: $(STAMP_RUN)
	@bash scripts/run-example.sh $(BIN)/podfence $(EXAMPLE); status=$$?; \
	printf '\npodfence is installed in $(VENV), not on your PATH. Run it as\n'; \
	printf '  $(BIN)/podfence --help           (or: . $(BIN)/activate, then podfence --help)\n'; \
	printf '  sudo $(BIN)/podfence lab ...     (the lab needs root; sudo resets PATH, so give the path)\n'; \
	exit $$status

test: $(STAMP_TEST)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP_RUN)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
