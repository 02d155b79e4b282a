"""A seeded generator of SYNTHETIC trajectory banks, so the whole pipeline runs on any laptop.

Generative model (per benchmark profile b, model profile m, question q, trajectory t):

* Difficulty d_q ~ Normal(mu_b, sigma_b); the model's chance that a trajectory ends right is
  p_q = sigmoid(ability_m - d_q). This gives the bimodal per-question accuracies of real stores
  (many questions almost always right, many almost never).
* Wrong answers are clustered: each question has four "attractor" wrong answers with Dirichlet
  weights (60 % of wrong finals; the top one holds ~35-50 %, as on AIME/HMMT) plus one-offs.
* Lengths: log-normal, wrong trajectories about twice as long as right ones; a trajectory longer
  than the token cap is cut there, with no final answer (`finished = false`).
* Chunks of `chunk_tokens` tokens; after each chunk a probe. At relative depth r a probe states
  the trajectory's eventual answer with probability r**gamma_m (answers converge with depth),
  states no answer (`ERR`) with probability err0 * (1 - r) (common early), else an intermediate
  guess (an attractor or a random number).
* Confidence per chunk (a mean token log-probability): a per-trajectory level that is higher for
  right trajectories, plus per-chunk noise, rising slightly with depth.
* Answers are written in mixed but equivalent forms on `math` benchmarks (`3/4`, `\\frac{3}{4}`,
  `0.75`), so voting exercises answer equivalence.

Calibration against the real AutoTTS stores is in docs/synthetic-data.md. Every record's model
and benchmark name starts with `synthetic-`, so synthetic data is labelled wherever it shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autotts.trajectories.schema import TrajectoryRecord


@dataclass(frozen=True)
class BenchmarkProfile:
    name: str
    difficulty_mean: float
    difficulty_sd: float
    answer_style: str  # "integer" or "math"


@dataclass(frozen=True)
class ModelProfile:
    name: str
    ability: float
    right_tokens: float      # median length of a right trajectory
    gamma: float             # probe convergence exponent (higher: answers settle later)
    err0: float              # chance of an ERR probe at depth 0


BENCHMARKS = (
    BenchmarkProfile("synthetic-aime", 0.0, 2.4, "integer"),
    BenchmarkProfile("synthetic-hmmt", 1.3, 2.4, "integer"),
    BenchmarkProfile("synthetic-math", -1.2, 2.0, "math"),
)
MODELS = (
    ModelProfile("synthetic-small", -0.6, 10_000, 2.6, 0.12),
    ModelProfile("synthetic-large", 0.9, 9_000, 2.0, 0.08),
)


def generate(questions: int = 30, trajectories: int = 64, seed: int = 0, chunk_tokens: int = 500,
             max_tokens: int = 40_000, benchmarks: tuple[BenchmarkProfile, ...] = BENCHMARKS,
             models: tuple[ModelProfile, ...] = MODELS) -> list[TrajectoryRecord]:
    """A synthetic bank: every benchmark x model profile, `questions` x `trajectories` each."""
    records: list[TrajectoryRecord] = []
    for b_index, bench in enumerate(benchmarks):
        difficulty_rng = np.random.default_rng([seed, b_index])
        difficulties = difficulty_rng.normal(bench.difficulty_mean, bench.difficulty_sd, questions)
        for m_index, model in enumerate(models):
            for q in range(questions):
                rng = np.random.default_rng([seed, b_index, m_index, q])
                records.extend(_question(rng, bench, model, q, difficulties[q], trajectories,
                                         chunk_tokens, max_tokens))
    return records


def _answer_text(value: int, style: str, rng: np.random.Generator) -> str:
    """An answer value written in one of its equivalent forms."""
    if style == "integer":
        return str(value)
    num, den = value, 4
    form = rng.integers(3)
    if form == 0:
        return f"{num}/{den}"
    if form == 1:
        return f"\\frac{{{num}}}{{{den}}}"
    return f"{num / den:g}"


def _question(rng: np.random.Generator, bench: BenchmarkProfile, model: ModelProfile, q: int,
              difficulty: float, n: int, chunk: int, cap: int) -> list[TrajectoryRecord]:
    p_right = 1 / (1 + np.exp(-(model.ability - difficulty)))
    gold = int(rng.integers(1, 1000))
    attractors = rng.choice(np.setdiff1d(np.arange(1, 1000), [gold]), size=4, replace=False)
    weights = rng.dirichlet(np.full(4, 0.7)) * 0.6  # 40 % of wrong answers are one-offs
    question_id = f"{bench.name}-{q:03d}"
    gold_text = _answer_text(gold, bench.answer_style, rng)
    out = []
    for t in range(n):
        right = rng.random() < p_right
        if right:
            value = gold
        else:
            pick = rng.random()
            cumulative = np.cumsum(weights)
            value = int(attractors[np.searchsorted(cumulative, pick)]) if pick < cumulative[-1] \
                else int(rng.integers(1, 1000))
        median = model.right_tokens * (1.0 if right else 2.1)
        length = int(np.clip(rng.lognormal(np.log(median), 0.45), 400, None))
        cut = length > cap
        length = min(length, cap)
        k = -(-length // chunk)
        chunks = [chunk] * (k - 1) + [length - chunk * (k - 1)]
        depth = np.arange(1, k + 1) / k
        settle = rng.random(k) < depth ** model.gamma
        silent = rng.random(k) < model.err0 * (1 - depth)
        guesses = np.where(rng.random(k) < 0.5, rng.choice(attractors, size=k), rng.integers(1, 1000, size=k))
        probes: list[str | None] = []
        for i in range(k):
            if cut and i == k - 1:
                probes.append(None)
            elif settle[i]:
                probes.append(_answer_text(value, bench.answer_style, rng))
            elif silent[i]:
                probes.append(None)
            else:
                probes.append(_answer_text(int(guesses[i]), bench.answer_style, rng))
        level = rng.normal(-0.55 if right else -0.68, 0.12)
        confidence = np.round(level + 0.1 * depth + rng.normal(0, 0.1, k), 4)
        out.append(TrajectoryRecord(
            question_id=question_id, benchmark=bench.name, model=model.name,
            problem=f"[synthetic] question {q} of {bench.name} (difficulty {difficulty:+.2f})",
            gold=gold_text, traj_id=t, chunk_tokens=tuple(chunks),
            probe_answers=tuple(probes), probe_tokens=tuple([12] * k),
            final_answer=None if cut else _answer_text(value, bench.answer_style, rng),
            finished=not cut, chunk_confidence=tuple(float(c) for c in confidence),
            answer_type="math" if bench.answer_style == "math" else "integer",
        ))
    return out
