"""Collect trajectories through an engine, one question at a time, resumably."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from collection.problems import Problem
from live.engine import Engine
from trajectories.readers import read_parquet
from trajectories.schema import TrajectoryRecord
from trajectories.writers import write_parquet

CHAT_TEMPLATE = "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}."


class EngineFailed(RuntimeError):
    """The engine failed on a question; every question finished before it is on disk."""

    def __init__(self, problem: Problem, kept: int, parts: Path, cause: Exception):
        reason = (str(cause).splitlines() or [""])[0]
        super().__init__(f"the engine failed on {problem.benchmark}/{problem.question_id} "
                         f"({type(cause).__name__}: {reason}); {kept} finished question(s) are kept in {parts}: "
                         f"rerun the same command to resume")


@dataclass(frozen=True)
class QuestionStats:
    """What one question's collection produced, and the signs of a misconfigured run."""

    trajectories: int
    tokens: int
    probes: int
    unanswered_probes: int  # the model did not close `\boxed{` within the probe's tokens
    cut: int  # trajectories that reached the token cap

    @classmethod
    def of(cls, records: list[TrajectoryRecord]) -> "QuestionStats":
        probes = [a for r in records for a in r.probe_answers]
        return cls(len(records), sum(r.length for r in records), len(probes),
                   sum(a is None for a in probes), sum(not r.finished for r in records))


def collect_question(engine: Engine, problem: Problem, model: str, n: int, max_chunks: int,
                     prompt_template: str = CHAT_TEMPLATE) -> list[TrajectoryRecord]:
    """N trajectories of one question, advanced a chunk at a time, each probed after every chunk.
    A trajectory still running after `max_chunks`, or ended at the engine's token cap, is cut
    (finished = false, no final answer)."""
    prompt = prompt_template.format(problem=problem.problem)
    handles = [engine.open(prompt) for _ in range(n)]
    chunks: list[list] = [[] for _ in range(n)]
    probes: list[list] = [[] for _ in range(n)]
    finals: list[str | None] = [None] * n
    running = list(range(n))
    for _ in range(max_chunks):
        if not running:
            break
        produced = engine.extend([handles[i] for i in running], [1] * len(running))
        ended, to_probe = [], []
        for i, out in zip(running, produced):
            if not out:
                ended.append(i)
                continue
            chunks[i].append(out[0])
            if out[0].finished:
                ended.append(i)
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
    records = []
    for t in range(n):
        finished = bool(chunks[t]) and chunks[t][-1].finished and not chunks[t][-1].cut
        confidence = [c.confidence for c in chunks[t]]
        records.append(TrajectoryRecord(
            question_id=problem.question_id, benchmark=problem.benchmark, model=model, gold=problem.gold, traj_id=t,
            chunk_tokens=tuple(c.tokens for c in chunks[t]), probe_answers=tuple(a for a, _ in probes[t]),
            probe_tokens=tuple(k for _, k in probes[t]), final_answer=finals[t], finished=finished,
            problem=problem.problem, answer_type=problem.answer_type,
            chunk_confidence=tuple(confidence) if all(c == c for c in confidence) else None))
    return records


def collect(engine: Engine, problems: list[Problem], model: str, n: int, max_chunks: int, parts: Path,
            on_question: Callable[[Problem, QuestionStats | None], None] | None = None) -> list[Path]:
    """Collect every problem into its own Parquet part under `parts`; parts already there are
    kept (resume). An engine error raises `EngineFailed` with everything finished so far on disk.
    `on_question(problem, stats)` reports progress (stats None: the part was kept from before)."""
    parts.mkdir(parents=True, exist_ok=True)
    written = []
    for problem in problems:
        part = parts / f"{problem.benchmark}__{problem.question_id}.parquet".replace("/", "_")
        if part.exists():
            written.append(part)
            if on_question:
                on_question(problem, None)
            continue
        try:
            records = collect_question(engine, problem, model, n, max_chunks)
        except Exception as err:  # any engine failure: report it with what is safe on disk
            raise EngineFailed(problem, len(written), parts, err) from err
        write_parquet(records, part)
        written.append(part)
        if on_question:
            on_question(problem, QuestionStats.of(records))
    return written


def merge(parts: list[Path], out: Path) -> int:
    """All parts as one interchange Parquet file."""
    records = [r for part in parts for r in read_parquet(part)]
    write_parquet(records, out)
    return len(records)
