"""Discovery runs as the flow, the ablations and the report read them: parameters, candidates in
proposal order with the fidelity of their scores, the held-out curves of baselines and champions,
the rounds already written with their seconds, and the dollars spent."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from replay_core.metrics import Point
from autotts.warehouse.db import connect


@dataclass
class DiscoveryRun:
    run_id: str
    parameters: dict
    status: str
    scores: list[float | None] = field(default_factory=list)  # per candidate in proposal order, None unless full fidelity
    holdout_baselines: list[Point] = field(default_factory=list)
    holdout_champion: list[Point] = field(default_factory=list)


def discovery_runs(warehouse: str | Path) -> list[DiscoveryRun]:
    """Every completed discovery run of the warehouse, oldest first."""
    with connect(warehouse, read_only=True) as con:
        runs = con.execute("SELECT run_id, parameters, status FROM runs WHERE kind = 'discover' AND status = 'completed' "
                           "ORDER BY started_at").fetchall()
        candidates = con.execute("SELECT run_id, score, status, permutations, max(permutations) OVER (PARTITION BY run_id) "
                                 "FROM candidates ORDER BY run_id, round, proposed_at, controller_id").fetchall()
        points = con.execute("SELECT e.run_id, c.origin, e.beta, e.benchmark, e.model, e.accuracy, e.tokens, e.rounds, "
                             "e.seq_tokens, e.accuracy_low, e.accuracy_high, e.questions, e.permutations "
                             "FROM evaluations e JOIN controllers c USING (controller_id) WHERE e.error IS NULL "
                             "ORDER BY e.run_id, c.name, e.beta").fetchall()
    out = {rid: DiscoveryRun(rid, json.loads(params or "{}"), status) for rid, params, status in runs}
    for rid, score, status, permutations, full in candidates:
        if rid in out:
            out[rid].scores.append(score if status == "evaluated" and permutations == full else None)
    for rid, origin, *values in points:
        run = out.get(rid)
        if run is None:
            continue
        point = Point(*values)
        if point.benchmark in (run.parameters.get("search_benchmarks") or []):
            continue  # the search split: candidates' and baselines' search curves
        (run.holdout_baselines if origin == "baseline" else run.holdout_champion).append(point)
    return list(out.values())


def completed_rounds(warehouse: str | Path, run_id: str) -> set[int]:
    """The rounds of a discovery run already written (a resumed run skips them)."""
    with connect(warehouse) as con:
        return {r for (r,) in con.execute("SELECT round FROM discovery_rounds WHERE run_id = ?", [run_id]).fetchall()}


def round_table(warehouse: str | Path, run_id: str) -> list[dict]:
    """Each written round of a run: candidates, failures, best score so far, seconds, and how many
    of its candidates reached the run's full fidelity."""
    with connect(warehouse, read_only=True) as con:
        rows = con.execute("SELECT r.round, r.candidates, r.failures, r.best_score, r.seconds, "
                           "(SELECT count(*) FROM candidates c WHERE c.run_id = r.run_id AND c.round = r.round AND "
                           "c.permutations = (SELECT max(permutations) FROM candidates WHERE run_id = r.run_id)) "
                           "FROM discovery_rounds r WHERE r.run_id = ? ORDER BY r.round", [run_id]).fetchall()
    return [{"round": r, "evaluated": n, "failures": f, "best_score": b, "seconds": sec, "promoted": p}
            for r, n, f, b, sec, p in rows]


def spent_usd(warehouse: str, run_id: str) -> float:
    """Dollars the run's explorer calls have cost so far, every call counted (a killed round's too)."""
    with connect(warehouse, read_only=True) as con:
        return float(con.execute("SELECT coalesce(sum(cost_usd), 0) FROM explorer_conversations WHERE run_id = ?",
                                 [run_id]).fetchone()[0])
