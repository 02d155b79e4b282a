"""The warehouse rows a report draws, read in one read-only session: curves, discovery runs'
points, rounds, candidates and champions, conversations. report/data.py shapes them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autotts.warehouse.db import connect

# Per controller and group, its latest evaluation; explorer candidates only when among a run's `top`
# (ranked by the selection rule, the `candidate_ranking` view).
CURVES_SQL = """
SELECT c.name AS controller, c.controller_id, c.origin, e.benchmark, e.model, e.beta, e.accuracy, e.accuracy_low,
       e.accuracy_high, e.tokens, e.rounds, e.seq_tokens, e.run_id, e.created_at, b.synthetic
FROM evaluations e JOIN controllers c USING (controller_id) JOIN banks b ON b.bank_id = e.bank_id
WHERE e.error IS NULL {runs}
  AND (c.origin <> 'explorer' OR c.controller_id IN (
       SELECT controller_id FROM candidate_ranking WHERE selection_rank <= {top}))
QUALIFY dense_rank() OVER (PARTITION BY c.controller_id, e.benchmark, e.model ORDER BY e.created_at DESC) = 1
ORDER BY e.benchmark, e.model, c.origin, c.name, e.tokens
"""

# Every point of the selected discovery runs, for comparisons within one run.
RUN_POINTS_SQL = """
SELECT e.run_id, c.name AS controller, c.origin, e.benchmark, e.model, e.beta, e.accuracy, e.tokens, b.synthetic
FROM evaluations e JOIN controllers c USING (controller_id) JOIN banks b ON b.bank_id = e.bank_id
WHERE e.error IS NULL AND e.run_id IN (SELECT run_id FROM runs WHERE kind = 'discover') {runs}
ORDER BY e.run_id, c.name, e.benchmark, e.model, e.tokens
"""


@dataclass
class ReportRows:
    curves: list[dict]
    run_points: list[dict]
    rounds: list[dict]
    candidates: list[dict]
    best: list[dict]             # each discovery run's champion (selection_rank 1 of `candidate_ranking`)
    parameters: list[tuple]      # (run_id, parameters JSON) of discovery runs
    champions: list[dict]
    unisolated: list[str]
    conversations: list[dict]


def report_rows(warehouse: str | Path, run_ids: list[str] | None = None, top: int = 3) -> ReportRows:
    """Rows of `run_ids` (all runs when None); a run id the warehouse lacks is a ValueError."""
    runs = ""
    params: list = []
    if run_ids:
        runs = f"AND e.run_id IN ({', '.join('?' * len(run_ids))})"
        params = list(run_ids)
    with connect(warehouse, read_only=True) as con:
        known = {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
        missing = sorted(set(run_ids or []) - known)
        if missing:
            raise ValueError(f"no run {', '.join(missing)} in {warehouse}; its runs: {', '.join(sorted(known)) or 'none'} "
                             "(SELECT * FROM runs lists them)")
        curves = con.sql(CURVES_SQL.format(runs=runs, top=int(top)), params=params).to_arrow_table().to_pylist()
        run_points = con.sql(RUN_POINTS_SQL.format(runs=runs), params=params).to_arrow_table().to_pylist()
        rounds = con.sql("SELECT * FROM discovery_progress ORDER BY run_id, round").to_arrow_table().to_pylist()
        candidates = con.sql("SELECT run_id, round, controller_id, status, score, gain, error FROM candidates "
                             "ORDER BY run_id, round").to_arrow_table().to_pylist()
        best = con.sql("SELECT run_id, controller_id, round, score, gain, source, feedback FROM candidate_ranking "
                       "WHERE selection_rank = 1 ORDER BY run_id").to_arrow_table().to_pylist()
        parameters = con.execute("SELECT run_id, parameters FROM runs WHERE kind = 'discover'").fetchall()
        has_champions = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'champion_history'").fetchall()[0][0]
        champions = (con.sql("SELECT * FROM champion_history ORDER BY started_at, run_id").to_arrow_table().to_pylist()
                     if has_champions else [])  # a warehouse not yet migrated to schema 4 has none
        unisolated = [r[0] for r in con.execute(
            "SELECT run_id FROM runs WHERE kind = 'discover' "
            "AND json_extract_string(parameters, '$.unsafe_no_isolation') = 'true' ORDER BY started_at").fetchall()]
        conversations = []
        if con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'explorer_conversations'"
                       ).fetchall()[0][0]:  # a warehouse from before schema 5 has none
            conversations = con.sql("SELECT run_id, round, conversation, turn, explorer, role, content, input_tokens, "
                                    "output_tokens, cost_usd, tool_calls FROM explorer_conversations "
                                    "ORDER BY run_id, round, created_at, conversation, turn").to_arrow_table().to_pylist()
    return ReportRows(curves, run_points, rounds, candidates, best, parameters, champions, unisolated, conversations)
