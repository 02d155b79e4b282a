"""The discovery flow: rounds of explorer proposals, sandboxed replay and scoring, then holdout."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from prefect import flow
from prefect.artifacts import create_markdown_artifact

from autotts.explorer.discovery import SearchSettings
from autotts.explorer.programs_db import CARRIED_ROUND
from autotts.explorer.registry import make_explorer
from replay_core.baselines import builtin_sources
from replay_core.sandbox import require_isolation
from autotts.explorer.run_setup import SETUP_DEFAULTS
from autotts.tasks.discover import (baseline_curves, carry_over_programs, close_discovery_run, discovery_round,
                            holdout_evaluation, open_discovery_run, rounds_left, standings, start_from_builtins)
from autotts.tasks.evaluate import snapshot_bank
from autotts.tasks.report import publish_report, publish_warehouse_snapshot
from autotts.warehouse.discovery_runs import spent_usd
from autotts.warehouse.queries import champion_history
from autotts.warehouse.results import failed_on_error


@flow(name="discover", log_prints=True)
def discover_flow(warehouse: str, search_benchmarks: list[str] | None = None, search_models: list[str] | None = None,
                  holdout_benchmarks: list[str] | None = None, holdout_models: list[str] | None = None,
                  rounds: int | None = None, candidates: int | None = None, explorer: str | None = None,
                  model: str | None = None, betas: int | None = None, permutations: int | None = None,
                  holdout_permutations: int | None = None, holdout_top: int | None = None, seed: int | None = None,
                  resume: str | None = None, beta_parameterized: bool | None = None, trace_feedback: bool | None = None,
                  carry_over: int | None = None, start_from: list[str] | None = None, halving: bool | None = None,
                  explorer_options: dict | None = None, unsafe_no_isolation: bool | None = None,
                  max_cost_usd: float | None = None, parallel: int = 2, report: str | None = None) -> dict:
    """Search for controllers on the search split, then check the best on held-out benchmarks and
    models. Everything is kept in the warehouse.

    Settings left as None take `SETUP_DEFAULTS` (rounds 6, candidates 6, offline explorer, 5 betas,
    20 permutations, successive halving, a fresh seed, ...) on a new run. `resume=RUN_ID` continues a
    killed or failed run with its stored settings and refuses different ones. `carry_over=N` starts
    the islands from the N best programs per island of earlier runs on the same search split,
    re-evaluated here; `start_from=[NAME, ...]` starts it from built-in controllers instead of the
    seed programs (`["discovered"]`: a night that refines what ships). The candidates held out are
    the run's champions (the warehouse view `candidate_ranking`: among those scored at full
    fidelity, the best worst-fold gain over the baselines). `explorer_options` (plain data):
    base_url, max_tokens, prices {model: [in, out]}, tool_calls. `max_cost_usd` caps the run's LLM
    spending: no call is made that could exceed it, and the run stops after the round that reached
    it, resumable with a higher cap. An LLM explorer needs an OS jail for its candidates unless
    `unsafe_no_isolation` (kept on the run)."""
    given = {k: v for k, v in locals().items() if k in SETUP_DEFAULTS}
    if (explorer or "offline") != "offline":  # refused before a run is opened
        require_isolation(bool(unsafe_no_isolation))
    builtin_sources(start_from or [])  # an unknown name, too
    run_id, setup, new = open_discovery_run(warehouse, resume, given)
    stopped = None
    with failed_on_error(warehouse, run_id):
        if setup["start_from"]:  # first, so a built-in an earlier run also holds keeps its label; idempotent
            start_from_builtins(warehouse, run_id, setup["start_from"])
        if new and setup["carry_over"]:
            carry_over_programs(warehouse, run_id, setup, setup["carry_over"])
        todo = rounds_left(warehouse, run_id, setup["rounds"])
        grid = tuple(float(b) for b in np.linspace(0, 1, setup["betas"]))
        search_path = snapshot_bank(warehouse, None, setup["search_benchmarks"], setup["search_models"])
        baseline_points = baseline_curves(warehouse, run_id, search_path, setup["permutations"])
        settings = SearchSettings(betas=grid, permutations=setup["permutations"], candidates=setup["candidates"],
                                  beta_parameterized=setup["beta_parameterized"],
                                  trace_feedback=setup["trace_feedback"], parallel=parallel, halving=setup["halving"])
        options = dict(setup["explorer_options"] or {})
        options["prices"] = {m: tuple(p) for m, p in (options.get("prices") or {}).items()}
        the_explorer = make_explorer(setup["explorer"], setup["model"], budgeted=max_cost_usd is not None, **options)
        history = []
        for rnd in todo:
            left = None if max_cost_usd is None else max_cost_usd - spent_usd(warehouse, run_id)
            if left is not None and left <= 0:
                stopped = f"the dollar budget (${max_cost_usd:g}) is spent"
                break
            history.append(discovery_round(warehouse, run_id, rnd, search_path, baseline_points, the_explorer,
                                           settings, setup["seed"], budget_usd=left))
            publish_warehouse_snapshot(warehouse, f"round {rnd}")
            if history[-1]["stopped"].startswith("dollar budget"):
                stopped = f"the next explorer call could exceed the dollar budget (${max_cost_usd:g})"
                break
        ranked, carried = standings(warehouse, run_id, max(2, setup["holdout_top"]))  # champion first
        best = ranked[: setup["holdout_top"]]
        holdout, champion = [], None
        holdout_benchmarks, holdout_models = setup["holdout_benchmarks"], setup["holdout_models"]
        if stopped:
            print(f"Discovery stopped: {stopped}. The run stays open: continue it with --resume {run_id} and a "
                  "higher --max-cost-usd.")
        else:
            if best and (holdout_benchmarks or holdout_models):
                holdout_path = snapshot_bank(warehouse, None, holdout_benchmarks or setup["search_benchmarks"],
                                             holdout_models or setup["search_models"])
                holdout = holdout_evaluation(warehouse, run_id, holdout_path, {p.controller_id: p.source for p in best},
                                             list(grid), setup["holdout_permutations"])
            champion, runner_up = ([p.controller_id for p in ranked] + [None, None])[:2]
            close_discovery_run(warehouse, run_id, champion, runner_up)
    snapshot = publish_warehouse_snapshot(warehouse, "the run")
    report_path = publish_report(warehouse, report or str(Path(warehouse).with_suffix(".report.html")), run_id)
    summary = {"report": report_path, "snapshot": snapshot, "run_id": run_id, "seed": setup["seed"],
               "carried_over": carried, "rounds": history, "stopped": stopped,
               "best": [{"candidate": p.controller_id, "score": p.score, "gain": p.gain, "worst_gain": p.worst_gain,
                         "fold_gains": p.fold_gains, "round": p.round, "carried_from": p.carried_from} for p in best],
               "holdout": holdout, "champions": champion_history(warehouse, setup)}
    create_markdown_artifact(_summary_markdown(summary), key="discovery-summary",
                             description=f"Discovery run {run_id}")
    return summary


def _summary_markdown(summary: dict) -> str:
    """The run's key numbers for the Prefect UI: rounds, the champion at matched budgets, and who
    led earlier runs of the same search split."""
    lines = [f"### Discovery run {summary['run_id']}", "",
             f"Seed {summary['seed']}; {summary['carried_over']} programs carried over from earlier runs or built-ins "
             f"(round {CARRIED_ROUND}). Snapshot for queries: `{summary['snapshot']}`.", "",
             "| round | evaluated | failures | best score so far | cost |", "|---|---|---|---|---|"]
    for r in summary["rounds"]:
        lines.append(f"| {r['round']} | {r['evaluated']} | {r['failures']} | {r['best_score'] or 0:.4f} | ${r['cost_usd']:.2f} |")
    lines += ["", "**Best at matched budgets** (score: area under accuracy over the baselines' budget range; "
              "gain: mean accuracy over the best baseline at the same budgets):", "",
              "| candidate | score | gain over best baseline | round | carried from |", "|---|---|---|---|---|"]
    for b in summary["best"]:
        lines.append(f"| {b['candidate']} | {b['score']:.4f} | {100 * (b['gain'] or 0):+.1f} pts | {b['round']} "
                     f"| {b['carried_from'] or ''} |")
    if summary["champions"]:
        lines += ["", "**Champion history** (this search split, latest last):", "",
                  "| run | started | champion | score | gain | lead in score over runner-up | leading since |",
                  "|---|---|---|---|---|---|---|"]
        for c in summary["champions"][-10:]:
            lead = "" if c["lead_in_score"] is None else f"{c['lead_in_score']:+.4f}"
            lines.append(f"| {c['run_id']} | {c['started_at']:%Y-%m-%d %H:%M} | {c['controller_id']} | {c['score']:.4f} "
                         f"| {100 * (c['gain_over_best_baseline'] or 0):+.1f} pts | {lead} | {c['leading_since']:%Y-%m-%d %H:%M} |")
    return "\n".join(lines)
