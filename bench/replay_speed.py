"""Replay throughput of every baseline on the real Qwen3-4B stores, 100 permutations.

For each store and baseline (at its published operating point) it reports episodes/s and
actions/s on one core, and the wall time with all cores, next to the public reference
implementation's time for the same work as the issue records it (one core, this machine kind:
30 questions x 100 shuffles, one beta point). Run:

    python bench/replay_speed.py [--repeat 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._shared import BENCHMARKS, have_stores, store  # noqa: E402
from replay_core.baselines import BASELINES  # noqa: E402
from replay_core.evaluate import default_workers, evaluate  # noqa: E402
from autotts.trajectories.banking import load_bank  # noqa: E402

# Reference (public AutoTTS code) seconds for one store, one core, as recorded in issue #2.
REFERENCE_SECONDS = {"sc": 0.5, "asc": 3.3, "esc": 3.0, "parallel-probe": 23.0}
SETTINGS = {
    "sc": {"k": 64}, "asc": {"threshold": 0.95}, "esc": {"window": 8},
    "parallel-probe": {"chains": 64, "stable": 40}, "first-k": {"k": 8}, "cmc": {},
}


def measure(bank, name: str, workers: int, repeat: int) -> tuple[float, int, int]:
    """Best wall time of `repeat` runs, with the episode and action counts of the work."""
    factory = lambda beta: BASELINES[name].make_controller(beta, **SETTINGS[name])  # noqa: E731
    evaluate(bank, factory, [1.0], permutations=5, workers=1)  # warm caches (permutations, imports)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        res = evaluate(bank, factory, [1.0], permutations=100, workers=workers)[1.0]
        best = min(best, time.perf_counter() - start)
    return best, len(res), int(res.actions.sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not have_stores():
        print("skipped: the real stores are not in ../shared/data/autotts-replay")
        return 0
    cores = default_workers()
    rows = []
    for bench in BENCHMARKS:
        bank = load_bank([store("Qwen3-4B", bench)], mode="exact")
        for name in SETTINGS:
            one, episodes, actions = measure(bank, name, 1, args.repeat)
            many = measure(bank, name, cores, args.repeat)[0] if cores > 1 else one
            rows.append({"store": f"Qwen3-4B/{bench}", "controller": name, "seconds_1_core": one,
                         f"seconds_{cores}_cores": many, "episodes_per_s": episodes / one,
                         "actions_per_s": actions / one, "actions": actions,
                         "reference_seconds": REFERENCE_SECONDS.get(name) if bench == "aime24" else None})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"| store | controller | 1 core (s) | {cores} cores (s) | episodes/s | actions/s | reference, 1 core (s) | speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = r["reference_seconds"]
        speedup = f"{ref / r['seconds_1_core']:.0f}x" if ref else "-"
        print(f"| {r['store']} | {r['controller']} | {r['seconds_1_core']:.3f} | {r[f'seconds_{cores}_cores']:.3f} "
              f"| {r['episodes_per_s']:,.0f} | {r['actions_per_s']:,.0f} | {ref or '-'} | {speedup} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
