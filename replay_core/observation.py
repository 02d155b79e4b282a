"""What a controller may see: only what its episode has paid for."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replay_core.actions import Actions


@dataclass(frozen=True)
class Observation:
    """The state of E episodes, each with B branch slots (slot b = the b-th branch opened).

    Per episode (shape E):
      episode      the episode's row in the batch (stable across rounds; see `live_only`)
      live         still running (has not answered)
      n_open       branches opened so far;  n_unused: trajectories left to open
      tokens       tokens spent so far (chunks + probes)
      rounds       generation rounds so far (a round that extends or probes counts once)
    Per branch (shape E x B):
      opened, done (reached its end), pruned, active (= opened & ~done & ~pruned)
      depth        chunks generated
      branch_tokens  tokens generated on this branch (chunks + probes)
      final        answer class at its end, once done (-1: no answer, or not done)
      probe        answer class of the last probe bought (-1: none stated, or never probed)
      probe_depth  depth at which that probe was bought (0: never)
      confidence   confidence of the last generated chunk (NaN: the bank has none)
      mean_confidence  mean chunk confidence so far (NaN: none)
    n_classes      upper bound on answer class ids (size arrays of vote counts with it)
    Arrays are read-only copies; class ids mean nothing across episodes.
    """

    episode: np.ndarray
    live: np.ndarray
    n_open: np.ndarray
    n_unused: np.ndarray
    tokens: np.ndarray
    rounds: np.ndarray
    opened: np.ndarray
    done: np.ndarray
    pruned: np.ndarray
    active: np.ndarray
    depth: np.ndarray
    branch_tokens: np.ndarray
    final: np.ndarray
    probe: np.ndarray
    probe_depth: np.ndarray
    confidence: np.ndarray
    mean_confidence: np.ndarray
    n_classes: int

    @property
    def n_episodes(self) -> int:
        return int(self.live.shape[0])

    @property
    def n_branches(self) -> int:
        return int(self.opened.shape[1])

    def no_actions(self) -> Actions:
        """All-idle actions for this batch, to fill in."""
        return Actions.none(self.n_episodes, self.n_branches)
