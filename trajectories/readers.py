"""Read trajectory files: interchange JSONL and Parquet, and AutoTTS replay-store JSON.

All readers return fully validated records or raise `FormatError`; none returns part of a file.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from autotts.trajectories.schema import FormatError, TrajectoryRecord, check_bank_consistency, validate_row


def read_jsonl(path: str | Path) -> list[TrajectoryRecord]:
    """Interchange JSONL, one trajectory object per line (blank lines are skipped)."""
    source = str(path)
    records = []
    with open(path, "rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise FormatError(source, line_no, None, f"not valid UTF-8 (byte {err.start})") from None
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as err:
                raise FormatError(source, line_no, None, f"not valid JSON ({getattr(err, 'msg', err)})") from None
            records.append(validate_row(raw, source, line_no))
    return _checked(records, source)


def read_parquet(path: str | Path) -> list[TrajectoryRecord]:
    """Interchange Parquet, one trajectory per row."""
    import pyarrow.parquet as pq

    source = str(path)
    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises several types for corrupt files
        raise FormatError(source, None, None, f"not a readable Parquet file ({err})") from None
    rows = table.to_pylist()
    return _checked([validate_row(raw, source, i) for i, raw in enumerate(rows, start=1)], source)


def read_autotts_store(path: str | Path, model: str | None = None,
                       benchmark: str | None = None) -> list[TrajectoryRecord]:
    """An AutoTTS replay store (`MODEL/BENCHMARK.json`): a list of questions with `each_branch`.

    Model and benchmark default to the parent folder and file stem. Each branch
    `[probe_list, branch_tokens, final_answer]` becomes one trajectory whose chunks are the probe
    intervals plus a closing chunk that reveals the final answer; `total_tokens` keeps the branch's
    true length so that costs follow the published semantics exactly (docs/controller-api.md).
    """
    source = str(path)
    path = Path(path)
    model = model or path.parent.name
    benchmark = benchmark or path.stem
    try:
        questions = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise FormatError(source, None, None, f"cannot read file ({err})") from None
    except json.JSONDecodeError as err:
        raise FormatError(source, None, None, f"not valid JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(questions, list):
        raise FormatError(source, None, None, "an AutoTTS store is a JSON list of questions")
    records = []
    for q_index, question in enumerate(questions):
        records.extend(_autotts_question(question, q_index, source, model, benchmark))
    return _checked(records, source)


def _autotts_question(question: Any, q_index: int, source: str, model: str,
                      benchmark: str) -> Iterable[TrajectoryRecord]:
    def problem(field: str | None, text: str) -> FormatError:
        return FormatError(source, q_index, field, text, unit="question")

    if not isinstance(question, dict):
        raise problem(None, "is not an object")
    for key in ("question", "gold_answer", "probe_freq", "each_branch"):
        if key not in question:
            raise problem(key, "missing required key")
    interval = question["probe_freq"]
    if isinstance(interval, bool) or not isinstance(interval, int) or interval <= 0:
        raise problem("probe_freq", f"must be a positive integer, got {interval!r}")
    branches = question["each_branch"]
    if not isinstance(branches, list) or not branches:
        raise problem("each_branch", "must be a non-empty list")
    for traj_id, branch in enumerate(branches):
        if not (isinstance(branch, list) and len(branch) == 3):
            raise problem("each_branch", f"branch {traj_id} must be [probe_list, branch_tokens, final_answer]")
        probes, tokens, final = branch
        if not isinstance(probes, list):
            raise problem("each_branch", f"branch {traj_id}: probe_list is not a list")
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
            raise problem("each_branch", f"branch {traj_id}: branch_tokens must be a non-negative integer")
        k = len(probes)
        raw = {
            "question_id": f"{benchmark}-{q_index:03d}", "benchmark": benchmark, "model": model,
            "problem": question["question"], "gold": question["gold_answer"], "traj_id": traj_id,
            "chunk_tokens": [interval] * k + [max(0, tokens - interval * k)],
            "probe_answers": list(probes) + [final], "probe_tokens": [0] * (k + 1),
            "final_answer": final, "finished": final not in (None, "ERR"), "total_tokens": tokens,
            "answer_type": "math",
        }
        try:
            yield validate_row(raw, source, q_index)
        except FormatError as err:
            raise problem(err.field, f"branch {traj_id}: {err.problem}") from None


def read_any(path: str | Path) -> list[TrajectoryRecord]:
    """Dispatch on the file type: `.jsonl`, `.parquet`, or AutoTTS `.json`."""
    suffix = Path(path).suffix.lower()
    if not Path(path).exists():
        raise FormatError(str(path), None, None, "no such file")
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix in (".parquet", ".pq"):
        return read_parquet(path)
    if suffix == ".json":
        return read_autotts_store(path)
    raise FormatError(str(path), None, None, "unknown file type (expected .jsonl, .parquet or AutoTTS .json)")


def _checked(records: list[TrajectoryRecord], source: str) -> list[TrajectoryRecord]:
    if not records:
        raise FormatError(source, None, None, "contains no trajectories")
    check_bank_consistency(records, source)
    return records
