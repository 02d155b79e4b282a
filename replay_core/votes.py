"""Vote counting over answer classes, for whole batches of episodes at once.

Ties go to the class that appeared first (lowest slot), as `collections.Counter.most_common`
does in the reference implementations; the helpers are shared by the environment's default vote,
the baselines and candidate controllers.
"""
from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np


def class_counts(classes: np.ndarray, n_classes: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Votes per class: classes (E, B) with -1 for "no vote" -> counts (E, n_classes)."""
    E = classes.shape[0]
    valid = classes >= 0
    flat = (np.arange(E)[:, None] * n_classes + classes)[valid]
    w = None if weights is None else np.broadcast_to(weights, classes.shape)[valid]
    return np.bincount(flat, weights=w, minlength=E * n_classes).reshape(E, n_classes)


def leading_class(counts: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The class with the most votes per episode (-1 when none has any), ties going to the class
    seen at the lowest slot of `classes` (E, B): a choice that does not depend on how class ids
    are numbered, so a controller decides the same whatever labels its episode's answers get.
    `counts` (E, C) may be weighted and include probe votes."""
    rows = np.arange(classes.shape[0])[:, None]
    at_slot = np.where(classes >= 0, counts[rows, np.maximum(classes, 0)], -np.inf)
    best = at_slot.argmax(axis=1) if classes.shape[1] else np.zeros(classes.shape[0], np.int64)
    top = at_slot[rows[:, 0], best] if classes.shape[1] else np.full(classes.shape[0], -np.inf)
    return np.where(top > 0, classes[rows[:, 0], best] if classes.shape[1] else -1, -1)


def plurality(classes: np.ndarray, n_classes: int, weights: np.ndarray | None = None) -> np.ndarray:
    """The winning class per episode (-1 when nobody voted); ties go to the lowest slot."""
    return vote_stats(classes, n_classes, weights)[0]


def vote_stats(classes: np.ndarray, n_classes: int, weights: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(winner, top1, top2, total) per episode: the plurality class (-1 if no votes), its votes,
    the runner-up class's votes and all votes."""
    E = classes.shape[0]
    counts = class_counts(classes, n_classes, weights)
    valid = classes >= 0
    flat_counts = counts.ravel()
    at_slot = np.where(valid, flat_counts[np.arange(E)[:, None] * n_classes + np.maximum(classes, 0)], -1.0)
    best_slot = at_slot.argmax(axis=1)
    rows = np.arange(E)
    top1 = np.maximum(at_slot[rows, best_slot], 0.0)
    winner = np.where(top1 > 0, classes[rows, best_slot], -1)
    runner_up = np.where(valid & (classes != winner[:, None]), at_slot, 0.0)
    top2 = runner_up.max(axis=1) if classes.shape[1] else np.zeros(E)
    return winner, top1, top2, counts.sum(axis=1)


@lru_cache(maxsize=8)
def beta_confidence_table(size: int) -> np.ndarray:
    """table[v1, v2] = P(p1 > p2) under Beta(v1+1, v2+1), i.e. 1 - I_0.5(v1+1, v2+1): how sure a
    vote of v1 against v2 is that the leader is really ahead (Adaptive-Consistency's stopping rule).

    For integer parameters this is a binomial tail: P(Binomial(v1+v2+1, 1/2) <= v1), computed
    exactly with integers, so no scipy is needed.
    """
    table = np.zeros((size, size))
    for v1 in range(size):
        for v2 in range(size):
            n = v1 + v2 + 1
            table[v1, v2] = sum(comb(n, j) for j in range(v1 + 1)) / 2 ** n
    return table


def win_probability(top1: np.ndarray, top2: np.ndarray, size: int = 66) -> np.ndarray:
    """P(leader beats runner-up) per episode under the Beta posterior of `beta_confidence_table`;
    vote counts are rounded to whole votes and capped at `size - 1`."""
    table = beta_confidence_table(size)
    v1 = np.clip(np.rint(top1).astype(np.int64), 0, size - 1)
    v2 = np.clip(np.rint(top2).astype(np.int64), 0, size - 1)
    return table[v1, v2]
