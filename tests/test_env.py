"""The replay environment: every action's cost and visibility rule, invalid actions, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from replay_core import DEFAULT_VOTE, FULL, Actions, InvalidAction, ReplayEnv
from replay_core.baselines import BASELINES
from replay_core.evaluate import evaluate, run_batch
from tests.conftest import record
from autotts.trajectories.banking import build_bank


@pytest.fixture()
def bank():
    return build_bank([
        record(traj_id=0, chunks=(100, 100, 50), probes=("1", None, "2"), final="2"),
        record(traj_id=1, chunks=(100, 30), probes=("3", "3"), final="3", probe_tokens=[7, 7]),
        # AutoTTS-style: a probe grid that overruns the true length (900 < 2 x 500)
        record(traj_id=2, chunks=(500, 500, 0), probes=("2", "2", "2"), final="2", total_tokens=900,
               probe_tokens=[0, 0, 0]),
    ])


def env_for(bank, order=(0, 1, 2)):
    return ReplayEnv.of_bank(bank, np.array([0]), np.array([list(order)]))


def act(env, **fields):
    a = env.observe().no_actions()
    for name, value in fields.items():
        getattr(a, name)[0] = value
    env.step(a)
    return env.observe()


def cls(bank, text):
    return bank.class_texts[0].index(text)


def test_branch_is_free_and_reveals_nothing(bank):
    env = env_for(bank)
    obs = act(env, branch=2)
    assert obs.tokens[0] == 0 and obs.n_open[0] == 2 and obs.n_unused[0] == 1
    assert obs.opened[0, :2].all() and not obs.opened[0, 2]
    assert (obs.probe == -1).all() and (obs.final == -1).all() and (obs.depth == 0).all()


def test_continue_charges_chunks_and_reveals_no_probe(bank):
    env = env_for(bank)
    act(env, branch=1)
    obs = act(env, extend=[2, 0, 0])
    assert obs.tokens[0] == 200 and obs.depth[0, 0] == 2 and obs.rounds[0] == 1
    assert obs.probe[0, 0] == -1 and obs.final[0, 0] == -1 and not obs.done[0, 0]


def test_probe_charges_probe_tokens_and_reveals_the_answer_at_depth(bank):
    env = env_for(bank)
    act(env, branch=1)
    act(env, extend=[1, 0, 0])
    obs = act(env, probe=[True, False, False])
    assert obs.tokens[0] == 105 and obs.probe[0, 0] == cls(bank, "1") and obs.probe_depth[0, 0] == 1
    obs = act(env, extend=[1, 0, 0], probe=[True, False, False])
    assert obs.probe[0, 0] == -1  # the probe after chunk 2 stated no answer
    assert obs.tokens[0] == 210 and obs.rounds[0] == 3


def test_reaching_the_end_costs_the_remaining_length_and_reveals_the_final(bank):
    env = env_for(bank)
    act(env, branch=1)
    act(env, extend=[1, 0, 0])
    obs = act(env, extend=[FULL, 0, 0])
    assert obs.tokens[0] == 250 and obs.done[0, 0] and obs.final[0, 0] == cls(bank, "2")
    obs = act(env, probe=[True, False, False])  # probing an ended branch reads its final, free
    assert obs.tokens[0] == 250 and obs.probe[0, 0] == cls(bank, "2")


def test_published_cost_semantics_when_the_probe_grid_overruns(bank):
    stepwise = env_for(bank, order=(2, 0, 1))
    act(stepwise, branch=1)
    costs = []
    for _ in range(3):
        before = stepwise.tokens[0]
        act(stepwise, extend=[1, 0, 0])
        costs.append(int(stepwise.tokens[0] - before))
    assert costs == [500, 500, 0]  # k intervals cost k x 500, the closing step max(0, 900 - 1000)
    leap = env_for(bank, order=(2, 0, 1))  # several chunks in one step cost what they cost one by one
    act(leap, branch=1)
    act(leap, extend=[1, 0, 0])
    obs = act(leap, extend=[2, 0, 0])
    assert obs.done[0, 0] and obs.tokens[0] == 1000 and obs.depth[0, 0] == 3
    at_once = env_for(bank, order=(2, 0, 1))
    act(at_once, branch=1)
    assert act(at_once, extend=[FULL, 0, 0]).tokens[0] == 900  # a full read costs the true length
    rest = env_for(bank, order=(2, 0, 1))
    act(rest, branch=1)
    act(rest, extend=[1, 0, 0])
    assert act(rest, extend=[FULL, 0, 0]).tokens[0] == 900  # from mid-way, FULL pays the rest: 900 - 500


def test_default_vote_prefers_finals_then_probes_and_breaks_ties_by_first_branch(bank):
    env = env_for(bank)
    act(env, branch=2)
    act(env, extend=[FULL, FULL, 0])
    act(env, answer=DEFAULT_VOTE)
    assert env.answer[0] == cls(bank, "2") and env.correct()[0]
    env = env_for(bank, order=(1, 0, 2))
    act(env, branch=2)
    act(env, extend=[FULL, FULL, 0])
    act(env, answer=DEFAULT_VOTE)
    assert env.answer[0] == cls(bank, "3") and not env.correct()[0]  # 1-1 tie: first branch wins
    env = env_for(bank)
    act(env, branch=1)
    act(env, extend=[1, 0, 0], probe=[True, False, False])
    act(env, answer=DEFAULT_VOTE)
    assert env.answer[0] == cls(bank, "1")  # nothing finished: the probes vote


def test_latency_is_the_deepest_branch_and_rounds(bank):
    env = env_for(bank)
    act(env, branch=3)
    act(env, extend=[1, 1, 1])
    act(env, extend=[FULL, 0, 0])
    act(env, answer=DEFAULT_VOTE)
    assert env.rounds[0] == 2 and env.seq_tokens[0] == 500 and env.tokens[0] == 250 + 100 + 500


@pytest.mark.parametrize("fields, message", [
    ({"extend": [1, 0, 0]}, "not open"),
    ({"probe": [True, False, False]}, "not open"),
    ({"prune": [True, False, False]}, "not open"),
    ({"branch": 4}, "beyond the unused"),
    ({"branch": -1}, "negative"),
    ({}, "made no move"),
    ({"answer": 0}, "has not seen"),
    ({"answer": 999}, "unknown class"),
    ({"branch": 1, "answer": DEFAULT_VOTE}, "only action"),
])
def test_invalid_actions_are_reported(bank, fields, message):
    env = env_for(bank)
    with pytest.raises(InvalidAction, match=message):
        act(env, **fields)


def test_actions_after_pruning_ending_or_answering_are_invalid(bank):
    env = env_for(bank)
    act(env, branch=2)
    with pytest.raises(InvalidAction, match="no generated chunk"):
        act(env, probe=[True, False, False])
    act(env, prune=[True, False, False], extend=[0, FULL, 0])
    with pytest.raises(InvalidAction, match="pruned"):
        act(env, extend=[1, 0, 0])
    with pytest.raises(InvalidAction, match="already ended"):
        act(env, extend=[0, 1, 0])
    act(env, answer=DEFAULT_VOTE)
    with pytest.raises(InvalidAction, match="acted after answering"):
        act(env, answer=DEFAULT_VOTE)


def test_wrong_shapes_and_types_are_reported(bank):
    env = env_for(bank)
    env.observe()
    with pytest.raises(InvalidAction, match="must return Actions"):
        env.step({"branch": 1})
    with pytest.raises(InvalidAction, match="wrong shape"):
        env.step(Actions.none(1, 7))


def test_observation_holds_no_labels_and_cannot_write_state(bank):
    env = env_for(bank)
    obs = act(env, branch=1)
    names = set(vars(obs))
    assert not names & {"gold", "golds", "class_correct", "bank", "correct", "class_texts"}
    assert all(isinstance(v, (np.ndarray, int)) for v in vars(obs).values())
    with pytest.raises(ValueError):
        obs.depth[0, 0] = 5
    with pytest.raises(AttributeError):
        obs.bank  # noqa: B018


def test_an_observation_is_a_snapshot_that_later_rounds_do_not_change(bank):
    """Observations are views of one gathered copy per state block: a kept observation must not
    follow the environment, and writing through a view's base must not reach the environment."""
    env = ReplayEnv.of_bank(bank, np.array([0, 0]), np.array([[0, 1, 2], [1, 0, 2]]))
    a = env.observe().no_actions()
    a.branch[:] = 1
    env.step(a)
    for live_only in (False, True):
        kept = env.observe(live_only)
        before = {k: v.copy() for k, v in vars(kept).items() if isinstance(v, np.ndarray)}
        a = kept.no_actions()
        a.extend[:, 0], a.probe[:, 0] = 1, True
        env.step(a)
        assert all(np.array_equal(getattr(kept, k), v, equal_nan=True) for k, v in before.items())
        base = kept.depth.base
        base.flags.writeable = True
        base[...] = 99
        assert not (env.depth == 99).any() and env.observe().depth[0, 0] == before["depth"][0, 0] + 1
    a = env.observe(True).no_actions()
    a.answer[:] = DEFAULT_VOTE
    env.step(a)


class _Peeker:
    """A controller that tries to answer without paying: class 0 blindly."""

    def act(self, obs):
        a = obs.no_actions()
        a.answer[:] = 0
        return a


def test_blind_answers_fail(bank):
    with pytest.raises(InvalidAction, match="has not seen"):
        run_batch(bank, lambda beta: _Peeker(), 1.0, np.array([0]), np.array([0]))


def test_evaluation_is_deterministic_and_independent_of_workers_and_blocks(synthetic_bank):
    factory = BASELINES["parallel-probe"].make_controller
    one = evaluate(synthetic_bank, factory, [0.5], permutations=8, workers=1, block=8)[0.5]
    again = evaluate(synthetic_bank, factory, [0.5], permutations=8, workers=2, block=3)[0.5]
    order = lambda r: np.lexsort((r.questions, r.seeds))  # noqa: E731
    for field in ("correct", "tokens", "rounds", "seq_tokens", "answers"):
        assert np.array_equal(getattr(one, field)[order(one)], getattr(again, field)[order(again)]), field


def test_play_shows_every_episode_unless_the_controller_asks_for_live_only(bank):
    """The one episode loop: without `live_only` (the Controller protocol's default) a controller sees
    every episode each round; with it, only the running ones; the outcome is the same."""
    from replay_core.play import play

    class StaggeredAnswers:  # episode e opens a branch, reads it a chunk a round, answers in round e + 1
        def __init__(self):
            self.rounds, self.rows = 0, []

        def act(self, obs):
            self.rows.append(obs.episode.tolist())
            a = obs.no_actions()
            answering = obs.episode == self.rounds - 1
            if self.rounds == 0:
                a.branch[:] = 1
            else:
                a.extend[obs.live & ~answering, 0] = 1
            a.answer[answering] = DEFAULT_VOTE
            self.rounds += 1
            return a

    class LiveOnly(StaggeredAnswers):
        live_only = True

    seen = {}
    for controller in (StaggeredAnswers(), LiveOnly()):
        env = play(ReplayEnv.of_bank(bank, np.zeros(3, np.int64), np.array([[0, 1, 2]] * 3)), controller)
        seen[type(controller).__name__] = (controller.rows, env.answer.tolist(), env.rounds.tolist())
    assert seen["StaggeredAnswers"][0] == [[0, 1, 2]] * 4 and seen["LiveOnly"][0] == [[0, 1, 2]] * 2 + [[1, 2], [2]]
    assert seen["StaggeredAnswers"][1:] == seen["LiveOnly"][1:]
