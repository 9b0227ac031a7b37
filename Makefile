# One virtual environment serves the tests, the notebooks and the docs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# JupyterLab refuses to start as root (every Docker container) unless told --allow-root;
# only root gets it. LAB_OPTIONS adds options, e.g. LAB_OPTIONS="--no-browser --port=8890".
USER_ID     ?= $(shell id -u)
ROOT_OPTION := $(if $(filter 0,$(USER_ID)),--allow-root)
LAB_OPTIONS ?=

.PHONY: test lab docs bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(ROOT_OPTION) $(LAB_OPTIONS)

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W -b html docs docs/_build/html

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) docs/_build
