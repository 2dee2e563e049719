# chaoslab: `make app` serves the app, `make test` runs the whole suite.
# Both create .venv and install everything they need on a fresh machine.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip --disable-pip-version-check
PORT   ?= 5006
ADDRESS ?= 127.0.0.1
PYTEST_ARGS ?=

.PHONY: app test fuzz bench bench-all browser clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# the app, the core and the learners (torch pinned to the CPU build)
$(VENV)/.app: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[app,learners]"
	@touch $@

# plus the test tools, notebooks and peers compared in tests
$(VENV)/.test: $(VENV)/.app pyproject.toml
	$(PIP) install -q -e ".[app,learners,test,notebook]"
	@touch $@

# peers for the benchmarks; numbacs builds Fortran code (Debian's gfortran)
$(VENV)/.bench: $(VENV)/.app pyproject.toml
	@command -v gfortran >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq gfortran >/dev/null; } || true
	$(PIP) install -q -e ".[app,learners,bench]"
	@touch $@

app: $(VENV)/.app
	$(VENV)/bin/chaoslab serve --port $(PORT) --address $(ADDRESS)

# headless Chromium for the browser tests (Debian's package; needs root or sudo)
browser:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "no root: browser tests will be skipped"; fi

test: $(VENV)/.test browser
	$(PY) -m pytest -q $(PYTEST_ARGS) tests

# generated calls of the public API and mutated model files, new examples each run
# (>= 20,000 calls and 20,000 files; about half an hour on two cores)
fuzz: $(VENV)/.test
	CHAOSLAB_FUZZ_EXAMPLES=24000 CHAOSLAB_FUZZ_FILES=20000 $(PY) -m pytest -q -p no:cacheprovider \
		tests/fuzz tests/learners/test_file_hardening.py tests/systems/test_equation_hardening.py

bench: $(VENV)/.bench
	$(PY) -m benchmarks.run

# plus every learner on five flows (about an hour on 2 cores) and the app in Chromium
bench-all: $(VENV)/.bench $(VENV)/.test browser
	$(PY) -m benchmarks.run --all

clean:
	rm -rf $(VENV) .pytest_cache
