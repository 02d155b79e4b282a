"""The warehouse's DiscoveryStore behind the storage-free programs database: proposals and outcomes
written through and read back, carry-over from earlier runs, and the one selection rule (the
`candidate_ranking` view) choosing champions at the highest fidelity only."""
from __future__ import annotations

from autotts.explorer.programs_db import Program, ProgramsDatabase
from autotts.warehouse.db import connect
from autotts.warehouse.discovery_store import DiscoveryStore
from autotts.warehouse.results import complete_discovery_run, start_run


def _evaluated(cid: str, permutations: int, worst_gain: float, score: float, island: int = 0) -> Program:
    return Program(cid, 0, island, f"# {cid}\n", ["p"], status="evaluated", score=score, gain=worst_gain + 0.01,
                   permutations=permutations, curve=[[0.0, 100.0, 0.5]], fold_gains={"b/m": worst_gain},
                   worst_gain=worst_gain)


def test_programs_round_trip_and_champions_follow_the_ranking_view(tmp_path):
    warehouse = str(tmp_path / "w.duckdb")
    with connect(warehouse):
        pass
    store = DiscoveryStore(warehouse, start_run(warehouse, "discover", {}))
    db = ProgramsDatabase.load(store)
    programs = [_evaluated("a", 20, 0.01, 0.5), _evaluated("b", 20, 0.03, 0.4, island=1),
                _evaluated("c", 6, 0.09, 0.9), _evaluated("d", 20, 0.03, 0.6, island=2),
                _evaluated("e", 20, 0.05, 0.55)]
    assert db.propose(programs) == programs and db.propose(programs[:1]) == []  # never twice
    for p in programs:
        db.record(p)
    assert ProgramsDatabase.load(store).programs == db.programs  # everything read back as written
    # highest fidelity only (c's larger gain at 6 permutations does not count), then worst-fold gain, score
    assert store.champions(5) == ["e", "d", "b", "a"]
    complete_discovery_run(warehouse, store.run_id, *store.champions(2))

    later = DiscoveryStore(warehouse, start_run(warehouse, "discover", {}))
    carried = ProgramsDatabase.load(later).carry_over([store.run_id], per_island=1)
    # each island's best by score (c, b, d) and the run's champion even though c outscores it (e)
    assert {p.controller_id: p.carried_from for p in carried} == {"c": store.run_id, "b": store.run_id,
                                                                   "d": store.run_id, "e": store.run_id}
    assert [p.controller_id for p in ProgramsDatabase.load(later).of_round(-1)] == [p.controller_id for p in carried]


def test_the_programs_database_needs_no_storage():
    db = ProgramsDatabase(islands=2)
    db.propose([_evaluated("a", 2, 0.0, 0.3), _evaluated("b", 2, 0.0, 0.7, island=1)])
    assert [p.controller_id for p in db.best(2)] == ["b", "a"] and db.weakest_island() == 0
