"""Ingest throughput: a SYNTHETIC bank of about a million probe rows, and the nine real AutoTTS
stores from ../shared, each into a fresh warehouse in the default (math) answer mode.

The synthetic figure is the time to validate and grade the file (`prepare`) and to load it in one
transaction (`load`). Its answers are almost all plain numbers, so it mostly measures loading. The
real stores hold about 15,000 distinct answer texts that are not plain numbers, so they measure
grading. They are ingested twice, each time by a fresh process into a fresh warehouse: first
with an empty answer cache ("cold": every reading computed), then with the cache the first run
left ("warm": a re-ingestion, or a new warehouse on the same machine). Files are graded
`FILES_AT_ONCE` at a time, as `autotts ingest` does; `--compare-serial` first adds a cold run that
grades one file at a time (the previous behaviour), with its own empty cache.

    python bench/ingest_speed.py [--trajectories 200] [--no-real] [--compare-serial] [--cold-only]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._shared import BENCHMARKS, MODELS, have_stores, store  # noqa: E402
from autotts.trajectories.synthetic import generate  # noqa: E402
from autotts.trajectories.writers import write_parquet  # noqa: E402
from autotts.warehouse.ingest import FILES_AT_ONCE, load, prepare  # noqa: E402


def synthetic(trajectories: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        bank = Path(folder) / "bank.parquet"
        write_parquet(generate(questions=30, trajectories=trajectories, seed=1), bank)
        start = time.perf_counter()
        payload = prepare(bank)
        prepared = time.perf_counter() - start
        start = time.perf_counter()
        load(Path(folder) / "w.duckdb", payload)
        loaded = time.perf_counter() - start
    probes = payload.tables["probes"].num_rows
    print(f"SYNTHETIC bank: {payload.n_trajectories:,} trajectories, {probes:,} probe rows")
    print(f"  validate + grade: {prepared:.2f} s ({probes / prepared:,.0f} probe rows/s)")
    print(f"  load (one transaction): {loaded:.2f} s ({probes / loaded:,.0f} probe rows/s)")
    print(f"  total: {prepared + loaded:.2f} s", flush=True)


def ingest_real_stores(warehouse: Path, files_at_once: int) -> dict:
    """Ingest the nine stores as the ingest flow does: `files_at_once` graded at a time, loaded in
    order (this process; the answer cache comes from AUTOTTS_CACHE_DIR). A store's time is that of
    its `prepare`, which overlaps other stores' when several are graded at once."""
    def timed_prepare(path: Path) -> tuple[float, object]:
        t0 = time.perf_counter()
        payload = prepare(path)
        return time.perf_counter() - t0, payload

    paths = [store(model, bench) for model in MODELS for bench in BENCHMARKS]
    per_store, probes, timeouts = {}, 0, 0
    start = time.perf_counter()
    with ThreadPoolExecutor(files_at_once) as threads:
        for path, (seconds, payload) in zip(paths, threads.map(timed_prepare, paths)):
            load(warehouse, payload)
            per_store[f"{path.parent.name}/{path.stem}"] = seconds
            probes += payload.tables["probes"].num_rows
            timeouts += payload.n_answer_timeouts
    return {"seconds": time.perf_counter() - start, "per_store": per_store, "probes": probes, "timeouts": timeouts}


def real(cache: Path, label: str, files_at_once: int = FILES_AT_ONCE) -> None:
    """One fresh process ingests the nine stores; reports wall time and the CPU time it and its
    answer workers used (on a shared machine the CPU time is the steadier figure)."""
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, AUTOTTS_CACHE_DIR=str(cache))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--child", str(Path(folder) / "w.duckdb"),
                              "--files-at-once", str(files_at_once)], env=env,
                             check=True, capture_output=True, text=True).stdout
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads(out.strip().splitlines()[-1])
    slowest = max(result["per_store"].items(), key=lambda kv: kv[1])
    print(f"9 real stores, {label}: {result['seconds']:.1f} s to ingest ({wall:.1f} s with interpreter start; "
          f"{cpu:.1f} CPU s in all processes; load average {os.getloadavg()[0]:.1f}), {result['probes']:,} probe rows, "
          f"{result['timeouts']} answer checks stopped at the bound; slowest {slowest[0]} {slowest[1]:.1f} s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trajectories", type=int, default=200, help="per question (default 200: ~1 M probes)")
    parser.add_argument("--no-real", action="store_true", help="skip the real stores")
    parser.add_argument("--compare-serial", action="store_true",
                        help="first a cold run grading one store at a time, for comparison")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the cold real-store run (no synthetic bank, no warm run): to compare trees' CPU")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--files-at-once", type=int, default=FILES_AT_ONCE, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(ingest_real_stores(Path(args.child), args.files_at_once)))
        return 0
    if not args.cold_only:
        synthetic(args.trajectories)
    if args.no_real:
        return 0
    if not have_stores():
        print("real stores not found in ../shared/data/autotts-replay: skipped")
        return 0
    if args.compare_serial:
        with tempfile.TemporaryDirectory() as cache:
            real(Path(cache), "cold answer cache, one store at a time", files_at_once=1)
    with tempfile.TemporaryDirectory() as cache:
        real(Path(cache), f"cold answer cache, {FILES_AT_ONCE} stores at a time")
        if not args.cold_only:
            real(Path(cache), f"warm answer cache, {FILES_AT_ONCE} stores at a time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
