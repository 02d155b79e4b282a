"""The red-team suite: every hostile or broken module in tests/redteam is contained, reported with
its expected reason, and changes the warehouse by at most a failed evaluation row."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench._shared import unprivileged_user
from replay_core.candidate import evaluate_candidate
from replay_core.sandbox import Limits, isolation_available
from tests.conftest import ROOT

REDTEAM = sorted((Path(__file__).parent / "redteam").glob("*.py"))
REDTEAM = [p for p in REDTEAM if p.name != "__init__.py"]
# round_seconds also bounds loading the module: room for a machine busy with other tests.
LIMITS = Limits(round_seconds=10, total_seconds=30, cpu_seconds=20, memory_bytes=2 << 30)


def expected_reason(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: ")
    return first.removeprefix("# expect: ")


def test_the_suite_is_large_enough():
    assert len(REDTEAM) >= 25


@pytest.mark.parametrize("path", REDTEAM, ids=lambda p: p.stem)
def test_redteam_candidate_is_contained(path, synthetic_bank):
    if "# needs: jail" in path.read_text().splitlines()[:2] and not isolation_available():
        pytest.skip("no OS jail on this machine (bubblewrap cannot create user namespaces here)")
    result = evaluate_candidate(synthetic_bank, path.read_text(), [0.0, 1.0], permutations=2, limits=LIMITS)
    assert not result.ok
    assert expected_reason(path) in result.error, result.error
    assert len(result.error) < 600 and "\n" not in result.error
    assert not Path("/tmp/autotts-redteam").exists()


def test_every_case_also_holds_for_an_unprivileged_user():
    """CI runs as root; most researchers do not. As root, run the red-team cases again in a fresh
    pytest process as an ordinary user created for it, with every privilege dropped (setpriv)."""
    if os.geteuid() != 0:
        pytest.skip("already unprivileged: the cases above ran as an ordinary user")
    try:
        with unprivileged_user() as (as_user, home):
            run = subprocess.run(
                [*as_user, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp",
                 str(home / "t"), "tests/test_redteam.py", "-k", "contained"],
                cwd=ROOT, capture_output=True, text=True, timeout=1200,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"})
    except RuntimeError as err:
        pytest.skip(str(err))
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert f"{len(REDTEAM)} passed" in summary, summary


class _RedTeamExplorer:
    """An explorer that proposes every red-team module at once."""

    name = "redteam"

    def propose(self, context, k):
        from autotts.explorer.base import Proposal, Usage

        return [Proposal(p.read_text(), i % context.db.islands) for i, p in enumerate(REDTEAM)], Usage()


def test_a_round_of_hostile_candidates_changes_the_warehouse_only_by_failed_rows(tmp_path, synthetic_file):
    from autotts.explorer.discovery import SearchSettings
    from autotts.tasks.discover import baseline_curves, discovery_round
    from autotts.tasks.evaluate import snapshot_bank
    from tests.test_warehouse import fingerprint
    from autotts.warehouse.ingest import load, prepare
    from autotts.warehouse.queries import run_sql
    from autotts.warehouse.results import start_run

    warehouse = str(tmp_path / "w.duckdb")
    load(warehouse, prepare(synthetic_file))
    run_id = start_run(warehouse, "discover", {})
    bank_path = snapshot_bank.fn(warehouse, None, ["synthetic-aime"], None, str(tmp_path))
    baselines = baseline_curves.fn(warehouse, run_id, bank_path, 2, ("sc",))
    before = fingerprint(warehouse)
    settings = SearchSettings(betas=(0.0, 1.0), permutations=2, candidates=len(REDTEAM), round_seconds=3,
                              total_seconds=30, parallel=2)
    summary = discovery_round.fn(warehouse, run_id, 0, bank_path, baselines, _RedTeamExplorer(), settings, 0)
    assert summary["failures"] == len(REDTEAM) and summary["best_score"] is None
    assert fingerprint(warehouse) == before  # banks, evaluations, controllers: untouched
    rows = run_sql(warehouse, "SELECT status, error FROM candidates").to_pylist()
    assert len(rows) == len(REDTEAM) and all(r["status"] == "failed" and r["error"] for r in rows)
