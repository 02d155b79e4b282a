# expect: contained: no data files visible
# needs: jail
# Walks the whole filesystem for banks, warehouses and stores with gold answers.
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


def walk(path, found):
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False) and entry.path not in ('/usr', '/proc', '/sys') and 'python' not in entry.path:
            walk(entry.path, found)
        elif entry.name.endswith(('.parquet', '.duckdb', '.jsonl', '.json')):
            found.append(entry.path)


def make_controller(beta):
    found = []
    walk('/', found)
    if found:
        return One()  # would now read the gold answers
    raise RuntimeError('contained: no data files visible')
