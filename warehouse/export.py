"""Export banks from the warehouse as interchange Parquet (the same format ingest reads)."""
from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq

from autotts.warehouse.bank_io import selection_sql
from autotts.warehouse.db import connect

EXPORT_SQL = """
WITH chunks AS (
    SELECT bank_id, benchmark, model, question_id, traj_id,
           list(chunk_tokens ORDER BY chunk) AS chunk_tokens,
           list(probe_answer ORDER BY chunk) AS probe_answers,
           list(probe_tokens ORDER BY chunk) AS probe_tokens,
           CASE WHEN count(confidence) = count(*) THEN list(confidence ORDER BY chunk) END AS chunk_confidence
    FROM probes WHERE {where}
    GROUP BY ALL
)
SELECT t.question_id, t.benchmark, t.model, q.problem, q.gold, t.traj_id::BIGINT AS traj_id,
       c.chunk_tokens::BIGINT[] AS chunk_tokens, c.probe_answers, c.probe_tokens::BIGINT[] AS probe_tokens,
       t.final_answer, t.finished, c.chunk_confidence,
       CASE WHEN t.total_tokens <> list_sum(c.chunk_tokens) THEN t.total_tokens END AS total_tokens,
       q.answer_type
FROM trajectories t
JOIN questions q USING (bank_id, benchmark, model, question_id)
JOIN chunks c USING (bank_id, benchmark, model, question_id, traj_id)
WHERE {where_t}
ORDER BY t.benchmark, t.model, t.question_id, t.traj_id
"""


def export_parquet(warehouse: str | Path, out: str | Path, bank_ids: list[str] | None = None,
                   benchmarks: list[str] | None = None, models: list[str] | None = None) -> int:
    """Write the selected trajectories to `out` (atomically); returns the number of rows."""
    where, params = selection_sql(bank_ids, benchmarks, models)
    where_t, params_t = selection_sql(bank_ids, benchmarks, models, table="t")
    with connect(warehouse, read_only=True) as con:
        table = con.sql(EXPORT_SQL.format(where=where, where_t=where_t), params=params + params_t).to_arrow_table()
    if table.num_rows == 0:
        raise ValueError(f"nothing in {warehouse} matches bank={bank_ids} benchmark={benchmarks} model={models}")
    tmp = Path(f"{out}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, out)
    return table.num_rows
