"""Adaptive-Consistency (Aggarwal et al., 2023, "Let's Sample Step by Step: Adaptive-Consistency
for Efficient Reasoning and Coding with LLMs", EMNLP): sample one trajectory at a time and stop
once a Beta posterior says the leading answer beats the runner-up with probability > threshold."""
from __future__ import annotations

import numpy as np

from replay_core.actions import FULL, Actions
from replay_core.baselines._beta import linear
from replay_core.observation import Observation
from replay_core.votes import beta_confidence_table, vote_stats


def make_controller(beta: float, threshold: float | None = None, max_samples: int = 64) -> "AdaptiveConsistency":
    """ASC: one trajectory per round until the Beta stopping rule fires or max_samples is reached.

    beta -> threshold = 0.5 + 0.49 * beta (0.5: stop at the first clear lead; 0.99: very sure).
    The published setting, threshold 0.95 with 64 samples, is beta ~ 0.918. Knobs: threshold,
    max_samples.
    """
    return AdaptiveConsistency(threshold if threshold is not None else linear(beta, 0.5, 0.99), max_samples)


class AdaptiveConsistency:
    live_only = True  # act() is a function of obs alone: only running episodes are sent

    def __init__(self, threshold: float, max_samples: int):
        self.threshold = threshold
        self.max_samples = max_samples
        self.table = beta_confidence_table(max_samples + 2)

    def act(self, obs: Observation) -> Actions:
        a = obs.no_actions()
        finals = np.where(obs.done, obs.final, -1)
        winner, top1, top2, total = vote_stats(finals, obs.n_classes)
        v1 = np.minimum(top1.astype(np.int64), self.table.shape[0] - 1)
        v2 = np.minimum(top2.astype(np.int64), self.table.shape[0] - 1)
        confident = (total >= 2) & (self.table[v1, v2] > self.threshold)
        exhausted = (obs.n_open >= self.max_samples) | (obs.n_unused == 0)
        stop = obs.live & (obs.n_open > 0) & (confident | exhausted)
        a.answer[stop] = winner[stop]  # -1 (nobody answered) is DEFAULT_VOTE, which abstains too
        sample = obs.live & ~stop
        a.branch[sample] = 1
        a.extend[sample, obs.n_open[sample]] = FULL
        return a
