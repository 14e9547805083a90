# The two commands of the README. Each makes .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	# This machine sets PYTHONDONTWRITEBYTECODE; compiled bytecode halves Prefect's start-up.
	$(BIN)/python -m compileall -q $(VENV)/lib > /dev/null || true
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dsar demo --workdir demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .
	# One worker per core; a module stays on one worker, so its module-scoped fixtures are set up once,
	# and modules start in collection order (tests/conftest.py puts the long ones first).
	$(BIN)/python -m pytest -q -n auto --dist loadscope --no-loadscope-reorder

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .

bench: $(STAMP)
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done
	# The redaction evaluation runs Microsoft Presidio beside dsar: it needs the bench extra.
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python bench/redaction_eval.py

clean:
	rm -rf $(VENV) demo demo-keys
