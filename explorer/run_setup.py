"""A discovery run's set-up: its settings with their defaults, a new run's (with a fresh recorded
seed) and a resumed run's (the stored one; different settings are refused). Pure: the warehouse
keeps the set-up (`autotts.warehouse.results.start_run`, `stored_run`)."""
from __future__ import annotations

import secrets

# A discovery run's set-up, with its defaults: stored with the run when it opens and restored by
# `resume`, so a run never mixes two set-ups. `parallel`, `report` and `max_cost_usd` only say how
# to run it (a run stopped by its dollar budget resumes with a higher one).
SETUP_DEFAULTS: dict = {
    "search_benchmarks": None, "search_models": None, "holdout_benchmarks": None, "holdout_models": None,
    "rounds": 6, "candidates": 6, "explorer": "offline", "model": None, "betas": 5, "permutations": 20,
    "holdout_permutations": 100, "holdout_top": 2, "seed": None, "beta_parameterized": True,
    "trace_feedback": True, "carry_over": 0, "start_from": None, "halving": True, "explorer_options": None,
    "unsafe_no_isolation": False,
}


def new_setup(given: dict) -> dict:
    """A new run's set-up: what was given, defaults for the rest, and a fresh seed unless one was
    given (recorded with the run, so every night searches differently and any night can be replayed)."""
    setup = {k: given[k] if given.get(k) is not None else default for k, default in SETUP_DEFAULTS.items()}
    if setup["seed"] is None:
        setup["seed"] = secrets.randbelow(2**31)
    return setup


def resumed_setup(run_id: str, stored: dict, status: str, given: dict) -> dict:
    """The stored set-up (`stored`, the run's `status`) of the run to resume. Refused, in one line: a
    completed run, or given settings that differ from the stored ones (a run never mixes two set-ups)."""
    if status == "completed":
        raise ValueError(f"discovery run {run_id} is already completed; start a new run (--carry-over builds on it)")
    setup = {k: stored.get(k, default) for k, default in SETUP_DEFAULTS.items()}
    conflicts = [f"{k}={v!r} (stored: {setup[k]!r})" for k, v in given.items()
                 if k in SETUP_DEFAULTS and v is not None and v != setup[k]]
    if conflicts:
        raise ValueError(f"run {run_id} keeps its stored settings; drop {', '.join(conflicts)} to resume it, "
                         "or start a new run")
    return setup
