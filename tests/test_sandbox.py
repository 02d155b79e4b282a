"""The sandbox with honest, pooling and reused controllers (hostile ones: tests/test_redteam.py)."""
from __future__ import annotations

import numpy as np
import pytest

from replay_core.candidate import evaluate_candidate
from replay_core.controller import load_module_factory
from replay_core.evaluate import run_batch
from replay_core.sandbox import CandidateFailed, Limits, Sandbox, isolation_available
from tests.conftest import ROOT

FAST = Limits(round_seconds=3, total_seconds=30, cpu_seconds=20, memory_bytes=2 << 30)
HONEST = (ROOT / "docs" / "controller-api.md").read_text().split("```python\n")[-1].split("```")[0]


def test_honest_candidate_matches_in_process_replay(synthetic_bank, tmp_path):
    result = evaluate_candidate(synthetic_bank, HONEST, [0.0, 1.0], permutations=3, limits=FAST)
    assert result.ok, result.error
    module = tmp_path / "honest.py"
    module.write_text(HONEST)
    direct = run_batch(synthetic_bank, load_module_factory(module), 1.0, np.arange(synthetic_bank.n_questions), np.arange(3))
    assert np.array_equal(np.sort(result.results[1.0].tokens), np.sort(direct.tokens))
    assert result.results[1.0].correct.mean() == direct.correct.mean()
    assert result.isolation == ("bubblewrap+seccomp" if isolation_available() else "none+seccomp")


def test_invalid_actions_fail_the_candidate(synthetic_bank):
    source = ("import numpy as np\nclass C:\n    def act(self, obs):\n        a = obs.no_actions()\n"
              "        a.extend[:, 0] = 1\n        return a\ndef make_controller(beta):\n    return C()\n")
    result = evaluate_candidate(synthetic_bank, source, [0.5], permutations=2, limits=FAST)
    assert "invalid action" in result.error and "not open" in result.error


POOLING = """
import numpy as np
from replay_core import DEFAULT_VOTE, FULL

class Pooling:
    live_only = True

    def act(self, obs):
        a = obs.no_actions()
        fresh = obs.n_open == 0
        # leaks: how wide to go depends on how many episodes share the batch
        width = 1 + len(obs.live) % 4
        a.branch[fresh] = np.minimum(width, obs.n_unused[fresh])
        a.extend[fresh[:, None] & (np.arange(obs.n_branches) < a.branch[:, None])] = 1
        going = ~fresh & obs.active.any(1)
        stop = ~fresh & ((obs.rounds >= 3) | ~going)
        a.answer[stop] = DEFAULT_VOTE
        a.extend[(going & ~stop)[:, None] & obs.active] = 1
        return a

def make_controller(beta):
    return Pooling()
"""


def test_a_controller_that_pools_episodes_is_caught(synthetic_bank):
    """Deciding from a batch-wide statistic uses other episodes' data; regrouping exposes it."""
    result = evaluate_candidate(synthetic_bank, POOLING, [0.5], permutations=4, limits=FAST)
    assert not result.ok and "depend on other episodes" in result.error, result.error


def test_a_sandbox_is_reusable_across_batches(synthetic_bank):
    with Sandbox(HONEST, FAST) as sandbox:
        for beta in (0.0, 1.0):
            run_batch(synthetic_bank, sandbox.factory, beta, np.arange(2), np.arange(2))
        sandbox.close()
        with pytest.raises(CandidateFailed, match="no longer running"):
            run_batch(synthetic_bank, sandbox.factory, 0.5, np.arange(2), np.arange(2))
