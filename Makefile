# The README's two commands are `make run` and `make test`; the rest are helpers.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench token asyncapi lint fmt clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Python 3.11+ is required (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "venv failed: on Debian/Ubuntu run 'sudo apt-get install python3.11-venv'"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m deploy.local

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

token: $(STAMP)
	@$(PY) -m libs.common.token $(ARGS)

asyncapi: $(STAMP)
	$(PY) -m libs.common.events.asyncapi --write

lint: $(STAMP)
	$(PY) -m pip install --quiet ruff && $(VENV)/bin/ruff check libs services tests bench deploy

fmt: $(STAMP)
	$(PY) -m pip install --quiet ruff && $(VENV)/bin/ruff format libs services tests bench deploy

clean:
	rm -rf $(VENV) var
