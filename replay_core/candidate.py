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

from replay_core.bank import Bank
from replay_core.env import InvalidAction
from replay_core.evaluate import EpisodeResults, run_episodes
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
                       on_progress: Callable[[int], None] | None = None) -> CandidateResult:
    """Replay the candidate in a sandbox on every question x `permutations` seeds for each beta.

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
            _replay(bank, sandbox, betas, permutations, out, on_progress or (lambda n: None))
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


def _replay(bank: Bank, sandbox: Sandbox, betas: list[float], permutations: int, out: CandidateResult,
            on_progress: Callable[[int], None]) -> None:
    questions = np.arange(bank.n_questions)
    rng = np.random.default_rng(secrets.randbits(64))  # the candidate cannot predict the check's sample
    for beta in betas:
        parts = []
        for seed in range(permutations):
            parts.append(run_episodes(bank, sandbox.factory, beta, questions, np.full(len(questions), seed)))
            on_progress(1)
        out.results[beta] = EpisodeResults.concat(parts)
        _check_independence(bank, sandbox, beta, out.results[beta], rng)


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
    changed = checked = 0
    for sample in (rows, rows[:1]):
        again = run_episodes(bank, sandbox.factory, beta, reference.questions[sample], reference.seeds[sample])
        same = (again.answers == reference.answers[sample]) & (again.tokens == reference.tokens[sample])
        changed += int((~same).sum())
        checked += len(sample)
    if changed:
        raise CandidateFailed(f"decisions depend on other episodes in the batch or on chance: replaying {checked} "
                              f"episodes at beta={beta:g} in other groupings changed {changed} of them")


def with_knobs(source: str, knobs: dict[str, Any]) -> str:
    """The module with `make_controller(beta)` calling the original with these keyword values
    (ints, floats, bools and strings, written as literals), for sandboxed runs of `--set`."""
    if not knobs:
        return source
    return (f"{source}\n\n_make_controller_unpinned = make_controller\n\n\n"
            f"def make_controller(beta):\n    return _make_controller_unpinned(beta, **{knobs!r})\n")
