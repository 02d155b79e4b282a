"""Ablation summaries: best score so far, variants, and the held-out gain under the one comparison rule."""
from __future__ import annotations

import numpy as np

from autotts.explorer.ablation import best_so_far, holdout_gain, summarize_runs, variant_of
from replay_core.metrics import Point
from autotts.warehouse.discovery_runs import DiscoveryRun


def point(model: str, tokens: float, accuracy: float, bench: str = "aime25") -> Point:
    return Point(0.5, bench, model, accuracy, tokens, 10, tokens / 4, accuracy, accuracy, 30, 5)


def test_best_so_far_counts_only_scored_candidates_and_pads_to_the_budget():
    curve = best_so_far([None, 0.3, 0.2, None, 0.5], 6)
    assert np.isnan(curve[0]) and list(curve[1:]) == [0.3, 0.3, 0.3, 0.5, 0.5]


def test_variants_follow_the_stored_switches():
    assert variant_of({"beta_parameterized": True, "trace_feedback": True}) == "full"
    assert variant_of({"beta_parameterized": False}) == "no-beta"
    assert variant_of({"trace_feedback": False}) == "no-feedback"
    assert variant_of({"beta_parameterized": False, "trace_feedback": False}) == "other"


def test_holdout_gain_is_the_matched_budget_gain_over_the_baseline_envelope():
    baselines = [point("m", 1000, 0.5), point("m", 4000, 0.6)]
    # above the envelope by 10 points from 2000 tokens on, below it (0.4 vs 0.5) from 1000 to 2000
    mine = [point("m", 1000, 0.4), point("m", 2000, 0.7)]
    grid = np.geomspace(1000, 4000, 64)
    expected = np.mean(np.where(grid < 2000, 0.4, 0.7) - np.where(grid < 4000, 0.5, 0.6))
    assert abs(holdout_gain(baselines, mine) - expected) < 1e-12


def test_summaries_compare_variants_at_equal_candidate_budgets():
    base = [point("m", 1000, 0.5), point("m", 4000, 0.6)]
    runs = [DiscoveryRun("a", {"beta_parameterized": True}, "completed", [0.1, None, 0.4, 0.2], base, [point("m", 1000, 0.6)]),
            DiscoveryRun("b", {"beta_parameterized": True}, "completed", [0.3, 0.2, 0.2], base, [point("m", 1000, 0.5)]),
            DiscoveryRun("c", {"beta_parameterized": False}, "completed", [0.2, 0.25, 0.1, 0.9], base, [])]
    full, no_beta = summarize_runs(runs)
    assert (full.variant, full.runs, no_beta.variant) == ("full", 2, "no-beta")
    assert list(full.curve_mean) == [0.2, 0.2, 0.35]  # cut at 3 candidates, the fewest any run has
    assert list(full.curve_low) == [0.1, 0.1, 0.3] and list(full.curve_high) == [0.3, 0.3, 0.4]
    assert no_beta.final_mean == 0.25 and np.isnan(no_beta.holdout_gain_mean)
    grid = np.geomspace(1000, 4000, 64)
    envelope = np.where(grid < 4000, 0.5, 0.6)
    expected = np.mean([np.mean(0.6 - envelope), np.mean(0.5 - envelope)])  # the two full runs' champions
    assert abs(full.holdout_gain_mean - expected) < 1e-12
    assert summarize_runs(runs[:2]) == []  # one variant: nothing to compare
