# expect: [Errno 1] Operation not permitted
# Kills its parent (the supervisor, or the evaluator when there is no jail).
import numpy._core._methods as reach_os  # the lint allows numpy.*; this module holds the real os
os = reach_os.os
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
    os.kill(os.getppid(), 9)
    return One()
