# The two commands: `make book` builds the report, `make test` runs every test.
# Everything is installed into .venv from requirements.lock (exact versions).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COMPILED := $(VENV)/.compiled
IMPORTS_COMPILED := $(VENV)/.imports-compiled

.PHONY: book test test-fast bench lint browser lock clean

book: $(STAMP) $(IMPORTS_COMPILED)
	$(BIN)/gpufleet run

test: $(COMPILED) browser
	$(BIN)/python -m compileall -qq src || true
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/pytest

# The inner loop: lint and the unit tests, no notebook run, no build, no browser.
test-fast: $(COMPILED)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/pytest -m "not slow" -q

# A headless browser for the end-to-end test: Debian's chromium, installed where we can.
browser:
	@sh scripts/ensure-chromium.sh

# uv, at this exact version, installs the lock into .venv (several times faster than pip). It is
# itself installed from PyPI beside the environment, not in it, by the Python's own pip, or by
# a throwaway venv's pip where that Python has none. --system-certs: the platform's certificate
# store, as pip uses, not uv's built-in one. SEED: what `python3 -m venv` puts in a venv (pip
# and setuptools, Python 3.11.7's ensurepip), pinned, since the venv is made without them.
UV_VERSION := 0.13.9
UV_DIR := $(VENV)/.uv-$(UV_VERSION)
UV := $(UV_DIR)/bin/uv
UV_INSTALL := $(UV) pip install --quiet --system-certs --python $(BIN)/python
SEED := pip==23.2.1 setuptools==65.5.0
PIP_UV := -m pip install --quiet --disable-pip-version-check --upgrade --target $(UV_DIR) uv==$(UV_VERSION)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	test -x $(UV) || if $(PYTHON) -m pip --version >/dev/null 2>&1; then $(PYTHON) $(PIP_UV); \
		else $(PYTHON) -m venv $(VENV)/.uv-bootstrap && $(VENV)/.uv-bootstrap/bin/python $(PIP_UV); fi
	$(UV_INSTALL) -r requirements.lock $(SEED)
	$(UV_INSTALL) --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The tests and the benchmarks start many Python processes: compiled bytecode spares each of them
# compiling the same modules again (on every run where PYTHONDONTWRITEBYTECODE is set). `make book`
# compiles only what a run imports (below). Only a speed-up, so a file that does not compile is
# no error. The package's own modules change between runs: they
# are compiled again each time (a module changed since is compiled afresh as it is imported).
$(COMPILED): $(STAMP)
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib || true
	touch $(COMPILED)

# Where PYTHONDONTWRITEBYTECODE is set, no run writes the bytecode of what it imports, and every
# run compiles pandas, Altair and Sphinx again (a one-parameter re-run: 5.3-6.2 s instead of
# 3.5 s). `make book` compiles just what a run imports, once (about ten seconds); elsewhere it
# does nothing, since Python writes bytecode as it imports.
$(IMPORTS_COMPILED): $(STAMP)
	$(BIN)/python -m gpufleet.build.bytecode || true
	touch $(IMPORTS_COMPILED)

# Times our runner (cold, no change, one parameter) against what a user would do instead (plain
# jupyter-book executing the notebooks; papermill -p then jupyter-book build), and prints the
# ratios the project targets, where our time goes and the peak memory of a cold run.
bench: $(COMPILED)
	$(BIN)/python -m compileall -qq src || true
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
