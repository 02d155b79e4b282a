"""The discovery flow: rounds of explorer proposals, sandboxed replay and scoring, then holdout."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from explorer.programs_db import ProgramsDatabase
from replay_core.sandbox import require_isolation
from tasks.discover import SearchSettings, baseline_curves, discovery_round, holdout_evaluation
from tasks.evaluate import snapshot_bank
from tasks.report import publish_report
from warehouse.db import connect
from warehouse.results import finish_run, start_run


def make_explorer(name: str, model: str | None = None, max_tokens: int = 8000):
    if name == "offline":
        from explorer.offline import OfflineExplorer

        return OfflineExplorer()
    if name == "anthropic":
        from explorer.anthropic_explorer import AnthropicExplorer

        return AnthropicExplorer(model=model or "", max_tokens=max_tokens)
    raise ValueError(f"unknown explorer {name!r}: use offline or anthropic")


@task(name="open-discovery-run")
def open_discovery_run(warehouse: str, run_id: str | None, parameters: dict) -> tuple[str, int]:
    """A new run, or the resumed one with the first round not yet completed."""
    if run_id:
        with connect(warehouse) as con:
            known = con.execute("SELECT count(*) FROM runs WHERE run_id = ? AND kind = 'discover'", [run_id]).fetchone()[0]
            done = con.execute("SELECT coalesce(max(round) + 1, 0) FROM discovery_rounds WHERE run_id = ?", [run_id]).fetchone()[0]
        if not known:
            raise ValueError(f"no discovery run {run_id} in {warehouse}")
        return run_id, int(done)
    return start_run(warehouse, "discover", parameters), 0


@task(name="close-discovery-run")
def close_discovery_run(warehouse: str, run_id: str) -> None:
    finish_run(warehouse, run_id, "completed")


@flow(name="discover", log_prints=True)
def discover_flow(warehouse: str, search_benchmarks: list[str] | None = None, search_models: list[str] | None = None,
                  holdout_benchmarks: list[str] | None = None, holdout_models: list[str] | None = None,
                  rounds: int = 4, candidates: int = 6, explorer: str = "offline", model: str | None = None,
                  betas: int = 5, permutations: int = 20, holdout_permutations: int = 100, holdout_top: int = 2,
                  seed: int = 0, resume: str | None = None, beta_parameterized: bool = True,
                  trace_feedback: bool = True, parallel: int = 2, report: str | None = None,
                  unsafe_no_isolation: bool = False) -> dict:
    """Search for controllers on the search split, then check the best on held-out benchmarks and
    models. Everything is kept in the warehouse; `resume=RUN_ID` continues a killed run. An LLM
    explorer needs an OS jail for its candidates unless `unsafe_no_isolation` (kept on the run)."""
    if explorer != "offline":
        require_isolation(unsafe_no_isolation)
    grid = tuple(float(b) for b in np.linspace(0, 1, betas))
    parameters = {k: v for k, v in locals().items() if k not in ("grid",)}
    run_id, first_round = open_discovery_run(warehouse, resume, parameters)
    search_path = snapshot_bank(warehouse, None, search_benchmarks, search_models)
    baseline_points = baseline_curves(warehouse, run_id, search_path, list(grid), permutations)
    settings = SearchSettings(betas=grid, permutations=permutations, candidates=candidates,
                              beta_parameterized=beta_parameterized, trace_feedback=trace_feedback, parallel=parallel)
    the_explorer = make_explorer(explorer, model)
    history = []
    for rnd in range(first_round, rounds):
        history.append(discovery_round(warehouse, run_id, rnd, search_path, baseline_points, the_explorer, settings, seed))
    best = ProgramsDatabase(warehouse, run_id).best(holdout_top)
    holdout = []
    if best and (holdout_benchmarks or holdout_models):
        holdout_path = snapshot_bank(warehouse, None, holdout_benchmarks or search_benchmarks,
                                     holdout_models or search_models)
        holdout = holdout_evaluation(warehouse, run_id, holdout_path, {p.controller_id: p.source for p in best},
                                     list(grid), holdout_permutations)
    close_discovery_run(warehouse, run_id)
    report_path = publish_report(warehouse, report or str(Path(warehouse).with_suffix(".report.html")))
    summary = {"report": report_path, "run_id": run_id, "rounds": history,
               "best": [{"candidate": p.controller_id, "score": p.score, "gain": p.gain, "round": p.round} for p in best],
               "holdout": holdout}
    create_markdown_artifact(_summary_markdown(summary), key="discovery-summary",
                             description=f"Discovery run {run_id}")
    return summary


def _summary_markdown(summary: dict) -> str:
    lines = [f"### Discovery run {summary['run_id']}", "", "| round | evaluated | failures | best score | cost |",
             "|---|---|---|---|---|"]
    for r in summary["rounds"]:
        lines.append(f"| {r['round']} | {r['evaluated']} | {r['failures']} | {r['best_score'] or 0:.4f} | ${r['cost_usd']:.2f} |")
    lines += ["", "Best candidates: " + ", ".join(f"{b['candidate']} (score {b['score']:.4f}, gain {b['gain']:+.3f})"
                                               for b in summary["best"])]
    return "\n".join(lines)
