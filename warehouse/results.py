"""Write runs, controllers, evaluations, scores and Pareto points; nothing is ever overwritten."""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from replay_core.baselines import BASELINES
from replay_core.controller import resolve
from replay_core.metrics import Point, Scoring, pareto_frontier
from autotts.warehouse.db import connect, now, transaction


@dataclass(frozen=True)
class ControllerRecord:
    name: str
    origin: str          # baseline | explorer | user
    source: str
    knobs: dict

    @property
    def controller_id(self) -> str:
        """Explorer candidates are identified by their source alone (as in the `candidates` table);
        other controllers by name, source and knobs."""
        if self.origin == "explorer":
            return hashlib.sha256(self.source.encode()).hexdigest()[:16]
        blob = json.dumps([self.name, self.source, self.knobs], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ControllerSpec:
    """A controller by name or module path, with knobs; what travels to workers."""

    target: str
    knobs: dict

    def factory(self):
        return resolve(self.target, self.knobs)

    def record(self, origin: str | None = None) -> ControllerRecord:
        """The warehouse's view of it: name, origin and source (a baseline's module source)."""
        name, _ = self.factory()
        if self.target in BASELINES:
            source = inspect.getsource(inspect.getmodule(BASELINES[self.target].make_controller))
            found = not BASELINES[self.target].hand_made  # `discovered`: the explorer's, not a hand-made baseline
            return ControllerRecord(name, origin or ("explorer" if found else "baseline"), source, self.knobs)
        return ControllerRecord(name, origin or "user", Path(self.target).read_text(), self.knobs)


@dataclass(frozen=True)
class CurveResult:
    """A controller's points on one bank (or an error that stopped its evaluation)."""

    controller: ControllerRecord
    bank_of: dict[tuple[str, str], str]   # (benchmark, model) -> bank_id
    points: list[Point]
    error: str | None = None


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def start_run(warehouse: str | Path, kind: str, parameters: dict, run_id: str | None = None) -> str:
    """Record a new run as running. The warehouse must exist: a run needs ingested banks, and a
    mistyped path should fail here rather than leave an empty warehouse behind."""
    if not Path(warehouse).exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}; ingest a bank first (autotts ingest FILE --warehouse W)")
    run_id = run_id or new_run_id()
    with transaction(warehouse) as con:
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, NULL, 'running')",
                    [run_id, kind, json.dumps(parameters, default=str), now()])
    return run_id


def stored_run(warehouse: str | Path, run_id: str, kind: str) -> tuple[dict, str]:
    """The parameters a run was started with (what `--resume` restores) and its status."""
    with connect(warehouse, read_only=True) as con:
        row = con.execute("SELECT parameters, status FROM runs WHERE run_id = ? AND kind = ?", [run_id, kind]).fetchone()
    if row is None:
        raise ValueError(f"no {kind} run {run_id} in {warehouse}")
    return json.loads(row[0] or "{}"), row[1]


def earlier_runs(warehouse: str | Path, run_id: str, kind: str, matching: dict) -> list[str]:
    """Runs of `kind` started before `run_id` whose stored parameters agree with `matching`, oldest first."""
    with connect(warehouse) as con:
        rows = con.execute("SELECT run_id, parameters FROM runs WHERE kind = ? AND run_id <> ? AND started_at <= "
                           "(SELECT started_at FROM runs WHERE run_id = ?) ORDER BY started_at",
                           [kind, run_id, run_id]).fetchall()
    return [rid for rid, parameters in rows
            if all(json.loads(parameters or "{}").get(k) == v for k, v in matching.items())]


def finish_run(warehouse: str | Path, run_id: str, status: str = "completed") -> None:
    """Close a run as completed or failed; a resumed run is running again (no finish time)."""
    finished = None if status == "running" else now()
    with transaction(warehouse) as con:
        con.execute("UPDATE runs SET finished_at = ?, status = ? WHERE run_id = ?", [finished, status, run_id])


def complete_discovery_run(warehouse: str | Path, run_id: str, champion: str | None, runner_up: str | None) -> None:
    """Close a discovery run as completed and record the champion it chose (and its runner-up),
    in one transaction: the `champion_history` view reads them."""
    with transaction(warehouse) as con:
        if champion:
            con.execute("INSERT INTO run_champions VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [run_id, champion, runner_up, now()])
        con.execute("UPDATE runs SET finished_at = ?, status = 'completed' WHERE run_id = ?", [now(), run_id])


@contextlib.contextmanager
def failed_on_error(warehouse: str | Path, run_id: str) -> Iterator[None]:
    """Mark the run failed when what it wraps raises (interrupts included), so no run that died
    stays "running"; the error goes on unchanged."""
    try:
        yield
    except BaseException:
        finish_run(warehouse, run_id, "failed")
        raise


def write_results(warehouse: str | Path, run_id: str, results: list[CurveResult],
                  scoring: Scoring | None = None, frontier: bool = True) -> None:
    """Controllers, evaluations, scores and the joint Pareto frontier of a run, in one transaction.

    Scores use `scoring` (a search split's fixed budget ranges and baseline envelope) when given,
    else ranges and baselines taken from these results."""
    created = now()
    with transaction(warehouse) as con:
        for res in results:
            c = res.controller
            con.execute("INSERT INTO controllers VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [c.controller_id, c.name, c.origin, c.source, json.dumps(c.knobs, default=str), created])
            if res.error:
                for (bench, model), bank_id in res.bank_of.items():
                    con.execute("INSERT INTO evaluations (run_id, controller_id, bank_id, benchmark, model, beta, error, created_at) "
                                "VALUES (?, ?, ?, ?, ?, -1, ?, ?) ON CONFLICT DO NOTHING", [run_id, c.controller_id, bank_id, bench, model, res.error, created])
                continue
            con.executemany(
                # replay is deterministic: re-writing a point a killed run already wrote adds nothing
                "INSERT INTO evaluations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?) ON CONFLICT DO NOTHING",
                [[run_id, c.controller_id, res.bank_of[(p.benchmark, p.model)], p.benchmark, p.model, p.beta,
                  p.accuracy, p.accuracy_low, p.accuracy_high, p.tokens, p.rounds, p.seq_tokens, p.questions,
                  p.permutations, created] for p in res.points])
        for row in score_rows(run_id, results, scoring):
            con.execute("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", row)
        if frontier:
            for row in pareto_rows(run_id, results):
                con.execute("INSERT INTO pareto_points VALUES (?, ?, ?, ?, ?, ?, ?)", row)


def _groups(results: list[CurveResult]) -> dict[tuple[str, str], list[tuple[CurveResult, Point]]]:
    out: dict[tuple[str, str], list[tuple[CurveResult, Point]]] = {}
    for res in results:
        for p in res.points:
            out.setdefault((p.benchmark, p.model), []).append((res, p))
    return out


def score_rows(run_id: str, results: list[CurveResult], scoring: Scoring | None = None) -> list[list]:
    """Per controller and group: area score over the budget range, gain over the best baseline."""
    if scoring is None:
        scoring = Scoring.from_points([p for r in results if r.controller.origin == "baseline" for p in r.points]
                                      or [p for r in results for p in r.points])
        everything = Scoring.from_points([p for r in results for p in r.points])
        scoring = Scoring(everything.ranges, {**everything.baselines, **scoring.baselines})
    rows = []
    for res in results:
        if res.error or not res.points:
            continue
        _, _, per_group = scoring.score(res.points)
        for (bench, model), (score, gain) in per_group.items():
            low, high = scoring.ranges[(bench, model)]
            rows.append([run_id, res.controller.controller_id, bench, model, score, low, high,
                         None if res.controller.origin == "baseline" else gain])
    return rows


def pareto_rows(run_id: str, results: list[CurveResult]) -> list[list]:
    rows = []
    for (bench, model), members in _groups(results).items():
        front = pareto_frontier(np.array([p.tokens for _, p in members]), np.array([p.accuracy for _, p in members]))
        for i in front:
            res, p = members[i]
            rows.append([run_id, bench, model, res.controller.controller_id, p.beta, p.tokens, p.accuracy])
    return rows
