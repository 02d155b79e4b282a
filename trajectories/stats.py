"""Summary statistics of a bank, used to calibrate the synthetic generator against real stores."""
from __future__ import annotations

import numpy as np

from replay_core.bank import Bank


def bank_statistics(bank: Bank) -> dict[str, float]:
    """Per-bank statistics that shape how test-time-scaling strategies behave on it."""
    T = bank.max_traj
    real = bank.n_chunks > 0
    q_of = np.repeat(np.arange(bank.n_questions), T)
    final = bank.final_class
    correct = np.zeros_like(real)
    has = final >= 0
    correct[has] = bank.class_correct[q_of[has], final[has]]
    acc_q = np.array([correct[q_of == q][real[q_of == q]].mean() for q in range(bank.n_questions)])
    wrong = real & has & ~correct
    lengths = bank.total_tokens
    top_wrong_share, wrong_classes = [], []
    for q in range(bank.n_questions):
        w = final[(q_of == q) & wrong]
        if len(w):
            _, counts = np.unique(w, return_counts=True)
            top_wrong_share.append(counts.max() / len(w))
            wrong_classes.append(len(counts))
    probe_acc, probe_rate = {}, {}
    n = bank.n_chunks
    for frac in (0.1, 0.25, 0.5, 0.75, 0.9):
        rows = np.flatnonzero(real & (n >= 4))
        d = np.maximum(1, np.floor(frac * (n[rows] - 1)).astype(int))
        cls = bank.probe_class[rows, d - 1]
        ok = np.zeros(len(rows), bool)
        ok[cls >= 0] = bank.class_correct[q_of[rows][cls >= 0], cls[cls >= 0]]
        probe_acc[frac] = ok.mean()
        probe_rate[frac] = (cls >= 0).mean()
    return {
        "questions": bank.n_questions,
        "trajectories per question": float(bank.n_traj.mean()),
        "mean trajectory accuracy": float(acc_q.mean()),
        "questions with accuracy < 10%": float((acc_q < 0.1).mean()),
        "questions with accuracy > 90%": float((acc_q > 0.9).mean()),
        "mean tokens, correct trajectories": float(lengths[real & correct].mean()) if (real & correct).any() else float("nan"),
        "mean tokens, wrong trajectories": float(lengths[wrong].mean()) if wrong.any() else float("nan"),
        "trajectories without a final answer": float((real & ~has).mean() / real.mean()),
        "distinct wrong final answers per question": float(np.mean(wrong_classes)) if wrong_classes else 0.0,
        "share of wrong finals held by the top wrong answer": float(np.mean(top_wrong_share)) if top_wrong_share else 0.0,
        **{f"probe answered at {int(f * 100)}% depth": float(v) for f, v in probe_rate.items()},
        **{f"probe correct at {int(f * 100)}% depth": float(v) for f, v in probe_acc.items()},
        "answer comparisons stopped at the time bound": float(answer_timeouts(bank)),
    }


def answer_timeouts(bank: Bank) -> int:
    """How many symbolic readings or comparisons of this bank's answers hit the time bound."""
    questions = set(zip(bank.benchmarks, bank.models, bank.question_ids))
    return sum(1 for event in bank.meta.get("answer_timeouts", ()) if tuple(event[:3]) in questions)
