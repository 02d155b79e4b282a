"""The evaluate flow: controllers x betas x permutation blocks, fanned out, written back once."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from replay_core.evaluate import EpisodeResults, default_workers
from replay_core.metrics import summarize
from autotts.tasks import progress
from autotts.tasks.evaluate import ControllerSpec, replay_block, snapshot_bank, write_run_results
from autotts.tasks.report import publish_report, publish_warehouse_snapshot
from autotts.trajectories.bank_cache import load_snapshot
from autotts.warehouse.results import CurveResult, failed_on_error, finish_run, start_run


def task_runner(executor: str, workers: int | None = None) -> TaskRunner:
    """`process`: threads that hand the numpy work to a local process pool (every core);
    `dask`: a local Dask cluster; `dask://HOST:PORT`: an existing Dask scheduler, for when one
    machine is not enough (workers must see the bank snapshot's path)."""
    workers = workers or default_workers()
    if executor == "process":
        return ThreadPoolTaskRunner(max_workers=workers)
    if executor.startswith("dask"):
        from prefect_dask import DaskTaskRunner

        if executor.startswith("dask://"):
            return DaskTaskRunner(address="tcp://" + executor.removeprefix("dask://"))
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    raise ValueError(f"unknown executor {executor!r}: use process, dask or dask://HOST:PORT")


@task(name="start-run")
def open_run(warehouse: str, kind: str, parameters: dict) -> str:
    return start_run(warehouse, kind, parameters)


@task(name="close-run")
def close_run(warehouse: str, run_id: str, status: str) -> None:
    finish_run(warehouse, run_id, status)


@flow(name="replay")
def replay_flow(bank_path: str, specs: list[ControllerSpec], betas: list[float], permutations: int,
                block: int, in_process_pool: bool) -> list[list[tuple[float, EpisodeResults]] | str]:
    """Fan out (controller, beta, permutation block) replay tasks on the flow's task runner.
    Returns, per controller, its (beta, results) blocks or the error that stopped it."""
    blocks = [list(range(s, min(s + block, permutations))) for s in range(0, permutations, block)]
    progress.report("replay", 0, total=len(specs) * len(betas) * permutations)
    futures = [[(beta, replay_block.submit(bank_path, spec, beta, seeds, in_process_pool)) for beta in betas for seeds in blocks]
               for spec in specs]
    out = []
    for per_controller in futures:
        try:
            out.append([(beta, future.result()) for beta, future in per_controller])
        except Exception as err:  # a broken controller fails its own curve, not the run
            out.append(f"{type(err).__name__}: {err}")
    return out


@flow(name="evaluate", log_prints=True)
def evaluate_flow(warehouse: str, controllers: list[str], knobs: dict[str, dict] | None = None,
                  bank_ids: list[str] | None = None, benchmarks: list[str] | None = None,
                  models: list[str] | None = None, betas: int | list[float] = 5, permutations: int = 100,
                  block: int = 25, executor: str = "process", workers: int | None = None,
                  report: str | None = None) -> dict:
    """Evaluate controllers (built-in names or module paths) on warehouse banks over a beta grid;
    results, scores and the Pareto frontier are written to the warehouse as one run, and the HTML
    report (default: next to the warehouse) is attached to the flow run."""
    beta_grid = [float(b) for b in (np.linspace(0, 1, betas) if isinstance(betas, int) else betas)]
    specs = [ControllerSpec(c, (knobs or {}).get(c, {})) for c in controllers]
    run_id = open_run(warehouse, "evaluate", {"controllers": controllers, "knobs": knobs, "bank_ids": bank_ids,
                                              "benchmarks": benchmarks, "models": models, "betas": beta_grid,
                                              "permutations": permutations})
    with failed_on_error(warehouse, run_id):
        bank_path = snapshot_bank(warehouse, bank_ids, benchmarks, models)
        bank = load_snapshot(bank_path)
        replayed = replay_flow.with_options(task_runner=task_runner(executor, workers))(
            bank_path, specs, beta_grid, permutations, block, executor == "process")
        bank_of = bank.source_banks()
        curves = []
        for spec, blocks in zip(specs, replayed):
            record = spec.record()
            if isinstance(blocks, str):
                curves.append(CurveResult(record, bank_of, [], error=blocks))
                continue
            by_beta = {beta: EpisodeResults.concat([r for b, r in blocks if b == beta]) for beta in beta_grid}
            curves.append(CurveResult(record, bank_of, summarize(bank, by_beta)))
        write_run_results(warehouse, run_id, curves)
        close_run(warehouse, run_id, "completed")
    create_markdown_artifact(curves_markdown(run_id, curves, bank.synthetic), key="evaluation-curves",
                             description=f"Scaling curves of evaluate run {run_id}")
    snapshot = publish_warehouse_snapshot(warehouse, "the run")
    report_path = publish_report(warehouse, report or str(Path(warehouse).with_suffix(".report.html")), run_id)
    return {"run_id": run_id, "synthetic": bank.synthetic, "report": report_path, "snapshot": snapshot,
            "curves": [{"controller": c.controller.name, "error": c.error,
                        "points": [p.as_dict() for p in c.points]} for c in curves]}


def curves_markdown(run_id: str, curves: list[CurveResult], synthetic: bool) -> str:
    lines = [f"### Evaluate run {run_id}" + (" (SYNTHETIC data)" if synthetic else ""), "",
             "| controller | benchmark | model | beta | accuracy | tokens/question | rounds |", "|---|---|---|---|---|---|---|"]
    for c in curves:
        if c.error:
            lines.append(f"| {c.controller.name} | | | | failed: {c.error[:120]} | | |")
        for p in c.points:
            lines.append(f"| {c.controller.name} | {p.benchmark} | {p.model} | {p.beta:.2f} | {100 * p.accuracy:.1f}% "
                         f"| {p.tokens / 1000:.1f}k | {p.rounds:.1f} |")
    return "\n".join(lines)
