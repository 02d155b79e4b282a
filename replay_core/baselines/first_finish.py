"""First-k-to-finish: start many trajectories in parallel, advance them chunk by chunk, and vote
over the first k that finish. Short traces are more often right (cf. Hassid et al., 2025, "Don't
Overthink It: Preferring Shorter Thinking Chains for Improved LLM Reasoning"), so the early
finishers carry most of the signal at a fraction of the tokens."""
from __future__ import annotations

import numpy as np

from replay_core.actions import DEFAULT_VOTE, Actions
from replay_core.baselines._beta import geometric_int
from replay_core.observation import Observation
from replay_core.votes import plurality


def make_controller(beta: float, k: int | None = None, width: int = 64, chunks_per_round: int = 1) -> "FirstKToFinish":
    """First-k-of-width: `width` parallel trajectories, vote over the first k to end.

    beta -> k = round(32 ** beta): 1 (the first finisher) to 32 (half of 64). Knobs: k, width,
    chunks_per_round (chunks each branch generates per round).
    """
    return FirstKToFinish(k if k is not None else geometric_int(beta, 1, 32), width, chunks_per_round)


class FirstKToFinish:
    live_only = True  # act() is a function of obs alone: only running episodes are sent

    def __init__(self, k: int, width: int, chunks_per_round: int):
        if not 1 <= k <= width:
            raise ValueError("need 1 <= k <= width")
        self.k, self.width, self.step_chunks = k, width, chunks_per_round

    def act(self, obs: Observation) -> Actions:
        a = obs.no_actions()
        start = obs.live & (obs.n_open == 0)
        width = np.minimum(self.width, obs.n_unused)
        a.branch[start] = width[start]
        slots = np.arange(obs.n_branches)[None, :]
        a.extend[start[:, None] & (slots < width[:, None])] = self.step_chunks
        running = obs.live & ~start
        need = np.minimum(self.k, obs.n_open)
        stop = running & ((obs.done.sum(1) >= need) | ~obs.active.any(1))
        if stop.any():
            a.answer[stop] = self._vote_first_finishers(obs, np.flatnonzero(stop), need)
        go = running & ~stop
        a.extend[go[:, None] & obs.active] = self.step_chunks
        return a

    def _vote_first_finishers(self, obs: Observation, episodes: np.ndarray, need: np.ndarray) -> np.ndarray:
        """Among ended branches, the first `need` in finishing order (fewest tokens first, since
        all branches advance in lockstep; then lowest slot) vote."""
        done = obs.done[episodes]
        key = np.where(done, obs.branch_tokens[episodes].astype(np.int64), np.iinfo(np.int64).max)
        order = np.argsort(key, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(order.shape[1])[None, :], axis=1)
        voters = done & (rank < need[episodes][:, None])
        ordered = np.take_along_axis(np.where(voters, obs.final[episodes], -1), order, axis=1)
        winner = plurality(ordered, obs.n_classes)
        return np.where(winner >= 0, winner, DEFAULT_VOTE)
