# The README's two commands are `make run` and `make test`; the rest are helpers.
# Any Python >= 3.11: the first of these that is one (Debian 13 ships 3.13, Ubuntu 24.04 3.12, Debian 12 3.11);
# `make run PYTHON=/opt/python3.12/bin/python3` picks another.
PYTHON_CANDIDATES := python3.14 python3.13 python3.12 python3.11 python3
ifndef PYTHON
PYTHON := $(shell for p in $(PYTHON_CANDIDATES); do \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
endif
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOURCES := libs services tests bench deploy

.PHONY: run test browser python lock soak bench token asyncapi lint fmt clean deadletters replay-deadletters

# constraints.txt pins every package (direct and transitive) to the versions the suite last passed with; `make lock`
# rewrites it from the current environment after a deliberate upgrade.
$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" && $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is required: none of $(PYTHON_CANDIDATES) is one (set PYTHON=...)"; exit 1; }
	@echo "using $(PYTHON) ($$($(PYTHON) -V))"
	@$(PYTHON) -m venv $(VENV) || { echo "venv failed: on Debian/Ubuntu install the venv package of that Python \
	  (e.g. 'sudo apt-get install python3-venv' or python3.12-venv)"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# The interpreter the venv is made with (what the selection above found).
python:
	@echo $(PYTHON)

run: $(STAMP)
	$(PY) -m deploy.local

test: $(STAMP) browser
	$(VENV)/bin/ruff format --check $(SOURCES)
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/mypy
	$(PY) -m pytest

# tests/common/test_docs_browser.py loads /docs in a real headless Chromium: installed from Debian's packages where it
# is missing and we are root with apt-get; elsewhere that test is skipped with a notice (under CI=true it fails).
browser:
	@if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium (apt-get) for the /docs browser test"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null \
	      || echo "NOTICE: apt-get could not install chromium; the /docs browser test will be skipped"; \
	  else \
	    echo "NOTICE: no chromium (as root: apt-get install chromium); the /docs browser test will be skipped"; \
	  fi; \
	fi

# The fault-injection tests (kill -9, broker restarts, database outages; KYC → traceability, then all four
# services) for minutes instead of ~40 s; the printed
# seed replays a schedule: `make soak FAULT_SEED=7 FAULT_SECONDS=600`. Then the schemathesis run over the KYC API
# with ten times the examples and longer stateful sequences (SCHEMATHESIS_EXAMPLES, _STEPS, _SEED).
soak: $(STAMP)
	FAULT_SECONDS=$${FAULT_SECONDS:-300} $(PY) -m pytest tests/faults/test_fault_injection.py -s
	FAULT_SECONDS=$${FAULT_SECONDS:-300} $(PY) -m pytest tests/faults/test_system_faults.py -s -k random_kills
	SCHEMATHESIS_EXAMPLES=$${SCHEMATHESIS_EXAMPLES:-80} SCHEMATHESIS_STEPS=$${SCHEMATHESIS_STEPS:-20} \
	  $(PY) -m pytest tests/kyc/test_schemathesis.py --timeout=3600

bench: $(STAMP)
	$(PY) -m bench

token: $(STAMP)
	@$(PY) -m libs.common.token $(ARGS)

# Dead letters of one service's consumer: `make deadletters SERVICE=traceability`, then after the fix
# `make replay-deadletters SERVICE=traceability` re-applies them in order, once.
deadletters: $(STAMP)
	@$(PY) -m services.$(SERVICE) deadletters

replay-deadletters: $(STAMP)
	@$(PY) -m services.$(SERVICE) replay-deadletters

asyncapi: $(STAMP)
	$(PY) -m libs.common.events.asyncapi --write
	$(PY) -m deploy.docs_pages --write

lint: $(STAMP)
	$(VENV)/bin/ruff format --check $(SOURCES) && $(VENV)/bin/ruff check $(SOURCES) && $(VENV)/bin/mypy

fmt: $(STAMP)
	$(VENV)/bin/ruff format $(SOURCES) && $(VENV)/bin/ruff check --fix $(SOURCES)

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) var
