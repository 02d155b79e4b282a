"""How far could any table of the rows a discovery has measured go? An upper bound per search fold.

Every operating point any candidate reached in a warehouse (at one fidelity) is pooled per
(benchmark, model) fold, and the pool's accuracy-at-budget is compared with the baseline envelope
at matched budgets, by the search score's rule. No controller holds every row of the pool (a
table has one row per beta step, and one program's rows share its components), so a fold whose
pooled gain is short of a target cannot reach it by re-assembling rows already measured: the search
needs a new mechanism there, not more rounds of the same.

    python bench/row_union.py --warehouse W              # the latest discovery run's baselines
    python bench/row_union.py --warehouse W --run RUN    # another run's
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from replay_core.metrics import Point, Scoring, accuracy_at_budget, budget_grid  # noqa: E402
from autotts.warehouse.db import connect  # noqa: E402

COLUMNS = "beta, benchmark, model, accuracy, tokens, rounds, seq_tokens, accuracy_low, accuracy_high"


def pooled_gains(warehouse: str, run_id: str | None, permutations: int) -> tuple[str, list[tuple[str, str, int, float, int]]]:
    """(run whose baselines are the bar, per search fold of that run: benchmark, model, points
    pooled, pooled gain in points, budgets of 64 still below the envelope)."""
    with connect(warehouse, read_only=True) as con:
        run_id = run_id or con.execute("SELECT run_id FROM runs WHERE kind = 'discover' "
                                       "ORDER BY started_at DESC LIMIT 1").fetchone()[0]
        found = con.execute("SELECT parameters FROM runs WHERE run_id = ?", [run_id]).fetchone()
        if found is None:
            raise SystemExit(f"error: no discovery run {run_id} in {warehouse}")
        search = json.loads(found[0])["search_benchmarks"]
        baselines = con.execute(f"SELECT {COLUMNS} FROM baseline_curves WHERE run_id = ? AND list_contains(?, benchmark)",
                                [run_id, search]).fetchall()
        pooled = con.execute(f"SELECT {COLUMNS} FROM evaluations JOIN candidates USING (run_id, controller_id) "
                             "WHERE candidates.status = 'evaluated' AND evaluations.permutations = ?",
                             [permutations]).fetchall()
    if not baselines:
        raise SystemExit(f"error: run {run_id} has no baseline curves in {warehouse}")
    scoring = Scoring.from_points([Point(*row, questions=0, permutations=permutations) for row in baselines])
    out = []
    for (benchmark, model), (low, high) in sorted(scoring.ranges.items()):
        mine = [row for row in pooled if (row[1], row[2]) == (benchmark, model)]
        if not mine:
            continue
        grid = budget_grid(low, high)
        gap = (accuracy_at_budget([r[4] for r in mine], [r[3] for r in mine], grid)
               - accuracy_at_budget(*scoring.baselines[(benchmark, model)], grid))
        out.append((benchmark, model, len(mine), 100 * float(gap.mean()), int((gap < -1e-12).sum())))
    return run_id, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", required=True, help="a discovery warehouse (DuckDB file)")
    parser.add_argument("--run", help="the discovery run whose baseline curves are the bar (default: the latest)")
    parser.add_argument("--permutations", type=int, default=100,
                        help="pool only points measured on this many permutations (default 100: full fidelity)")
    args = parser.parse_args()
    try:
        run_id, folds = pooled_gains(args.warehouse, args.run, args.permutations)
    except FileNotFoundError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"Every candidate row measured on {args.permutations} permutations in {args.warehouse}, pooled per fold, "
          f"against the baseline envelope of run {run_id}:\n")
    print("| benchmark | model | points pooled | pooled gain (points) | budgets still below (of 64) |")
    print("|---|---|---|---|---|")
    for benchmark, model, n, gain, below in folds:
        print(f"| {benchmark} | {model} | {n} | {gain:+.2f} | {below} |")


if __name__ == "__main__":
    main()
