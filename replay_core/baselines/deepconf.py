"""DeepConf, online variant (Fu et al., 2025, "Deep Think with Confidence"): a warm-up set of
traces fixes a confidence threshold; later traces are stopped as soon as a chunk's confidence
falls below it; sampling stops once the confidence-weighted vote is decisive. Needs a bank with
`chunk_confidence`."""
from __future__ import annotations

import numpy as np

from replay_core.actions import DEFAULT_VOTE, Actions
from replay_core.baselines._beta import geometric_int
from replay_core.observation import Observation
from replay_core.votes import class_counts, plurality


def make_controller(beta: float, budget: int | None = None, warmup: int | None = None,
                    keep_fraction: float = 0.1, consensus: float = 0.95) -> "DeepConfOnline":
    """DeepConf-low online: warm-up traces set the threshold at their top `keep_fraction` lowest-chunk
    confidence; later traces are pruned below it; stop when one answer holds `consensus` of the
    confidence-weighted vote or the budget is spent.

    beta -> budget = round(4 * 16 ** beta) traces (4 to 64), warmup = max(2, budget // 4).
    Knobs: budget, warmup, keep_fraction, consensus.
    """
    budget = budget if budget is not None else geometric_int(beta, 4, 64)
    return DeepConfOnline(budget, warmup if warmup is not None else max(2, budget // 4), keep_fraction, consensus)


class DeepConfOnline:
    def __init__(self, budget: int, warmup: int, keep_fraction: float, consensus: float):
        if not 1 <= warmup <= budget:
            raise ValueError("need 1 <= warmup <= budget")
        self.budget, self.warmup, self.keep, self.consensus = budget, warmup, keep_fraction, consensus
        self.lowest = self.threshold = None

    def act(self, obs: Observation) -> Actions:
        a = obs.no_actions()
        if self.lowest is None:
            if np.isnan(obs.confidence).all() and obs.n_open.sum() > 0:
                raise ValueError("DeepConf needs a bank with chunk confidences")
            self.lowest = np.full((obs.n_episodes, obs.n_branches), np.inf)
            self.threshold = np.full(obs.n_episodes, np.nan)
        grown = obs.opened & (obs.depth > 0)
        self.lowest = np.where(grown, np.fmin(self.lowest, obs.confidence), self.lowest)
        slots = np.arange(obs.n_branches)[None, :]
        warm = slots < self.warmup
        start = obs.live & (obs.n_open == 0)
        n_warm = np.minimum(self.warmup, obs.n_unused)
        a.branch[start] = n_warm[start]
        a.extend[start[:, None] & (slots < n_warm[:, None])] = 1

        running = obs.live & ~start
        warm_over = running & ~(obs.active & warm).any(1)
        fresh = warm_over & np.isnan(self.threshold)
        if fresh.any():  # threshold: the (1 - keep) quantile of warm-up traces' lowest chunk confidence
            lows = np.where(obs.opened[fresh] & warm, self.lowest[fresh], np.nan)
            self.threshold[fresh] = np.nanquantile(lows, 1 - self.keep, axis=1)
        weights = _relative_weights(np.where(obs.done, obs.mean_confidence, np.nan))
        finals = np.where(obs.done & ~obs.pruned, obs.final, -1)
        counts = class_counts(finals, obs.n_classes, weights)
        share = counts.max(1) / np.maximum(counts.sum(1), 1e-12)
        decisive = warm_over & (share >= self.consensus)
        low = warm_over[:, None] & obs.active & ~warm & (obs.confidence < self.threshold[:, None])
        exhausted = warm_over & ((obs.n_open >= self.budget) | (obs.n_unused == 0)) & ~(obs.active & ~low).any(1)
        stop = running & (decisive | exhausted)
        winner = plurality(finals, obs.n_classes, weights)
        a.answer[stop] = np.where(winner[stop] >= 0, winner[stop], DEFAULT_VOTE)
        go = running & ~stop
        a.prune[go[:, None] & low] = True
        grow = go & warm_over & (obs.n_open < self.budget) & (obs.n_unused > 0)
        a.branch[grow] = 1
        a.extend[go[:, None] & obs.active & ~low] = 1
        a.extend[grow, obs.n_open[grow]] = 1
        return a


def _relative_weights(confidence: np.ndarray) -> np.ndarray:
    """Vote weight exp(c - max c) per branch: scale-free, and 0 where there is no confidence."""
    finite = np.isfinite(confidence)
    top = np.max(np.where(finite, confidence, -np.inf), axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.where(finite, np.exp(np.where(finite, confidence, 0.0) - top), 0.0)
