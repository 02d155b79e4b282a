"""What a report shows, read from the warehouse in a few queries."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warehouse.db import connect

CURVES_SQL = """
SELECT c.name AS controller, c.origin, e.benchmark, e.model, e.beta, e.accuracy, e.accuracy_low,
       e.accuracy_high, e.tokens, e.rounds, e.seq_tokens, e.run_id, e.created_at
FROM evaluations e JOIN controllers c USING (controller_id)
WHERE e.error IS NULL {runs}
  AND (c.origin <> 'explorer' OR c.controller_id IN (
       SELECT controller_id FROM candidates WHERE status = 'evaluated'
       QUALIFY rank() OVER (PARTITION BY run_id ORDER BY score DESC, controller_id) <= {top}))
QUALIFY dense_rank() OVER (PARTITION BY c.controller_id, e.benchmark, e.model ORDER BY e.created_at DESC) = 1
ORDER BY e.benchmark, e.model, c.origin, c.name, e.tokens
"""


@dataclass
class ReportData:
    curves: list[dict]
    rounds: list[dict]
    candidates: list[dict]
    best: list[dict]
    synthetic: bool
    unisolated_runs: list[str] = field(default_factory=list)  # discovery runs with --unsafe-no-isolation


def load(warehouse: str | Path, run_ids: list[str] | None = None, top: int = 3) -> ReportData:
    """Curves of baselines, user controllers and each discovery run's `top` candidates."""
    runs = ""
    params: list = []
    if run_ids:
        runs = f"AND e.run_id IN ({', '.join('?' * len(run_ids))})"
        params = list(run_ids)
    with connect(warehouse, read_only=True) as con:
        curves = con.sql(CURVES_SQL.format(runs=runs, top=int(top)), params=params).to_arrow_table().to_pylist()
        rounds = con.sql("SELECT * FROM discovery_progress ORDER BY run_id, round").to_arrow_table().to_pylist()
        candidates = con.sql("SELECT run_id, round, controller_id, status, score, gain, error FROM candidates "
                             "ORDER BY run_id, round").to_arrow_table().to_pylist()
        best = con.sql("SELECT run_id, controller_id, round, score, gain, source, feedback FROM candidates "
                       "WHERE status = 'evaluated' QUALIFY rank() OVER (PARTITION BY run_id ORDER BY score DESC, "
                       "controller_id) = 1").to_arrow_table().to_pylist()
        synthetic = bool(con.execute("SELECT coalesce(bool_or(synthetic), false) FROM banks").fetchone()[0])
        unisolated = [r[0] for r in con.execute(
            "SELECT run_id FROM runs WHERE kind = 'discover' "
            "AND json_extract_string(parameters, '$.unsafe_no_isolation') = 'true' ORDER BY started_at").fetchall()]
    return ReportData(curves, rounds, candidates, best, synthetic, unisolated)
