"""The programs database: every candidate of a discovery run, its lineage, score and feedback;
prompts and mutations draw from it. It holds no storage of its own (as FunSearch's
programs_database.py): a `ProgramStore` is injected, and the warehouse's is
`autotts.warehouse.discovery_store.DiscoveryStore`. The selection rule that picks a run's champions is the
warehouse view `candidate_ranking` (`DiscoveryStore.champions`), its one definition.

Candidates live on islands (as in FunSearch): each island evolves on its own, so the search does
not collapse onto one idea, and the best program migrates to the weakest island from time to time.

Runs compound: a new run can carry over the best programs of earlier runs (chosen island by island
with the same `best` ranking), which it re-evaluates on its own data before its explorer starts.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Protocol


def candidate_id(source: str) -> str:
    """A program's id: its code's hash, so the same code is one program however it was found."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


BUILT_IN = "built-in "  # `carried_from` of a program a run started from: "built-in NAME"


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
    carried_from: str | None = None   # the earlier run it was carried over from, or "built-in NAME"
    permutations: int | None = None         # the fidelity its score was measured at
    curve: list[list[float]] | None = None  # [beta, tokens, accuracy] per beta, averaged over groups
    fold_gains: dict[str, float] | None = None  # gain over the best baseline per "benchmark/model"
    worst_gain: float | None = None         # the smallest fold gain: the selection rule's key

    @property
    def built_in(self) -> str | None:
        """The name of the built-in controller this program is, when a run started from it."""
        origin = self.carried_from or ""
        return origin.removeprefix(BUILT_IN) if origin.startswith(BUILT_IN) else None


CARRIED_ROUND = -1  # carried-over programs are re-evaluated in this round, before round 0


class ProgramStore(Protocol):
    """Where a programs database keeps its programs: the warehouse's `DiscoveryStore` in a run."""

    def candidates(self, runs: list[str] | None = None) -> list[dict]: ...
    def register(self, programs: list[Program]) -> None: ...
    def record(self, program: Program) -> None: ...
    def chosen_champions(self, runs: list[str]) -> list[str]: ...


class ProgramsDatabase:
    """A discovery run's programs in memory: selection and islands. Persistence is injected: with a
    `store`, proposals and outcomes are written through to it as they happen."""

    def __init__(self, programs: Iterable[Program] = (), islands: int = 3, store: ProgramStore | None = None):
        self.islands, self.store = islands, store
        self.programs: dict[str, Program] = {p.controller_id: p for p in programs}

    @classmethod
    def load(cls, store: ProgramStore, islands: int = 3, runs: list[str] | None = None) -> ProgramsDatabase:
        """The programs `store` holds for its run, written through to it; with `runs`, a read-only
        view of those runs' evaluated programs instead (a program evaluated in several of them
        counts with its latest outcome, and remembers the run it came from)."""
        programs = []
        for row in store.candidates(runs):
            run = row.pop("run_id")
            if runs is not None:
                if row["status"] != "evaluated":
                    continue
                row["carried_from"] = run
            row["parents"] = row["parents"] or []
            programs.append(Program(**row))
        return cls(programs, islands, store if runs is None else None)

    # ------------------------------------------------------------------ queries
    def of_round(self, rnd: int) -> list[Program]:
        return [p for p in self.programs.values() if p.round == rnd]

    def evaluated(self) -> list[Program]:
        return [p for p in self.programs.values() if p.status == "evaluated"]

    def best(self, n: int = 1, island: int | None = None) -> list[Program]:
        pool = [p for p in self.evaluated() if island is None or p.island == island]
        return sorted(pool, key=lambda p: (-(p.score or 0.0), p.round, p.controller_id))[:n]

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

    # ------------------------------------------------------------------ writes
    def carry_over(self, earlier_runs: list[str], per_island: int) -> list[Program]:
        """Propose, for re-evaluation on this run's data, the best `per_island` programs of each
        island of the earlier runs, on the same islands, and the champions and runners-up those runs
        chose (their rule ranks by worst-fold gain, not by score, so they need not be among the
        former); they join this run's database as it starts, so tonight's islands begin where
        earlier nights left them."""
        if per_island <= 0 or not earlier_runs:
            return []
        earlier = ProgramsDatabase.load(self.store, self.islands, runs=earlier_runs)
        chosen = [earlier.programs[cid] for cid in self.store.chosen_champions(earlier_runs) if cid in earlier.programs]
        chosen += [p for island in range(self.islands) for p in earlier.best(per_island, island)]
        return self.propose([Program(p.controller_id, CARRIED_ROUND, p.island, p.source, list(p.parents), p.explorer,
                                     carried_from=p.carried_from) for p in chosen])

    def start_from(self, builtins: dict[str, str]) -> list[Program]:
        """Propose built-in controllers (name -> module code) for evaluation before round 0, on the
        islands in turn: a night that refines what ships (`discovered`) instead of starting from the
        seed programs. The offline explorer evolves those written in its grammar."""
        return self.propose([Program(candidate_id(source), CARRIED_ROUND, i % self.islands, source, [], "built-in",
                                     carried_from=f"{BUILT_IN}{name}")
                             for i, (name, source) in enumerate(builtins.items())])

    def propose(self, programs: list[Program]) -> list[Program]:
        """Record proposals before they are evaluated, so a killed round resumes with the same ones."""
        fresh = list({p.controller_id: p for p in programs if p.controller_id not in self.programs}.values())
        if self.store is not None and fresh:
            self.store.register(fresh)
        for p in fresh:
            self.programs[p.controller_id] = p
        return fresh

    def record(self, program: Program) -> None:
        """Keep a candidate's outcome (written through to the store)."""
        if self.store is not None:
            self.store.record(program)
        self.programs[program.controller_id] = program
