"""What a report shows, read from the warehouse in a few queries."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from explorer.ablation import summarize_runs
from warehouse.db import connect
from warehouse.discovery_runs import discovery_runs

# Per controller and group, its latest evaluation; explorer candidates only when among a run's `top`
# (ranked by the selection rule, the `candidate_ranking` view: ProgramsDatabase.champions).
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
class ReportData:
    curves: list[dict]
    rounds: list[dict]
    candidates: list[dict]
    best: list[dict]
    synthetic: bool                     # every group's data are synthetic
    run_points: list[dict]              # all points of discovery runs, by run
    search_splits: dict[str, dict]      # discovery run -> {"benchmarks": [...] | None, "models": [...] | None}
    baseline_info: dict[str, dict]      # built-in controller name -> {"title", "summary"}
    champions: list[dict] = field(default_factory=list)   # champion_history, oldest first
    ablations: list = field(default_factory=list)         # explorer.ablation.AblationSummary per variant
    conversations: list[dict] = field(default_factory=list)   # LLM explorer turns, in order
    unisolated_runs: list[str] = field(default_factory=list)  # discovery runs with --unsafe-no-isolation

    def is_search_group(self, run_id: str, benchmark: str, model: str) -> bool:
        """Whether a discovery run searched on this group (None in a split means all of them)."""
        split = self.search_splits.get(run_id, {})
        return ((split.get("benchmarks") is None or benchmark in split["benchmarks"])
                and (split.get("models") is None or model in split["models"]))


def load(warehouse: str | Path, run_ids: list[str] | None = None, top: int = 3) -> ReportData:
    """Curves of baselines, user controllers and each discovery run's `top` candidates."""
    from replay_core.baselines import BASELINES

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
    if run_ids:
        best = [b for b in best if b["run_id"] in run_ids]
        rounds = [r for r in rounds if r["run_id"] in run_ids]
        candidates = [c for c in candidates if c["run_id"] in run_ids]
    splits = {}
    for run_id, text in parameters:
        p = json.loads(text) if isinstance(text, str) else (text or {})
        splits[run_id] = {"benchmarks": p.get("search_benchmarks"), "models": p.get("search_models")}
    synthetic = bool(curves) and all(c["synthetic"] for c in curves)
    info = {name: {"title": b.title, "summary": b.summary} for name, b in BASELINES.items()}
    return ReportData(curves, rounds, candidates, best, synthetic, run_points, splits, info, champions,
                      summarize_runs(discovery_runs(warehouse)), conversations, unisolated)
