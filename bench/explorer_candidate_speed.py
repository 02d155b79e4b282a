"""Sandboxed evaluation time of a real-model candidate against the offline explorer's seed programs.

The candidate is recorded reply 5 of ../shared/explorer-sessions (the best of a real frontier
model's six, scored 0.502 in that run; used by path, never copied); the references are the
offline explorer's best program, shipped as the built-in `discovered`, and its grammar programs
(explorer/grammar.py) rendered from its seed programs. Each is
evaluated the way discovery does it, `replay_core.candidate.evaluate_candidate` (sandboxed), on
Qwen3-4B AIME24 with the same beta grid and permutations, one after the other in one process.
Reported: wall seconds and CPU seconds (this process plus the sandbox and the jail's processes,
which it reaps as a child subreaper; steadier than wall time on a shared machine), best of
--repeat, and the ratios reply 5 / template. Goal of issue #17: <= 2x.

    python bench/explorer_candidate_speed.py [--betas 11] [--permutations 20] [--repeat 1] [--json]
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench._shared import SHARED, have_stores, store  # noqa: E402
from autotts.explorer.parsing import extract_module  # noqa: E402
from autotts.explorer.grammar import render  # noqa: E402
from autotts.explorer.offline import SEEDS, seed_genome  # noqa: E402
from replay_core.candidate import evaluate_candidate  # noqa: E402
from replay_core.sandbox import Limits  # noqa: E402
from autotts.trajectories.banking import load_bank  # noqa: E402

REPLY = SHARED / "explorer-sessions" / "reply-5.txt"
SHIPPED = Path(__file__).resolve().parent.parent / "replay_core" / "baselines" / "discovered.py"
# Discovery's limits except wall-clock: on a loaded shared machine reply 5 can pass discovery's
# 300 s total while using a fraction of its CPU limit, and a timeout measures nothing.
LIMITS = Limits(round_seconds=120.0, total_seconds=3600.0)


def _collect_jail(grace: float = 2.0) -> None:
    """Reap the jail's processes, which this process (a child subreaper) inherits, so that their CPU
    time counts in RUSAGE_CHILDREN: until none is left, waiting up to `grace` seconds for those
    still exiting after their sandbox closed."""
    until = time.monotonic() + grace
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() >= until:
                return
            time.sleep(0.01)


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the sandboxes and the jail's processes)."""
    _collect_jail()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def seconds(bank, source: str, betas: list[float], permutations: int, repeat: int) -> tuple[float, float]:
    """Best (wall, CPU) seconds of `repeat` sandboxed evaluations; a failure is an error, not a time."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        start_cpu = _cpu()  # reaps the previous evaluation's processes before the clock starts
        start = time.perf_counter()
        result = evaluate_candidate(bank, source, betas, permutations, LIMITS)
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, _cpu() - start_cpu)
        if not result.ok:
            raise SystemExit(f"the candidate failed: {result.error}")
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--betas", type=int, default=11)
    parser.add_argument("--permutations", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seeds", default=",".join(str(i) for i in range(len(SEEDS))),
                        help="seed programs to compare with, by index (comma-separated)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: the jail's processes end as ours, and are counted
    if not have_stores() or not REPLY.is_file():
        print(f"skipped: needs the real stores and {REPLY}")
        return 0
    bank = load_bank([store("Qwen3-4B", "aime24")], mode="exact")
    betas = [float(b) for b in np.linspace(0, 1, args.betas)]
    wall, cpu = seconds(bank, extract_module(REPLY.read_text()), betas, args.permutations, args.repeat)
    rows = [{"candidate": "reply-5", "wall_s": wall, "cpu_s": cpu, "wall_ratio": 1.0, "cpu_ratio": 1.0}]
    references = [("discovered: the offline explorer's best (shipped)", SHIPPED.read_text())]
    for index in (int(i) for i in args.seeds.split(",")):
        genome = seed_genome(index, args.betas)
        references.append((f"seed {index}: {genome.title()}", render(genome)))
    for name, source in references:
        took, took_cpu = seconds(bank, source, betas, args.permutations, args.repeat)
        rows.append({"candidate": name, "wall_s": took, "cpu_s": took_cpu,
                     "wall_ratio": wall / took, "cpu_ratio": cpu / took_cpu})
    if args.json:
        print(json.dumps({"store": "Qwen3-4B/aime24", "betas": args.betas, "permutations": args.permutations,
                          "rows": rows}))
        return 0
    print(f"Qwen3-4B AIME24, {args.betas} betas x {args.permutations} permutations, sandboxed (best of {args.repeat})")
    print(f"  {'candidate':<90} {'wall':>8} {'CPU':>8}   reply-5 / this (wall, CPU)")
    for r in rows:
        print(f"  {r['candidate']:<90} {r['wall_s']:7.2f}s {r['cpu_s']:7.2f}s   {r['wall_ratio']:.2f}x  {r['cpu_ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
