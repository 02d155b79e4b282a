"""Collect trajectories through an engine, a batch of questions at a time, resumably per question."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from autotts.collection.problems import Problem
from autotts.live.answers import PROMPT_TEMPLATE
from autotts.live.engine import Engine
from autotts.trajectories.readers import read_parquet
from autotts.trajectories.schema import TrajectoryRecord
from autotts.trajectories.writers import write_parquet

class EngineFailed(RuntimeError):
    """The engine failed on a batch of questions; every question finished before it is on disk."""

    def __init__(self, batch: list[Problem], kept: int, parts: Path, cause: Exception):
        reason = (str(cause).splitlines() or [""])[0]
        names = ", ".join(f"{p.benchmark}/{p.question_id}" for p in batch)
        super().__init__(f"the engine failed on {names} ({type(cause).__name__}: {reason}); {kept} finished "
                         f"question(s) are kept in {parts}: rerun the same command to resume")


@dataclass(frozen=True)
class QuestionStats:
    """What one question's collection produced, and the signs of a misconfigured run."""

    trajectories: int
    tokens: int
    probes: int
    unanswered_probes: int  # the model did not close `\boxed{` within the probe's tokens
    cut: int  # trajectories that reached the token cap
    batch_tokens_per_s: float  # throughput of the batch of questions collected together with it

    @classmethod
    def of(cls, records: list[TrajectoryRecord], batch_tokens_per_s: float) -> "QuestionStats":
        probes = [a for r in records for a in r.probe_answers]
        return cls(len(records), sum(r.length for r in records), len(probes), sum(a is None for a in probes),
                   sum(not r.finished for r in records), batch_tokens_per_s)


def collect_questions(engine: Engine, problems: list[Problem], model: str, n: int, max_chunks: int,
                      prompt_template: str = PROMPT_TEMPLATE) -> list[list[TrajectoryRecord]]:
    """N trajectories of each question, all advanced together a chunk at a time and probed after
    every chunk: one engine call per chunk depth covers every running sequence of every question,
    so the engine can batch across questions. A trajectory still running after `max_chunks`, or
    ended at the engine's token cap, is cut (finished = false, no final answer)."""
    owner = [(q, t) for q in range(len(problems)) for t in range(n)]
    handles = [engine.open(prompt_template.format(problem=problems[q].problem)) for q, _ in owner]
    chunks: list[list] = [[] for _ in owner]
    probes: list[list] = [[] for _ in owner]
    finals: list[str | None] = [None] * len(owner)
    running = list(range(len(owner)))
    for _ in range(max_chunks):
        if not running:
            break
        produced = engine.extend([handles[i] for i in running], [1] * len(running))
        ended, to_probe = set(), []
        for i, out in zip(running, produced):
            if not out:
                ended.add(i)
                continue
            chunks[i].append(out[0])
            if out[0].finished:
                ended.add(i)
            if out[0].finished and not out[0].cut:
                finals[i] = out[0].answer
                probes[i].append((out[0].answer, 0))  # at its natural end a trajectory's probe is its answer
            else:
                to_probe.append(i)  # still running, or cut at the cap: ask what it would answer
        if to_probe:
            for i, answer in zip(to_probe, engine.probe([handles[i] for i in to_probe])):
                probes[i].append(answer)
        for i in ended:
            engine.close(handles[i])
        running = [i for i in running if i not in ended]
    for i in running:
        engine.close(handles[i])
    records: list[list[TrajectoryRecord]] = [[] for _ in problems]
    for i, (q, t) in enumerate(owner):
        problem = problems[q]
        finished = bool(chunks[i]) and chunks[i][-1].finished and not chunks[i][-1].cut
        confidence = [c.confidence for c in chunks[i]]
        records[q].append(TrajectoryRecord(
            question_id=problem.question_id, benchmark=problem.benchmark, model=model, gold=problem.gold, traj_id=t,
            chunk_tokens=tuple(c.tokens for c in chunks[i]), probe_answers=tuple(a for a, _ in probes[i]),
            probe_tokens=tuple(k for _, k in probes[i]), final_answer=finals[i], finished=finished,
            problem=problem.problem, answer_type=problem.answer_type,
            chunk_confidence=tuple(confidence) if all(c == c for c in confidence) else None))
    return records


def part_path(parts: Path, problem: Problem) -> Path:
    return parts / f"{problem.benchmark}__{problem.question_id}.parquet".replace("/", "_")


def collect(engine: Engine, problems: list[Problem], model: str, n: int, max_chunks: int, parts: Path,
            on_question: Callable[[Problem, QuestionStats | None], None] | None = None,
            concurrent: int = 1) -> list[Path]:
    """Collect every problem into its own Parquet part under `parts`, `concurrent` questions at a
    time; parts already there are kept (resume). An engine error raises `EngineFailed` with every
    finished question on disk. `on_question(problem, stats)` reports progress (stats None: the part
    was kept from an earlier run)."""
    parts.mkdir(parents=True, exist_ok=True)
    todo = []
    for problem in problems:
        if part_path(parts, problem).exists():
            if on_question:
                on_question(problem, None)
        else:
            todo.append(problem)
    kept = len(problems) - len(todo)
    for start in range(0, len(todo), concurrent):
        batch = todo[start:start + concurrent]
        clock = time.perf_counter()
        try:
            collected = collect_questions(engine, batch, model, n, max_chunks)
        except Exception as err:  # any engine failure: report it with what is safe on disk
            raise EngineFailed(batch, kept, parts, err) from err
        rate = sum(r.length for records in collected for r in records) / max(time.perf_counter() - clock, 1e-9)
        for problem, records in zip(batch, collected):
            write_parquet(records, part_path(parts, problem))
            kept += 1
            if on_question:
                on_question(problem, QuestionStats.of(records, rate))
    return [part_path(parts, problem) for problem in problems]


def merge(parts: list[Path], out: Path) -> int:
    """All parts as one interchange Parquet file."""
    records = [r for part in parts for r in read_parquet(part)]
    write_parquet(records, out)
    return len(records)
