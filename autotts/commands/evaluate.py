"""`autotts evaluate` and `autotts baselines`: replay one controller, list the built-in ones."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from autotts import checks, logs
from autotts.commands._shared import add_selection, betas_of, console, out_console, print_points, progress_bar, split
from autotts.errors import RunFailed, one_line
from autotts.progress import flow_progress
from autotts.live.engines import positive_int
from replay_core.baselines import BASELINES
from replay_core.controller import ControllerError, parse_knob, resolve
from replay_core.evaluate import default_workers, evaluate
from replay_core.metrics import Point, summarize
from rich.table import Table


def replay_with_progress(bank, name: str, factory, betas: list[float], permutations: int, workers: int) -> list[Point]:
    with progress_bar() as progress:
        task = progress.add_task(f"replaying {name}", total=len(betas) * permutations)
        results = evaluate(bank, factory, betas, permutations=permutations, workers=workers,
                           on_progress=lambda n: progress.advance(task, n))
    return summarize(bank, results)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from autotts.trajectories.banking import load_bank

    knobs = dict(parse_knob(item) for item in args.set or [])
    if args.controller.endswith(".py") and not args.trusted:
        if args.warehouse:
            raise ControllerError("--warehouse runs modules in-process: add --trusted for your own code, "
                                  "or evaluate it sandboxed with --bank")
        return _evaluate_sandboxed(args, knobs)
    name, factory = resolve(args.controller, knobs)
    if args.warehouse:
        return _evaluate_in_warehouse(args, name, knobs)
    checks.input_files(args.bank)
    with console.status("loading and grading the bank"):
        bank = load_bank(args.bank, mode="exact" if args.compat == "reference" else "math")
    if args.controller in BASELINES and BASELINES[args.controller].needs_confidence and not bank.has_confidence:
        raise ControllerError(f"{name} needs chunk confidences, which this bank does not have")
    try:
        points = replay_with_progress(bank, name, factory, betas_of(args), args.permutations, args.workers)
    except Exception as err:
        if args.controller in BASELINES:
            raise  # a built-in controller that fails is a bug in autotts, not bad input
        raise ControllerError(f"{args.controller}: the controller raised {type(err).__name__}: {one_line(err)} "
                              "(--verbose shows its traceback)") from err
    if args.json:
        print(json.dumps({
            "controller": name, "synthetic": bank.synthetic, "permutations": args.permutations,
            "answer_mode": bank.meta.get("answer_mode"),
            "points": [p.as_dict() for p in points],
        }))
        return 0
    print_points(name, points, bank.synthetic)
    return 0


def _evaluate_sandboxed(args: argparse.Namespace, knobs: dict) -> int:
    """A module file, run as discovery runs candidates: in the sandbox, one fresh worker per batch."""
    from replay_core.candidate import evaluate_candidate, with_knobs
    from replay_core.controller import labelled
    from autotts.trajectories.banking import load_bank

    path = Path(args.controller)
    if not path.is_file():
        raise ControllerError(f"{path}: no such file")
    name = labelled(path.stem, knobs)
    with console.status("loading and grading the bank"):
        bank = load_bank(args.bank, mode="exact" if args.compat == "reference" else "math")
    betas = betas_of(args)
    with progress_bar() as progress:
        task = progress.add_task(f"replaying {name} in the sandbox", total=len(betas) * args.permutations)
        result = evaluate_candidate(bank, with_knobs(path.read_text(), knobs), betas, args.permutations,
                                    on_progress=lambda n: progress.advance(task, n))
    if not result.ok:
        raise ControllerError(f"{name} failed in the sandbox: {result.error}")
    points = summarize(bank, result.results)
    if args.json:
        print(json.dumps({"controller": name, "synthetic": bank.synthetic, "permutations": args.permutations,
                          "answer_mode": bank.meta.get("answer_mode"), "isolation": result.isolation,
                          "points": [p.as_dict() for p in points]}))
        return 0
    print_points(f"{name} (sandbox: {result.isolation})", points, bank.synthetic)
    return 0


def _evaluate_in_warehouse(args: argparse.Namespace, name: str, knobs: dict) -> int:
    checks.warehouse(args.warehouse)
    from autotts.flows.evaluate import evaluate_flow

    with flow_progress(console, f"evaluating {name} on {args.warehouse}"):
        result = evaluate_flow(
            warehouse=args.warehouse, controllers=[args.controller], knobs={args.controller: knobs},
            bank_ids=split(args.bank_id), benchmarks=split(args.benchmark), models=split(args.model),
            betas=betas_of(args), permutations=args.permutations, executor=args.executor, workers=args.workers)
    console.print(f"report: {result['report']}")
    curve = result["curves"][0]
    if curve["error"]:
        raise RunFailed(f"{name} failed during the run (recorded as failed in run {result['run_id']}; "
                        f"details in {logs.log_path()}): {one_line(curve['error'])}")
    points = [Point(**p) for p in curve["points"]]
    if args.json:
        print(json.dumps({"controller": name, "run_id": result["run_id"], "synthetic": result["synthetic"],
                          "permutations": args.permutations, "report": result["report"],
                          "points": [p.as_dict() for p in points]}))
        return 0
    print_points(f"{name} (run {result['run_id']})", points, result["synthetic"])
    return 0


def cmd_baselines(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps({n: {"title": b.title, "knobs": b.knobs, "summary": b.summary, "beta_map": b.beta_map,
                              "needs_confidence": b.needs_confidence, "hand_made": b.hand_made}
                          for n, b in BASELINES.items()}))
        return 0
    table = Table(title="built-in controllers (use with --controller NAME, knobs with --set KNOB=VALUE)")
    for col in ("name", "method", "knobs (default)", "what beta does"):
        table.add_column(col)
    for name, b in BASELINES.items():
        knobs = ", ".join(f"{k}={v}" for k, v in b.knobs.items())
        table.add_row(name, b.title, knobs, b.beta_map)
    out_console.print(table)
    return 0


def register(sub) -> None:
    ev = sub.add_parser("evaluate", help="replay a controller over a bank and report its scaling curve")
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--bank", nargs="+", metavar="FILE", help="interchange .jsonl/.parquet or AutoTTS .json files")
    source.add_argument("--warehouse", metavar="W.duckdb",
                        help="evaluate banks ingested into this warehouse (runs the Prefect evaluate flow; results are stored)")
    add_selection(ev)
    ev.add_argument("--executor", default="process",
                    help="with --warehouse: process (local cores), dask (local cluster) or dask://HOST:PORT")
    ev.add_argument("--controller", required=True, metavar="NAME|PATH.py",
                    help=f"built-in ({', '.join(BASELINES)}) or a module defining make_controller(beta)")
    grid = ev.add_mutually_exclusive_group()
    grid.add_argument("--beta", type=float, help="one operating point")
    grid.add_argument("--betas", type=positive_int, help="number of evenly spaced betas in [0, 1] "
                      "(default 5; with --set, the single beta 1.0)")
    ev.add_argument("--set", action="append", metavar="KNOB=VALUE", help="set a controller knob (repeatable)")
    ev.add_argument("--permutations", type=positive_int, default=100, help="branch-order permutations per question (default 100)")
    ev.add_argument("--workers", type=positive_int, default=default_workers(),
                    help="worker processes (default: all cores; a sandboxed module uses one)")
    ev.add_argument("--trusted", action="store_true",
                    help="run a PATH.py module in this process, unsandboxed (your own code only; default: sandbox)")
    ev.add_argument("--compat", choices=("default", "reference"), default="default",
                    help="reference: string answers and ERR votes, as the AutoTTS reference simulators")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.set_defaults(func=cmd_evaluate)
    bl = sub.add_parser("baselines", help="list built-in controllers and their knobs")
    bl.add_argument("--json", action="store_true")
    bl.set_defaults(func=cmd_baselines)
