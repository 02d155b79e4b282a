"""The trajectory bank: every question's trajectories as padded numpy arrays.

Replay touches no Python object per chunk: a question's T trajectories x L chunks are rows of
2-D arrays indexed by a flat trajectory id `q * max_traj + t`. Labels (which answer class is
right, the gold text) live here too but are never put into an `Observation`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Bank:
    """Q questions, up to T trajectories each, up to L chunks per trajectory, C answer classes.

    Arrays with a trajectory axis are flat: shape (Q*T, ...). Padding rows have `n_chunks == 0`.
    Class id -1 means "no answer".
    """

    question_ids: tuple[str, ...]
    benchmarks: tuple[str, ...]
    models: tuple[str, ...]
    golds: tuple[str, ...]
    class_texts: tuple[tuple[str, ...], ...]
    n_traj: np.ndarray          # (Q,) trajectories per question
    n_chunks: np.ndarray        # (Q*T,) chunks per trajectory
    chunk_cum: np.ndarray       # (Q*T, L+1) tokens to reach depth d by generating chunk after chunk
    total_tokens: np.ndarray    # (Q*T,) the trajectory's true length
    probe_class: np.ndarray     # (Q*T, L) class of the probe after chunk d (index d-1)
    probe_cost: np.ndarray      # (Q*T, L) tokens that probe costs
    conf_cum: np.ndarray        # (Q*T, L+1) cumulative chunk confidence (NaN where the bank has none)
    chunk_conf: np.ndarray      # (Q*T, L) per-chunk confidence (NaN where absent)
    final_class: np.ndarray     # (Q*T,) class of the final answer, -1 if none
    natural_end: np.ndarray     # (Q*T,) ended naturally (False: cut at the token cap)
    class_correct: np.ndarray   # (Q, C) label: is class c right for question q
    synthetic: bool = False
    description: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def n_questions(self) -> int:
        return len(self.question_ids)

    @property
    def max_traj(self) -> int:
        return int(self.n_chunks.shape[0] // max(1, self.n_questions))

    @property
    def max_chunks(self) -> int:
        return int(self.probe_class.shape[1])

    @property
    def n_classes(self) -> int:
        return int(self.class_correct.shape[1])

    @property
    def has_confidence(self) -> bool:
        return bool(np.isfinite(self.chunk_conf).any())

    def groups(self) -> dict[tuple[str, str], np.ndarray]:
        """Question indices per (benchmark, model): results are reported per group."""
        out: dict[tuple[str, str], list[int]] = {}
        for q, key in enumerate(zip(self.benchmarks, self.models)):
            out.setdefault(key, []).append(q)
        return {k: np.asarray(v) for k, v in out.items()}

    def source_banks(self) -> dict[tuple[str, str], str]:
        """(benchmark, model) -> the stored bank each group came from (`meta["bank_of_question"]`,
        set by the warehouse), so results can be written against the bank they were measured on."""
        return {(self.benchmarks[q], self.models[q]): self.meta["bank_of_question"][q] for q in range(self.n_questions)}

    def subset(self, questions: np.ndarray) -> "Bank":
        """A bank of the given question indices (e.g. one benchmark as a split)."""
        questions = np.asarray(questions, dtype=np.int64)
        T = self.max_traj
        rows = (questions[:, None] * T + np.arange(T)[None, :]).ravel()
        pick = lambda seq: tuple(seq[i] for i in questions)  # noqa: E731
        return Bank(
            question_ids=pick(self.question_ids), benchmarks=pick(self.benchmarks),
            models=pick(self.models), golds=pick(self.golds), class_texts=pick(self.class_texts),
            n_traj=self.n_traj[questions], n_chunks=self.n_chunks[rows], chunk_cum=self.chunk_cum[rows],
            total_tokens=self.total_tokens[rows], probe_class=self.probe_class[rows],
            probe_cost=self.probe_cost[rows], conf_cum=self.conf_cum[rows], chunk_conf=self.chunk_conf[rows],
            final_class=self.final_class[rows], natural_end=self.natural_end[rows],
            class_correct=self.class_correct[questions], synthetic=self.synthetic,
            description=self.description, meta=dict(self.meta),
        )

    def select(self, benchmarks: list[str] | None = None, models: list[str] | None = None) -> "Bank":
        keep = [q for q in range(self.n_questions)
                if (not benchmarks or self.benchmarks[q] in benchmarks)
                and (not models or self.models[q] in models)]
        if not keep:
            raise ValueError(f"no questions match benchmarks={benchmarks} models={models}")
        return self.subset(np.asarray(keep))
