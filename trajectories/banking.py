"""Turn validated records into a `replay_core.Bank`: answer classes, grades, padded arrays."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable

import numpy as np

from replay_core.bank import Bank
from autotts.trajectories.equivalence import Mode, classify_questions
from autotts.trajectories.readers import read_any
from autotts.trajectories.schema import FormatError, TrajectoryRecord


def _class_shuffle(key: str, n: int) -> np.ndarray:
    """A fixed random relabelling of a question's classes.

    Classes are found in first-seen order, and the first-seen answer is more often the majority;
    relabelling keeps class ids from carrying that hint to a controller.
    """
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).permutation(n)


def group_records(records: Iterable[TrajectoryRecord]) -> dict[tuple[str, str, str], list[TrajectoryRecord]]:
    """Records per (benchmark, model, question_id), questions in first-seen order, trajectories by
    traj_id: the order of a bank's questions (index q) and trajectories (index t)."""
    questions: dict[tuple[str, str, str], list[TrajectoryRecord]] = {}
    for rec in records:
        questions.setdefault((rec.benchmark, rec.model, rec.question_id), []).append(rec)
    for trajs in questions.values():
        trajs.sort(key=lambda r: r.traj_id)
    return questions


def build_bank(records: Iterable[TrajectoryRecord], mode: Mode = "math", description: str = "",
               synthetic: bool = False) -> Bank:
    """Group records by question, assign answer classes, grade them, and pack the arrays.

    mode="exact" is the AutoTTS reference compatibility setting (string answers, `ERR` votes).
    `meta["answer_timeouts"]` lists (benchmark, model, question_id, answer, other answer or None) for every symbolic
    reading or comparison stopped at the time bound (see `autotts.trajectories.equivalence`).
    """
    questions = group_records(records)
    if not questions:
        raise ValueError("a bank needs at least one trajectory")
    keys = list(questions)
    Q = len(keys)
    T = max(len(v) for v in questions.values())
    L = max(len(r.chunk_tokens) for v in questions.values() for r in v)

    per_question, timeouts = [], []
    all_classes = classify_questions([([a for r in questions[key] for a in (*r.probe_answers, r.final_answer)],
                                       questions[key][0].gold, questions[key][0].answer_type) for key in keys], mode)
    for key, classes in zip(keys, all_classes):
        timeouts.extend((*key, event.answer, event.other) for event in classes.timeouts)
        relabel = _class_shuffle("|".join(key), len(classes.texts))
        per_question.append((questions[key], classes, relabel))
    C = max(1, max(len(c.texts) for _, c, _ in per_question))

    n_traj = np.zeros(Q, np.int32)
    n_chunks = np.zeros(Q * T, np.int32)
    chunk_cum = np.zeros((Q * T, L + 1), np.int64)
    total = np.zeros(Q * T, np.int64)
    probe_class = np.full((Q * T, L), -1, np.int32)
    probe_cost = np.zeros((Q * T, L), np.int64)
    chunk_conf = np.full((Q * T, L), np.nan, np.float64)
    final_class = np.full(Q * T, -1, np.int32)
    natural_end = np.zeros(Q * T, bool)
    class_correct = np.zeros((Q, C), bool)
    class_texts = []
    for q, (trajs, classes, relabel) in enumerate(per_question):
        n_traj[q] = len(trajs)
        texts = [""] * len(classes.texts)
        for old, new in enumerate(relabel):
            texts[new] = classes.texts[old]
            class_correct[q, new] = classes.correct[old]
        class_texts.append(tuple(texts))
        lookup = {a: (int(relabel[c]) if c >= 0 else -1) for a, c in classes.class_of.items()}
        graded: dict[int, bool] = {}
        for t, rec in enumerate(trajs):
            row = q * T + t
            n = len(rec.chunk_tokens)
            n_chunks[row] = n
            chunk_cum[row, 1:n + 1] = np.cumsum(rec.chunk_tokens)
            chunk_cum[row, n + 1:] = chunk_cum[row, n]
            total[row] = rec.length
            probe_class[row, :n] = [lookup.get(a, -1) for a in rec.probe_answers]
            probe_cost[row, :n] = rec.probe_tokens
            if rec.chunk_confidence is not None:
                chunk_conf[row, :n] = rec.chunk_confidence
            final_class[row] = lookup.get(rec.final_answer, -1)
            natural_end[row] = rec.finished
            _collect_grades(graded, rec, lookup)
        for cid, ok in graded.items():  # recorded grades take precedence over our own grading
            class_correct[q, cid] = ok
    conf_cum = np.zeros((Q * T, L + 1), np.float64)
    conf_cum[:, 1:] = np.cumsum(np.nan_to_num(chunk_conf, nan=0.0), axis=1)
    conf_cum[~np.isfinite(chunk_conf).any(axis=1)] = np.nan
    return Bank(
        question_ids=tuple(k[2] for k in keys), benchmarks=tuple(k[0] for k in keys),
        models=tuple(k[1] for k in keys), golds=tuple(questions[k][0].gold for k in keys),
        class_texts=tuple(class_texts), n_traj=n_traj, n_chunks=n_chunks, chunk_cum=chunk_cum,
        total_tokens=total, probe_class=probe_class, probe_cost=probe_cost, conf_cum=conf_cum,
        chunk_conf=chunk_conf, final_class=final_class, natural_end=natural_end,
        class_correct=class_correct, synthetic=synthetic, description=description,
        meta={"answer_mode": mode, "answer_timeouts": tuple(timeouts)},
    )


def _collect_grades(graded: dict[int, bool], rec: TrajectoryRecord, lookup: dict) -> None:
    if rec.final_correct is not None and lookup.get(rec.final_answer, -1) >= 0:
        graded[lookup[rec.final_answer]] = graded.get(lookup[rec.final_answer], False) or rec.final_correct
    if rec.probe_correct is not None:
        for answer, ok in zip(rec.probe_answers, rec.probe_correct):
            cid = lookup.get(answer, -1)
            if cid >= 0:
                graded[cid] = graded.get(cid, False) or ok


def load_bank(paths: list[str | Path], mode: Mode = "math", use_cache: bool = True) -> Bank:
    """Read one or more trajectory files (any supported format) into one bank.

    Built banks are cached by file content (see `autotts.trajectories.bank_cache`).
    """
    from autotts.trajectories import bank_cache

    for path in paths:
        if not Path(path).is_file():
            raise FormatError(str(path), None, None, "no such file")
    key = bank_cache.cache_key(paths, mode) if use_cache else None
    if key and (bank := bank_cache.load_cached(key)) is not None:
        return bank
    records: list[TrajectoryRecord] = []
    for path in paths:
        records.extend(read_any(path))
    synthetic = any(r.model.startswith("synthetic") or r.benchmark.startswith("synthetic") for r in records)
    names = ", ".join(str(p) for p in paths)
    bank = build_bank(records, mode=mode, synthetic=synthetic,
                      description=("SYNTHETIC data: " if synthetic else "") + names)
    if key:
        bank_cache.store(key, bank)
    return bank
