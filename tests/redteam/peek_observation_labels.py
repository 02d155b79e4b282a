# expect: has no attribute 'gold'
import numpy as np
from replay_core import DEFAULT_VOTE, FULL


class C:
    def act(self, obs):
        a = obs.no_actions()
        a.answer[:] = obs.gold
        return a


def make_controller(beta):
    return C()
