"""The paper's ablations on the real AutoTTS stores: discovery with and without beta-parameterisation
and with and without trace feedback, several seeds each, at equal candidate budgets.

    python bench/ablate.py [--seeds 3] [--rounds 4] [--candidates 6] [--permutations 6] [--out docs/results.md]

Every discovery runs in one warehouse (search: AIME24 of the three models; held out: AIME25 and
HMMT25; reference answer semantics), so `autotts report --warehouse W` draws the same curves. The
Markdown (best score versus candidates, mean and spread over seeds, and the champions' held-out gain
over the best baseline at matched budgets) replaces the ablations section of `--out`.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import numpy as np  # noqa: E402

from bench._shared import BENCHMARKS, MODELS, have_stores, replace_section, store  # noqa: E402
from autotts.explorer.ablation import VARIANTS, summarize_runs  # noqa: E402

SECTION = "ablations"


def run_all(warehouse: str, seeds: int, rounds: int, candidates: int, permutations: int, holdout_permutations: int,
            betas: int) -> float:
    from autotts.flows.discover import discover_flow
    from autotts.flows.ingest import ingest_flow

    ingest_flow([str(store(m, b)) for m in MODELS for b in BENCHMARKS], warehouse, answer_mode="exact")
    started = time.monotonic()
    for seed in range(seeds):
        for name, flags in VARIANTS.items():
            print(f"ablation {name}, seed {seed}", flush=True)
            discover_flow(warehouse, search_benchmarks=["aime24"], holdout_benchmarks=["aime25", "hmmt25"],
                          rounds=rounds, candidates=candidates, permutations=permutations, betas=betas,
                          holdout_permutations=holdout_permutations, holdout_top=1, seed=seed, **flags)
    return time.monotonic() - started


def markdown(warehouse: str, candidates: int, command: str, seconds: float | None) -> str:
    from autotts.warehouse.discovery_runs import discovery_runs

    summaries = summarize_runs(discovery_runs(warehouse))
    candidates = len(summaries[0].curve_mean) if summaries else candidates
    marks = sorted({max(1, candidates // 4), max(1, candidates // 2), max(1, 3 * candidates // 4), candidates})
    lines = [f"Produced by `{command}`" + (f" in {seconds / 60:.0f} min" if seconds else "") + ". Each variant runs "
             "the offline explorer with the same number of candidates per seed; a candidate's score counts once it "
             "is scored at full fidelity (successive halving promotes the best third of each rung). The score is the "
             "normalised area under accuracy-at-budget over the baselines' budget range on the search split (AIME24, "
             "three models); the held-out gain is the champion's mean accuracy gain over the best baseline envelope "
             "at matched budgets on AIME25 and HMMT25 (percentage points).", "",
             "| variant | seeds | " + " | ".join(f"best after {m}" for m in marks) + " | held-out gain |",
             "|---|---|" + "---|" * len(marks) + "---|"]
    for s in summaries:
        cells = [f"{s.curve_mean[m - 1]:.4f} ({s.curve_low[m - 1]:.4f}–{s.curve_high[m - 1]:.4f})"
                 if np.isfinite(s.curve_mean[m - 1]) else "–" for m in marks]
        lines.append(f"| {s.variant} | {s.runs} | " + " | ".join(cells)
                     + f" | {100 * s.holdout_gain_mean:+.1f} ± {100 * s.holdout_gain_spread:.1f} |")
    lines += ["", "Cells: mean over seeds of the best score found so far (min–max over seeds)."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--candidates", type=int, default=6, help="candidates per round")
    parser.add_argument("--permutations", type=int, default=6)
    parser.add_argument("--holdout-permutations", type=int, default=20)
    parser.add_argument("--betas", type=int, default=11)
    parser.add_argument("--warehouse", default=None, help="default: a temporary file")
    parser.add_argument("--reuse", action="store_true", help="only summarise the runs already in --warehouse")
    parser.add_argument("--out", default=None, help="replace the ablations section of this Markdown file")
    args = parser.parse_args()
    if not have_stores():
        print("skipped: the real stores are not in ../shared/data/autotts-replay")
        return 0
    warehouse = args.warehouse or str(Path(tempfile.mkdtemp()) / "ablations.duckdb")
    seconds = None
    if not args.reuse:
        seconds = run_all(warehouse, args.seeds, args.rounds, args.candidates, args.permutations,
                          args.holdout_permutations, args.betas)
    command = (f"python bench/ablate.py --seeds {args.seeds} --rounds {args.rounds} --candidates {args.candidates} "
               f"--permutations {args.permutations} --holdout-permutations {args.holdout_permutations} "
               f"--betas {args.betas}")
    text = markdown(warehouse, args.rounds * args.candidates, command, seconds)
    if args.out:
        replace_section(Path(args.out), SECTION, "## Ablations\n\n" + text)
    print(text)
    print(f"warehouse: {warehouse}  (autotts report --warehouse {warehouse} draws the curves)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
