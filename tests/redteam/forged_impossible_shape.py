# expect: the 'actions' reply carries the wrong arrays
# Claims actions of an impossible shape, to make the parent allocate or index out of range.
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


class Forger(One):
    def act(self, obs):
        head = b'{"kind": "actions", "arrays": [["branch", "int64", [1073741824]]]}'
        for fd in range(3, 16):
            try:
                os.write(fd, len(head).to_bytes(4, 'big') + head)
            except OSError:
                pass
        while True:
            pass


def make_controller(beta):
    return Forger()
