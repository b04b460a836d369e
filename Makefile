# Entry points, each doing its own set-up in .venv: `make example` lints the bundled
# example project, `make test` runs the checks on this code (ruff, mypy) and the tests,
# `make docs` regenerates what is written from the check registry.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Offline machines: tiktoken's encoding files from the shared folder, if there is one.
SHARED_TIKTOKEN := $(abspath ../shared/tiktoken)
ifneq ($(wildcard $(SHARED_TIKTOKEN)),)
export TIKTOKEN_CACHE_DIR ?= $(SHARED_TIKTOKEN)
endif

.PHONY: example test docs

# The C module (setup.py) is built by the install: again when its source changes.
$(VENV)/.installed: pyproject.toml setup.py $(wildcard native/*.c native/*.h)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Its build is optional: where it fails, the module built before must not stay.
	rm -f pytest_finetune/_native.*.so
	# setuptools tells every editable install to mind same-named folders, as a warning
	# that --quiet does not hide.
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@

example: $(VENV)/.installed
	cd examples && ../$(BIN)/pytest

# Everything written from the check registry: the catalog pages, and the check counts and
# tables in the README and docs/ (blocks marked <!-- generated: ... -->). Run it after
# adding or changing a check; the test suite fails while any of them is stale.
docs: $(VENV)/.installed
	$(BIN)/pytest-finetune rules --catalog checks --docs README.md docs/*.md

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest
