"""Tasks of the discovery flow: open or resume the run, carry programs over, baselines on the search
split, one task per round, holdout, close the run. Each wraps explorer/discovery.py (the work) or
the warehouse (the run's rows) with Prefect's names, retries and caching."""
from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from autotts.explorer import discovery
from autotts.explorer.base import Explorer
from autotts.explorer.discovery import SearchSettings
from autotts.explorer.programs_db import ProgramsDatabase
from autotts.explorer.run_setup import new_setup, resumed_setup
from replay_core.baselines import ENVELOPE, builtin_sources
from replay_core.metrics import Point
from autotts.tasks import progress
from autotts.trajectories.bank_cache import load_snapshot
from autotts.warehouse.discovery_runs import completed_rounds
from autotts.warehouse.discovery_store import DiscoveryStore
from autotts.warehouse.results import complete_discovery_run, earlier_runs, finish_run, start_run, stored_run


@task(name="baseline-curves")
def baseline_curves(warehouse: str, run_id: str, bank_path: str, permutations: int,
                    baselines: tuple[str, ...] = ENVELOPE) -> list[dict]:
    """The bar candidates must clear (`autotts.explorer.discovery.search_baselines`)."""
    points = discovery.search_baselines(DiscoveryStore(warehouse, run_id), load_snapshot(bank_path), permutations,
                                        baselines)
    return [p.as_dict() for p in points]


@task(name="discovery-round", task_run_name="round {rnd}", retries=0, cache_policy=NO_CACHE)
def discovery_round(warehouse: str, run_id: str, rnd: int, bank_path: str, baseline_points: list[dict],
                    explorer: Explorer, settings: SearchSettings, seed: int, budget_usd: float | None = None) -> dict:
    """One round (`autotts.explorer.discovery.run_round`). Never cached: the explorer (an HTTP client) is not
    hashable and a round must run again when resumed."""
    return discovery.run_round(DiscoveryStore(warehouse, run_id), rnd, bank_path,
                               [Point(**p) for p in baseline_points], explorer, settings, seed, budget_usd,
                               progress=progress.report)


@task(name="holdout-evaluation")
def holdout_evaluation(warehouse: str, run_id: str, bank_path: str, sources: dict[str, str], betas: list[float],
                       permutations: int) -> list[dict]:
    """The best candidates and every hand-made baseline on held-out benchmarks and models."""
    return discovery.holdout(DiscoveryStore(warehouse, run_id), load_snapshot(bank_path), sources, betas, permutations)


@task(name="open-discovery-run", task_run_name="open discovery run")
def open_discovery_run(warehouse: str, resume: str | None, given: dict) -> tuple[str, dict, bool]:
    """A new run with its set-up stored, or the resumed one (running again) with its stored set-up;
    returns (run_id, set-up, whether it is new)."""
    if resume:
        setup = resumed_setup(resume, *stored_run(warehouse, resume, "discover"), given)
        finish_run(warehouse, resume, "running")
        return resume, setup, False
    setup = new_setup(given)
    return start_run(warehouse, "discover", setup), setup, True


@task(name="carry-over-programs", task_run_name="carry over {per_island} programs per island")
def carry_over_programs(warehouse: str, run_id: str, setup: dict, per_island: int) -> int:
    """Seed this run's islands with the best programs of earlier runs of the same search split."""
    same_split = {k: setup[k] for k in ("search_benchmarks", "search_models", "beta_parameterized")}
    earlier = earlier_runs(warehouse, run_id, "discover", same_split)
    return len(ProgramsDatabase.load(DiscoveryStore(warehouse, run_id)).carry_over(earlier, per_island))


@task(name="start-from-built-ins", task_run_name="start from {names}")
def start_from_builtins(warehouse: str, run_id: str, names: list[str]) -> int:
    """Seed this run with built-in controllers (e.g. the shipped `discovered`), evaluated before round 0."""
    return len(ProgramsDatabase.load(DiscoveryStore(warehouse, run_id)).start_from(builtin_sources(names)))


@task(name="rounds-left", task_run_name="rounds left")
def rounds_left(warehouse: str, run_id: str, rounds: int) -> list[int]:
    """The rounds not yet completed: carried-over programs first (if any), then rounds 0..rounds-1."""
    return discovery.rounds_to_run(DiscoveryStore(warehouse, run_id), completed_rounds(warehouse, run_id), rounds)


@task(name="standings", task_run_name="best {n} programs", cache_policy=NO_CACHE)
def standings(warehouse: str, run_id: str, n: int) -> tuple[list, int]:
    """The run's best `n` programs by its selection rule, champion first, and how many it carried over
    or started from (never cached: they change as the run goes on)."""
    return discovery.standings(DiscoveryStore(warehouse, run_id), n)


@task(name="close-discovery-run", task_run_name="close discovery run")
def close_discovery_run(warehouse: str, run_id: str, champion: str | None, runner_up: str | None) -> None:
    """Complete the run, recording the champion it chose for the champion history."""
    complete_discovery_run(warehouse, run_id, champion, runner_up)
