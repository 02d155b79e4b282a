"""What a controller does in one round, for every episode of its batch at once."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FULL = 1 << 30
"""`extend` value meaning "generate until the trajectory ends"."""
NOT_YET = -2
"""`answer` value meaning "do not answer this round"."""
DEFAULT_VOTE = -1
"""`answer` value asking the environment's default vote (see `ReplayEnv.default_vote`)."""


@dataclass
class Actions:
    """One round of actions. E episodes, B branch slots (B = the bank's trajectories per question).

    branch[e]     BRANCH: open this many unused trajectories (they start at depth 0, cost nothing).
    prune[e, b]   PRUNE: stop branch b for good; it no longer votes in the default vote.
    extend[e, b]  CONTINUE: generate this many chunks of branch b (FULL: to the end).
    probe[e, b]   PROBE: buy branch b's probe at its depth (after this round's extension).
    answer[e]     ANSWER: NOT_YET, DEFAULT_VOTE, or an answer class id this episode has seen.
                  An episode that answers does nothing else in that round, and then ends.
    Order within a round: prune, branch, extend, probe; answer ends the episode.
    """

    branch: np.ndarray
    prune: np.ndarray
    extend: np.ndarray
    probe: np.ndarray
    answer: np.ndarray

    @classmethod
    def none(cls, n_episodes: int, n_branches: int) -> "Actions":
        """All-idle actions to fill in."""
        return cls(
            branch=np.zeros(n_episodes, np.int64),
            prune=np.zeros((n_episodes, n_branches), bool),
            extend=np.zeros((n_episodes, n_branches), np.int64),
            probe=np.zeros((n_episodes, n_branches), bool),
            answer=np.full(n_episodes, NOT_YET, np.int64),
        )
