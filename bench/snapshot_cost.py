"""What the analysts' snapshot costs a run: publishing it (checkpoint, copy, rename) beside the
flows' own writes, on a warehouse holding the real AutoTTS stores (../shared; skipped without).

Side by side, median of --repeat runs: one publication, and one results write of the kind every
discovery candidate makes (one baseline's curve over every bank, one transaction).

    python bench/snapshot_cost.py [--stores 9] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._shared import STORES, have_stores  # noqa: E402
from replay_core.baselines import BASELINES  # noqa: E402
from replay_core.evaluate import evaluate  # noqa: E402
from replay_core.metrics import summarize  # noqa: E402
from autotts.warehouse.bank_io import load_bank  # noqa: E402
from autotts.warehouse.ingest import load, prepare  # noqa: E402
from autotts.warehouse.results import ControllerSpec, CurveResult, start_run, write_results  # noqa: E402
from autotts.warehouse.snapshot import publish_snapshot  # noqa: E402


def _median_seconds(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=9, help="how many real stores to ingest (default all 9)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not have_stores():
        print(f"skipped: real AutoTTS stores not found in {STORES}")
        return 0
    files = sorted(STORES.glob("*/*.json"))[: args.stores]
    with tempfile.TemporaryDirectory() as folder:
        warehouse = Path(folder) / "w.duckdb"
        for path in files:
            load(warehouse, prepare(path, "exact"))  # integer answers (AIME, HMMT): exact grading, as bench/real_discovery.py
        bank = load_bank(warehouse)
        curve = summarize(bank, evaluate(bank, BASELINES["sc"].make_controller, [0.0, 1.0], permutations=2))
        record = ControllerSpec("sc", {}).record()
        run_id = start_run(warehouse, "evaluate", {"bench": "snapshot_cost"})
        write = _median_seconds(lambda: write_results(warehouse, run_id, [CurveResult(record, bank.source_banks(),
                                                                                      curve)]), args.repeat)
        publish = _median_seconds(lambda: publish_snapshot(warehouse), args.repeat)
        size = warehouse.stat().st_size / 1e6
    print(f"warehouse: {len(files)} real stores, {bank.n_questions} questions, {size:.0f} MB")
    print(f"one results write (sc curve, every bank): {write * 1000:.0f} ms")
    print(f"one snapshot publication: {publish * 1000:.0f} ms ({publish / write:.1f}x the write)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
