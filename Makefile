# The README's two commands are `make run` and `make test`; the rest are helpers.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SOURCES := libs services tests bench deploy

.PHONY: run test lock soak bench token asyncapi lint fmt clean deadletters replay-deadletters

# constraints.txt pins every package (direct and transitive) to the versions the suite last passed with; `make lock`
# rewrites it from the current environment after a deliberate upgrade.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Python 3.11+ is required (set PYTHON=...)"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "venv failed: on Debian/Ubuntu run 'sudo apt-get install python3.11-venv'"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m deploy.local

test: $(STAMP)
	$(VENV)/bin/ruff format --check $(SOURCES)
	$(VENV)/bin/ruff check $(SOURCES)
	$(PY) -m pytest

# The fault-injection test (kill -9, broker restarts, database outages) for minutes instead of ~40 s; the printed
# seed replays a schedule: `make soak FAULT_SEED=7 FAULT_SECONDS=600`. Then the schemathesis run over the KYC API
# with ten times the examples and longer stateful sequences (SCHEMATHESIS_EXAMPLES, _STEPS, _SEED).
soak: $(STAMP)
	FAULT_SECONDS=$${FAULT_SECONDS:-300} $(PY) -m pytest tests/faults/test_fault_injection.py -s
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

lint: $(STAMP)
	$(VENV)/bin/ruff format --check $(SOURCES) && $(VENV)/bin/ruff check $(SOURCES)

fmt: $(STAMP)
	$(VENV)/bin/ruff format $(SOURCES) && $(VENV)/bin/ruff check --fix $(SOURCES)

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) var
