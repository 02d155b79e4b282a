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


def pooled_gains(warehouse: str, run_id: str | None, permutations: int
                 ) -> tuple[str, list[tuple[str, str, int, float | None, int | None]]]:
    """(run whose baselines are the bar, per search fold of that run: benchmark, model, distinct
    points pooled, pooled gain in points, budgets of 64 still below the envelope; None where
    nothing was pooled). The pool: candidates of every discovery run on the same search split,
    on that split only (held-out evaluations never enter), one point per (program, fold, beta)."""
    with connect(warehouse, read_only=True) as con:
        runs = con.execute("SELECT run_id, parameters FROM runs WHERE kind = 'discover' ORDER BY started_at").fetchall()
        if not runs:
            raise SystemExit(f"error: no discovery run in {warehouse}")
        setups = {run: json.loads(parameters or "{}") for run, parameters in runs}
        run_id = run_id or runs[-1][0]
        if run_id not in setups:
            raise SystemExit(f"error: no discovery run {run_id} in {warehouse}")
        split = lambda setup: (setup.get("search_benchmarks"), setup.get("search_models"))  # noqa: E731
        same_split = [run for run, setup in setups.items() if split(setup) == split(setups[run_id])]
        baselines = con.execute(f"SELECT {COLUMNS} FROM baseline_curves WHERE run_id = ?", [run_id]).fetchall()
        pooled = con.execute(f"SELECT controller_id, {COLUMNS} FROM evaluations JOIN candidates "
                             "USING (run_id, controller_id) WHERE candidates.status = 'evaluated' "
                             "AND evaluations.error IS NULL AND evaluations.permutations = ? "
                             "AND list_contains(?, run_id)", [permutations, same_split]).fetchall()
    benchmarks, models = split(setups[run_id])
    on_split = lambda row: (not benchmarks or row[1] in benchmarks) and (not models or row[2] in models)  # noqa: E731
    baselines = [row for row in baselines if on_split(row)]
    if not baselines:
        raise SystemExit(f"error: run {run_id} has no baseline curves on its search split in {warehouse}")
    points = {(cid, row[1], row[2], row[0]): row for cid, *row in pooled if on_split(row)}  # a re-scored program once
    scoring = Scoring.from_points([Point(*row, questions=0, permutations=permutations) for row in baselines])
    out: list[tuple[str, str, int, float | None, int | None]] = []
    for (benchmark, model), (low, high) in sorted(scoring.ranges.items()):
        mine = [row for row in points.values() if (row[1], row[2]) == (benchmark, model)]
        if not mine:
            out.append((benchmark, model, 0, None, None))
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
    print(f"Every candidate row measured on {args.permutations} permutations by the discovery runs on run {run_id}'s "
          f"search split in {args.warehouse}, pooled per fold, against that run's baseline envelope:\n")
    print("| benchmark | model | points pooled | pooled gain (points) | budgets still below (of 64) |")
    print("|---|---|---|---|---|")
    for benchmark, model, n, gain, below in folds:
        print(f"| {benchmark} | {model} | {n} | " + ("no points |  |" if gain is None else f"{gain:+.2f} | {below} |"))


if __name__ == "__main__":
    main()
