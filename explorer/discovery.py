"""A discovery run's work, as plain code the Prefect tasks in tasks/discover.py wrap: the baselines
candidates must clear, one round (propose, evaluate in sandboxes by successive halving, score,
record), the rounds still to run, the champions and their held-out check.

It keeps the propose-evaluate loop in domain code, as FunSearch's sampler does, so the tasks stay
thin and a round can run, and be tested, without Prefect. Storage goes through the run's
`DiscoveryStore`; the programs database stays storage-free.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from autotts.explorer.base import DiscoveryContext, Explorer
from autotts.explorer.halving import promote, rungs, skips
from autotts.explorer.programs_db import CARRIED_ROUND, Program, ProgramsDatabase, candidate_id
from autotts.explorer.row_cache import RowCache
from replay_core.baselines import BASELINES, ENVELOPE, ENVELOPE_BETAS
from replay_core.candidate import evaluate_candidate
from replay_core.evaluate import evaluate
from replay_core.metrics import Point, Scoring, summarize
from replay_core.sandbox import Limits
from autotts.trajectories.bank_cache import load_snapshot
from autotts.warehouse.discovery_store import DiscoveryStore
from autotts.warehouse.results import ControllerRecord, ControllerSpec, CurveResult

Progress = Callable[..., None]  # (stage, done=1, total=None), as autotts.tasks.progress.report
ROWS = RowCache()  # rows replayed in this process, across rounds and runs (keyed by bank snapshot)


@dataclass(frozen=True)
class SearchSettings:
    betas: tuple[float, ...]
    permutations: int
    candidates: int
    beta_parameterized: bool = True
    trace_feedback: bool = True
    round_seconds: float = 30.0
    total_seconds: float = 600.0
    parallel: int = 2
    halving: bool = True    # successive halving over permutations (False: every candidate at full fidelity)
    eta: int = 3            # each rung keeps the best 1/eta


def baseline_curve(bank, name: str, betas: list[float], permutations: int) -> CurveResult:
    """A built-in baseline's curve at its default knobs."""
    results = evaluate(bank, BASELINES[name].make_controller, betas, permutations=permutations)
    return CurveResult(ControllerSpec(name, {}).record(), bank.source_banks(), summarize(bank, results))


def search_baselines(store: DiscoveryStore, bank, permutations: int, baselines: tuple[str, ...] = ENVELOPE
                     ) -> list[Point]:
    """The bar candidates must clear, on `ENVELOPE_BETAS` whatever the run's grid. Evaluated once per
    run; a resumed run reads them back (a run begun before the grid was fixed keeps its own)."""
    groups = set(bank.source_banks())
    stored = [p for p in store.baseline_points() if (p.benchmark, p.model) in groups]
    if stored:
        return stored
    curves = [baseline_curve(bank, name, list(ENVELOPE_BETAS), permutations) for name in baselines]
    store.write_curves(curves, frontier=False)
    return [p for c in curves for p in c.points]


def baselines_table(points: list[Point]) -> str:
    """The baselines' envelope per group at a few budgets, as the small table explorers are shown."""
    lines = ["| benchmark | model | tokens/question | best baseline accuracy at that budget |", "|---|---|---|---|"]
    for (bench, model), (tokens, accuracy) in Scoring.from_points(points).baselines.items():
        order = np.argsort(tokens)
        best = np.maximum.accumulate(accuracy[order])
        for t, a in list(zip(tokens[order], best))[:: max(1, len(order) // 8)]:
            lines.append(f"| {bench} | {model} | {t / 1000:.1f}k | {100 * a:.1f}% |")
    return "\n".join(lines)


def run_round(store: DiscoveryStore, rnd: int, bank_path: str, baseline_points: list[Point], explorer: Explorer,
              settings: SearchSettings, seed: int, budget_usd: float | None = None,
              progress: Progress = lambda *_: None) -> dict:
    """Propose K candidates, evaluate them in sandboxes by successive halving (few permutations for
    all, more for the promising), score, and record everything. A grammar row that another program
    already replayed is replayed only on the permutations not yet known (autotts.explorer.row_cache). Proposals are
    stored before evaluation and outcomes as they finish, so a killed round resumes without losing
    or repeating work. `budget_usd`: dollars the explorer may still spend; `progress` hears of each
    candidate."""
    started = time.monotonic()
    db = ProgramsDatabase.load(store)
    scoring = Scoring.from_points(baseline_points)
    usage = None
    if not db.of_round(rnd):
        context = DiscoveryContext(db, rnd, seed, baselines_table(baseline_points), settings.beta_parameterized,
                                   settings.trace_feedback, budget_usd, bank_path, settings.betas, settings.permutations,
                                   store)
        proposals, usage = explorer.propose(context, settings.candidates)
        db.propose([Program(candidate_id(p.source), rnd, p.island, p.source, list(p.parents), explorer.name)
                    for p in proposals])
    bank = load_snapshot(bank_path)
    betas = list(settings.betas) if settings.beta_parameterized else [0.5]
    limits = Limits(round_seconds=settings.round_seconds, total_seconds=settings.total_seconds)
    groups = bank.source_banks()

    def run(program: Program, permutations: int, traces: bool, side_by_side: int) -> Program:
        trace_betas = (betas[0], betas[-1]) if traces and settings.trace_feedback else ()
        result = ROWS.evaluate(bank, bank_path, program.source, betas, permutations, limits, trace_betas, side_by_side)
        if not result.ok:
            program.status, program.error = "failed", result.error
        else:
            curve = summarize(bank, result.results, bootstrap=200)
            program.score, program.gain, folds = scoring.score(curve)
            program.fold_gains = {f"{bench}/{model}": gain for (bench, model), (_, gain) in folds.items()}
            program.worst_gain = min(program.fold_gains.values(), default=None)
            program.curve = mean_curve(curve)
            program.status, program.permutations = "evaluated", permutations
            program.feedback = result.feedback or program.feedback
            final[program.controller_id] = curve
        db.record(program)
        progress("candidates")
        return program

    final: dict[str, list[Point]] = {}
    plan = rungs(settings.permutations, settings.eta) if settings.halving else [settings.permutations]
    # a resumed round: a candidate that failed on a higher rung still holds the place it was ranked in below
    contenders = [p for p in db.of_round(rnd) if p.status != "failed" or p.permutations]
    first, below = True, 0
    for permutations in plan:
        if len(contenders) > 1 and not first:
            scored = {p.controller_id: p.score or 0.0 for p in contenders if (p.permutations or 0) >= below}
            reached = frozenset(p.controller_id for p in contenders if (p.permutations or 0) >= permutations)
            promoted = set(promote(scored, settings.eta, promoted_before=reached))
            _write_curves(store, groups, scoring, db, final, keep=promoted)
            contenders = [p for p in contenders if p.controller_id in promoted]
        if skips(len(contenders), permutations, plan):
            continue
        todo = [p for p in contenders if p.status != "failed" and (p.permutations or 0) < permutations]
        progress("candidates", 0, len(todo))
        side_by_side = max(1, settings.parallel // max(1, len(todo)))  # a lone candidate takes every slot
        with ThreadPoolExecutor(max_workers=settings.parallel) as pool:
            list(pool.map(lambda p: run(p, permutations, traces=first, side_by_side=side_by_side), todo))
        first, below = False, permutations
    _write_curves(store, groups, scoring, db, final, keep=set())
    round_programs = db.of_round(rnd)
    failures = sum(p.status == "failed" for p in round_programs)
    best = max((p.score for p in db.evaluated()), default=None)
    store.record_round(rnd, explorer.name, len(round_programs), failures, best, usage.input_tokens if usage else 0,
                       usage.output_tokens if usage else 0, usage.cost_usd if usage else 0.0, time.monotonic() - started)
    return {"round": rnd, "evaluated": len(round_programs), "failures": failures, "best_score": best,
            "promoted": sum((p.permutations or 0) == settings.permutations for p in round_programs),
            "cost_usd": usage.cost_usd if usage else 0.0, "rejected": usage.rejected if usage else [],
            "tool_calls": usage.tool_calls if usage else 0, "stopped": usage.stopped if usage else ""}


def mean_curve(points: list[Point]) -> list[list[float]]:
    """[beta, tokens, accuracy] per beta, averaged over the (benchmark, model) groups."""
    by_beta: dict[float, list[Point]] = {}
    for p in points:
        by_beta.setdefault(p.beta, []).append(p)
    return [[beta, float(np.mean([p.tokens for p in ps])), float(np.mean([p.accuracy for p in ps]))]
            for beta, ps in sorted(by_beta.items())]


def _write_curves(store: DiscoveryStore, groups, scoring: Scoring, db: ProgramsDatabase,
                  curves: dict[str, list[Point]], keep: set[str]) -> None:
    """Store the curves of candidates that go no further (their final fidelity) and forget them."""
    done = [cid for cid in curves if cid not in keep]
    results = [CurveResult(ControllerRecord(f"candidate-{cid}", "explorer", db.programs[cid].source, {}), groups,
                           curves.pop(cid)) for cid in done]
    if results:
        store.write_curves(results, scoring, frontier=False)


def rounds_to_run(store: DiscoveryStore, done: set[int], rounds: int) -> list[int]:
    """The rounds not yet completed: carried-over programs first (if any), then rounds 0..rounds-1."""
    carried = [CARRIED_ROUND] if ProgramsDatabase.load(store).of_round(CARRIED_ROUND) else []
    return [r for r in carried + list(range(rounds)) if r not in done]


def standings(store: DiscoveryStore, n: int) -> tuple[list[Program], int]:
    """The run's best `n` programs by its selection rule (`DiscoveryStore.champions`), champion first,
    and how many programs it carried over from earlier runs or started from (round -1)."""
    db = ProgramsDatabase.load(store)
    return [db.programs[cid] for cid in store.champions(n)], len(db.of_round(CARRIED_ROUND))


def holdout(store: DiscoveryStore, bank, sources: dict[str, str], betas: list[float], permutations: int) -> list[dict]:
    """The best candidates (on the run's `betas`) and every hand-made baseline (on `ENVELOPE_BETAS`,
    as on the search split) on held-out benchmarks and models."""
    curves = []
    for name, baseline in BASELINES.items():
        if not baseline.hand_made or (baseline.needs_confidence and not bank.has_confidence):
            continue
        curves.append(baseline_curve(bank, name, list(ENVELOPE_BETAS), permutations))
    for cid, source in sources.items():
        result = evaluate_candidate(bank, source, betas, permutations, Limits(round_seconds=60, total_seconds=1800))
        record = ControllerRecord(f"candidate-{cid}", "explorer", source, {})
        curves.append(CurveResult(record, bank.source_banks(), summarize(bank, result.results) if result.ok else [],
                                  error=result.error))
    store.write_curves(curves)
    return [{"controller": c.controller.name, "origin": c.controller.origin, "error": c.error,
             "points": [p.as_dict() for p in c.points]} for c in curves]
