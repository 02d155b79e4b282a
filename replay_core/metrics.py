"""Scaling curves, Pareto frontiers, ranking scores and bootstrap intervals.

A controller's curve is its (mean tokens, accuracy) points over a beta grid, per benchmark and
model. Curves are compared as wholes at matched budgets: `accuracy_at_budget` is the best accuracy
a curve reaches without spending more than a budget (a step function, since any cheaper operating
point could be used), and the ranking score is its mean over a log-spaced budget range.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from replay_core.bank import Bank
from replay_core.evaluate import EpisodeResults


@dataclass(frozen=True)
class Point:
    """One operating point of one controller on one (benchmark, model) group."""

    beta: float
    benchmark: str
    model: str
    accuracy: float
    tokens: float
    rounds: float
    seq_tokens: float
    accuracy_low: float
    accuracy_high: float
    questions: int
    permutations: int

    def as_dict(self) -> dict:
        return asdict(self)


def summarize(bank: Bank, results: dict[float, EpisodeResults], bootstrap: int = 1000,
              seed: int = 0) -> list[Point]:
    """Per beta and group: accuracy, mean tokens/rounds/sequential tokens per question, and a 95 %
    bootstrap interval of accuracy over questions (the variation that matters for a benchmark)."""
    points = []
    for beta, res in sorted(results.items()):
        for (benchmark, model), questions in bank.groups().items():
            mask = np.isin(res.questions, questions)
            per_question = np.array([res.correct[mask & (res.questions == q)].mean() for q in questions])
            low, high = bootstrap_interval(per_question, bootstrap, seed)
            points.append(Point(
                beta=float(beta), benchmark=benchmark, model=model,
                accuracy=float(res.correct[mask].mean()), tokens=float(res.tokens[mask].mean()),
                rounds=float(res.rounds[mask].mean()), seq_tokens=float(res.seq_tokens[mask].mean()),
                accuracy_low=low, accuracy_high=high, questions=len(questions),
                permutations=int(len(np.unique(res.seeds[mask]))),
            ))
    return points


def bootstrap_interval(per_question: np.ndarray, samples: int = 1000, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over questions."""
    if len(per_question) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = per_question[rng.integers(0, len(per_question), (samples, len(per_question)))].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def pareto_frontier(tokens: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Indices of the points no other point dominates (no more tokens and strictly more accuracy,
    or fewer tokens and no less accuracy), sorted by tokens."""
    tokens, accuracy = np.asarray(tokens, float), np.asarray(accuracy, float)
    order = np.lexsort((-accuracy, tokens))
    keep, best = [], -np.inf
    for i in order:
        if accuracy[i] > best:
            keep.append(i)
            best = accuracy[i]
    return np.asarray(keep, dtype=np.int64)


def accuracy_at_budget(tokens: np.ndarray, accuracy: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """Best accuracy among points costing at most each budget (0 where none is affordable)."""
    tokens, accuracy = np.asarray(tokens, float), np.asarray(accuracy, float)
    order = np.argsort(tokens)
    best_so_far = np.maximum.accumulate(accuracy[order])
    idx = np.searchsorted(tokens[order], np.asarray(budgets, float), side="right") - 1
    return np.where(idx >= 0, best_so_far[np.maximum(idx, 0)], 0.0)


def budget_grid(low: float, high: float, n: int = 64) -> np.ndarray:
    return np.geomspace(low, high, n)


def area_score(tokens: np.ndarray, accuracy: np.ndarray, low: float, high: float, n: int = 64) -> float:
    """Normalised area under accuracy-at-budget over log-spaced budgets in [low, high]: 1.0 means
    perfect accuracy already at the lowest budget."""
    return float(accuracy_at_budget(tokens, accuracy, budget_grid(low, high, n)).mean())


def gain_over(tokens: np.ndarray, accuracy: np.ndarray, ref_tokens: np.ndarray, ref_accuracy: np.ndarray,
              low: float, high: float, n: int = 64) -> float:
    """Mean accuracy gain over a reference curve at matched budgets in [low, high]."""
    grid = budget_grid(low, high, n)
    return float((accuracy_at_budget(tokens, accuracy, grid) - accuracy_at_budget(ref_tokens, ref_accuracy, grid)).mean())


def tokens_to_reach(tokens: np.ndarray, accuracy: np.ndarray, target: float) -> float:
    """Fewest tokens at which a curve reaches `target` accuracy (inf if it never does)."""
    tokens, accuracy = np.asarray(tokens, float), np.asarray(accuracy, float)
    ok = accuracy >= target - 1e-12
    return float(tokens[ok].min()) if ok.any() else float("inf")


@dataclass(frozen=True)
class Scoring:
    """How a search split ranks curves: per (benchmark, model), a fixed budget range and the best
    baseline envelope, both taken from the baselines' curves so every candidate meets the same bar."""

    ranges: dict[tuple[str, str], tuple[float, float]]
    baselines: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]

    @staticmethod
    def from_points(points: list[Point]) -> "Scoring":
        groups: dict[tuple[str, str], list[Point]] = {}
        for p in points:
            groups.setdefault((p.benchmark, p.model), []).append(p)
        ranges, envelopes = {}, {}
        for key, pts in groups.items():
            tokens = np.array([p.tokens for p in pts])
            low, high = float(tokens.min()), float(tokens.max())
            ranges[key] = (low, high if high > low else low * 1.0001 + 1e-9)
            envelopes[key] = (tokens, np.array([p.accuracy for p in pts]))
        return Scoring(ranges, envelopes)

    def score(self, points: list[Point]) -> tuple[float, float, dict[tuple[str, str], tuple[float, float]]]:
        """(mean score, mean gain over the best baseline, per-group (score, gain))."""
        per_group = {}
        for key, (low, high) in self.ranges.items():
            mine = [p for p in points if (p.benchmark, p.model) == key]
            if not mine:
                continue
            tokens, accuracy = np.array([p.tokens for p in mine]), np.array([p.accuracy for p in mine])
            base_tokens, base_accuracy = self.baselines[key]
            per_group[key] = (area_score(tokens, accuracy, low, high),
                              gain_over(tokens, accuracy, base_tokens, base_accuracy, low, high))
        if not per_group:
            return 0.0, 0.0, {}
        scores, gains = zip(*per_group.values())
        return float(np.mean(scores)), float(np.mean(gains)), per_group


@dataclass(frozen=True)
class MatchedBudgets:
    """A curve against the best baseline envelope at matched budgets: the one comparison rule the
    CLI's held-out table, `discover --json` and the report's headline and savings table share."""

    share_at_or_above: float  # of log-spaced budgets over the baselines' range, where the curve >= the envelope
    mean_gain: float          # mean accuracy gain over the envelope at those budgets (0.01 = 1 point)
    target_accuracy: float    # the best accuracy any baseline reaches
    baseline_tokens: float    # the fewest tokens a baseline needs for it
    tokens: float             # the fewest tokens the curve needs for it (inf: never)

    @property
    def token_saving(self) -> float | None:
        """Share of the best baseline's tokens saved at equal accuracy (negative: it costs more;
        None: the curve never reaches that accuracy)."""
        return 1.0 - self.tokens / self.baseline_tokens if np.isfinite(self.tokens) else None


def compare_at_matched_budgets(tokens: np.ndarray, accuracy: np.ndarray, baseline_tokens: np.ndarray,
                               baseline_accuracy: np.ndarray, n: int = 64) -> MatchedBudgets:
    """Compare a curve with the envelope of all baseline points over the baselines' budget range."""
    tokens, accuracy = np.asarray(tokens, float), np.asarray(accuracy, float)
    baseline_tokens, baseline_accuracy = np.asarray(baseline_tokens, float), np.asarray(baseline_accuracy, float)
    low, high = float(baseline_tokens.min()), float(baseline_tokens.max())
    grid = budget_grid(low, high if high > low else low * 1.0001 + 1e-9, n)
    mine = accuracy_at_budget(tokens, accuracy, grid)
    envelope = accuracy_at_budget(baseline_tokens, baseline_accuracy, grid)
    target = float(baseline_accuracy.max())
    return MatchedBudgets(float(np.mean(mine >= envelope - 1e-9)), float(np.mean(mine - envelope)), target,
                          tokens_to_reach(baseline_tokens, baseline_accuracy, target),
                          tokens_to_reach(tokens, accuracy, target))


def compare_curves(curves: list[dict]) -> list[dict]:
    """Every non-baseline curve against the baselines' envelope of its (benchmark, model) group.
    `curves`: [{"controller", "origin", "points": [{"benchmark", "model", "tokens", "accuracy"}, ...]}],
    the shape `discover --json` prints under "holdout". One row per group and controller."""
    groups = sorted({(p["benchmark"], p["model"]) for c in curves for p in c["points"]})
    rows = []
    for bench, model in groups:
        def points(curve: dict) -> list[dict]:
            return [p for p in curve["points"] if (p["benchmark"], p["model"]) == (bench, model)]

        base = [p for c in curves if c["origin"] == "baseline" for p in points(c)]
        if not base:
            continue
        for curve in curves:
            mine = points(curve)
            if curve["origin"] == "baseline" or not mine:
                continue
            m = compare_at_matched_budgets([p["tokens"] for p in mine], [p["accuracy"] for p in mine],
                                           [p["tokens"] for p in base], [p["accuracy"] for p in base])
            rows.append({"benchmark": bench, "model": model, "controller": curve["controller"],
                         "share_at_or_above": m.share_at_or_above, "mean_gain": m.mean_gain,
                         "token_saving": m.token_saving, "target_accuracy": m.target_accuracy,
                         "baseline_tokens": m.baseline_tokens, "tokens": m.tokens if np.isfinite(m.tokens) else None})
    return rows
