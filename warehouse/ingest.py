"""Ingest trajectory files: validate, grade, and load them into the warehouse in one transaction."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np
import pyarrow as pa

from replay_core.bank import Bank
from autotts.trajectories.banking import build_bank, group_records
from autotts.trajectories.equivalence import Mode
from autotts.trajectories.readers import read_any
from autotts.trajectories.schema import TrajectoryRecord
from autotts.warehouse.db import insert_arrow, now, transaction

FILES_AT_ONCE = 3
"""How many files an ingest grades at once (threads of one process, sharing its answer judge and
worker pool). One file at a time leaves the answer workers idle while it reads its JSON, waits on
one symbolic comparison at a time, or builds its tables; a few files at once keep every worker
busy. Results do not depend on it as long as no call reaches the time bound: classes are found
per question, readings and verdicts depend only on the answer texts (each is asked of the workers
once, whichever file needs it first), and files are loaded in the order given. A call that hits
the bound is the exception: under a heavier load it may time out where it would not alone."""


@dataclass(frozen=True)
class IngestPayload:
    """Everything one file adds to the warehouse, ready to insert."""

    bank_id: str
    content_hash: str
    source: str
    synthetic: bool
    answer_mode: str
    tables: dict[str, pa.Table]

    @property
    def n_trajectories(self) -> int:
        return self.tables["trajectories"].num_rows

    @property
    def n_answer_timeouts(self) -> int:
        """Symbolic answer readings or comparisons stopped at the time bound while grading."""
        return self.tables["answer_timeouts"].num_rows


def content_hash(path: str | Path, mode: Mode) -> str:
    digest = hashlib.sha256(f"{mode}\0".encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare(path: str | Path, mode: Mode = "math") -> IngestPayload:
    """Validate and grade a file into the warehouse's tables (raises FormatError on bad input)."""
    digest = content_hash(path, mode)
    records = read_any(path)
    synthetic = any(r.model.startswith("synthetic") or r.benchmark.startswith("synthetic") for r in records)
    bank = build_bank(records, mode=mode, synthetic=synthetic)
    bank_id = digest[:16]
    return IngestPayload(bank_id=bank_id, content_hash=digest, source=str(path), synthetic=synthetic,
                         answer_mode=mode, tables=_tables(bank_id, records, bank))


def _tables(bank_id: str, records: list[TrajectoryRecord], bank: Bank) -> dict[str, pa.Table]:
    grouped = group_records(records)
    T = bank.max_traj
    q_rows, class_rows = [], []
    trajs: list[TrajectoryRecord] = []
    rows: list[int] = []
    for q, ((benchmark, model, question_id), items) in enumerate(grouped.items()):
        first = items[0]
        q_rows.append((benchmark, model, question_id, first.problem, first.gold, first.answer_type, len(items)))
        for cid, (text, ok) in enumerate(zip(bank.class_texts[q], bank.class_correct[q])):
            class_rows.append((benchmark, model, question_id, cid, text, bool(ok)))
        trajs.extend(items)
        rows.extend(q * T + t for t in range(len(items)))
    rows_arr = np.asarray(rows)
    n_chunks = bank.n_chunks[rows_arr]

    def column(name, values, type_=None):
        return name, pa.array(values, type=type_)

    def table(cols):
        return pa.table(dict(cols))

    questions = table([
        column("benchmark", [r[0] for r in q_rows]), column("model", [r[1] for r in q_rows]),
        column("question_id", [r[2] for r in q_rows]), column("problem", [r[3] for r in q_rows], pa.string()),
        column("gold", [r[4] for r in q_rows]), column("answer_type", [r[5] for r in q_rows]),
        column("n_trajectories", [r[6] for r in q_rows], pa.int32()),
    ])
    classes = table([
        column("benchmark", [r[0] for r in class_rows], pa.string()), column("model", [r[1] for r in class_rows], pa.string()),
        column("question_id", [r[2] for r in class_rows], pa.string()), column("class_id", [r[3] for r in class_rows], pa.int32()),
        column("answer", [r[4] for r in class_rows], pa.string()), column("correct", [r[5] for r in class_rows], pa.bool_()),
    ])
    trajectories = table([
        column("benchmark", [r.benchmark for r in trajs]), column("model", [r.model for r in trajs]),
        column("question_id", [r.question_id for r in trajs]), column("traj_id", [r.traj_id for r in trajs], pa.int32()),
        column("n_chunks", n_chunks, pa.int32()), column("total_tokens", bank.total_tokens[rows_arr], pa.int64()),
        column("final_answer", [r.final_answer for r in trajs], pa.string()),
        column("final_class", bank.final_class[rows_arr], pa.int32()),
        column("finished", [r.finished for r in trajs], pa.bool_()),
    ])
    repeat = lambda values: list(chain.from_iterable([v] * n for v, n in zip(values, n_chunks)))  # noqa: E731
    valid = np.arange(bank.max_chunks)[None, :] < n_chunks[:, None]
    chunk_tokens = np.diff(bank.chunk_cum[rows_arr], axis=1)
    confidence = bank.chunk_conf[rows_arr][valid]
    probes = table([
        column("benchmark", repeat([r.benchmark for r in trajs]), pa.string()),
        column("model", repeat([r.model for r in trajs]), pa.string()),
        column("question_id", repeat([r.question_id for r in trajs]), pa.string()),
        column("traj_id", repeat([r.traj_id for r in trajs]), pa.int32()),
        column("chunk", np.nonzero(valid)[1] + 1, pa.int32()),
        column("chunk_tokens", chunk_tokens[valid], pa.int32()),
        column("probe_answer", list(chain.from_iterable(r.probe_answers for r in trajs)), pa.string()),
        column("probe_class", bank.probe_class[rows_arr][valid], pa.int32()),
        column("probe_tokens", bank.probe_cost[rows_arr][valid], pa.int32()),
        ("confidence", pa.array(confidence, pa.float64(), mask=~np.isfinite(confidence))),
    ])
    stopped = bank.meta.get("answer_timeouts", ())
    timeouts = table([
        column(name, [event[i] for event in stopped], pa.string())
        for i, name in enumerate(("benchmark", "model", "question_id", "answer", "other"))
    ])
    out = {"questions": questions, "answer_classes": classes, "trajectories": trajectories, "probes": probes,
           "answer_timeouts": timeouts}
    return {name: t.append_column("bank_id", pa.array([bank_id] * t.num_rows, pa.string())) for name, t in out.items()}


def load(warehouse: str | Path, payload: IngestPayload) -> bool:
    """Write one file's tables in one transaction. Returns False (and writes nothing) when the
    same content was ingested before."""
    with transaction(warehouse) as con:
        seen = con.execute("SELECT count(*) FROM banks WHERE content_hash = ?", [payload.content_hash]).fetchone()[0]
        if seen:
            return False
        n_questions = payload.tables["questions"].num_rows
        con.execute("INSERT INTO banks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
            payload.bank_id, payload.content_hash, payload.source, payload.synthetic, payload.answer_mode,
            n_questions, payload.n_trajectories, now()])
        for name, table in payload.tables.items():
            insert_arrow(con, name, table)
    return True
