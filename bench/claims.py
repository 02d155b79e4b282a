"""The checks a discovered controller must pass on the real stores, computed one way for
`bench/real_discovery.py`, docs/results.md and the test of the shipped `discovered` controller.

Search split (AIME24 of each model): mean accuracy gain over the envelope of every built-in
baseline at matched budgets, over the baselines' budget range. Held out (AIME25 and HMMT25 of each
model), and for comparison on the search split too: accuracy at the published AutoTTS controller's
beta=0.5 and beta=1.0 budgets against its published accuracy, both read to the table's shown digit
(the paper's controller replayed, `cmc`, then matches its own rows); the fewest tokens at which the curve
reaches SC@64's accuracy (our replay of SC@64, which reproduces the published row), as a share of
SC@64's tokens, and the sequential tokens (latency) there against SC@64's. All with the reference
answer semantics.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench._shared import MODELS, published_table, store
from replay_core.bank import Bank
from replay_core.baselines import BASELINES, ENVELOPE, ENVELOPE_BETAS
from replay_core.evaluate import evaluate
from replay_core.metrics import Point, Scoring, accuracy_at_budget, summarize


SEARCH = ("aime24",)              # the split discovery chooses on
HELD_OUT = ("aime25", "hmmt25")    # the split the targets are measured on
PUBLISHED_PERMUTATIONS = 100       # the shuffles the published rows average (the reference's seeds 0-99)


def split_bank(benchmarks: tuple[str, ...]) -> Bank:
    """The real stores of `benchmarks` for the three models, graded with the reference semantics."""
    from autotts.trajectories.banking import load_bank

    return load_bank([str(store(m, b)) for m in MODELS for b in benchmarks], mode="exact")


def curve(bank: Bank, factory, betas: list[float], permutations: int, workers: int = 2) -> list[Point]:
    return summarize(bank, evaluate(bank, factory, betas, permutations=permutations, workers=workers), bootstrap=200)


def envelope_gains(bank: Bank, points: list[Point], permutations: int) -> dict[str, float]:
    """Per "benchmark/model" group: mean gain (accuracy, 0-1) over the envelope of the hand-made
    baselines at matched budgets, over their budget range (the search score's rule)."""
    baselines = [p for name in ENVELOPE
                 for p in curve(bank, BASELINES[name].make_controller, list(ENVELOPE_BETAS), permutations)]
    _, _, per_group = Scoring.from_points(baselines).score(points)
    return {f"{bench}/{model}": gain for (bench, model), (_, gain) in sorted(per_group.items(), key=lambda kv: kv[0][::-1])}


# The published table shows accuracy to 0.1 points and tokens to 0.1k: a figure stands for
# everything that rounds to it.
PUBLISHED_ACCURACY_DIGIT = 0.1
PUBLISHED_TOKENS_DIGIT = 100.0


@dataclass(frozen=True)
class PublishedCell:
    model: str
    benchmark: str
    published: dict[str, tuple[float, float]]  # "0.5"/"1.0" -> (accuracy %, tokens)
    ours_at_published: dict[str, float]         # our accuracy % within that budget
    sc64: tuple[float, float, float]            # our SC@64: accuracy %, tokens, sequential tokens
    reach_share: float                          # tokens to reach SC@64's accuracy / SC@64's tokens (inf: never)
    reach_seq_tokens: float                     # sequential tokens at that point (inf: never)

    @property
    def matches_published(self) -> bool:
        """At both budgets, at least the published accuracy read to its shown digit (82.0 % is any
        accuracy from 81.95 %), so that the paper's controller replayed (`cmc`) matches its own rows."""
        return all(self.ours_at_published[b] >= self.published[b][0] - PUBLISHED_ACCURACY_DIGIT / 2 - 1e-9
                   for b in ("0.5", "1.0"))

    @property
    def reaches_sc64_cheaply(self) -> bool:
        return self.reach_share <= 0.25 and self.reach_seq_tokens <= self.sc64[2]


def published_cells(bank: Bank, points: list[Point], permutations: int) -> list[PublishedCell]:
    """One cell per (model, benchmark) group of `points` (each must have published AutoTTS rows):
    held out, the targets; on the search split, how the published controller stands on the
    questions ours was chosen on."""
    published = published_table()
    sc = curve(bank, BASELINES["sc"].make_controller, [1.0], permutations)  # beta=1: SC@64
    cells = []
    for (bench, model) in sorted({(p.benchmark, p.model) for p in points}, key=lambda g: (g[1], g[0])):
        mine = sorted((p for p in points if (p.benchmark, p.model) == (bench, model)), key=lambda p: p.tokens)
        tokens = np.array([p.tokens for p in mine])
        accuracy = np.array([p.accuracy for p in mine])
        pub = {b: published[(model, f"AutoTTS β={b}", bench)] for b in ("0.5", "1.0")}
        budgets = np.array([pub[b][1] + PUBLISHED_TOKENS_DIGIT / 2 for b in pub])  # 236.7k: up to 236.75k
        ours = {b: 100 * float(at) for b, at in zip(pub, accuracy_at_budget(tokens, accuracy, budgets))}
        sc64 = next(p for p in sc if (p.benchmark, p.model) == (bench, model))
        reach = [p for p in mine if p.accuracy >= sc64.accuracy - 1e-12]
        first = reach[0] if reach else None
        cells.append(PublishedCell(model, bench, pub, ours, (100 * sc64.accuracy, sc64.tokens, sc64.seq_tokens),
                                   first.tokens / sc64.tokens if first else float("inf"),
                                   first.seq_tokens if first else float("inf")))
    return cells


def cells_table(cells: list[PublishedCell], who: str = "ours") -> list[str]:
    """Markdown rows: `who` (the curve the cells measure) at the published controller's budgets, and
    where it reaches SC@64."""
    lines = [f"| model | benchmark | published AutoTTS β=0.5 | {who} at that budget | published β=1.0 | {who} at that "
             f"budget | SC@64 (acc, tokens, seq) | {who} reaches SC@64 acc with | seq tokens there |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in cells:
        reach = f"{100 * c.reach_share:.0f} % of its tokens" if np.isfinite(c.reach_share) else "never"
        seq = f"{c.reach_seq_tokens / 1000:.1f}k" if np.isfinite(c.reach_seq_tokens) else "–"
        lines.append(f"| {c.model} | {c.benchmark} | {c.published['0.5'][0]:.1f} % @ {c.published['0.5'][1] / 1000:.0f}k "
                     f"| {c.ours_at_published['0.5']:.1f} % | {c.published['1.0'][0]:.1f} % @ "
                     f"{c.published['1.0'][1] / 1000:.0f}k | {c.ours_at_published['1.0']:.1f} % "
                     f"| {c.sc64[0]:.1f} %, {c.sc64[1] / 1000:.0f}k, {c.sc64[2] / 1000:.1f}k | {reach} | {seq} |")
    return lines
