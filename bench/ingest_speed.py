"""Ingest throughput: a SYNTHETIC bank of about a million probe rows into a fresh warehouse.

Reports the time to validate and grade the file (`prepare`) and to load it in one transaction
(`load`), and the rows per second of each.

    python bench/ingest_speed.py [--trajectories 200]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trajectories.synthetic import generate  # noqa: E402
from trajectories.writers import write_parquet  # noqa: E402
from warehouse.ingest import load, prepare  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trajectories", type=int, default=200, help="per question (default 200: ~1 M probes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bank = Path(folder) / "bank.parquet"
        write_parquet(generate(questions=30, trajectories=args.trajectories, seed=1), bank)
        start = time.perf_counter()
        payload = prepare(bank)
        prepared = time.perf_counter() - start
        start = time.perf_counter()
        load(Path(folder) / "w.duckdb", payload)
        loaded = time.perf_counter() - start
    probes = payload.tables["probes"].num_rows
    print(f"SYNTHETIC bank: {payload.n_trajectories:,} trajectories, {probes:,} probe rows")
    print(f"validate + grade: {prepared:.2f} s ({probes / prepared:,.0f} probe rows/s)")
    print(f"load (one transaction): {loaded:.2f} s ({probes / loaded:,.0f} probe rows/s)")
    print(f"total: {prepared + loaded:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
