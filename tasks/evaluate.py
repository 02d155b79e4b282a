"""Tasks of the evaluate flow: snapshot the bank once, replay blocks in parallel, write once."""
from __future__ import annotations

import pickle
from pathlib import Path

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
from prefect import task

from replay_core.evaluate import EpisodeResults, default_workers, run_batch
from autotts.tasks import progress
from autotts.trajectories.bank_cache import load_snapshot, store_snapshot
from autotts.warehouse.bank_io import load_bank
from autotts.warehouse.results import ControllerSpec, CurveResult, write_results


@task(name="snapshot-bank", task_run_name="snapshot bank benchmarks={benchmarks} models={models}")
def snapshot_bank(warehouse: str, bank_ids: list[str] | None, benchmarks: list[str] | None,
                  models: list[str] | None, folder: str | None = None) -> str:
    """Read the selected questions once and leave them in a file workers load, so replay never
    holds the warehouse open (people's ad-hoc queries get in) and the bank is not re-sent per task.
    The file lives in the size-capped cache (`autotts.trajectories.bank_cache`) unless `folder` is given."""
    bank = load_bank(warehouse, bank_ids, benchmarks, models)
    if folder is None:
        return str(store_snapshot(bank))
    path = Path(folder) / "bank.pkl"
    with open(path, "wb") as handle:
        pickle.dump(bank, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return str(path)


_POOL: ProcessPoolExecutor | None = None


def _worker_pool() -> ProcessPoolExecutor:
    """One process pool per flow process, started from a clean forkserver (never a fork of a
    process running Prefect's threads); workers keep banks they have loaded."""
    global _POOL
    if _POOL is None:
        context = get_context("forkserver")
        context.set_forkserver_preload(["replay_core.evaluate", "autotts.tasks.evaluate"])
        _POOL = ProcessPoolExecutor(max_workers=default_workers(), mp_context=context)
    return _POOL


def replay(bank_path: str, spec: ControllerSpec, beta: float, seeds: list[int]) -> EpisodeResults:
    """Replay every question of the bank under a block of permutation seeds."""
    bank = load_snapshot(bank_path)
    _, factory = spec.factory()
    return run_batch(bank, factory, beta, np.arange(bank.n_questions), np.asarray(seeds))


@task(name="replay-block", task_run_name="replay {spec.target} beta={beta:.3f} from permutation {seeds[0]}", retries=1)
def replay_block(bank_path: str, spec: ControllerSpec, beta: float, seeds: list[int],
                 in_process_pool: bool = False) -> EpisodeResults:
    """One (controller, beta, permutation block) unit of work. With `in_process_pool` the numpy work
    runs in the local process pool, so thread-based task runners still use every core."""
    if in_process_pool:
        results = _worker_pool().submit(replay, bank_path, spec, beta, seeds).result()
    else:
        results = replay(bank_path, spec, beta, seeds)
    progress.report("replay", len(seeds))
    return results


@task(name="write-results", retries=3, retry_delay_seconds=2)
def write_run_results(warehouse: str, run_id: str, results: list[CurveResult]) -> None:
    """The run's single write: one short transaction."""
    write_results(warehouse, run_id, results)
