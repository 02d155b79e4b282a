"""Write records in the interchange format (Parquet or JSONL)."""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from autotts.trajectories.schema import TrajectoryRecord

INTERCHANGE_SCHEMA = pa.schema([
    ("question_id", pa.string()), ("benchmark", pa.string()), ("model", pa.string()),
    ("problem", pa.string()), ("gold", pa.string()), ("traj_id", pa.int64()),
    ("chunk_tokens", pa.list_(pa.int64())), ("probe_answers", pa.list_(pa.string())),
    ("probe_tokens", pa.list_(pa.int64())), ("final_answer", pa.string()), ("finished", pa.bool_()),
    ("chunk_confidence", pa.list_(pa.float64())), ("probe_correct", pa.list_(pa.bool_())),
    ("final_correct", pa.bool_()), ("total_tokens", pa.int64()), ("answer_type", pa.string()),
])


def _rows(records: list[TrajectoryRecord]) -> list[dict]:
    rows = []
    for rec in records:
        row = dataclasses.asdict(rec)
        for key in ("chunk_tokens", "probe_answers", "probe_tokens", "chunk_confidence", "probe_correct"):
            if row[key] is not None:
                row[key] = list(row[key])
        rows.append(row)
    return rows


def write_parquet(records: list[TrajectoryRecord], path: str | Path) -> None:
    """Write atomically (temp file, then rename) so a killed run never leaves half a file."""
    table = pa.Table.from_pylist(_rows(records), schema=INTERCHANGE_SCHEMA)
    tmp = Path(f"{path}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def write_jsonl(records: list[TrajectoryRecord], path: str | Path) -> None:
    tmp = Path(f"{path}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        for row in _rows(records):
            handle.write(json.dumps({k: v for k, v in row.items() if v is not None}) + "\n")
    os.replace(tmp, path)


def write_any(records: list[TrajectoryRecord], path: str | Path) -> None:
    if Path(path).suffix.lower() == ".jsonl":
        write_jsonl(records, path)
    else:
        write_parquet(records, path)
