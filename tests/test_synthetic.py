"""The synthetic bank: seeded, labelled synthetic, and statistically plausible."""
from __future__ import annotations

from autotts.trajectories.banking import build_bank
from autotts.trajectories.stats import bank_statistics
from autotts.trajectories.synthetic import generate


def test_generation_is_seeded_and_labelled():
    a, b, c = generate(questions=3, trajectories=8, seed=1), generate(questions=3, trajectories=8, seed=1), \
        generate(questions=3, trajectories=8, seed=2)
    assert a == b and a != c
    assert all(r.model.startswith("synthetic-") and r.benchmark.startswith("synthetic-") for r in a)
    assert all(r.problem.startswith("[synthetic]") for r in a)


def test_statistics_follow_the_documented_model():
    bank = build_bank(generate(questions=20, trajectories=32, seed=0), synthetic=True)
    assert bank.synthetic
    for (bench, model), questions in bank.groups().items():
        stats = bank_statistics(bank.subset(questions))
        assert stats["mean tokens, wrong trajectories"] > 1.4 * stats["mean tokens, correct trajectories"]
        assert stats["probe correct at 90% depth"] > stats["probe correct at 25% depth"]
        assert stats["probe answered at 10% depth"] < stats["probe answered at 90% depth"]
        assert 0.3 < stats["share of wrong finals held by the top wrong answer"] < 0.9
    small = bank_statistics(bank.select(models=["synthetic-small"]))
    large = bank_statistics(bank.select(models=["synthetic-large"]))
    assert small["mean trajectory accuracy"] < large["mean trajectory accuracy"]
