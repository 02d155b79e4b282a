"""Pareto frontier, accuracy at matched budget, area score and bootstrap on hand-made curves."""
from __future__ import annotations

import numpy as np
import pytest

from replay_core.metrics import (accuracy_at_budget, area_score, bootstrap_interval, gain_over,
                                 pareto_frontier, summarize, tokens_to_reach)


def test_pareto_frontier_keeps_only_undominated_points():
    tokens = np.array([100, 200, 150, 300, 300, 50])
    accuracy = np.array([0.5, 0.7, 0.4, 0.7, 0.8, 0.5])
    # 150/0.4 is dominated by 100/0.5; 200/0.7 by nothing; 300/0.7 by 200/0.7; 100/0.5 ties 50/0.5
    assert pareto_frontier(tokens, accuracy).tolist() == [5, 1, 4]


def test_accuracy_at_budget_is_the_best_affordable_point():
    tokens, accuracy = np.array([100, 200, 400]), np.array([0.5, 0.4, 0.9])
    got = accuracy_at_budget(tokens, accuracy, np.array([50, 100, 250, 400, 1000]))
    assert got.tolist() == [0.0, 0.5, 0.5, 0.9, 0.9]


def test_area_score_and_gain_on_hand_made_curves():
    # a curve at 0.6 from budget 10 on: over [10, 1000] its area is exactly 0.6
    assert area_score(np.array([10.0]), np.array([0.6]), 10, 1000) == pytest.approx(0.6)
    # reaching 0.8 at 100 = half-way on a log axis from 10 to 1000 (64-point grid: 32 of 64 below)
    half = area_score(np.array([10.0, 100.0]), np.array([0.4, 0.8]), 10, 1000)
    assert 0.59 < half < 0.61
    better = gain_over(np.array([10.0]), np.array([0.7]), np.array([10.0]), np.array([0.6]), 10, 1000)
    assert better == pytest.approx(0.1)
    assert tokens_to_reach(np.array([10, 50, 90]), np.array([0.2, 0.6, 0.7]), 0.6) == 50
    assert tokens_to_reach(np.array([10]), np.array([0.2]), 0.6) == float("inf")


def test_bootstrap_interval_brackets_the_mean():
    per_question = np.array([0.0, 0.2, 0.5, 0.9, 1.0, 1.0, 0.3, 0.6])
    low, high = bootstrap_interval(per_question, samples=2000)
    assert low < per_question.mean() < high
    assert bootstrap_interval(np.ones(5)) == (1.0, 1.0)


def test_summarize_reports_each_group(synthetic_bank):
    from replay_core.baselines import BASELINES
    from replay_core.evaluate import evaluate

    res = evaluate(synthetic_bank, BASELINES["sc"].make_controller, [0.0, 1.0], permutations=3)
    points = summarize(synthetic_bank, res, bootstrap=200)
    assert len(points) == 2 * len(synthetic_bank.groups())
    for p in points:
        assert p.accuracy_low <= p.accuracy <= p.accuracy_high and p.permutations == 3
        assert p.rounds == 1.0
