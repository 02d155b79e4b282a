"""The agent's workbench: the tools an agentic explorer may call within a round.

Every run of model-written code goes through `replay_core.candidate.evaluate_candidate`, i.e. the
same sandbox as a submitted candidate, on the search split only, capped in betas, permutations
and time. Results come back as short text; labels stay here (a trace's diagnosis uses them, as
the round's feedback does, and goes to the explorer, never to a controller).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from autotts.explorer.base import DiscoveryContext
from autotts.explorer.comparison import Curves, frontier_text, losses_text
from replay_core.bank import Bank
from replay_core.candidate import evaluate_candidate
from replay_core.metrics import Scoring, summarize
from replay_core.sandbox import Limits
from autotts.trajectories.bank_cache import load_snapshot


class ToolInputError(ValueError):
    """A tool call with missing, mistyped or out-of-range arguments."""


@dataclass
class Workbench:
    bank: Bank
    baselines: Curves
    max_betas: int = 5
    max_permutations: int = 10
    limits: Limits = Limits(round_seconds=20.0, total_seconds=120.0)

    @staticmethod
    def from_context(context: DiscoveryContext, **caps) -> "Workbench":
        """The round's search split (the bank snapshot the round evaluates on) and baseline curves."""
        if not context.bank_path:
            raise ValueError("the agent explorer needs the round's bank snapshot (DiscoveryContext.bank_path)")
        bank = load_snapshot(context.bank_path)  # a snapshot the discovery flow wrote (trusted)
        if context.permutations:
            caps.setdefault("max_permutations", min(10, context.permutations))
        return Workbench(bank, context.search_curves()[0], **caps)

    # ---------------------------------------------------------------- tools
    def evaluate(self, source: str, betas: list[float] | None = None, permutations: int | None = None) -> str:
        """Replay `source` on the search split at (at most max_betas) betas and permutations."""
        if any(isinstance(b, bool) or not isinstance(b, (int, float)) for b in betas or []):
            raise ToolInputError("betas must be a list of numbers in [0, 1]")
        betas = sorted({min(1.0, max(0.0, float(b))) for b in (betas or [0.0, 0.5, 1.0])})
        if len(betas) > self.max_betas:
            raise ToolInputError(f"at most {self.max_betas} betas per evaluate call; got {len(betas)}")
        permutations = int(permutations or min(5, self.max_permutations))
        if not 1 <= permutations <= self.max_permutations:
            raise ToolInputError(f"permutations must be between 1 and {self.max_permutations}; got {permutations}")
        started = time.monotonic()
        result = evaluate_candidate(self.bank, source, betas, permutations, self.limits)
        ran = f"sandbox {result.isolation}, {time.monotonic() - started:.1f} s"
        if not result.ok:
            return f"FAILED ({ran}): {result.error}"
        points = summarize(self.bank, result.results, bootstrap=50)
        score, gain, _ = Scoring.from_points([p for pts in self.baselines.values() for p in pts]).score(points) \
            if self.baselines else (float("nan"), float("nan"), {})
        lines = [f"ok ({ran}; {len(betas)} betas x {permutations} permutations): score {score:.4f}, "
                 f"gain {gain:+.3f} over the best baseline",
                 "| beta | benchmark | model | accuracy | tokens/question | rounds | seq. tokens |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {p.beta:g} | {p.benchmark} | {p.model} | {100 * p.accuracy:.1f}% | {p.tokens / 1000:.1f}k | "
                  f"{p.rounds:.0f} | {p.seq_tokens / 1000:.1f}k |" for p in points]
        losses = losses_text(points, self.baselines)
        if losses:
            lines += ["Against the best baseline at matched budgets (accuracy points):", losses]
        return "\n".join(lines)

    def trace(self, source: str, question: int, beta: float) -> str:
        """One search-split question's episodes (two orders) under `source`, diagnosed round by round."""
        if not 0 <= question < self.bank.n_questions:
            raise ToolInputError(f"question must be an index from 0 to {self.bank.n_questions - 1}; got {question}")
        beta = min(1.0, max(0.0, float(beta)))
        one = self.bank.subset(np.array([question]))
        result = evaluate_candidate(one, source, [beta], 2, self.limits, trace_betas=(beta,))
        if not result.ok:
            return f"FAILED (sandbox {result.isolation}): {result.error}"
        head = f"question {question} ({one.question_ids[0]}, {one.benchmarks[0]} / {one.models[0]}), sandbox {result.isolation}"
        return head + "\n" + result.feedback

    def baselines_text(self) -> str:
        lines = ["| baseline | beta | benchmark | model | accuracy | tokens/question |", "|---|---|---|---|---|---|"]
        lines += [f"| {name} | {p.beta:g} | {p.benchmark} | {p.model} | {100 * p.accuracy:.1f}% | {p.tokens / 1000:.1f}k |"
                  for name, points in sorted(self.baselines.items()) for p in points]
        return "\n".join(lines)

    def frontier_text(self) -> str:
        return frontier_text(self.baselines) or "no baseline curves in this run yet"
