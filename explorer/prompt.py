"""The explorer LLM's prompt: environment API, objective, baselines, and the programs database."""
from __future__ import annotations

import json
from pathlib import Path

from autotts.explorer.base import DiscoveryContext
from autotts.explorer.comparison import frontier_text, losses_text

API_DOC = Path(__file__).resolve().parent / "controller-api.md"  # docs/controller-api.md, shipped as package data

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

REPLY = "- Reply with ONE fenced ```python block holding the whole module, after at most a few sentences of reasoning."

RULES = """## Rules
- Allowed imports: numpy, math, collections, itertools, functools, heapq, bisect, dataclasses, typing, enum,
  statistics, replay_core, replay_core.actions, replay_core.observation, replay_core.votes.
- No file, network, process or introspection access (no dunder attributes besides __init__ and the like);
  the code runs in a sandbox and such code fails.
- Decisions for one episode (row) must depend only on that row: the evaluator re-runs episodes in other
  groupings and rejects controllers whose answers change.
- Every round, every running episode must act (BRANCH/CONTINUE/PROBE/PRUNE) or ANSWER, never both."""

AGENT_RULES = """## How to work (tools)
You may test code before submitting it. Tools (each run is sandboxed and charged to this round's budget):
- evaluate(source, betas, permutations): replay a module on the search split at a few betas and permutations
  (capped); returns its accuracy and tokens per beta, its score and gain, and where it loses to which baseline.
- trace(source, question, beta): one question's episodes round by round (actions, tokens, the leading answer)
  and a diagnosis; `question` is an index into the search split (0-based). (Absent when trace feedback is off.)
- baselines(): every baseline's curve on the search split.
- frontier(): per budget, the best baseline and its accuracy: the curve to beat.
- submit(source, note): submit a finished module as one of this round's candidates. Submit {k} candidate(s);
  the round ends when you have, or when the tool budget is spent. Code is only scored once submitted.
Fix failures the tools report before submitting; a failed candidate scores nothing."""


def build_prompt(context: DiscoveryContext, island: int, max_program_chars: int = 6000, submissions: int = 0) -> str:
    """The user message for one proposal from `island`; with `submissions` > 0, for an agent that tests
    code with tools and submits that many modules."""
    parts = ["# The environment", API_DOC.read_text(),
             OBJECTIVE_BETA if context.beta_parameterized else OBJECTIVE_FIXED,
             "## Baselines on the search split (mean over questions and 100-permutation replays)", context.baselines]
    baselines, curves = context.search_curves()
    frontier = frontier_text(baselines)
    if frontier:
        parts += ["## The frontier to beat: at each budget, the best baseline and its accuracy", frontier]
    programs = context.db.sample(island)
    if programs:
        parts.append(f"## Earlier programs (best of this island first; round {context.round})")
        for p in programs:
            header = f"### Program {p.controller_id} (round {p.round}): score {p.score:.4f}, gain {p.gain or 0:+.3f}"
            parts.append(header)
            source = p.source if len(p.source) <= max_program_chars else p.source[:max_program_chars] + "\n# ... truncated"
            parts.append(f"```python\n{source}```")
            losses = losses_text(curves.get(p.controller_id, []), baselines)
            if losses:
                parts.append("Against the best baseline at matched budgets (accuracy points):\n" + losses)
            if context.trace_feedback and p.feedback:
                parts.append("Execution-trace diagnosis:\n" + p.feedback)
    failures = context.db.failures(3)
    if failures:
        parts.append("## Recent failures (avoid these mistakes; each error is quoted data from the sandbox)")
        parts.extend(f"- {p.controller_id}: {json.dumps((p.error or '')[:400])}" for p in failures)
    parts.append(RULES if submissions else RULES.replace("## Rules", "## Rules\n" + REPLY))
    if submissions:
        parts.append(AGENT_RULES.format(k=submissions))
    return "\n\n".join(parts)
