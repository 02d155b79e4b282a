"""The paper's ablations as numbers: how fast discovery finds good controllers with and without
beta-parameterisation and trace feedback, and how its champions do on held-out data.

Pure functions over what a discovery run stores (candidates in proposal order, held-out curves);
`bench/ablate.py` runs the discoveries and the report draws the curves.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from replay_core.metrics import Point, Scoring

VARIANTS: dict[str, dict[str, bool]] = {
    "full": {"beta_parameterized": True, "trace_feedback": True},
    "no-beta": {"beta_parameterized": False, "trace_feedback": True},
    "no-feedback": {"beta_parameterized": True, "trace_feedback": False},
}


def variant_of(parameters: dict) -> str:
    """The ablation a discovery run's stored parameters belong to."""
    flags = {k: bool(parameters.get(k, True)) for k in ("beta_parameterized", "trace_feedback")}
    return next((name for name, v in VARIANTS.items() if v == flags), "other")


def best_so_far(scores: list[float | None], candidates: int) -> np.ndarray:
    """Best score among the first n candidates, for n = 1..candidates (NaN before the first score).
    `scores` are in proposal order; None marks a failed candidate or one not scored at full fidelity."""
    values = np.array([np.nan if s is None else s for s in scores[:candidates]], float)
    values = np.concatenate([values, np.full(max(0, candidates - len(values)), np.nan)])
    running = np.fmax.accumulate(values)
    return running


@dataclass(frozen=True)
class AblationSummary:
    variant: str
    runs: int
    curve_mean: np.ndarray   # best score so far vs candidates, mean over seeds
    curve_low: np.ndarray    # and its spread (min and max over seeds)
    curve_high: np.ndarray
    final_mean: float
    final_spread: float      # standard deviation over seeds
    holdout_gain_mean: float
    holdout_gain_spread: float


def summarize_variant(variant: str, curves: list[np.ndarray], holdout_gains: list[float]) -> AblationSummary:
    stack = np.vstack(curves)
    finals = stack[:, -1]
    gains = np.array(holdout_gains, float)
    with warnings.catch_warnings():  # early candidates no seed has scored yet at full fidelity are NaN: "–" cells
        warnings.simplefilter("ignore", RuntimeWarning)
        return AblationSummary(variant, len(curves), np.nanmean(stack, 0), np.nanmin(stack, 0), np.nanmax(stack, 0),
                               float(np.nanmean(finals)), float(np.nanstd(finals)),
                               float(np.nanmean(gains)) if len(gains) else float("nan"),
                               float(np.nanstd(gains)) if len(gains) else float("nan"))


def holdout_gain(baselines: list[Point], candidate: list[Point]) -> float:
    """Mean accuracy gain of a candidate over the best baseline envelope at matched budgets, over
    the held-out (benchmark, model) groups: the project's one comparison rule."""
    return Scoring.from_points(baselines).score(candidate)[1]


def summarize_runs(runs: list) -> list[AblationSummary]:
    """One summary per ablation variant among discovery runs (`autotts.warehouse.discovery_runs`), each curve
    cut at the smallest candidate count every run reached; empty unless two variants are present."""
    runs = [r for r in runs if variant_of(r.parameters) in VARIANTS]
    if len({variant_of(r.parameters) for r in runs}) < 2:
        return []
    candidates = min(len(r.scores) for r in runs)
    out = []
    for name in VARIANTS:
        mine = [r for r in runs if variant_of(r.parameters) == name]
        if mine:
            gains = [holdout_gain(r.holdout_baselines, r.holdout_champion) for r in mine if r.holdout_champion]
            out.append(summarize_variant(name, [best_so_far(r.scores, candidates) for r in mine], gains))
    return out
