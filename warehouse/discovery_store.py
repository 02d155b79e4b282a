"""One discovery run's rows in the warehouse: its candidates, search-split curves, rounds and
explorer conversations, behind a few named methods.

The warehouse owns all SQL; the discovery logic (autotts.explorer.programs_db, autotts.explorer.discovery) stays
storage-free and is handed a `DiscoveryStore`. Every write is one short transaction (DuckDB allows
one writer per file, and people query between our writes). A candidate is passed in as any object
with the `candidates` columns as attributes (autotts.explorer.programs_db.Program) and read back as a dict
of those columns, so this package needs nothing from the explorer.
"""
from __future__ import annotations

import json
from pathlib import Path

from replay_core.metrics import Point, Scoring
from autotts.warehouse.db import connect, now, transaction
from autotts.warehouse.results import CurveResult, write_results

CANDIDATE_COLUMNS = ("controller_id", "round", "island", "source", "parents", "explorer", "status", "score", "gain",
                     "error", "feedback", "carried_from", "permutations", "curve", "fold_gains", "worst_gain")
POINT_COLUMNS = ("e.beta, e.benchmark, e.model, e.accuracy, e.tokens, e.rounds, e.seq_tokens, e.accuracy_low, "
                 "e.accuracy_high, e.questions, e.permutations")
JSON_COLUMNS = ("parents", "curve", "fold_gains")


class DiscoveryStore:
    """The warehouse rows of discovery run `run_id`."""

    def __init__(self, warehouse: str | Path, run_id: str):
        self.warehouse, self.run_id = str(warehouse), run_id

    # ------------------------------------------------------------------ candidates
    def candidates(self, runs: list[str] | None = None) -> list[dict]:
        """This run's candidates (with `runs`: those runs' candidates instead), oldest run first, then
        by round and proposal time; each a dict of CANDIDATE_COLUMNS plus the `run_id` it belongs to."""
        wanted = runs if runs is not None else [self.run_id]
        if not wanted:
            return []
        with connect(self.warehouse) as con:
            rows = con.execute(f"SELECT {', '.join('c.' + c for c in CANDIDATE_COLUMNS)}, c.run_id FROM candidates c "
                               "JOIN runs r USING (run_id) WHERE list_contains(?, c.run_id) "
                               "ORDER BY r.started_at, c.round, c.proposed_at", [wanted]).fetchall()
        out = []
        for row in rows:
            record = dict(zip(CANDIDATE_COLUMNS + ("run_id",), row))
            for column in JSON_COLUMNS:
                record[column] = json.loads(record[column]) if record[column] else None
            out.append(record)
        return out

    def register(self, candidates: list) -> None:
        """Record proposals before they are evaluated (one transaction), so a killed round resumes
        with the same ones."""
        with transaction(self.warehouse) as con:
            for c in candidates:
                con.execute("INSERT INTO candidates (run_id, round, controller_id, island, parents, explorer, source, "
                            "status, proposed_at, carried_from) VALUES (?, ?, ?, ?, ?, ?, ?, 'proposed', ?, ?)",
                            [self.run_id, c.round, c.controller_id, c.island, json.dumps(c.parents), c.explorer,
                             c.source, now(), c.carried_from])

    def record(self, candidate) -> None:
        """Store a candidate's outcome (one short transaction)."""
        with transaction(self.warehouse) as con:
            con.execute("UPDATE candidates SET status = ?, score = ?, gain = ?, error = ?, feedback = ?, evaluated_at = ?, "
                        "permutations = ?, curve = ?, fold_gains = ?, worst_gain = ? WHERE run_id = ? AND controller_id = ?",
                        [candidate.status, candidate.score, candidate.gain, candidate.error, candidate.feedback, now(),
                         candidate.permutations, json.dumps(candidate.curve) if candidate.curve else None,
                         json.dumps(candidate.fold_gains) if candidate.fold_gains else None, candidate.worst_gain,
                         self.run_id, candidate.controller_id])

    def champions(self, n: int = 1) -> list[str]:
        """The run's selection rule, the `candidate_ranking` view (its one definition): the ids of
        the best `n` candidates scored at the highest fidelity reached, champion first."""
        with connect(self.warehouse, read_only=True) as con:
            rows = con.execute("SELECT controller_id FROM candidate_ranking WHERE run_id = ? "
                               "AND permutations IS NOT DISTINCT FROM top_permutations "
                               "ORDER BY selection_rank LIMIT ?", [self.run_id, n]).fetchall()
        return [cid for (cid,) in rows]

    def chosen_champions(self, runs: list[str]) -> list[str]:
        """The champions (and runners-up) completed runs `runs` chose by their selection rule, so a
        later night can carry them over whatever their islands' scores."""
        if not runs:
            return []
        with connect(self.warehouse, read_only=True) as con:
            rows = con.execute("SELECT controller_id, runner_up FROM run_champions WHERE list_contains(?, run_id) "
                               "ORDER BY decided_at", [runs]).fetchall()
        return list(dict.fromkeys(cid for row in rows for cid in row if cid))

    # ------------------------------------------------------------------ curves
    def search_curves(self) -> tuple[dict[str, list[Point]], dict[str, list[Point]]]:
        """The run's search-split curves so far: (baselines by name, explorer candidates by controller_id).
        Held-out evaluations of the run (other benchmarks or models than its search split) are left out,
        so nothing the search reads was measured on the held-out split."""
        with connect(self.warehouse) as con:
            found = con.execute("SELECT parameters FROM runs WHERE run_id = ?", [self.run_id]).fetchone()
            rows = con.execute(f"SELECT c.name, c.origin, e.controller_id, {POINT_COLUMNS} FROM evaluations e "
                               "JOIN controllers c USING (controller_id) WHERE e.run_id = ? AND e.error IS NULL "
                               "ORDER BY e.beta, e.benchmark, e.model, e.controller_id", [self.run_id]).fetchall()
        setup = json.loads(found[0] or "{}") if found else {}
        benchmarks, models = setup.get("search_benchmarks"), setup.get("search_models")
        baselines: dict[str, list[Point]] = {}
        candidates: dict[str, list[Point]] = {}
        for name, origin, cid, *point in rows:
            p = Point(*point)
            if (benchmarks and p.benchmark not in benchmarks) or (models and p.model not in models):
                continue
            if origin == "baseline":
                baselines.setdefault(name, []).append(p)
            else:
                candidates.setdefault(cid, []).append(p)
        return baselines, candidates

    def baseline_points(self) -> list[Point]:
        """The baselines' points this run stored (a resumed run reads them back instead of replaying)."""
        with connect(self.warehouse, read_only=True) as con:
            rows = con.execute(f"SELECT {POINT_COLUMNS} FROM evaluations e JOIN controllers c USING (controller_id) "
                               "WHERE e.run_id = ? AND c.origin = 'baseline' AND e.error IS NULL", [self.run_id]).fetchall()
        return [Point(*r) for r in rows]

    def write_curves(self, results: list[CurveResult], scoring: Scoring | None = None, frontier: bool = True) -> None:
        """Store curves under this run (autotts.warehouse.results.write_results)."""
        write_results(self.warehouse, self.run_id, results, scoring, frontier=frontier)

    # ------------------------------------------------------------------ rounds and conversations
    def record_round(self, rnd: int, explorer: str, candidates: int, failures: int, best_score: float | None,
                     input_tokens: int, output_tokens: int, cost_usd: float, seconds: float) -> None:
        """Mark a round written (once: a resumed round that was already written keeps its row)."""
        with transaction(self.warehouse) as con:
            con.execute("INSERT INTO discovery_rounds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        [self.run_id, rnd, explorer, candidates, failures, best_score, input_tokens, output_tokens,
                         cost_usd, seconds, now()])

    def save_conversation(self, rnd: int, conversation) -> None:
        """Write every turn of an explorer conversation (autotts.explorer.conversations.Conversation), one
        transaction; a conversation is never overwritten."""
        stamp = now()
        with transaction(self.warehouse) as con:
            con.executemany("INSERT INTO explorer_conversations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [[self.run_id, rnd, conversation.conversation, i, conversation.explorer, t.role,
                              json.dumps(t.content, default=str), t.input_tokens, t.output_tokens, t.cost_usd,
                              t.tool_calls, stamp] for i, t in enumerate(conversation.turns)])

    def conversation_turns(self, rnd: int | None = None) -> list[tuple]:
        """The run's conversation turns (optionally of one round), in order: (conversation, explorer,
        role, content, input_tokens, output_tokens, cost_usd, tool_calls), content as JSON text."""
        with connect(self.warehouse, read_only=True) as con:
            return con.execute("SELECT conversation, explorer, role, content, input_tokens, output_tokens, cost_usd, "
                               "tool_calls FROM explorer_conversations WHERE run_id = ? AND (? IS NULL OR round = ?) "
                               "ORDER BY created_at, conversation, turn", [self.run_id, rnd, rnd]).fetchall()
