"""Read-only queries: ad-hoc SQL for `autotts sql` (retried briefly while a writer holds the file), and
the views runs publish (leaders, champion history)."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from autotts.warehouse.db import connect


def run_sql(warehouse: str | Path, sql: str, wait_s: float = 10.0) -> pa.Table:
    """Run one query on a read-only connection (so it can never change the warehouse)."""
    with connect(warehouse, read_only=True, wait_s=wait_s) as con:
        relation = con.sql(sql)
        if relation is None:  # empty input, or a statement that returns no rows
            raise ValueError(f"nothing to show: give one SELECT query, e.g. \"SELECT * FROM leaderboard\" (got {sql!r})")
        return relation.to_arrow_table()


def champion_history(warehouse: str | Path, setup: dict) -> list[dict]:
    """The `champion_history` rows of one search split (a discovery run's stored set-up), oldest first."""
    split = [json.dumps(setup.get("search_benchmarks")), json.dumps(setup.get("search_models"))]
    with connect(warehouse, read_only=True) as con:
        return con.sql("SELECT * FROM champion_history WHERE search_benchmarks = json(?)::VARCHAR "
                       "AND search_models = json(?)::VARCHAR ORDER BY started_at, run_id",
                       params=split).to_arrow_table().to_pylist()


LEADERS_SQL = """
SELECT benchmark, model, controller, origin, score, gain_over_best_baseline, run_id
FROM leaderboard
WHERE rank = 1 AND run_id = coalesce(?, (SELECT s.run_id FROM scores s JOIN runs r USING (run_id)
                                          ORDER BY r.started_at DESC LIMIT 1))
ORDER BY benchmark, model
"""


def run_leaders(warehouse: str | Path, run_id: str | None = None) -> list[tuple]:
    """The leaderboard's rank-1 rows of `run_id` (else of the latest run that scored anything):
    (benchmark, model, controller, origin, score, gain_over_best_baseline, run_id)."""
    with connect(warehouse, read_only=True) as con:
        return con.execute(LEADERS_SQL, [run_id]).fetchall()
