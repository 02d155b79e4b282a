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
    result = evaluate_candidate(synthetic_bank, path.read_text(), [0.5], permutations=2, limits=LIMITS)
    assert not result.ok
    assert expected_reason(path) in result.error, result.error
    assert len(result.error) < 600
    assert not Path("/tmp/autotts-redteam").exists()
