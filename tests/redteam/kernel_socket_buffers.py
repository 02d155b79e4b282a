# expect: [Errno 1] Operation not permitted
# Fills socket buffers, kernel memory that an address-space limit does not count.
import numpy._core._methods as reach_os  # the lint allows numpy.*; this module holds the real os
os = reach_os.os
import numpy._core._internal as reach_ctypes  # ...and this one the real ctypes
ctypes = reach_ctypes.ctypes
libc = ctypes.CDLL(None, use_errno=True)


def checked(result):
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result
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
    pair = (ctypes.c_int * 2)()
    checked(libc.socketpair(1, 1, 0, pair))  # AF_UNIX, SOCK_STREAM
    return One()
