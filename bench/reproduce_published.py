"""Reproduce the published baseline rows of ../shared/data/README.md on the real AutoTTS stores.

Runs SC@64, ASC (64, 0.95), ESC (64, window 8), Parallel-Probe (64 chains) and the paper's own
discovered controller (`cmc`, Confidence Momentum, at beta 0.5 and 1.0) with the reference
compatibility setting (string answers, ERR votes) and 100 permutations, and prints a Markdown
table of ours vs published, with the difference in questions and in tokens.

    python bench/reproduce_published.py [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._shared import BENCHMARKS, MODELS, have_stores, published_table, store  # noqa: E402
from replay_core.baselines import BASELINES  # noqa: E402
from replay_core.evaluate import default_workers, evaluate  # noqa: E402
from autotts.trajectories.banking import load_bank  # noqa: E402

# label -> (published row, controller, knobs, beta). "ASC, 40 samples" shows which setting the
# published Qwen3-4B ASC cells used (the reference ASC solver's default maximum of 40 samples).
METHODS = {
    "SC@64": ("SC@64", "sc", {"k": 64}, 1.0),
    "ASC": ("ASC", "asc", {"threshold": 0.95, "max_samples": 64}, 1.0),
    "ASC, 40 samples": ("ASC", "asc", {"threshold": 0.95, "max_samples": 40}, 1.0),
    "ESC": ("ESC", "esc", {"window": 8, "max_samples": 64}, 1.0),
    "Parallel-Probe": ("Parallel-Probe", "parallel-probe",
                       {"chains": 64, "stable": 40, "patience": 7, "warmup": 15}, 1.0),
    "AutoTTS β=0.5": ("AutoTTS β=0.5", "cmc", {}, 0.5),
    "AutoTTS β=1.0": ("AutoTTS β=1.0", "cmc", {}, 1.0),
}


def reproduce(permutations: int = 100, workers: int = 1) -> list[dict]:
    published = published_table()
    rows = []
    for model in MODELS:
        for bench in BENCHMARKS:
            bank = load_bank([store(model, bench)], mode="exact")
            for method, (row, name, knobs, beta) in METHODS.items():
                factory = lambda beta, name=name, knobs=knobs: BASELINES[name].make_controller(beta, **knobs)  # noqa: E731
                res = evaluate(bank, factory, [beta], permutations=permutations, workers=workers)[beta]
                pub_acc, pub_tok = published[(model, row, bench)]
                acc, tok = 100 * res.correct.mean(), res.tokens.mean()
                rows.append({
                    "model": model, "benchmark": bench, "method": method, "accuracy": acc, "tokens": tok,
                    "published_accuracy": pub_acc, "published_tokens": pub_tok,
                    "questions_off": (acc - pub_acc) / 100 * bank.n_questions,
                    "tokens_off_pct": 100 * (tok - pub_tok) / pub_tok,
                })
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--permutations", type=int, default=100)
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not have_stores():
        print("skipped: the real stores are not in ../shared/data/autotts-replay")
        return 0
    rows = reproduce(args.permutations, args.workers)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print("| model | benchmark | method | ours acc % | published | questions off | ours tokens | published | tokens off |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['benchmark']} | {r['method']} | {r['accuracy']:.1f} | {r['published_accuracy']:.1f} "
              f"| {r['questions_off']:+.2f} | {r['tokens'] / 1000:.1f}k | {r['published_tokens'] / 1000:.1f}k "
              f"| {r['tokens_off_pct']:+.1f}% |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
