"""Execution traces and the diagnosis an explorer reads.

`run_traced` replays episodes like `run_episodes` while recording, per episode and round, what the
controller did, what it cost and which answer led the vote. `diagnose` turns that into a short
text: where the tokens went (by question difficulty and by action), premature answers (wrong
while the full-budget majority was right), budget spent after the vote had settled, and a few
representative question traces. The evaluator may use labels here: the text goes to the
explorer, never to a controller.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from replay_core.actions import Actions
from replay_core.bank import Bank
from replay_core.controller import ControllerFactory
from replay_core.evaluate import episode_env
from replay_core.observation import Observation
from replay_core.play import play
from replay_core.votes import plurality


@dataclass
class Trace:
    """One episode: per round (opened, chunks, probes, pruned, tokens, leader class)."""

    question: int
    seed: int
    rounds: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)
    answer: int = -1
    correct: bool = False
    tokens: int = 0


def run_traced(bank: Bank, factory: ControllerFactory, beta: float, questions: np.ndarray,
               seeds: np.ndarray) -> list[Trace]:
    ep_q = np.tile(np.asarray(questions), len(seeds))
    ep_s = np.repeat(np.asarray(seeds), len(questions))
    env = episode_env(bank, ep_q, ep_s)
    traces = [Trace(int(q), int(s)) for q, s in zip(ep_q, ep_s)]

    def step(obs: Observation, actions: Actions) -> None:
        rows = obs.episode
        tokens_before, depth_before = env.tokens[rows], env.depth[rows].sum(1)
        env.step(actions)
        leader = env.default_vote(rows)
        chunks = env.depth[rows].sum(1) - depth_before
        spent = env.tokens[rows] - tokens_before
        branch, probe, prune = (np.asarray(x) for x in (actions.branch, actions.probe, actions.prune))
        for i, e in enumerate(rows):
            traces[e].rounds.append((int(branch[i]), int(chunks[i]), int(probe[i].sum()), int(prune[i].sum()),
                                     int(spent[i]), int(leader[i])))

    play(env, factory(beta), step)
    correct = env.correct()
    for e, t in enumerate(traces):
        t.answer, t.correct, t.tokens = int(env.answer[e]), bool(correct[e]), int(env.tokens[e])
    return traces


def question_facts(bank: Bank) -> tuple[np.ndarray, np.ndarray]:
    """Per question: single-trajectory accuracy (difficulty) and the full-budget majority's class."""
    T = bank.max_traj
    finals = bank.final_class.reshape(bank.n_questions, T)
    majority = plurality(finals, max(1, bank.n_classes))
    single = np.array([np.mean([bank.class_correct[q, c] if c >= 0 else False for c in finals[q, :bank.n_traj[q]]])
                       for q in range(bank.n_questions)])
    return single, majority


@dataclass(frozen=True)
class Diagnosis:
    """Shares of episodes (premature, unfixable) and of tokens (wasted), and the text for an explorer."""

    premature: float
    unfixable: float
    wasted: float
    text: str


def diagnose(bank: Bank, traces: list[Trace], beta: float, max_chars: int = 1500, examples: int = 2) -> Diagnosis:
    """A compact, actionable summary of where a candidate's budget went and why it was wrong."""
    if not traces:
        return Diagnosis(0.0, 0.0, 0.0, f"beta={beta:g}: no episodes")
    single, majority = question_facts(bank)
    q = np.array([t.question for t in traces])
    tokens = np.array([t.tokens for t in traces], float)
    correct = np.array([t.correct for t in traces])
    majority_right = np.array([majority[i] >= 0 and bank.class_correct[i, majority[i]] for i in q])
    lines = [f"beta={beta:g}: accuracy {100 * correct.mean():.1f}% at {tokens.mean() / 1000:.1f}k tokens/question, "
             f"{np.mean([len(t.rounds) for t in traces]):.1f} rounds."]
    buckets = [("easy", single[q] >= 0.7), ("medium", (single[q] >= 0.3) & (single[q] < 0.7)), ("hard", single[q] < 0.3)]
    parts = [f"{name} {100 * tokens[m].sum() / max(tokens.sum(), 1):.0f}% of tokens (acc {100 * correct[m].mean():.0f}%)"
             for name, m in buckets if m.any()]
    lines.append("tokens by difficulty: " + ", ".join(parts) + ".")
    chunks = sum(r[1] for t in traces for r in t.rounds)
    probes = sum(r[2] for t in traces for r in t.rounds)
    opened = sum(r[0] for t in traces for r in t.rounds)
    lines.append(f"per question: {opened / len(traces):.1f} branches opened, {chunks / len(traces):.1f} chunks generated, "
                 f"{probes / len(traces):.1f} probes bought.")
    premature = ~correct & majority_right
    lines.append(f"premature answers: {100 * premature.mean():.0f}% of episodes answered wrong although the majority of "
                 f"all trajectories was right" + (f" (they spent {tokens[premature].mean() / 1000:.1f}k tokens)." if premature.any() else "."))
    lines.append(f"unfixable by voting: {100 * (~correct & ~majority_right).mean():.0f}% answered wrong where the full majority is wrong too.")
    settled_waste = sum(_after_settling(t) for t in traces)
    lines.append(f"wasted budget: {100 * settled_waste / max(tokens.sum(), 1):.0f}% of tokens were spent after the vote "
                 f"leader had settled on the answer finally given.")
    for t in _examples(traces, premature, examples):
        lines.append(_story(bank, t, single, majority))
    text = "\n".join(lines)
    return Diagnosis(premature=float(premature.mean()), unfixable=float((~correct & ~majority_right).mean()),
                     wasted=float(settled_waste / max(tokens.sum(), 1)),
                     text=text if len(text) <= max_chars else text[:max_chars - 3] + "...")


def _after_settling(trace: Trace) -> int:
    """Tokens spent in rounds after the leader last changed to the final answer."""
    leaders = [r[5] for r in trace.rounds]
    settled = len(leaders)
    for i in range(len(leaders) - 1, -1, -1):
        if leaders[i] != trace.answer:
            break
        settled = i
    return sum(r[4] for r in trace.rounds[settled + 1:])


def _examples(traces: list[Trace], premature: np.ndarray, n: int) -> list[Trace]:
    """The costliest premature mistake and the costliest correct answer: one to fix, one to trim."""
    picks = []
    wrong = [t for t, p in zip(traces, premature) if p]
    if wrong:
        picks.append(max(wrong, key=lambda t: t.tokens))
    right = [t for t in traces if t.correct]
    if right:
        picks.append(max(right, key=lambda t: t.tokens))
    return picks[:n]


def _story(bank: Bank, t: Trace, single: np.ndarray, majority: np.ndarray) -> str:
    level = "easy" if single[t.question] >= 0.7 else "hard" if single[t.question] < 0.3 else "medium"
    steps = []
    for i, (opened, chunks, probes, pruned, spent, leader) in enumerate(t.rounds[:6], start=1):
        what = [f"open {opened}"] if opened else []
        what += [f"+{chunks} chunks"] if chunks else []
        what += [f"{probes} probes"] if probes else []
        what += [f"prune {pruned}"] if pruned else []
        steps.append(f"R{i} {' '.join(what) or 'answer'} ({spent / 1000:.1f}k, leader {_text(bank, t.question, leader)})")
    more = f" ... {len(t.rounds) - 6} more rounds" if len(t.rounds) > 6 else ""
    return (f"example {bank.question_ids[t.question]} ({level}, {'right' if t.correct else 'WRONG'}, {t.tokens / 1000:.1f}k): "
            + "; ".join(steps) + more + f" -> answered {_text(bank, t.question, t.answer)}, full majority "
            f"{_text(bank, t.question, majority[t.question])}.")


def _text(bank: Bank, q: int, cls: int) -> str:
    return repr(bank.class_texts[q][cls][:20]) if 0 <= cls < len(bank.class_texts[q]) else "none"
