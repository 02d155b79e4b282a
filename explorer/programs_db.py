"""The programs database: every candidate of a discovery run, its lineage, score and feedback,
kept in the warehouse; prompts and mutations draw from it.

Candidates live on islands (as in FunSearch): each island evolves on its own, so the search does
not collapse onto one idea, and the best program migrates to the weakest island from time to time.

Runs compound: a new run can carry over the best programs of earlier runs (chosen island by island
with the same `best` ranking), which it re-evaluates on its own data before its explorer starts.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from replay_core.metrics import Point
from warehouse.db import connect, now, transaction


@dataclass
class Program:
    controller_id: str
    round: int
    island: int
    source: str
    parents: list[str] = field(default_factory=list)
    explorer: str = "offline"
    status: str = "proposed"
    score: float | None = None
    gain: float | None = None
    error: str | None = None
    feedback: str | None = None
    carried_from: str | None = None   # the earlier run this program was carried over from
    permutations: int | None = None         # the fidelity its score was measured at
    curve: list[list[float]] | None = None  # [beta, tokens, accuracy] per beta, averaged over groups
    fold_gains: dict[str, float] | None = None  # gain over the best baseline per "benchmark/model"
    worst_gain: float | None = None         # the smallest fold gain: the selection rule's key


CARRIED_ROUND = -1  # carried-over programs are re-evaluated in this round, before round 0


class ProgramsDatabase:
    """A discovery run's programs, loaded from and written through to the warehouse."""

    def __init__(self, warehouse: str | Path, run_id: str, islands: int = 3, runs: list[str] | None = None):
        """The programs of `run_id`; with `runs`, a read-only view of those runs' programs instead
        (a program evaluated in several of them counts with its latest outcome)."""
        self.warehouse, self.run_id, self.islands = str(warehouse), run_id, islands
        self.programs: dict[str, Program] = {}
        wanted = runs if runs is not None else [run_id]
        if not wanted:
            return
        with connect(self.warehouse) as con:
            rows = con.execute("SELECT c.controller_id, c.round, c.island, c.source, c.parents, c.explorer, c.status, "
                               "c.score, c.gain, c.error, c.feedback, c.carried_from, c.run_id, c.permutations, c.curve, "
                               "c.fold_gains, c.worst_gain FROM candidates c JOIN runs r USING (run_id) "
                               "WHERE list_contains(?, c.run_id) ORDER BY r.started_at, c.round, c.proposed_at",
                               [wanted]).fetchall()
        for (cid, rnd, island, source, parents, explorer, status, score, gain, error, feedback, carried, run,
             permutations, curve, folds, worst) in rows:
            if runs is not None and status != "evaluated":
                continue
            self.programs[cid] = Program(cid, rnd, island, source, json.loads(parents or "[]"), explorer, status,
                                         score, gain, error, feedback, carried_from=carried if runs is None else run,
                                         permutations=permutations, curve=json.loads(curve) if curve else None,
                                         fold_gains=json.loads(folds) if folds else None, worst_gain=worst)

    # ------------------------------------------------------------------ queries
    def of_round(self, rnd: int) -> list[Program]:
        return [p for p in self.programs.values() if p.round == rnd]

    def evaluated(self) -> list[Program]:
        return [p for p in self.programs.values() if p.status == "evaluated"]

    def best(self, n: int = 1, island: int | None = None) -> list[Program]:
        pool = [p for p in self.evaluated() if island is None or p.island == island]
        return sorted(pool, key=lambda p: (-(p.score or 0.0), p.round, p.controller_id))[:n]

    def champions(self, n: int = 1) -> list[Program]:
        """The selection rule for held-out checks and shipping: among candidates scored at the
        highest fidelity reached, the best worst-fold gain over the baselines (ties: score)."""
        pool = self.evaluated()
        top = max((p.permutations or 0 for p in pool), default=0)
        pool = [p for p in pool if (p.permutations or 0) == top]
        key = lambda p: (-(p.worst_gain if p.worst_gain is not None else p.gain or 0.0),  # noqa: E731
                         -(p.score or 0.0), p.round, p.controller_id)
        return sorted(pool, key=key)[:n]

    def failures(self, n: int = 3) -> list[Program]:
        failed = [p for p in self.programs.values() if p.status == "failed"]
        return failed[-n:]

    def sample(self, island: int, n_best: int = 2, n_diverse: int = 1) -> list[Program]:
        """The island's best few and, for diversity, the best of other islands not yet included."""
        chosen = self.best(n_best, island)
        others = [p for i in range(self.islands) if i != island for p in self.best(1, i)]
        for p in sorted(others, key=lambda p: -(p.score or 0.0)):
            if len(chosen) >= n_best + n_diverse:
                break
            if p not in chosen:
                chosen.append(p)
        return chosen

    def weakest_island(self) -> int:
        scores = [max((p.score or 0.0 for p in self.evaluated() if p.island == i), default=-1.0) for i in range(self.islands)]
        return min(range(self.islands), key=lambda i: scores[i])

    def curves(self) -> tuple[dict[str, list[Point]], dict[str, list[Point]]]:
        """The run's search-split curves so far: (baselines by name, candidates by controller_id)."""
        with connect(self.warehouse) as con:
            rows = con.execute("SELECT c.name, c.origin, e.controller_id, e.beta, e.benchmark, e.model, e.accuracy, "
                               "e.tokens, e.rounds, e.seq_tokens, e.accuracy_low, e.accuracy_high, e.questions, "
                               "e.permutations FROM evaluations e JOIN controllers c USING (controller_id) "
                               "WHERE e.run_id = ? AND e.error IS NULL ORDER BY e.beta", [self.run_id]).fetchall()
        baselines: dict[str, list[Point]] = {}
        candidates: dict[str, list[Point]] = {}
        for name, origin, cid, *point in rows:
            if origin == "baseline":
                baselines.setdefault(name, []).append(Point(*point))
            elif cid in self.programs:
                candidates.setdefault(cid, []).append(Point(*point))
        return baselines, candidates

    # ------------------------------------------------------------------ writes
    def carry_over(self, earlier_runs: list[str], per_island: int) -> list[Program]:
        """Propose, for re-evaluation on this run's data, the best `per_island` programs of each
        island of the earlier runs, on the same islands; they join this run's database as it
        starts, so tonight's islands begin where earlier nights left them."""
        if per_island <= 0 or not earlier_runs:
            return []
        earlier = ProgramsDatabase(self.warehouse, self.run_id, self.islands, runs=earlier_runs)
        chosen = [p for island in range(self.islands) for p in earlier.best(per_island, island)]
        return self.propose([Program(p.controller_id, CARRIED_ROUND, p.island, p.source, list(p.parents), p.explorer,
                                     carried_from=p.carried_from) for p in chosen])

    def propose(self, programs: list[Program]) -> list[Program]:
        """Record proposals before they are evaluated, so a killed round resumes with the same ones."""
        fresh = list({p.controller_id: p for p in programs if p.controller_id not in self.programs}.values())
        with transaction(self.warehouse) as con:
            for p in fresh:
                con.execute("INSERT INTO candidates (run_id, round, controller_id, island, parents, explorer, source, "
                            "status, proposed_at, carried_from) VALUES (?, ?, ?, ?, ?, ?, ?, 'proposed', ?, ?)",
                            [self.run_id, p.round, p.controller_id, p.island, json.dumps(p.parents), p.explorer,
                             p.source, now(), p.carried_from])
        for p in fresh:
            self.programs[p.controller_id] = p
        return fresh

    def record(self, program: Program) -> None:
        """Store a candidate's outcome (one short transaction)."""
        with transaction(self.warehouse) as con:
            con.execute("UPDATE candidates SET status = ?, score = ?, gain = ?, error = ?, feedback = ?, evaluated_at = ?, "
                        "permutations = ?, curve = ?, fold_gains = ?, worst_gain = ? WHERE run_id = ? AND controller_id = ?",
                        [program.status, program.score, program.gain, program.error, program.feedback, now(),
                         program.permutations, json.dumps(program.curve) if program.curve else None,
                         json.dumps(program.fold_gains) if program.fold_gains else None, program.worst_gain,
                         self.run_id, program.controller_id])
        self.programs[program.controller_id] = program
