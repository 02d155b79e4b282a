"""The live runtime over a scripted engine that replays a stored question reproduces replay's
answers and token costs exactly, for every baseline."""
from __future__ import annotations

import numpy as np
import pytest

from autotts.live.runtime import solve
from tests.support.scripted_engine import ScriptedEngine
from replay_core.baselines import BASELINES
from replay_core.evaluate import _shuffled, run_episodes
from autotts.trajectories.banking import build_bank, group_records
from autotts.trajectories.equivalence import equivalent
from autotts.trajectories.synthetic import generate


@pytest.fixture(scope="module")
def records():
    return generate(questions=3, trajectories=24, seed=11)


@pytest.mark.parametrize("name", list(BASELINES))
def test_live_equals_replay(name, records):
    bank = build_bank(records, synthetic=True)
    grouped = list(group_records(records).values())
    for q in range(0, bank.n_questions, 4):
        for seed in (0, 1):
            for beta in (0.0, 1.0):
                factory = BASELINES[name].make_controller
                replayed = run_episodes(bank, factory, beta, np.array([q]), np.array([seed]))
                order = list(_shuffled(int(bank.n_traj[q]), seed))
                live = solve(ScriptedEngine(grouped[q], order), factory, beta, "question", max_branches=bank.max_traj,
                             answer_type=grouped[q][0].answer_type)
                assert live.tokens == replayed.tokens[0] and live.rounds == replayed.rounds[0]
                assert live.seq_tokens == replayed.seq_tokens[0]
                expected = bank.class_texts[q][replayed.answers[0]] if replayed.answers[0] >= 0 else None
                assert (live.answer is None) == (expected is None)
                if expected is not None:
                    assert equivalent(live.answer, expected)
