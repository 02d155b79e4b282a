"""Evaluate untrusted candidate source: sandboxed replay over a beta grid, plus a check that its
decisions for one episode do not depend on the other episodes of its batch."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from replay_core.bank import Bank
from replay_core.env import InvalidAction
from replay_core.evaluate import EpisodeResults, run_episodes
from replay_core.sandbox import CandidateFailed, Limits, Sandbox
from replay_core.traces import Diagnosis, diagnose, run_traced


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
                       trace_permutations: int = 2) -> CandidateResult:
    """Replay the candidate in a sandbox on every question x `permutations` seeds for each beta.

    Any failure (exception, timeout, resource limit, invalid action, batch dependence) ends the
    evaluation with a short reason; nothing escapes as an exception."""
    out = CandidateResult()
    questions = np.arange(bank.n_questions)
    try:
        with Sandbox(source, limits) as sandbox:
            out.isolation = sandbox.isolation
            for beta in betas:
                parts = []
                for start in range(0, permutations, block):
                    seeds = np.arange(start, min(start + block, permutations))
                    parts.append(run_episodes(bank, sandbox.factory, beta, np.tile(questions, len(seeds)),
                                              np.repeat(seeds, len(questions))))
                out.results[beta] = EpisodeResults.concat(parts)
            _check_independence(bank, sandbox, betas[len(betas) // 2], out.results[betas[len(betas) // 2]],
                                min(block, permutations))
            for beta in trace_betas:  # execution traces for the explorer (labels used here, never sent)
                traces = run_traced(bank, sandbox.factory, beta, questions, np.arange(trace_permutations))
                out.diagnoses.append(diagnose(bank, traces, beta, max_chars=900))
    except CandidateFailed as err:
        out.error = str(err)
    except InvalidAction as err:
        out.error = f"invalid action: {err}"
    return out


def _check_independence(bank: Bank, sandbox: Sandbox, beta: float, reference: EpisodeResults, seeds: int) -> None:
    """Replay a sample of episodes again in other groupings (in reverse order, an odd number of
    them; and three alone): an honest controller answers each exactly as before. A difference
    means it used other episodes' observations (or chance), which replay cannot allow."""
    pool = np.flatnonzero(reference.seeds < seeds)[::-1]
    size = max(5, len(pool) // 8) | 1
    groupings = [pool[:size]] + [pool[i:i + 1] for i in np.linspace(0, len(pool) - 1, 3).astype(int)]
    changed = checked = 0
    for sample in groupings:
        again = run_episodes(bank, sandbox.factory, beta, reference.questions[sample], reference.seeds[sample])
        same = (again.answers == reference.answers[sample]) & (again.tokens == reference.tokens[sample])
        changed += int((~same).sum())
        checked += len(sample)
    if changed:
        raise CandidateFailed("decisions depend on other episodes in the batch or on chance: replaying "
                              f"{checked} episodes in other groupings changed {changed} of them")
