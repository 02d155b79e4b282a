"""Early-Stopping Self-Consistency (Li et al., 2024, "Escape Sky-high Cost: Early-stopping
Self-Consistency for Multi-step Reasoning", ICLR): sample in windows of w trajectories and stop
as soon as one window is unanimous; otherwise vote over everything sampled."""
from __future__ import annotations

import numpy as np

from replay_core.actions import DEFAULT_VOTE, FULL, Actions
from replay_core.baselines._beta import geometric_int
from replay_core.observation import Observation


def make_controller(beta: float, window: int | None = None, max_samples: int = 64) -> "EarlyStoppingSC":
    """ESC: windows of `window` parallel trajectories, stop on a unanimous window.

    beta -> window = round(2 * 8 ** beta): 2 at beta=0 (stop on the first agreeing pair) to 16 at
    beta=1. The published setting, window 8 with 64 samples, is beta = 2/3. Knobs: window,
    max_samples (rounded down to whole windows, as published).
    """
    return EarlyStoppingSC(window if window is not None else geometric_int(beta, 2, 16), max_samples)


class EarlyStoppingSC:
    live_only = True  # act() is a function of obs alone: only running episodes are sent

    def __init__(self, window: int, max_samples: int):
        if window < 1 or max_samples < window:
            raise ValueError("need 1 <= window <= max_samples")
        self.window = window
        self.limit = (max_samples // window) * window

    def act(self, obs: Observation) -> Actions:
        a = obs.no_actions()
        slots = np.arange(obs.n_branches)[None, :]
        last_window = (slots >= obs.n_open[:, None] - self.window) & (slots < obs.n_open[:, None])
        answers = np.where(last_window & obs.done, obs.final, -1)
        voted = answers >= 0
        first = np.where(voted.any(1), answers.max(1), -1)
        unanimous = voted.any(1) & ((answers == first[:, None]) | ~voted).all(1)
        started = obs.n_open > 0
        unanimous_stop = obs.live & started & unanimous
        a.answer[unanimous_stop] = first[unanimous_stop]
        out_of_budget = obs.live & started & ~unanimous & (
            (obs.n_open >= self.limit) | (obs.n_unused < self.window))
        a.answer[out_of_budget] = DEFAULT_VOTE
        sample = obs.live & ~unanimous_stop & ~out_of_budget
        a.branch[sample] = self.window
        a.extend[sample[:, None] & (slots >= obs.n_open[:, None]) & (slots < obs.n_open[:, None] + self.window)] = FULL
        return a
