"""Self-Consistency (Wang et al., 2023, "Self-Consistency Improves Chain of Thought Reasoning in
Language Models", ICLR): sample k full trajectories in parallel and take the plurality answer."""
from __future__ import annotations

import numpy as np

from replay_core.actions import DEFAULT_VOTE, FULL, Actions
from replay_core.baselines._beta import geometric_int
from replay_core.observation import Observation


def make_controller(beta: float, k: int | None = None, k_max: int = 64) -> "SelfConsistency":
    """SC@k: k trajectories read to the end, plurality vote.

    beta -> k = round(k_max ** beta): 1 at beta=0, k_max at beta=1, so a beta sweep is SC@k for
    (log-spaced) k. Knobs: k (overrides beta), k_max.
    """
    return SelfConsistency(k if k is not None else geometric_int(beta, 1, k_max))


class SelfConsistency:
    live_only = True  # act() is a function of obs alone: only running episodes are sent

    def __init__(self, k: int):
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k = k

    def act(self, obs: Observation) -> Actions:
        a = obs.no_actions()
        start = obs.live & (obs.n_open == 0)
        k = np.minimum(self.k, obs.n_unused)
        a.branch[start] = k[start]
        a.extend[start[:, None] & (np.arange(obs.n_branches)[None, :] < k[:, None])] = FULL
        a.answer[obs.live & ~start] = DEFAULT_VOTE
        return a
