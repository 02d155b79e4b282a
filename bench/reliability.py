"""Reliability figures in one command: red-team candidates contained (as root and as an
unprivileged user), what the candidate isolation costs against an earlier sandbox, discovery runs
killed at random points and resumed, and malformed interchange rows rejected with a location.

    python bench/reliability.py [--kills 5] [--fuzz 2000] [--before 93453da] [--repeat 2]
                                [--betas 11] [--permutations 20] [--candidates 6] [--overhead-only]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from bench._shared import MODELS, have_stores, store, unprivileged_user  # noqa: E402
from autotts.explorer.grammar import render  # noqa: E402
from autotts.explorer.halving import rungs, skips, survivors  # noqa: E402
from autotts.explorer.offline import seed_genome  # noqa: E402
from replay_core.candidate import evaluate_candidate  # noqa: E402
from replay_core.sandbox import Limits  # noqa: E402
from autotts.trajectories.banking import build_bank  # noqa: E402
from autotts.trajectories.readers import read_jsonl  # noqa: E402
from autotts.trajectories.schema import FormatError  # noqa: E402
from autotts.trajectories.synthetic import generate  # noqa: E402
from autotts.trajectories.writers import write_parquet  # noqa: E402

DISCOVER = """
import os, sys
sys.path.insert(0, sys.argv[2])
from autotts.flows.discover import discover_flow
if __name__ == "__main__":
    discover_flow(sys.argv[1], rounds=4, candidates=4, parallel=2, search_benchmarks=["synthetic-aime"], betas=3,
                  permutations=3, resume=(sys.argv[3] or None))
"""


def redteam() -> tuple[int, int]:
    """(cases tried, contained with their expected reason), as the user running this."""
    bank = build_bank(generate(questions=6, trajectories=16, seed=5), synthetic=True)
    modules = sorted(p for p in (ROOT / "tests" / "redteam").glob("*.py") if p.name != "__init__.py")
    contained = 0
    for path in modules:
        result = evaluate_candidate(bank, path.read_text(), [0.0, 1.0], permutations=2,
                                    limits=Limits(round_seconds=3, total_seconds=30, cpu_seconds=20))
        expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
        contained += (not result.ok) and expected in (result.error or "")
    return len(modules), contained


def redteam_unprivileged() -> tuple[int, int] | None:
    """The same, run as an ordinary user in a fresh process (None when this is not root)."""
    try:
        with unprivileged_user() as (as_user, home):
            out = subprocess.run([*as_user, sys.executable, str(Path(__file__).resolve()), "--redteam-only"],
                                 capture_output=True, text=True, timeout=1800, cwd=ROOT,
                                 env={"PATH": os.environ.get("PATH", ""), "HOME": str(home), "LANG": "C.UTF-8"})
    except RuntimeError:
        return None
    tried, contained = json.loads(out.stdout.strip().splitlines()[-1])
    return tried, contained


def leftovers(before: dict) -> dict:
    """What candidates may have left on the host: our live descendants, System V segments, /tmp entries."""
    children = [int(c) for t in Path(f"/proc/{os.getpid()}/task").glob("*") for c in (t / "children").read_text().split()]
    now = {"processes": len(children), "shm": len(Path("/proc/sysvipc/shm").read_text().splitlines()) - 1,
           "tmp": set(os.listdir(tempfile.gettempdir()))}
    return now if not before else {"processes": now["processes"], "shm": now["shm"] - before["shm"],
                                   "tmp": sorted(now["tmp"] - before["tmp"])}


MEASURE = """
import ctypes, json, os, resource, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: the jail's inner processes are reaped (and counted) here
import numpy as np
from replay_core.candidate import evaluate_candidate
from replay_core.controller import load_module_factory
from replay_core.evaluate import evaluate
from replay_core.sandbox import Limits
from autotts.trajectories.banking import build_bank, load_bank
from autotts.trajectories.synthetic import generate
stores, betas, permutations = json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
bank = load_bank(stores, mode="exact") if stores else build_bank(generate(questions=90, trajectories=64, seed=5), synthetic=True)
grid = [float(b) for b in np.linspace(0, 1, betas)]
def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
wall, used = time.perf_counter(), cpu()
limits = Limits(round_seconds=60, total_seconds=3600)
if sys.argv[7] == "in-process":
    evaluate(bank, load_module_factory(sys.argv[6]), grid, permutations=permutations, workers=1)
    error = None
elif sys.argv[7] == "side-by-side":  # as discovery replays a lone candidate: its betas dealt out to two jails
    from autotts.explorer.row_cache import RowCache
    error = RowCache().evaluate(bank, "bench", open(sys.argv[6]).read(), grid, permutations, limits, (), 2).error
else:
    error = evaluate_candidate(bank, open(sys.argv[6]).read(), grid, permutations, limits).error
while True:  # collect every process the jail left to us, so that its CPU time is counted
    try:
        os.wait()
    except ChildProcessError:
        break
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": cpu() - used, "error": error}))
"""


SIDE_BY_SIDE = "this sandbox, two jails"


def round_plan(candidates: int, permutations: int) -> list[tuple[int, int]]:
    """(evaluations, permutations) of one discovery round under successive halving, as
    explorer/discovery.py runs it: every candidate on the cheapest rung, a third promoted each time,
    a lone contender straight to the top rung."""
    plan, alive, ladder = [], candidates, rungs(permutations)
    for rung in ladder:
        if not skips(alive, rung, ladder):
            plan.append((alive, rung))
        alive = survivors(alive)
    return plan


def overhead(before: str, betas: int, plan: list[tuple[int, int]], repeat: int
             ) -> dict[str, dict[int, list[dict]]]:
    """Seconds per candidate evaluation (wall, and CPU of this process and every process under it,
    jails included) of the offline explorer's first seed program (a grammar-rendered candidate, as
    discovery's first round proposes), at each rung of `plan`: in-process replay (no sandbox), the
    sandbox at git revision `before` (with today's `replay_core.votes`, which the candidate
    imports), this tree's, and this tree's with the betas dealt out to two jails side by side (as
    discovery replays a lone candidate). Interleaved, `repeat` times each, each in a fresh process."""
    stores = [str(store(m, "aime24")) for m in MODELS] if have_stores() else []
    labels = ("in-process", f"sandbox at {before}", "this sandbox", SIDE_BY_SIDE)
    runs: dict[str, dict[int, list[dict]]] = {label: {p: [] for _, p in plan} for label in labels}
    with tempfile.TemporaryDirectory() as folder:
        old = Path(folder) / "before"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", before, "replay_core"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        shutil.copy(ROOT / "replay_core" / "votes.py", old / "replay_core" / "votes.py")
        candidate = Path(folder) / "candidate.py"
        candidate.write_text(render(seed_genome(0, betas)))
        trees = dict(zip(labels, (ROOT, old, ROOT, ROOT)))
        for _ in range(repeat):
            for _, permutations in plan:
                for label, tree in trees.items():
                    out = subprocess.run([sys.executable, "-c", MEASURE, str(tree), str(ROOT), json.dumps(stores),
                                          str(betas), str(permutations), str(candidate),
                                          {"in-process": "in-process", SIDE_BY_SIDE: "side-by-side"}.get(label, "sandbox")],
                                         capture_output=True, text=True, check=True)
                    runs[label][permutations].append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def report_overhead(runs: dict[str, dict[int, list[dict]]], plan: list[tuple[int, int]], betas: int, repeat: int) -> None:
    """Per evaluation at each rung, and one round (the plan's evaluations summed), against in-process
    replay; the side-by-side round is discovery's: one jail per candidate, two for a lone one."""
    median = {label: {p: {m: statistics.median(r[m] for r in rows) for m in ("wall", "cpu")} for p, rows in by.items()}
              for label, by in runs.items()}
    rounds = {label: {m: sum(n * by[p][m] for n, p in plan) for m in ("wall", "cpu")} for label, by in median.items()}
    rounds[SIDE_BY_SIDE] = {m: sum(n * median[SIDE_BY_SIDE if n == 1 else "this sandbox"][p][m] for n, p in plan)
                            for m in ("wall", "cpu")}
    errors = {r["error"] for by in runs.values() for rows in by.values() for r in rows} - {None}
    data = "real stores: 3 models x AIME24, 90 questions" if have_stores() else "SYNTHETIC 90 questions"
    print(f"candidate evaluation (offline seed program 0, {betas} betas; {data}), median of {repeat}, "
          f"load average {os.getloadavg()[0]:.1f}:" + (f" ERRORS {errors}" if errors else ""))
    for label, by in median.items():
        cells = "   ".join(f"P={p}: wall {m['wall']:6.2f} s cpu {m['cpu']:6.2f} s" for p, m in by.items())
        print(f"  {label:<24} {cells}")
    base = rounds["in-process"]
    shape = " + ".join(f"{n} x P={p}" for n, p in plan)
    print(f"one discovery round ({shape}), replay only, against in-process replay:")
    for label, m in rounds.items():
        print(f"  {label:<24} wall {m['wall']:7.2f} s ({m['wall'] / base['wall'] - 1:+.0%})   "
              f"cpu {m['cpu']:7.2f} s ({m['cpu'] / base['cpu'] - 1:+.0%})")


def kills(n: int, seed: int) -> tuple[int, int, list[str]]:
    from autotts.warehouse.doctor import check
    from autotts.warehouse.ingest import load, prepare
    from autotts.warehouse.queries import run_sql

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
    parser.add_argument("--before", default="93453da", help="git revision whose sandbox to compare against "
                        "(default: main before the OS jail, issue #12)")
    parser.add_argument("--betas", type=int, default=11, help="betas per candidate evaluation (default 11)")
    parser.add_argument("--permutations", type=int, default=20, help="permutations of the last halving rung (default 20)")
    parser.add_argument("--candidates", type=int, default=6, help="candidates per round (default 6, as discover)")
    parser.add_argument("--repeat", type=int, default=2, help="measurements of each, interleaved (0: skip)")
    parser.add_argument("--overhead-only", action="store_true", help="only the isolation's cost, side by side")
    parser.add_argument("--redteam-only", action="store_true", help=argparse.SUPPRESS)  # the unprivileged run
    args = parser.parse_args()
    if args.redteam_only:
        print(json.dumps(redteam()))
        return 0
    plan = round_plan(args.candidates, args.permutations)
    if args.overhead_only:
        report_overhead(overhead(args.before, args.betas, plan, max(1, args.repeat)), plan, args.betas, max(1, args.repeat))
        return 0
    before = leftovers({})
    tried, contained = redteam()
    unprivileged = redteam_unprivileged()
    left = leftovers(before)
    as_whom = "as root" if os.geteuid() == 0 else "unprivileged"
    print(f"red-team candidates: contained {contained}/{tried} {as_whom}"
          + (f", {unprivileged[1]}/{unprivileged[0]} unprivileged" if unprivileged else "")
          + f" (with the expected reason); left behind: {left['processes']} processes, {left['shm']} new "
          f"shared-memory segments; new /tmp entries meanwhile (other processes on this machine count "
          f"too): {', '.join(left['tmp']) or 'none'}")
    if args.repeat:
        report_overhead(overhead(args.before, args.betas, plan, args.repeat), plan, args.betas, args.repeat)
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
