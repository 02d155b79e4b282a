"""What a report shows, from the warehouse's report rows (warehouse/report_rows.py)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from autotts.explorer.ablation import summarize_runs
from autotts.warehouse.discovery_runs import discovery_runs
from autotts.warehouse.report_rows import report_rows


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
    ablations: list = field(default_factory=list)         # autotts.explorer.ablation.AblationSummary per variant
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

    rows = report_rows(warehouse, run_ids, top)
    curves, best, rounds, candidates = rows.curves, rows.best, rows.rounds, rows.candidates
    if run_ids:
        best = [b for b in best if b["run_id"] in run_ids]
        rounds = [r for r in rounds if r["run_id"] in run_ids]
        candidates = [c for c in candidates if c["run_id"] in run_ids]
    splits = {}
    for run_id, text in rows.parameters:
        p = json.loads(text) if isinstance(text, str) else (text or {})
        splits[run_id] = {"benchmarks": p.get("search_benchmarks"), "models": p.get("search_models")}
    synthetic = bool(curves) and all(c["synthetic"] for c in curves)
    info = {name: {"title": b.title, "summary": b.summary} for name, b in BASELINES.items()}
    return ReportData(curves, rounds, candidates, best, synthetic, rows.run_points, splits, info, rows.champions,
                      summarize_runs(discovery_runs(warehouse)), rows.conversations, rows.unisolated)
