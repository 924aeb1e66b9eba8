# Two commands on a fresh machine: `make run` (the baseline) and `make test` (the suite).
# Both create .venv and install what they need; nothing else is assumed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NB_STAMP := $(VENV)/.installed-notebook

.PHONY: run test test-slow test-all lint bench bench-web chromium notebook notebooks clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# JupyterLab (the `notebook` extra), only for `make notebook`: the tests need no front end.
$(NB_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,notebook]'
	touch $(NB_STAMP)

run: $(STAMP)
	$(PY) run.py scenarios/baseline.yaml --out out/baseline
	@echo
	@echo "The blocsim command is in $(VENV)/bin: run '. $(VENV)/bin/activate' once in this shell,"
	@echo "then 'blocsim --help' (or call '$(VENV)/bin/blocsim ...' directly). Notebooks: 'make notebook'."

# The quick suite (a couple of minutes on 2 cores); the slow end-to-end checks run in CI.
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q -m "not slow"

# The browser tests drive Debian's Chromium (Playwright never downloads one): installed if missing.
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else sudo apt-get install -y chromium; fi; }

test-slow: $(STAMP) chromium
	$(PY) -m pytest -q -m slow

test-all: $(STAMP) chromium
	$(PY) -m ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py

bench-web: $(STAMP)
	$(PY) benchmarks/bench_web.py

# Open the notebooks in JupyterLab, on this project's environment (installs JupyterLab once).
# JUPYTER_ARGS passes options (e.g. --no-browser --port 8890); as root (containers) Jupyter
# refuses to start without --allow-root, so it is added then.
JUPYTER_ARGS ?=
notebook: $(NB_STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(JUPYTER_ARGS)

# Re-execute the notebooks in place, so the committed copies carry current outputs and figures.
notebooks: $(STAMP)
	$(PY) tools/execute_notebooks.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
