# Descent. `book`, `test`, `lab` and `assignments` set up .venv first (Python 3.11+): a fresh clone needs only make.
#
# The book executes every notebook it reads (`execute_notebooks: force` in _config.yml), and tests and CI always
# build from scratch. `make book` rebuilds only what changed (Sphinx re-reads a page whose source changed), except
# that a change in what the notebooks import (src/, _ext/, requirements) rebuilds every page (`--all`): Sphinx
# does not see those changes itself. CI (CI=true) only gets quieter pip output and no `make lab`.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON := $(shell command -v python3.11 || command -v python3)
PIP_FLAGS := $(if $(filter true,$(CI)),--quiet --progress-bar off,)
# Programs the tools start themselves (Jupyter kernels, nbgrader) come from the venv too.
export PATH := $(BIN):$(PATH)

.PHONY: help book test lab assignments grade grade-report check clean

help:
	@echo "make book         build the course into _build/html (runs changed notebooks, zero warnings allowed)"
	@echo "make test         run the test suite (library, doctests, book build)"
	@echo "make lab          open JupyterLab on the notebooks"
	@echo "make assignments  generate exercises/ from solutions/ with nbgrader"
	@echo "make grade SUBMISSIONS=folder-or-zip   grade a class: grades.csv, LMS files, feedback/ (README: For instructors)"
	@echo "make grade SUBMISSIONS=... SHARD=i/n   grade the i-th of n shares of the students (one machine of n)"
	@echo "make grade-report SUBMISSIONS=...      grades.csv and LMS files from the gradebook, once every shard is done"
	@echo "make check NOTEBOOK=path               run a notebook's visible tests and print each part's result"
	@echo "make clean        remove build outputs (keeps .venv; rm -rf .venv to reinstall)"

$(VENV)/.installed: requirements.txt pyproject.toml src/descent_grading/pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11+ not found (need python3.11 or python3)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "error: $(PYTHON) is $$($(PYTHON) --version 2>&1); Descent needs Python 3.11+" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -r requirements.txt
	touch $@

# _build/.inputs holds a hash of what the notebooks depend on beyond their own source; a failed build removes it,
# so the next one starts again from scratch (an incremental build would not repeat the warnings of unchanged pages).
# The kernels' "running over TCP without encryption" notice (local loopback kernels) is not a book warning.
BOOK_INPUTS = find src _ext _vendor requirements.txt pyproject.toml -type f ! -name '*.pyc' -print0 \
	| sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16

book: $(VENV)/.installed
	@mkdir -p _build
	@inputs=$$($(BOOK_INPUTS)); all=$$([ "$$inputs" = "$$(cat _build/.inputs 2>/dev/null)" ] || echo --all); \
	rm -f _build/.inputs; \
	$(BIN)/jupyter-book build . -W -n --keep-going $$all \
		2> >(grep -v --line-buffered "Kernel is running over TCP without encryption" >&2); \
	echo "$$inputs" > _build/.inputs
	@echo "Open file://$(CURDIR)/_build/html/index.html"

# Two workers (CI has two cores); tests/conftest.py sends each file whole to one worker, and the book files together.
# JOBS=0 runs everything in this process (easier to debug).
JOBS ?= 2
test: $(VENV)/.installed
	$(BIN)/pytest -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

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

# Grades a class: SUBMISSIONS is a Canvas, Moodle or Blackboard export (zip or unzipped) or a folder
# <student_id>/<assignment>/<notebook>.ipynb; exits non-zero when a file could not be graded.
# Writes feedback/, grades.csv and each LMS's import files here and records the grades in the gradebook; the
# submissions are only read. SHARD=i/n grades the students of shard i of n (by a hash of their id) into the gradebook
# and feedback/ only; grade-report then writes grades.csv and the LMS files from the gradebook.
grade: $(VENV)/.installed
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder-or-zip [SHARD=i/n]" >&2; exit 2; }
	$(BIN)/python -m descent_grading grade "$(SUBMISSIONS)" $(if $(SHARD),--shard "$(SHARD)",)

grade-report: $(VENV)/.installed
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade-report SUBMISSIONS=folder-or-zip" >&2; exit 2; }
	$(BIN)/python -m descent_grading report "$(SUBMISSIONS)"

# A student's self-check: runs the notebook's visible tests (the hidden ones run only when graded).
check: $(VENV)/.installed
	@test -n "$(NOTEBOOK)" || { echo "usage: make check NOTEBOOK=exercises/NN_name/NN_name.ipynb" >&2; exit 2; }
	$(BIN)/python -m descent_grading check "$(NOTEBOOK)"

clean:
	rm -rf _build .hypothesis
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print \
		| xargs rm -rf
