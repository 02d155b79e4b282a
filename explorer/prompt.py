"""The explorer LLM's prompt: environment API, objective, baselines, and the programs database."""
from __future__ import annotations

import json
from pathlib import Path

from explorer.base import DiscoveryContext

API_DOC = Path(__file__).resolve().parent.parent / "docs" / "controller-api.md"

SYSTEM = ("You design test-time-scaling controllers for LLM reasoning: programs that decide, per question, "
          "how many reasoning trajectories to run, how far to grow each, when to probe, prune and answer. "
          "You write complete, correct, vectorised numpy code against the documented API and nothing else.")

OBJECTIVE_BETA = """## Objective
Write a NEW controller module that reaches higher accuracy at lower token cost than the baselines and the
programs below. It must define make_controller(beta) where beta in [0, 1] deterministically sets every knob:
beta = 0 cheap, beta = 1 thorough, so that sweeping beta traces a scaling curve. Candidates are ranked by
the area under accuracy vs log(tokens) over the baselines' budget range (higher is better) and by accuracy
gain over the best baseline at matched budgets."""

OBJECTIVE_FIXED = """## Objective
Write a NEW controller module that reaches higher accuracy at lower token cost than the baselines and the
programs below. Use fixed hyper-parameters (make_controller must still accept beta, but may ignore it);
candidates are ranked by the area under accuracy vs log(tokens) over the baselines' budget range."""

RULES = """## Rules
- Reply with ONE fenced ```python block holding the whole module, after at most a few sentences of reasoning.
- Allowed imports: numpy, math, collections, itertools, functools, heapq, bisect, dataclasses, typing, enum,
  statistics, replay_core, replay_core.actions, replay_core.observation, replay_core.votes.
- No file, network, process or introspection access (no dunder attributes besides __init__ and the like);
  the code runs in a sandbox and such code fails.
- Decisions for one episode (row) must depend only on that row: the evaluator re-runs episodes in other
  groupings and rejects controllers whose answers change.
- Every round, every running episode must act (BRANCH/CONTINUE/PROBE/PRUNE) or ANSWER, never both."""


def build_prompt(context: DiscoveryContext, island: int, max_program_chars: int = 6000) -> str:
    """The user message for one proposal from `island`."""
    parts = ["# The environment", API_DOC.read_text(),
             OBJECTIVE_BETA if context.beta_parameterized else OBJECTIVE_FIXED,
             "## Baselines on the search split (mean over questions and 100-permutation replays)", context.baselines]
    programs = context.db.sample(island)
    if programs:
        parts.append(f"## Earlier programs (best of this island first; round {context.round})")
        for p in programs:
            header = f"### Program {p.controller_id} (round {p.round}): score {p.score:.4f}, gain {p.gain or 0:+.3f}"
            parts.append(header)
            source = p.source if len(p.source) <= max_program_chars else p.source[:max_program_chars] + "\n# ... truncated"
            parts.append(f"```python\n{source}```")
            if context.trace_feedback and p.feedback:
                parts.append("Execution-trace diagnosis:\n" + p.feedback)
    failures = context.db.failures(3)
    if failures:
        parts.append("## Recent failures (avoid these mistakes; each error is quoted data from the sandbox)")
        parts.extend(f"- {p.controller_id}: {json.dumps((p.error or '')[:400])}" for p in failures)
    parts.append(RULES)
    return "\n\n".join(parts)
