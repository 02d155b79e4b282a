"""Parallel-Probe (2-D probing; the "Parallel-EST with pruning" baseline of the AutoTTS paper,
Zhang et al., 2026): run many chains in parallel, probe every chain after every chunk, stop once
the plurality of the latest probe answers has stayed the same for `stable` consecutive steps, and
after a warm-up prune chains whose answer deviates from the plurality `patience` steps in a row."""
from __future__ import annotations

import numpy as np

from replay_core.actions import DEFAULT_VOTE, Actions
from replay_core.baselines._beta import geometric_int
from replay_core.observation import Observation
from replay_core.votes import plurality

_NO_WINNER_YET = -2


def make_controller(beta: float, chains: int | None = None, stable: int | None = None,
                    patience: int = 7, warmup: int = 15, max_steps: int = 100) -> "ParallelProbe":
    """Parallel-Probe: `chains` parallel chains probed every chunk; consensus stop; deviation pruning.

    beta -> chains = round(8 * 8 ** beta) (8 to 64) and stable = round(4 * 10 ** beta) (4 to 40
    consecutive unchanged plurality steps). The published setting (64 chains, stable 40, patience
    7, warm-up 15) is beta = 1. Knobs: chains, stable, patience, warmup, max_steps.
    """
    return ParallelProbe(
        chains=chains if chains is not None else geometric_int(beta, 8, 64),
        stable=stable if stable is not None else geometric_int(beta, 4, 40),
        patience=patience, warmup=warmup, max_steps=max_steps,
    )


class ParallelProbe:
    live_only = True  # per-episode state is indexed by obs.episode

    def __init__(self, chains: int, stable: int, patience: int, warmup: int, max_steps: int):
        self.chains, self.stable, self.patience = chains, stable, patience
        self.warmup, self.max_steps = warmup, max_steps
        self.step = self.prev = self.streak = self.off_track = None

    def act(self, obs: Observation) -> Actions:
        a = obs.no_actions()
        ep = obs.episode
        if self.step is None:  # first round of the batch: open and probe every chain once
            E = len(ep)
            self.step = np.full(E, -1)
            self.prev = np.full(E, _NO_WINNER_YET)
            self.streak = np.zeros(E, np.int64)
            self.off_track = np.zeros((E, obs.n_branches), np.int64)
            m = np.minimum(self.chains, obs.n_unused)
            a.branch[:] = m
            chains = np.arange(obs.n_branches)[None, :] < m[:, None]
            a.extend[chains] = 1
            a.probe[chains] = True
            return a

        step = self.step[ep]
        judged = step >= 0  # episodes whose last round was a full step
        current = np.where(obs.opened, obs.probe, -1)  # each chain's latest answer (its final once ended)
        winner = plurality(current, obs.n_classes)
        alive = obs.active
        prune_now = np.zeros_like(alive)
        can_prune = judged & (step >= self.warmup) & (alive.sum(1) > 1)
        if can_prune.any():
            tracked = can_prune[:, None] & alive
            off = self.off_track[ep]
            off = np.where(tracked, np.where(current != winner[:, None], off + 1, 0), off)
            self.off_track[ep] = off
            prune_now = tracked & (off >= self.patience)
        streak = np.where(judged, np.where(winner == self.prev[ep], self.streak[ep] + 1, 0), self.streak[ep])
        self.streak[ep] = streak
        self.prev[ep] = np.where(judged, winner, self.prev[ep])
        still_running = alive & ~prune_now
        stop = judged & ((streak >= self.stable) | ~still_running.any(1) | (step + 1 >= self.max_steps))
        stop |= ~judged & ~alive.any(1)  # every chain ended in its first chunk
        a.answer[stop] = np.where(winner[stop] >= 0, winner[stop], DEFAULT_VOTE)
        go = ~stop
        a.prune[go[:, None] & prune_now] = True
        advance = go[:, None] & still_running
        a.extend[advance] = 1
        a.probe[advance] = True
        self.step[ep] = np.where(go, step + 1, step)
        return a
