# Two commands take a fresh machine to results: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## Synthesise the bundled default bank and evaluate every baseline on it.
	$(BIN)/autotts demo --out demo-output

test: $(STAMP)  ## Run the test suite.
	$(BIN)/python -m pytest -q

bench: $(STAMP)  ## Replay speed on the real stores in ../shared (skips if absent), ingest speed.
	$(BIN)/python bench/replay_speed.py
	$(BIN)/python bench/ingest_speed.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
