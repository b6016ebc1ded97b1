# Entry points (demo and test are the ones the README and CI use):
#   make demo   set up .venv and run the iris pipeline end to end
#   make test   set up .venv with the dev extras and run the test suite
#   make bench  run every benchmark and write docs/performance.md (not part of the tests)
#   make lint   the gate CI runs before the tests: ruff, mypy --strict, and the layering contract
#               (docs/architecture.md)
#   make container-bed  only the container test bed (part of `make test`): the compiled pipelines in
#               SageMaker's images, emulated from their own Python and packages, network cut (root)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint container-bed bench setup-demo setup-dev setup-dot golden docs-images clean

# Installs go through uv (same package index as pip; about 6x faster here: the dev extras, with the
# SageMaker SDK, take ~30 s instead of ~2 min 40 s) and print what they do as they go. uv itself comes
# from pip, so a machine's pip settings still decide where that one package comes from.
UV := $(BIN)/uv pip install --python $(BIN)/python

$(BIN)/python:
	@echo "== setting up $(VENV) with $$($(PYTHON) --version)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(VENV)/.demo-stamp: pyproject.toml | $(BIN)/python
	@echo "== installing dagml with the examples and drawing extras"
	$(UV) -e '.[examples,viz]'
	touch $@

$(VENV)/.dev-stamp: pyproject.toml | $(BIN)/python
	@echo "== installing dagml with the dev extras (the SageMaker SDK among them, about 1 GB)"
	$(UV) -e '.[dev]'
	touch $@

setup-demo: $(VENV)/.demo-stamp
setup-dev: $(VENV)/.dev-stamp

# Graphviz's `dot` draws SVG and PNG: installed where we can (apt-get, as root); elsewhere
# we say how and go on (DOT and Mermaid work without it; SVG/PNG then fail saying how to install).
setup-dot:
	@command -v dot >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing Graphviz for SVG/PNG drawing: apt-get install -y graphviz"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz; } >/dev/null 2>&1 || true; \
	  fi; \
	  command -v dot >/dev/null 2>&1 || echo "note: Graphviz's dot is not installed, so SVG/PNG drawing will fail" \
	    "(DOT and Mermaid work). Install it: apt-get install graphviz (Debian/Ubuntu) or brew install graphviz (macOS)."; \
	}

# Placeholder AWS settings (the AWS documentation account): compile never calls AWS, so any
# well-formed values work; set yours to deploy (see docs/sagemaker.md and docs/deploy.md).
DEMO_SETTINGS ?= --role-arn arn:aws:iam::111122223333:role/SageMakerRole --bucket dagml-example-bucket --region us-east-1

demo: setup-demo setup-dot
	mkdir -p out  # dagml writes files, never creates directories
	$(BIN)/dagml validate examples/iris_pipeline.py
	$(BIN)/dagml run examples/iris_pipeline.py --graph out/iris-run.svg
	$(BIN)/dagml render examples/iris_pipeline.py -o out/iris.svg
	$(BIN)/dagml compile examples/iris_pipeline.py -o out/iris.json $(DEMO_SETTINGS)

# Two processes (pytest-xdist, one per core here); the container test bed stays in one of them
# (its tests share the image environments: xdist_group "container-bed"). TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= auto

test: setup-dev setup-dot
	@echo "== running the tests ($(TEST_WORKERS) workers), the container test bed included"
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# ruff: style and the py310 floor of the step runtime; mypy --strict over dagml; lint-imports: every
# import points down the layers (pyproject.toml [tool.importlinter], docs/architecture.md).
lint: setup-dev
	$(BIN)/ruff check dagml tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

container-bed: setup-dev
	$(BIN)/python -m pytest tests/containers $(PYTEST_ARGS)

# Every benchmark, side by side with its reference (SageMaker SDK v3, direct calls); about
# 15 minutes on 2 cores. Writes docs/performance.md. BENCH_ARGS=--quick for a smoke run.
# Hamilton (the `bench` extra) is the reference of benchmark 3's chain; nothing else needs it.
bench: setup-dev
	$(UV) -e '.[dev,bench]'
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# Regenerate the golden files beside tests/pipelines/*.py (then review the diff).
golden: setup-dev
	$(BIN)/python tests/regen_golden.py

# The pictures in README.md and docs/: docs/images/iris.svg and the run-overlay example.
docs-images: setup-dev setup-dot
	$(BIN)/python docs/make_images.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
