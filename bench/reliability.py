"""Reliability figures in one command: red-team candidates contained, discovery runs killed at
random points and resumed, and malformed interchange rows rejected with a location.

    python bench/reliability.py [--kills 5] [--fuzz 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from replay_core.candidate import evaluate_candidate  # noqa: E402
from replay_core.sandbox import Limits  # noqa: E402
from trajectories.banking import build_bank  # noqa: E402
from trajectories.readers import read_jsonl  # noqa: E402
from trajectories.schema import FormatError  # noqa: E402
from trajectories.synthetic import generate  # noqa: E402
from trajectories.writers import write_parquet  # noqa: E402

DISCOVER = """
import os, sys
sys.path.insert(0, sys.argv[2])
from flows.discover import discover_flow
if __name__ == "__main__":
    discover_flow(sys.argv[1], rounds=4, candidates=4, parallel=2, search_benchmarks=["synthetic-aime"], betas=3,
                  permutations=3, resume=(sys.argv[3] or None))
"""


def redteam() -> tuple[int, int]:
    bank = build_bank(generate(questions=6, trajectories=16, seed=5), synthetic=True)
    modules = sorted(p for p in (ROOT / "tests" / "redteam").glob("*.py") if p.name != "__init__.py")
    contained = 0
    for path in modules:
        result = evaluate_candidate(bank, path.read_text(), [0.5], permutations=2,
                                    limits=Limits(round_seconds=3, total_seconds=30, cpu_seconds=20))
        expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
        contained += (not result.ok) and expected in (result.error or "")
    return len(modules), contained


def kills(n: int, seed: int) -> tuple[int, int, list[str]]:
    from warehouse.doctor import check
    from warehouse.ingest import load, prepare
    from warehouse.queries import run_sql

    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp())
    bank = folder / "bank.parquet"
    write_parquet(generate(questions=6, trajectories=16, seed=5), bank)
    warehouse = str(folder / "w.duckdb")
    load(warehouse, prepare(bank))
    env = {**os.environ, "PREFECT_HOME": str(folder / "prefect")}
    env.pop("PREFECT_API_URL", None)
    survived, run_id = 0, ""
    for _ in range(n):
        proc = subprocess.Popen([sys.executable, "-c", DISCOVER, warehouse, str(ROOT), run_id], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(4.0, 14.0))  # lands during start-up, an explorer call, replay or a write
        finished = proc.poll() is not None
        if not finished:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        run_id = run_sql(warehouse, "SELECT run_id FROM runs WHERE kind = 'discover' ORDER BY started_at LIMIT 1",
                         wait_s=30).column("run_id")
        run_id = run_id[0].as_py() if len(run_id) else ""
        survived += not finished
    subprocess.run([sys.executable, "-c", DISCOVER, warehouse, str(ROOT), run_id], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    findings = [f"{f.severity}: {f.what} ({f.count})" for f in check(warehouse)]
    counts = run_sql(warehouse, "SELECT count(*) AS n FROM evaluations e JOIN candidates c USING (controller_id) "
                                "GROUP BY c.controller_id").column("n").to_pylist()
    if set(counts) - {6}:
        findings.append(f"error: evaluations per candidate {sorted(set(counts))}, expected 6")
    rounds = run_sql(warehouse, "SELECT count(*) AS n FROM discovery_rounds").column("n")[0].as_py()
    if rounds != 4:
        findings.append(f"error: {rounds} discovery rounds, expected 4")
    return n, survived, findings


def fuzz(n: int, seed: int) -> tuple[int, int, int]:
    rng = random.Random(seed)
    junk = [None, True, -1, 2 ** 70, 1.5, float("nan"), "", "x", [], [None], [1, "a"], {"a": 1}, [[1]]]
    fields = ["question_id", "benchmark", "model", "gold", "traj_id", "chunk_tokens", "probe_answers", "probe_tokens",
              "final_answer", "finished", "chunk_confidence", "probe_correct", "final_correct", "total_tokens"]
    rejected = accepted = crashed = 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        for _ in range(n):
            row = {"question_id": "q", "benchmark": "b", "model": "m", "gold": "1", "traj_id": 0,
                   "chunk_tokens": [5, 5], "probe_answers": ["1", None], "probe_tokens": [1, 1],
                   "final_answer": "1", "finished": True}
            for _ in range(rng.randint(1, 3)):
                field = rng.choice(fields)
                if rng.random() < 0.3:
                    row.pop(field, None)
                else:
                    row[field] = rng.choice(junk)
            raw = json.dumps(row).encode()
            if rng.random() < 0.2:  # byte-level damage too
                i = rng.randrange(len(raw))
                raw = raw[:i] + bytes([rng.randrange(256)]) + raw[i + 1:]
            path.write_bytes(raw.replace(b"\n", b" ") + b"\n")
            try:
                read_jsonl(path)
                accepted += 1
            except FormatError as err:
                rejected += err.row == 1
            except Exception:
                crashed += 1
    return n, rejected, crashed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--fuzz", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tried, contained = redteam()
    print(f"red-team candidates: {tried} tried, {contained} contained with the expected reason")
    n, rejected, crashed = fuzz(args.fuzz, args.seed)
    print(f"fuzzed interchange rows: {n} cases, {rejected} rejected with a located error, "
          f"{n - rejected - crashed} accepted as valid, {crashed} crashed")
    if args.kills:
        runs, killed, findings = kills(args.kills, args.seed)
        print(f"discovery kills: {killed} of {runs} runs killed mid-flight and resumed; integrity: "
              + ("clean (doctor, no duplicated or lost evaluations, all rounds present)" if not findings else "; ".join(findings)))
    return 0 if contained == tried and not crashed else 1


if __name__ == "__main__":
    raise SystemExit(main())
