# Two commands for a newcomer: `make demo` and `make test`. Each creates .venv
# and installs what it needs, pinned by constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: demo test lint bench lock wheel clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) -c constraints.txt -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/trustops demo --output demo-output --serve

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Fairness (10M rows) and drift (1M x 25 vs Evidently, NannyML, whylogs; 50M-row
# streaming; Spark): about 30 minutes; `bench/drift_bench.py --quick` is a smoke run.
# Governance (audited actions/s on SQLite and PostgreSQL, verifying a 1M-entry audit
# log, proofs): about 5 minutes; `bench/governance_bench.py --quick` is a smoke run.
# Server (model page, decision list, register, approve over HTTP on SQLite and PostgreSQL):
# about 5 minutes; `bench/server_bench.py --quick` is a smoke run.
# Monitoring (prediction ingestion over HTTP into SQLite, single-post latency at 200/s):
# about 2 minutes; `bench/monitoring_bench.py --quick` is a smoke run.
bench: $(STAMP)
	$(PY) bench/fairness_bench.py
	$(PY) bench/drift_bench.py
	$(PY) bench/governance_bench.py
	$(PY) bench/explain_bench.py
	$(PY) bench/monitoring_bench.py
	$(PY) bench/server_bench.py

# Re-pin every dependency after changing pyproject.toml (no URLs, no paths).
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^trustops' > constraints.txt

wheel: $(STAMP)
	$(PY) -m pip wheel --no-deps -w dist .

clean:
	rm -rf $(VENV) demo-output dist build .pytest_cache .mypy_cache .ruff_cache
