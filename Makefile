# Two commands take a fresh machine to results: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test bench results clean gpu-env

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The tests also run the transformers engine on a tiny model: torch is pinned to the CPU build
# this kind of machine carries (requirements/test-constraints.txt); elsewhere pip takes that
# release from PyPI.
$(TEST_STAMP): $(STAMP) requirements/test-constraints.txt
	$(BIN)/pip install --quiet -c requirements/test-constraints.txt -e '.[dev,transformers]'
	touch $(TEST_STAMP)

demo: $(STAMP)  ## Synthesise the bundled default bank and evaluate every baseline on it.
	$(BIN)/autotts demo --out demo-output

# Two workers (pytest-xdist): most tests wait on sandboxes, flows and replay pools, so two halve
# the suite's time even on a 2-core machine. `pytest tests/test_x.py` alone runs in one process.
test: $(TEST_STAMP)  ## Run the test suite (under CI, as root, it first installs chromium for the report test).
	@if [ -n "$$CI" ] && [ "$$(id -u)" = 0 ] && ! command -v chromium >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null 2>&1) \
		|| echo "chromium could not be installed: the headless report test will be skipped"; fi
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

bench: $(STAMP)  ## Replay speed on the real stores in ../shared (skips if absent), ingest speed.
	$(BIN)/python bench/replay_speed.py
	$(BIN)/python bench/ingest_speed.py

results: $(STAMP)  ## Regenerate docs/results.md on the real stores in ../shared: a discovery night that starts from the shipped `discovered` and ships its champion (the shipped code competes, so nothing weaker ships), the held-out headroom with hindsight, how much of the parity shortfall is measurement noise, then ablations.
	$(BIN)/python bench/real_discovery.py --rounds 3 --candidates 8 --permutations 100 --betas 21 --seed 0 \
		--start-from discovered --final-permutations 20 --ship --out docs/results.md
	$(BIN)/python bench/headroom.py --permutations 20 --out docs/results.md
	$(BIN)/python bench/parity_noise.py --permutations 20 100 --out docs/results.md
	$(BIN)/python bench/ablate.py --seeds 3 --rounds 6 --candidates 6 --permutations 6 --holdout-permutations 6 \
		--betas 5 --out docs/results.md

gpu-env:  ## On a GPU machine: .venv-gpu with vLLM and the collection code, without Prefect (DESIGN §6).
	$(PYTHON) -m venv .venv-gpu
	.venv-gpu/bin/pip install --quiet --no-deps -e .
	.venv-gpu/bin/pip install --quiet -r requirements/gpu.txt

clean:
	rm -rf $(VENV) demo-output .pytest_cache
