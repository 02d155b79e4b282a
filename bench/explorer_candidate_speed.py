"""Sandboxed evaluation time of a real-model candidate against the offline explorer's template.

The candidate is recorded reply 5 of ../shared/explorer-sessions (the best of a real frontier
model's six, scored 0.502 in that run; used by path, never copied); the references are the
offline explorer's template controller (explorer/template.py) rendered from its seeds. Each is
evaluated the way discovery does it, `replay_core.candidate.evaluate_candidate` (sandboxed), on
Qwen3-4B AIME24 with the same beta grid and permutations, one after the other in one process.
Reported: seconds (best of --repeat) and the ratio reply 5 / template. Goal of issue #17: <= 2x.

    python bench/explorer_candidate_speed.py [--betas 11] [--permutations 20] [--repeat 1] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench._shared import SHARED, have_stores, store  # noqa: E402
from explorer.parsing import extract_module  # noqa: E402
from explorer.template import SEEDS, render  # noqa: E402
from replay_core.candidate import evaluate_candidate  # noqa: E402
from trajectories.banking import load_bank  # noqa: E402

REPLY = SHARED / "explorer-sessions" / "reply-5.txt"


def seconds(bank, source: str, betas: list[float], permutations: int, repeat: int) -> float:
    """Best wall time of `repeat` sandboxed evaluations; a failed evaluation is an error, not a time."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = evaluate_candidate(bank, source, betas, permutations)
        best = min(best, time.perf_counter() - start)
        if not result.ok:
            raise SystemExit(f"the candidate failed: {result.error}")
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--betas", type=int, default=11)
    parser.add_argument("--permutations", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seeds", default=",".join(SEEDS), help="template seeds to compare with (comma-separated)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not have_stores() or not REPLY.is_file():
        print(f"skipped: needs the real stores and {REPLY}")
        return 0
    bank = load_bank([store("Qwen3-4B", "aime24")], mode="exact")
    betas = [float(b) for b in np.linspace(0, 1, args.betas)]
    reply = seconds(bank, extract_module(REPLY.read_text()), betas, args.permutations, args.repeat)
    rows = [{"candidate": "reply-5", "seconds": reply, "ratio": 1.0}]
    for name in args.seeds.split(","):
        took = seconds(bank, render(SEEDS[name]), betas, args.permutations, args.repeat)
        rows.append({"candidate": f"template:{name}", "seconds": took, "ratio": reply / took})
    if args.json:
        print(json.dumps({"store": "Qwen3-4B/aime24", "betas": args.betas, "permutations": args.permutations,
                          "rows": rows}))
        return 0
    print(f"Qwen3-4B AIME24, {args.betas} betas x {args.permutations} permutations, sandboxed (best of {args.repeat})")
    for r in rows:
        print(f"  {r['candidate']:<30} {r['seconds']:7.2f} s   reply-5 / this = {r['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
