"""Discovery on the real AutoTTS stores, as the paper does it: search on AIME24, hold out AIME25 and
HMMT25, for each model; then a Markdown table (docs/results.md) comparing the discovered controller's
held-out curve with the published rows of ../shared/data/README.md.

    python bench/real_discovery.py [--rounds 6] [--candidates 6] [--out docs/results.md]

Answers use the reference compatibility setting (string answers, ERR votes) so that our numbers and
the published ones are computed the same way.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import numpy as np  # noqa: E402

from bench._shared import BENCHMARKS, MODELS, have_stores, published_table, store  # noqa: E402
from replay_core.metrics import accuracy_at_budget, tokens_to_reach  # noqa: E402

PUBLISHED_METHODS = ("SC@64", "ASC", "ESC", "Parallel-Probe", "AutoTTS β=0.5", "AutoTTS β=1.0")


def run(warehouse: str, rounds: int, candidates: int, permutations: int, seed: int) -> dict:
    from flows.discover import discover_flow
    from flows.ingest import ingest_flow

    ingest_flow([str(store(m, b)) for m in MODELS for b in BENCHMARKS], warehouse, answer_mode="exact")
    return discover_flow(warehouse, search_benchmarks=["aime24"], holdout_benchmarks=["aime25", "hmmt25"],
                         rounds=rounds, candidates=candidates, permutations=permutations, holdout_permutations=100,
                         betas=7, holdout_top=1, seed=seed)


def table(summary: dict) -> str:
    published = published_table()
    best = next(c for c in summary["holdout"] if c["origin"] == "explorer" and not c["error"])
    sc = next(c for c in summary["holdout"] if c["controller"] == "sc")
    lines = [f"Discovery run `{summary['run_id']}`: {len(summary['rounds'])} rounds, offline explorer; "
             f"best candidate `{best['controller']}` (search score {summary['best'][0]['score']:.4f}, "
             f"gain over the best baseline on AIME24 {100 * summary['best'][0]['gain']:+.1f} points).", "",
             "| model | benchmark | method | accuracy % | tokens/question |", "|---|---|---|---|---|"]
    notes = []
    for model in MODELS:
        for bench in ("aime25", "hmmt25"):
            for method in PUBLISHED_METHODS:
                acc, tok = published[(model, method, bench)]
                lines.append(f"| {model} | {bench} | {method} (published) | {acc:.1f} | {tok / 1000:.1f}k |")
            ours = sorted((p for p in best["points"] if (p["benchmark"], p["model"]) == (bench, model)),
                          key=lambda p: p["beta"])
            for p in ours:
                lines.append(f"| {model} | {bench} | **discovered, β={p['beta']:.2f}** | {100 * p['accuracy']:.1f} "
                             f"| {p['tokens'] / 1000:.1f}k |")
            tokens = np.array([p["tokens"] for p in ours])
            accuracy = np.array([p["accuracy"] for p in ours])
            sc64 = max((p for p in sc["points"] if (p["benchmark"], p["model"]) == (bench, model)), key=lambda p: p["tokens"])
            reach = tokens_to_reach(tokens, accuracy, sc64["accuracy"])
            beats = []
            for beta in ("0.5", "1.0"):
                acc, tok = published[(model, f"AutoTTS β={beta}", bench)]
                ours_there = accuracy_at_budget(tokens, accuracy, np.array([tok]))[0]
                beats.append(f"at the published AutoTTS β={beta} budget ({tok / 1000:.0f}k) ours reaches "
                             f"{100 * ours_there:.1f}% vs {acc:.1f}%")
            share = f"{100 * reach / sc64['tokens']:.0f}% of its tokens" if np.isfinite(reach) else "never within this curve"
            notes.append(f"- {model} {bench}: SC@64's accuracy ({100 * sc64['accuracy']:.1f}%) reached with {share}; "
                         + "; ".join(beats) + ".")
    return "\n".join(lines + ["", *notes])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--permutations", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warehouse", default=None, help="default: a temporary file")
    parser.add_argument("--out", default=None, help="write the Markdown here (default: print)")
    args = parser.parse_args()
    if not have_stores():
        print("skipped: the real stores are not in ../shared/data/autotts-replay")
        return 0
    warehouse = args.warehouse or str(Path(tempfile.mkdtemp()) / "real.duckdb")
    summary = run(warehouse, args.rounds, args.candidates, args.permutations, args.seed)
    text = table(summary)
    command = (f"python bench/real_discovery.py --rounds {args.rounds} --candidates {args.candidates} "
               f"--permutations {args.permutations} --seed {args.seed}")
    document = ("# Results on the real AutoTTS stores\n\nProduced by `" + command + "`. Search split: AIME24 (all three models); held out: AIME25 and HMMT25. "
                "Published rows are read from ../shared/data/README.md; ours are 100-permutation replays "
                "with the reference answer semantics.\n\n" + text + "\n")
    if args.out:
        Path(args.out).write_text(document)
    print(document)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
