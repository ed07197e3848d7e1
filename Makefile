# The two commands: `make book` builds the report, `make test` runs every test.
# Everything is installed into .venv from requirements.lock (exact versions).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test test-fast bench lint browser lock clean

book: $(STAMP)
	$(BIN)/gpufleet run

test: $(STAMP) browser
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/pytest

# The inner loop: lint and the unit tests, no notebook run, no build, no browser.
test-fast: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/pytest -m "not slow" -q

# A headless browser for the end-to-end test: Debian's chromium, installed where we can.
browser:
	@sh scripts/ensure-chromium.sh

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Times our runner (cold, no change, one parameter) against plain jupyter-book executing the
# notebooks itself, and prints the ratios the project targets.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_montecarlo.py
	$(BIN)/python benchmarks/run_bench.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks

# Refresh the lock after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	( sed -n '1,2p' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable | grep -v '^gpufleet' ) > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf _build book/*.ipynb _static/vega-bundle.js _static/vega-config.js
