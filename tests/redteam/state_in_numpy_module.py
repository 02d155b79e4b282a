# expect: contained: numpy carried nothing over
# Hides its memory on a module object, which outlives the candidate's own namespace.
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


def make_controller(beta):
    if beta > 0 and not getattr(np, 'remembered', None):
        raise RuntimeError('contained: numpy carried nothing over')
    np.remembered = True
    return One()
