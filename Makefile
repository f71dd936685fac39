# Descent. `book`, `test`, `lab` and `assignments` set up .venv first (Python 3.11+): a fresh clone needs only make.
#
# The book always executes every notebook (`execute_notebooks: force` in _config.yml): the chapters import
# src/descent, and Jupyter Book's cache does not notice changes there, so a cached build could show stale outputs.
# Locally and in CI (CI=true) the build is therefore the same; CI only gets quieter pip output and no `make lab`.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON := $(shell command -v python3.11 || command -v python3)
PIP_FLAGS := $(if $(filter true,$(CI)),--quiet --progress-bar off,)
# Programs the tools start themselves (Jupyter kernels, nbgrader) come from the venv too.
export PATH := $(BIN):$(PATH)

.PHONY: help book test lab assignments clean

help:
	@echo "make book         build the course into _build/html (runs every notebook, zero warnings allowed)"
	@echo "make test         run the test suite (library, doctests, book build)"
	@echo "make lab          open JupyterLab on the notebooks"
	@echo "make assignments  generate exercises/ from solutions/ with nbgrader"
	@echo "make clean        remove build outputs (keeps .venv; rm -rf .venv to reinstall)"

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11+ not found (need python3.11 or python3)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "error: $(PYTHON) is $$($(PYTHON) --version 2>&1); Descent needs Python 3.11+" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -r requirements.txt
	touch $@

book: $(VENV)/.installed
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open file://$(CURDIR)/_build/html/index.html"

test: $(VENV)/.installed
	$(BIN)/pytest $(PYTEST_ARGS)

lab: $(VENV)/.installed
	@if [ "$${CI:-}" = true ]; then echo "error: make lab is interactive; not run under CI=true" >&2; exit 1; fi
	$(BIN)/jupyter lab

# Regenerates every exercises/NN_name/ from solutions/NN_name/, in sorted order; --force replaces old releases.
assignments: $(VENV)/.installed
	@for dir in $(sort $(wildcard solutions/*/)); do \
		name=$$(basename $$dir); \
		echo "nbgrader generate_assignment $$name"; \
		$(BIN)/nbgrader generate_assignment "$$name" --force; \
	done

clean:
	rm -rf _build .hypothesis
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print \
		| xargs rm -rf
