"""Evaluate untrusted candidate source: sandboxed replay over a beta grid, each score from
pristine state, plus a check that decisions for one episode do not depend on the rest of its batch.

Every batch holds one permutation of every question and runs in a fresh worker process, so a
candidate cannot carry anything from one beta, batch or permutation to the next (see
docs/security.md); class ids are relabelled per episode by the sandbox.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from replay_core.actions import Actions
from replay_core.bank import Bank
from replay_core.env import InvalidAction
from replay_core.evaluate import EpisodeResults, episode_env
from replay_core.observation import Observation
from replay_core.play import play
from replay_core.sandbox import CandidateFailed, Limits, Sandbox
from replay_core.traces import Diagnosis, diagnose, run_traced
from replay_core.wire import quote_error


@dataclass
class CandidateResult:
    """Per-beta episode results, or the reason the candidate failed."""

    results: dict[float, EpisodeResults] = field(default_factory=dict)
    error: str | None = None
    isolation: str = "unknown"
    diagnoses: list[Diagnosis] = field(default_factory=list)

    @property
    def feedback(self) -> str:
        return "\n".join(d.text for d in self.diagnoses)

    @property
    def ok(self) -> bool:
        return self.error is None


def evaluate_candidate(bank: Bank, source: str, betas: list[float], permutations: int,
                       limits: Limits = Limits(), block: int = 25, trace_betas: tuple[float, ...] = (),
                       trace_permutations: int = 2, require_isolation: bool = False,
                       on_progress: Callable[[int], None] | None = None, first_seed: int = 0) -> CandidateResult:
    """Replay the candidate in a sandbox on every question x seeds `first_seed`..`permutations`-1
    for each beta (seeds before `first_seed` are known already: every permutation replays alone).

    Each batch is one permutation of every question, in a fresh worker (`block` is accepted for
    callers written when batches held several permutations; it no longer changes anything).
    With `require_isolation`, a machine without an OS jail fails the candidate instead of running
    it under resource limits only. Any failure (exception, timeout, resource limit, invalid
    action, batch dependence, a forged reply, a bug here) ends the evaluation with a short,
    single-line reason; nothing escapes as an exception. `on_progress(1)` follows each permutation."""
    out = CandidateResult()
    try:
        with Sandbox(source, limits, require_isolation) as sandbox:
            out.isolation = sandbox.isolation
            _replay(bank, sandbox, betas, range(first_seed, permutations), out, on_progress or (lambda n: None))
            for beta in trace_betas:  # execution traces for the explorer (labels used here, never sent)
                questions = np.arange(bank.n_questions)
                traces = [t for seed in range(trace_permutations)
                          for t in run_traced(bank, sandbox.factory, beta, questions, np.array([seed]))]
                out.diagnoses.append(diagnose(bank, traces, beta, max_chars=900))
    except CandidateFailed as err:
        out.error = quote_error(err)
    except InvalidAction as err:
        out.error = quote_error(f"invalid action: {err}")
    except Exception as err:  # a reply that slipped past the checks must fail the candidate, not the round
        out.error = quote_error(f"evaluation failed: {type(err).__name__}: {err}")
    if out.error:
        out.results = {}
    return out


def _replay(bank: Bank, sandbox: Sandbox, betas: list[float], seeds: range, out: CandidateResult,
            on_progress: Callable[[int], None]) -> None:
    questions = np.arange(bank.n_questions)
    rng = np.random.default_rng(secrets.randbits(64))  # the candidate cannot predict the check's sample
    lanes = max(1, sandbox.limits.lanes)
    for beta in betas:
        parts = []
        for start in range(seeds.start, seeds.stop, lanes):
            lane_seeds = range(start, min(start + lanes, seeds.stop))
            parts.append(run_side_by_side(bank, sandbox, beta, [(questions, np.full(len(questions), s)) for s in lane_seeds]))
            on_progress(len(lane_seeds))
        out.results[beta] = EpisodeResults.concat(parts)
        _check_independence(bank, sandbox, beta, out.results[beta], rng)


def run_side_by_side(bank: Bank, sandbox: Sandbox, beta: float,
                     batches: list[tuple[np.ndarray, np.ndarray]]) -> EpisodeResults:
    """Each batch of (question, seed) episodes in its own fresh worker, replayed side by side: one
    environment steps them all, each worker sees only its own batch (episode ids from 0, as
    alone), and the workers compute at the same time. Results are those of `run_episodes` on each
    batch alone, concatenated in order."""
    ep_questions = np.concatenate([q for q, _ in batches])
    ep_seeds = np.concatenate([s for _, s in batches])
    starts = np.cumsum([0] + [len(q) for q, _ in batches])
    env = episode_env(bank, ep_questions, ep_seeds)
    workers = sandbox.start_workers(beta, [np.stack([q, s], axis=1) for q, s in batches])
    play(env, _Workers(workers, starts, env.live))
    return EpisodeResults(ep_questions, ep_seeds, env.correct(), env.tokens.copy(), env.rounds.copy(),
                          env.seq_tokens.copy(), env.answer.copy(), np.array([env.action_count]))


class _Workers:
    """Jailed workers, one per batch, acting as one controller over the side-by-side environment:
    each running batch's rows go to its worker, and their actions come back in place."""

    def __init__(self, workers: list, starts: np.ndarray, live: np.ndarray):
        modes = {w.live_only for w in workers}
        if len(modes) != 1:
            raise CandidateFailed("make_controller(beta) returned controllers that disagree on live_only")
        self.live_only = modes.pop()
        self.workers, self.starts, self.live = workers, starts, live  # `live`: the environment's, kept current

    def act(self, obs: Observation) -> Actions:
        starts = self.starts
        bounds = np.searchsorted(obs.episode, starts)  # obs.episode is in order
        running = [i for i in range(len(self.workers)) if self.live[starts[i]:starts[i + 1]].any()]
        for i in running:
            self.workers[i].send(_batch_view(obs, slice(bounds[i], bounds[i + 1]), starts[i]))
        actions = obs.no_actions()
        for i in running:
            part, rows = self.workers[i].receive_actions(), slice(bounds[i], bounds[i + 1])
            for name in ("branch", "prune", "extend", "probe", "answer"):
                getattr(actions, name)[rows] = getattr(part, name)
        return actions


def _batch_view(obs: Observation, rows: slice, first_episode: int) -> Observation:
    """The rows of one batch, numbered as that batch alone would number them."""
    fields = {name: value[rows] for name, value in vars(obs).items() if isinstance(value, np.ndarray)}
    fields["episode"] = fields["episode"] - first_episode
    return Observation(**fields, n_classes=obs.n_classes)


def _check_independence(bank: Bank, sandbox: Sandbox, beta: float, reference: EpisodeResults,
                        rng: np.random.Generator) -> None:
    """Replay a secret random sample of episodes again in other groupings: a batch of distinct
    questions at random permutations, in random order and of random size, and one episode alone.
    An honest controller answers each exactly as before; a difference means it used other
    episodes' observations (or chance), which replay cannot allow."""
    n_questions = bank.n_questions
    permutations = len(reference) // n_questions
    chosen = rng.permutation(n_questions)[:rng.integers(1, n_questions + 1)]
    rows = rng.integers(0, permutations, len(chosen)) * n_questions + chosen  # reference is seed-major
    samples = (rows, rows[:1])
    again = run_side_by_side(bank, sandbox, beta, [(reference.questions[s], reference.seeds[s]) for s in samples])
    rows = np.concatenate(samples)
    changed = int(((again.answers != reference.answers[rows]) | (again.tokens != reference.tokens[rows])).sum())
    if changed:
        raise CandidateFailed(f"decisions depend on other episodes in the batch or on chance: replaying {len(rows)} "
                              f"episodes at beta={beta:g} in other groupings changed {changed} of them")


def with_knobs(source: str, knobs: dict[str, Any]) -> str:
    """The module with `make_controller(beta)` calling the original with these keyword values
    (ints, floats, bools and strings, written as literals), for sandboxed runs of `--set`."""
    if not knobs:
        return source
    return (f"{source}\n\n_make_controller_unpinned = make_controller\n\n\n"
            f"def make_controller(beta):\n    return _make_controller_unpinned(beta, **{knobs!r})\n")
