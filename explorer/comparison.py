"""Where a candidate stands against the baselines, as text an LLM explorer can act on.

A score says how good a curve is; it does not say what to change. These tables say it: the
frontier to beat (per budget, which baseline holds the best accuracy there) and, for a candidate,
the budgets where it falls below that frontier, by how much, and to which baseline.
All comparisons are at matched budgets (accuracy reachable without spending more), over the
search split's log-spaced budget range, per (benchmark, model).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from replay_core.metrics import Point, Scoring, accuracy_at_budget, budget_grid

Curves = dict[str, list[Point]]   # controller name -> its points (every group)


def _group(points: list[Point], key: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    mine = [p for p in points if (p.benchmark, p.model) == key]
    return np.array([p.tokens for p in mine]), np.array([p.accuracy for p in mine])


def _leaders(baselines: Curves, key: tuple[str, str], grid: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The baseline envelope at each budget of `grid`, and the baseline that holds it there (one
    with a point it can afford, even where the envelope is 0)."""
    names = sorted(baselines)
    curves = [_group(baselines[n], key) for n in names]
    table = np.array([accuracy_at_budget(tokens, accuracy, grid) for tokens, accuracy in curves])
    cheapest = np.array([float(tokens.min()) if len(tokens) else np.inf for tokens, _ in curves])
    best = np.where(grid[None, :] >= cheapest[:, None], table, -np.inf).argmax(axis=0)
    return table.max(axis=0), [names[i] for i in best]


@dataclass(frozen=True)
class Loss:
    """One budget where a candidate is below the baseline envelope, and the baseline point holding it."""

    group: tuple[str, str]   # (benchmark, model)
    budget: float            # tokens per question
    gap: float               # candidate's accuracy minus the envelope's (negative)
    baseline: str            # the baseline that holds the envelope there
    beta: float              # the beta of its point that does


def _holder(points: list[Point], key: tuple[str, str], budget: float) -> Point:
    """The point of a curve that gives its accuracy at `budget`: the most accurate affordable one."""
    affordable = [p for p in points if (p.benchmark, p.model) == key and p.tokens <= budget]
    return max(affordable, key=lambda p: (p.accuracy, -p.tokens))


def _gaps(candidate: list[Point], baselines: Curves, budgets: int
          ) -> Iterator[tuple[tuple[str, str], np.ndarray, np.ndarray, list[str], np.ndarray]]:
    """Per group the candidate has points in: (group, budgets, its gap to the envelope at each,
    the baseline holding the envelope at each, the candidate's tokens)."""
    scoring = Scoring.from_points([p for pts in baselines.values() for p in pts])
    for key, (low, high) in sorted(scoring.ranges.items()):
        tokens, accuracy = _group(candidate, key)
        if len(tokens):
            grid = budget_grid(low, high, budgets)
            envelope, leaders = _leaders(baselines, key, grid)
            yield key, grid, accuracy_at_budget(tokens, accuracy, grid) - envelope, leaders, tokens


def losses(candidate: list[Point], baselines: Curves, budgets: int = 16) -> list[Loss]:
    """Every budget of every group where the candidate is below the best baseline, largest loss first."""
    if not candidate or not baselines:
        return []
    out = [Loss(key, float(t), float(g), name, _holder(baselines[name], key, t).beta)
           for key, grid, gap, leaders, _ in _gaps(candidate, baselines, budgets)
           for t, g, name in zip(grid, gap, leaders) if g < -1e-9]
    return sorted(out, key=lambda loss: (loss.gap, loss.group, loss.budget))


def frontier_text(baselines: Curves, budgets: int = 8) -> str:
    """Per group and budget: the best baseline accuracy and which baseline reaches it."""
    if not baselines:
        return ""
    scoring = Scoring.from_points([p for pts in baselines.values() for p in pts])
    lines = ["| benchmark | model | tokens/question | best baseline | its accuracy |", "|---|---|---|---|---|"]
    for key, (low, high) in sorted(scoring.ranges.items()):
        grid = budget_grid(low, high, budgets)
        envelope, leaders = _leaders(baselines, key, grid)
        lines += [f"| {key[0]} | {key[1]} | {t / 1000:.1f}k | {name} | {100 * a:.1f}% |"
                  for t, a, name in zip(grid, envelope, leaders)]
    return "\n".join(lines)


def losses_text(candidate: list[Point], baselines: Curves, budgets: int = 8) -> str:
    """Per group: the budgets where the candidate is below the best baseline, by how many points and
    to which baseline, and where it is ahead; one line per group."""
    if not candidate or not baselines:
        return ""
    lines = []
    for key, grid, gap, leaders, tokens in _gaps(candidate, baselines, budgets):
        losing = [f"{t / 1000:.1f}k: {100 * g:+.1f} vs {name}" for t, g, name in zip(grid, gap, leaders) if g < -1e-9]
        ahead = int((gap > 1e-9).sum())
        verdict = "; ".join(losing) if losing else "never below the best baseline"
        lines.append(f"- {key[0]} / {key[1]}: behind at {len(losing)} of {budgets} budgets ({verdict}); "
                     f"ahead at {ahead}; its points span {tokens.min() / 1000:.1f}k-{tokens.max() / 1000:.1f}k tokens")
    return "\n".join(lines)
