# expect: contained: no memory of earlier betas
# Pays full price at beta=0 and remembers every episode's outcome for the later betas.
import numpy as np
from replay_core import DEFAULT_VOTE, FULL


class One:
    """Honest enough: one branch to its end, then the default vote (what a cheat falls back to)."""

    def act(self, obs):
        a = obs.no_actions()
        fresh = obs.live & (obs.n_open == 0)
        a.branch[fresh] = 1
        a.extend[fresh, 0] = FULL
        a.answer[obs.live & ~fresh] = DEFAULT_VOTE
        return a

MEMORY = {}


def make_controller(beta):
    if beta > 0 and not MEMORY:
        raise RuntimeError('contained: no memory of earlier betas')
    MEMORY[beta] = True
    return One()
