# Two entry points, used by the README and by CI:
#   make demo   set up .venv and run the iris pipeline end to end
#   make test   set up .venv with the dev extras and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test setup-demo setup-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[examples]'
	touch $@

$(VENV)/.dev-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

setup-demo: $(VENV)/.demo-stamp
setup-dev: $(VENV)/.dev-stamp

demo: setup-demo
	$(BIN)/dagml validate examples/iris_pipeline.py

test: setup-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
