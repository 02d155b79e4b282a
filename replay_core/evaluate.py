"""Run a controller over a bank: episodes, permutations of branch order, beta sweeps.

Results depend on the order in which BRANCH opens trajectories, so every question is replayed
under P seeded permutations (seed s shuffles as `random.Random(s).shuffle` does, the order the
published AutoTTS reference uses) and results are averaged. Batches of permutations run in worker
processes when `workers > 1`; results are identical for any worker count or batch size.
"""
from __future__ import annotations

import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context
from typing import Callable, Iterable

import numpy as np

from replay_core.bank import Bank
from replay_core.controller import ControllerFactory
from replay_core.env import ReplayEnv
from replay_core.play import play


@dataclass(frozen=True)
class EpisodeResults:
    """One row per (question, permutation seed) episode."""

    questions: np.ndarray
    seeds: np.ndarray
    correct: np.ndarray
    tokens: np.ndarray
    rounds: np.ndarray
    seq_tokens: np.ndarray
    answers: np.ndarray
    actions: np.ndarray  # actions per batch (one entry per batch run), for throughput figures

    @staticmethod
    def concat(parts: Iterable["EpisodeResults"]) -> "EpisodeResults":
        parts = list(parts)
        return EpisodeResults(*(np.concatenate([getattr(p, f) for p in parts]) for f in EpisodeResults.__dataclass_fields__))

    def __len__(self) -> int:
        return len(self.questions)

    def first(self, permutations: int) -> "EpisodeResults":
        """The episodes of seeds 0..permutations-1 only: what a run on that many permutations gives,
        since every permutation replays alone. Per-batch action counts belong to whole runs and are
        left out of a cut."""
        if int(self.seeds.max(initial=-1)) < permutations:
            return self
        keep = self.seeds < permutations
        return EpisodeResults(*(getattr(self, f)[keep] for f in EpisodeResults.__dataclass_fields__ if f != "actions"),
                              actions=np.zeros(0, np.int64))


@lru_cache(maxsize=4096)
def _shuffled(n: int, seed: int) -> np.ndarray:
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return np.asarray(order, np.int64)


def run_batch(bank: Bank, factory: ControllerFactory, beta: float, questions: np.ndarray,
              seeds: np.ndarray) -> EpisodeResults:
    """Replay every (seed, question) pair as one lockstep batch with one fresh controller."""
    questions = np.asarray(questions, np.int64)
    seeds = np.asarray(seeds, np.int64)
    return run_episodes(bank, factory, beta, np.tile(questions, len(seeds)), np.repeat(seeds, len(questions)))


def episode_env(bank: Bank, ep_questions: np.ndarray, ep_seeds: np.ndarray) -> ReplayEnv:
    """An environment for the given (question, seed) episodes, each with its branch order and a
    label that invalid-action errors name."""
    ep_questions = np.asarray(ep_questions, np.int64)
    ep_seeds = np.asarray(ep_seeds, np.int64)

    def label(e: int) -> str:
        q = ep_questions[e]
        return f"question {bank.question_ids[q]} ({bank.benchmarks[q]}, {bank.models[q]}), permutation {ep_seeds[e]}"

    order = np.full((len(ep_questions), bank.max_traj), -1, np.int64)
    for i, (q, seed) in enumerate(zip(ep_questions, ep_seeds)):
        n = int(bank.n_traj[q])
        order[i, :n] = _shuffled(n, int(seed))
    return ReplayEnv.of_bank(bank, ep_questions, order, label=label)


def run_episodes(bank: Bank, factory: ControllerFactory, beta: float, ep_questions: np.ndarray,
                 ep_seeds: np.ndarray) -> EpisodeResults:
    """Replay the given (question, seed) episodes, in this order, as one batch."""
    env = play(episode_env(bank, ep_questions, ep_seeds), factory(beta))
    return EpisodeResults(np.asarray(ep_questions, np.int64), np.asarray(ep_seeds, np.int64), env.correct(),
                          env.tokens.copy(), env.rounds.copy(), env.seq_tokens.copy(), env.answer.copy(),
                          np.array([env.action_count]))


_WORKER_STATE: dict = {}


def _run_block(beta: float, seeds: np.ndarray) -> EpisodeResults:
    bank, factory = _WORKER_STATE["bank"], _WORKER_STATE["factory"]
    return run_batch(bank, factory, beta, np.arange(bank.n_questions), seeds)


def evaluate(bank: Bank, factory: ControllerFactory, betas: Iterable[float], permutations: int = 100,
             workers: int = 1, block: int = 25,
             on_progress: Callable[[int], None] | None = None) -> dict[float, EpisodeResults]:
    """Replay all questions x `permutations` seeds for each beta; seeds 0..P-1 as published.

    Work is split into blocks of `block` seeds; `on_progress(n)` is called as blocks finish.
    """
    betas = list(betas)
    blocks = [np.arange(s, min(s + block, permutations)) for s in range(0, permutations, block)]
    jobs = [(beta, seeds) for beta in betas for seeds in blocks]
    _WORKER_STATE.update(bank=bank, factory=factory)
    results: dict[float, list[EpisodeResults]] = {beta: [] for beta in betas}
    if workers <= 1 or len(jobs) == 1:
        for beta, seeds in jobs:
            results[beta].append(_run_block(beta, seeds))
            if on_progress:
                on_progress(len(seeds))
    else:
        # fork shares the bank and the controller factory with the workers without pickling them
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=get_context("fork")) as pool:
            futures = [(beta, pool.submit(_run_block, beta, seeds)) for beta, seeds in jobs]
            for (beta, future), (_, seeds) in zip(futures, jobs):
                results[beta].append(future.result())
                if on_progress:
                    on_progress(len(seeds))
    return {beta: EpisodeResults.concat(parts) for beta, parts in results.items()}


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
