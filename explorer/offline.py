"""The offline explorer: an evolutionary search over the template controller family.

No API key, no network: it mutates and recombines the beta maps of earlier candidates (islands,
tournament selection, periodic migration), seeded from template points that mimic the baselines.
With trace feedback on, mutations lean towards caution (higher share / more votes / more
stability) for parents whose diagnosis shows premature answers, and towards thrift for parents
that wasted budget after their vote had settled.
"""
from __future__ import annotations

import math
import random

from explorer.base import DiscoveryContext, Proposal, Usage
from explorer.programs_db import Program
from explorer.template import KNOBS, SEEDS, clamp, genome_of, render

CAUTION = ("share", "min_votes", "stable", "width")
THRIFT = ("share", "min_votes", "stable", "max_rounds")


class OfflineExplorer:
    name = "offline"

    def __init__(self, mutation_scale: float = 0.35):
        self.scale = mutation_scale

    def propose(self, context: DiscoveryContext, k: int) -> tuple[list[Proposal], Usage]:
        rng = random.Random(context.seed * 1_000_003 + context.round)
        islands = context.db.islands
        parents = [p for p in context.db.evaluated() if genome_of(p.source)]
        out: list[Proposal] = []
        seeds = list(SEEDS.values())
        while len(out) < k:
            island = len(out) % islands
            pool = [p for p in parents if p.island == island] or parents
            if not pool:  # the first round: the seed points, then mutations of them
                genome = seeds[len(out) % len(seeds)] if len(out) < len(seeds) else self._mutate(
                    rng, seeds[len(out) % len(seeds)], None, context)
                source = self._source(genome, context)
                while any(p.source == source for p in out):
                    source = self._source(self._mutate(rng, genome, None, context, strength=2.0), context)
                out.append(Proposal(source, island, note="seed"))
                continue
            parent = self._tournament(rng, pool)
            if rng.random() < 0.3 and len(parents) > 1:
                other = self._tournament(rng, [p for p in parents if p is not parent] or parents)
                genome = self._crossover(rng, genome_of(parent.source), genome_of(other.source))
                genome = self._mutate(rng, genome, None, context, strength=0.5)
                lineage = (parent.controller_id, other.controller_id)
            else:
                genome = self._mutate(rng, genome_of(parent.source), parent, context)
                lineage = (parent.controller_id,)
            if context.round % 3 == 2 and island == context.db.weakest_island() and context.db.best():
                best = context.db.best()[0]  # migration: the best program seeds the weakest island
                genome, lineage = self._mutate(rng, genome_of(best.source), best, context), (best.controller_id,)
            source = self._source(genome, context)
            known = {p.source for p in context.db.programs.values()} | {p.source for p in out}
            for _ in range(20):  # never propose a program twice
                if source not in known:
                    break
                genome = self._mutate(rng, genome, None, context, strength=2.0)
                source = self._source(genome, context)
            out.append(Proposal(source, island, lineage))
        return out, Usage()

    def _source(self, genome: dict, context: DiscoveryContext) -> str:
        if not context.beta_parameterized:  # ablation: one fixed setting per candidate
            genome = {name: [sum(v) / 2, sum(v) / 2] for name, v in genome.items()}
        return render(genome)

    @staticmethod
    def _tournament(rng: random.Random, pool: list[Program], size: int = 3) -> Program:
        picks = [rng.choice(pool) for _ in range(min(size, len(pool)))]
        return max(picks, key=lambda p: p.score or 0.0)

    @staticmethod
    def _crossover(rng: random.Random, a: dict, b: dict) -> dict:
        return {name: list(a[name] if rng.random() < 0.5 else b[name]) for name in KNOBS}

    def _mutate(self, rng: random.Random, genome: dict, parent: Program | None, context: DiscoveryContext,
                strength: float = 1.0) -> dict:
        genome = {name: list(v) for name, v in clamp(genome).items()}
        direction = 0.0
        if context.trace_feedback and parent is not None and parent.feedback:
            premature, wasted = _shares(parent.feedback)
            direction = 1.0 if premature > wasted else -1.0 if wasted > premature else 0.0
        names = rng.sample(sorted(KNOBS), rng.randint(1, 3))
        if direction:
            names.append(rng.choice(CAUTION if direction > 0 else THRIFT))
        for name in names:
            kind, low, high = KNOBS[name]
            which = rng.choice([0, 1, None])  # the cheap end, the thorough end, or both
            bias = (0.15 if direction > 0 else -0.15) if name in (CAUTION + THRIFT) and direction else 0.0
            for end in ([0, 1] if which is None else [which]):
                if kind == "geometric":
                    genome[name][end] *= math.exp(rng.gauss(bias, self.scale * strength))
                else:
                    genome[name][end] += (high - low) * rng.gauss(bias / 2, 0.12 * strength)
        return clamp(genome)


def _shares(feedback: str) -> tuple[float, float]:
    """Premature-answer and wasted-budget shares averaged over the betas of a stored diagnosis."""
    import re

    premature = [float(x) for x in re.findall(r"premature answers: (\d+)%", feedback)]
    wasted = [float(x) for x in re.findall(r"wasted budget: (\d+)%", feedback)]
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return mean(premature), mean(wasted)
