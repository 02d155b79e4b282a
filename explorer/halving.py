"""Multi-fidelity evaluation by successive halving: score every new candidate on a few permutations
of branch order, promote the best third to more, and so on up to the full count.

A round then tries many more candidates in the time full evaluations of a few would take, and
only promising ones reach full fidelity. Promotion depends only on scores and candidate ids, so a
seeded run promotes the same candidates every time, a resumed round too. A lone contender is
promoted whatever it scores, so the round skips the rungs between it and the top
(explorer/discovery.py).
"""
from __future__ import annotations

import math


def rungs(permutations: int, eta: int = 3, floor: int = 2) -> list[int]:
    """Permutations per rung, cheapest first, ending at `permutations`: each rung has about `eta`
    times the permutations of the one before, and the first has at least `floor`."""
    if permutations < 1:
        raise ValueError("permutations must be at least 1")
    out = [permutations]
    while out[-1] // eta >= floor:
        out.append(out[-1] // eta)
    return out[::-1]


def survivors(n: int, eta: int = 3) -> int:
    """How many of n candidates on a rung go on to the next: ceil(n / eta)."""
    return math.ceil(n / eta)


def promote(scores: dict[str, float], eta: int = 3, promoted_before: frozenset[str] = frozenset()) -> list[str]:
    """The ids that go on to the next rung: the best `survivors` by score, ties by id.

    `promoted_before`: ids that a killed run had already promoted (and replayed further, so their
    scores are of a higher fidelity than the others'). They keep their places, and the rest go by
    score as before: the promoted were a prefix of the ranking, so what is left of it after removing
    some is still in order, and the round promotes the same ids as one never interrupted."""
    kept = [cid for cid in scores if cid in promoted_before]
    rest = sorted((cid for cid in scores if cid not in promoted_before), key=lambda cid: (-scores[cid], cid))
    return sorted(kept) + rest[:max(0, survivors(len(scores), eta) - len(kept))]


def skips(contenders: int, rung: int, plan: list[int]) -> bool:
    """Whether a round skips this rung: a lone contender goes on whatever it scores, so it goes
    straight to the top rung."""
    return contenders == 1 and rung != plan[-1]
