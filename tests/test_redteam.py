"""The red-team suite: every hostile or broken module in tests/redteam is contained, reported with
its expected reason, and changes the warehouse by at most a failed evaluation row."""
from __future__ import annotations

from pathlib import Path

import pytest

from replay_core.candidate import evaluate_candidate
from replay_core.sandbox import Limits

REDTEAM = sorted((Path(__file__).parent / "redteam").glob("*.py"))
REDTEAM = [p for p in REDTEAM if p.name != "__init__.py"]
LIMITS = Limits(round_seconds=3, total_seconds=30, cpu_seconds=20, memory_bytes=2 << 30)


def expected_reason(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: ")
    return first.removeprefix("# expect: ")


def test_the_suite_is_large_enough():
    assert len(REDTEAM) >= 25


@pytest.mark.parametrize("path", REDTEAM, ids=lambda p: p.stem)
def test_redteam_candidate_is_contained(path, synthetic_bank):
    result = evaluate_candidate(synthetic_bank, path.read_text(), [0.0, 1.0], permutations=2, limits=LIMITS)
    assert not result.ok
    assert expected_reason(path) in result.error, result.error
    assert len(result.error) < 600 and "\n" not in result.error
    assert not Path("/tmp/autotts-redteam").exists()


class _RedTeamExplorer:
    """An explorer that proposes every red-team module at once."""

    name = "redteam"

    def propose(self, context, k):
        from explorer.base import Proposal, Usage

        return [Proposal(p.read_text(), i % context.db.islands) for i, p in enumerate(REDTEAM)], Usage()


def test_a_round_of_hostile_candidates_changes_the_warehouse_only_by_failed_rows(tmp_path, synthetic_file):
    from tasks.discover import SearchSettings, baseline_curves, discovery_round
    from tasks.evaluate import snapshot_bank
    from tests.test_warehouse import fingerprint
    from warehouse.ingest import load, prepare
    from warehouse.queries import run_sql
    from warehouse.results import start_run

    warehouse = str(tmp_path / "w.duckdb")
    load(warehouse, prepare(synthetic_file))
    run_id = start_run(warehouse, "discover", {})
    bank_path = snapshot_bank.fn(warehouse, None, ["synthetic-aime"], None, str(tmp_path))
    baselines = baseline_curves.fn(warehouse, run_id, bank_path, [0.0, 1.0], 2, ("sc",))
    before = fingerprint(warehouse)
    settings = SearchSettings(betas=(0.0, 1.0), permutations=2, candidates=len(REDTEAM), round_seconds=3,
                              total_seconds=30, parallel=2)
    summary = discovery_round.fn(warehouse, run_id, 0, bank_path, baselines, _RedTeamExplorer(), settings, 0)
    assert summary["failures"] == len(REDTEAM) and summary["best_score"] is None
    assert fingerprint(warehouse) == before  # banks, evaluations, controllers: untouched
    rows = run_sql(warehouse, "SELECT status, error FROM candidates").to_pylist()
    assert len(rows) == len(REDTEAM) and all(r["status"] == "failed" and r["error"] for r in rows)
