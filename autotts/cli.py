"""The `autotts` command. Each subcommand is a thin layer over the domain packages."""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from autotts import __version__, checks, logs
from autotts.arguments import Parser
from autotts.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, RunFailed, UserError, one_line, report
from autotts.progress import flow_progress
from explorer.pricing import parse_price
from explorer.registry import EXPLORERS
from live.answers import PROMPT_TEMPLATE
from live.engines import ENGINE_HELP, add_sampling_arguments, make_engine, positive_int, sampling_from
from replay_core.baselines import BASELINES
from replay_core.controller import ControllerError, parse_knob, resolve
from replay_core.evaluate import default_workers, evaluate
from replay_core.metrics import Point, compare_curves, summarize

# Lines never wrap: stderr notes are soft-wrapped, and tables written to a file or pipe are as wide as they need.
console = Console(stderr=True, soft_wrap=True)
out_console = Console(width=None if Console().is_terminal else 1000)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True,
                    disable=console.quiet or not console.is_terminal)


# ---------------------------------------------------------------------------------- bank
def cmd_bank_synth(args: argparse.Namespace) -> int:
    from trajectories.synthetic import generate
    from trajectories.writers import write_any

    checks.output_file(args.out, (".parquet", ".jsonl"))
    records = generate(questions=args.questions, trajectories=args.trajectories, seed=args.seed)
    write_any(records, args.out)
    console.print(f"wrote {len(records)} SYNTHETIC trajectories to {args.out}")
    return 0


def cmd_bank_stats(args: argparse.Namespace) -> int:
    from trajectories.banking import load_bank
    from trajectories.stats import bank_statistics

    bank = load_bank(args.files, mode=args.answers)
    rows = {f"{b} / {m}": bank_statistics(bank.subset(q)) for (b, m), q in bank.groups().items()}
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title=("SYNTHETIC bank: " if bank.synthetic else "") + "statistics")
    table.add_column("statistic")
    for name in rows:
        table.add_column(name, justify="right")
    for stat in next(iter(rows.values())):
        table.add_row(stat, *(f"{r[stat]:.3g}" for r in rows.values()))
    out_console.print(table)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from trajectories.readers import read_any
    from trajectories.writers import write_any

    checks.input_files(args.files)
    checks.output_file(args.out, (".parquet", ".jsonl"))
    records = []
    for path in args.files:
        records.extend(read_any(path))
    write_any(records, args.out)
    console.print(f"wrote {len(records)} trajectories from {len(args.files)} file(s) to {args.out}")
    return 0


# ---------------------------------------------------------------------------------- evaluate
def _betas(args: argparse.Namespace) -> list[float]:
    if args.beta is not None:
        return [args.beta]
    if args.betas is None:  # pinned knobs usually fix the operating point: one beta, unless asked
        return [1.0] if args.set else [float(b) for b in np.linspace(0.0, 1.0, 5)]
    return [float(b) for b in np.linspace(0.0, 1.0, args.betas)]


def run_evaluation(bank, name: str, factory, betas: list[float], permutations: int, workers: int) -> list[Point]:
    with _progress() as progress:
        task = progress.add_task(f"replaying {name}", total=len(betas) * permutations)
        results = evaluate(bank, factory, betas, permutations=permutations, workers=workers,
                           on_progress=lambda n: progress.advance(task, n))
    return summarize(bank, results)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from trajectories.banking import load_bank

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
        points = run_evaluation(bank, name, factory, _betas(args), args.permutations, args.workers)
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
    _print_points(name, points, bank.synthetic)
    return 0


def _evaluate_sandboxed(args: argparse.Namespace, knobs: dict) -> int:
    """A module file, run as discovery runs candidates: in the sandbox, one fresh worker per batch."""
    from replay_core.candidate import evaluate_candidate, with_knobs
    from replay_core.controller import labelled
    from trajectories.banking import load_bank

    path = Path(args.controller)
    if not path.is_file():
        raise ControllerError(f"{path}: no such file")
    name = labelled(path.stem, knobs)
    with console.status("loading and grading the bank"):
        bank = load_bank(args.bank, mode="exact" if args.compat == "reference" else "math")
    betas = _betas(args)
    with _progress() as progress:
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
    _print_points(f"{name} (sandbox: {result.isolation})", points, bank.synthetic)
    return 0


def _evaluate_in_warehouse(args: argparse.Namespace, name: str, knobs: dict) -> int:
    checks.warehouse(args.warehouse)
    from flows.evaluate import evaluate_flow

    with flow_progress(console, f"evaluating {name} on {args.warehouse}"):
        result = evaluate_flow(
            warehouse=args.warehouse, controllers=[args.controller], knobs={args.controller: knobs},
            bank_ids=_split(args.bank_id), benchmarks=_split(args.benchmark), models=_split(args.model),
            betas=_betas(args), permutations=args.permutations, executor=args.executor, workers=args.workers)
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
    _print_points(f"{name} (run {result['run_id']})", points, result["synthetic"])
    return 0


def _split(values: list[str] | None) -> list[str] | None:
    """Repeatable, comma-separated options -> a list (None when not given)."""
    if not values:
        return None
    return [v for item in values for v in item.split(",") if v]


def _price(text: str) -> tuple[str, tuple[float, float]]:
    """--price MODEL=IN,OUT, checked at parse time."""
    try:
        return parse_price(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _print_points(name: str, points: list[Point], synthetic: bool) -> None:
    table = Table(title=f"{name}" + ("  [SYNTHETIC data]" if synthetic else ""))
    for col in ("benchmark", "model", "beta", "accuracy", "95% CI", "tokens/question", "rounds", "seq. tokens"):
        table.add_column(col, justify="right" if col not in ("benchmark", "model") else "left")
    for p in points:
        table.add_row(p.benchmark, p.model, f"{p.beta:.2f}", f"{100 * p.accuracy:.1f}%",
                      f"{100 * p.accuracy_low:.0f}-{100 * p.accuracy_high:.0f}%", f"{p.tokens / 1000:.1f}k",
                      f"{p.rounds:.1f}", f"{p.seq_tokens / 1000:.1f}k")
    out_console.print(table)


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


# ---------------------------------------------------------------------------------- warehouse
def cmd_ingest(args: argparse.Namespace) -> int:
    checks.input_files(args.files)
    checks.warehouse(args.warehouse, must_exist=False)
    with flow_progress(console, f"ingesting {len(args.files)} file(s) into {args.warehouse}"):
        summaries = _ingest(args.files, args.warehouse, "exact" if args.compat == "reference" else "math")
    if args.json:
        print(json.dumps(summaries))
    else:
        for s in summaries:
            console.print(f"{s['file']}: {s['status']} as bank {s['bank_id']} "
                          f"({s['trajectories']} trajectories, {s['probes']} probes)"
                          + (f", {s['answer_timeouts']} answer checks stopped at the time bound" if s["answer_timeouts"] else "")
                          + (" [SYNTHETIC]" if s["synthetic"] else ""))
    return 0


def _ingest(paths: list[str], warehouse: str, answer_mode: str = "math") -> list[dict]:
    """The ingest flow; a rejected file is bad input (the flow wrote nothing of it)."""
    from flows.ingest import IngestFailed, ingest_flow

    try:
        return ingest_flow(paths=paths, warehouse=warehouse, answer_mode=answer_mode)
    except IngestFailed as err:
        raise UserError(f"{err} (rejected: nothing from that file was written to {warehouse})") from None


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from warehouse.queries import run_sql

    checks.warehouse(args.warehouse)
    try:
        table = run_sql(args.warehouse, args.query)
    except duckdb.Error as err:
        raise UserError(f"SQL: {one_line(err)} (tables and views: docs/warehouse.md)") from err
    if args.json:
        print(json.dumps(table.to_pylist(), default=str))
        return 0
    out = Table(show_lines=False)
    for name in table.column_names:
        out.add_column(name)
    for row in table.to_pylist():
        out.add_row(*(_cell(v) for v in row.values()))
    out_console.print(out)
    console.print(f"{table.num_rows} row(s)")
    return 0


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape("" if value is None else str(value))


def cmd_doctor(args: argparse.Namespace) -> int:
    from warehouse.doctor import check

    checks.warehouse(args.warehouse)
    findings = check(args.warehouse)
    if args.json:
        print(json.dumps([f.__dict__ for f in findings]))
    elif not findings:
        console.print(f"[green]{args.warehouse}: all integrity checks passed[/]")
    for f in findings if not args.json else []:
        colour = "red" if f.severity == "error" else "yellow"
        console.print(f"[{colour}]{f.severity}[/]: {f.what} ({f.count})", soft_wrap=True)
    return 1 if any(f.severity == "error" for f in findings) else 0


def cmd_export(args: argparse.Namespace) -> int:
    from warehouse.export import export_parquet

    checks.warehouse(args.warehouse)
    checks.output_file(args.out, (".parquet",))
    n = export_parquet(args.warehouse, args.out, _split(args.bank_id), _split(args.benchmark), _split(args.model))
    console.print(f"wrote {n} trajectories to {args.out}")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    from flows.collect import CollectionFailed, collect_flow

    sampling = asdict(sampling_from(args))
    try:
        path = collect_flow(problems=args.problems, model=args.model, out=args.out, warehouse=args.warehouse, n=args.n,
                            chunk_tokens=sampling.pop("chunk_tokens"), engine=args.engine, python=args.python,
                            sampling=sampling, concurrent_questions=args.concurrent_questions)
    except CollectionFailed as err:
        console.print(f"[red]error:[/] {escape(str(err))}", soft_wrap=True)
        return err.status
    console.print(f"collected into {path}" + (f" and ingested into {args.warehouse}" if args.warehouse else ""))
    return 0


def cmd_solve(args: argparse.Namespace) -> int:
    from live.runtime import solve

    knobs = dict(parse_knob(item) for item in args.set or [])
    name, factory = resolve(args.controller, knobs)
    engine = make_engine(args.engine, args.model, sampling_from(args))
    result = solve(engine, factory, args.beta, PROMPT_TEMPLATE.format(problem=args.problem),
                   max_branches=args.max_branches)
    if args.json:
        print(json.dumps({"controller": name, "beta": args.beta, **result.__dict__}))
    else:
        console.print(f"{name} at beta={args.beta:g}: answer {result.answer!r} after {result.tokens} tokens, "
                      f"{result.rounds} rounds (latency {result.seq_tokens} sequential tokens)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from report.build import write_report

    checks.warehouse(args.warehouse)
    checks.output_file(args.out, (".html",))
    path = write_report(args.warehouse, args.out, _split(args.run))
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, works offline); open it in a browser")
    return 0


def cmd_cache_clear(args: argparse.Namespace) -> int:
    from trajectories.bank_cache import cache_root, clear

    files, freed = clear()
    console.print(f"removed {files} file(s), {freed / 1e6:.1f} MB, from {cache_root()}")
    return 0


# ---------------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    """Synthesise the default bank, ingest it, discover a controller offline, compare on holdout."""
    from trajectories.synthetic import generate
    from trajectories.writers import write_parquet

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bank_path = out / "synthetic-bank.parquet"
    if not bank_path.exists():
        write_parquet(generate(seed=args.seed), bank_path)
    warehouse = out / "autotts.duckdb"
    console.print(f"[bold]AutoTTS demo[/] on the bundled SYNTHETIC bank {bank_path} -> warehouse {warehouse}")
    summary = _discover(warehouse=str(warehouse), bank=[str(bank_path)], search_benchmarks=["synthetic-aime"],
                        search_models=None, holdout_benchmarks=["synthetic-hmmt", "synthetic-math"], holdout_models=None,
                        rounds=args.rounds, candidates=args.candidates, explorer="offline", model=None,
                        betas=args.betas, permutations=args.permutations, holdout_permutations=args.permutations,
                        resume=None, beta_parameterized=True, trace_feedback=True, seed=args.seed,
                        report=str(out / "report.html"))
    (out / "discovery-summary.json").write_text(json.dumps(summary, indent=1, default=str))
    _print_discovery(summary, synthetic=True)
    console.print(f"summary: {out / 'discovery-summary.json'}")
    console.print(f"query it: autotts sql \"SELECT * FROM leaderboard WHERE rank <= 3\" --warehouse {warehouse}")
    return 0


def _discover(bank: list[str] | None, **kwargs) -> dict:
    checks.input_files(bank or [])
    checks.warehouse(kwargs["warehouse"], must_exist=not bank)
    checks.explorer_ready(kwargs.get("explorer") or "offline")
    from flows.discover import discover_flow

    shape = f" ({kwargs['rounds']} rounds of {kwargs['candidates']} candidates)" if kwargs.get("rounds") and \
        kwargs.get("candidates") else ""
    with flow_progress(console, f"discovering controllers{shape}"):
        if bank:
            _ingest(bank, kwargs["warehouse"])
        summary = discover_flow(**kwargs)
    summary["holdout_comparison"] = compare_curves(summary["holdout"])
    console.print(f"report: {summary['report']}")
    return summary


def cmd_discover(args: argparse.Namespace) -> int:
    if (args.explorer or "offline") != "offline":  # the flow checks too; here the refusal is one line, before Prefect
        from replay_core.sandbox import require_isolation

        require_isolation(args.unsafe_no_isolation)
    setup = dict(search_benchmarks=_split(args.search_benchmarks), search_models=_split(args.search_models),
                 holdout_benchmarks=_split(args.holdout_benchmarks), holdout_models=_split(args.holdout_models),
                 rounds=args.rounds, candidates=args.candidates, explorer=args.explorer, model=args.explorer_model,
                 betas=args.betas, permutations=args.permutations, holdout_permutations=args.holdout_permutations,
                 beta_parameterized=args.beta_parameterized, trace_feedback=args.trace_feedback, seed=args.seed,
                 carry_over=args.carry_over, halving=args.halving, unsafe_no_isolation=args.unsafe_no_isolation or None,
                 explorer_options={k: v for k, v in (("base_url", args.explorer_base_url),
                                                     ("prices", dict(args.price) if args.price else None),
                                                     ("tool_calls", args.agent_tool_calls)) if v is not None} or None)
    if args.resume:  # refuse a conflicting flag in one line, before any flow starts
        from flows.discover import resumed_setup

        resumed_setup(args.warehouse, args.resume, setup)
    summary = _discover(warehouse=args.warehouse, bank=args.bank, resume=args.resume, max_cost_usd=args.max_cost_usd,
                        **setup)
    if args.json:
        print(json.dumps(summary, default=str))
        return 0
    _print_discovery(summary, synthetic=False)
    return 0


def _print_discovery(summary: dict, synthetic: bool) -> None:
    from report.wording import saving_words

    label = "  [SYNTHETIC data]" if synthetic else ""
    rounds = Table(title=f"Discovery run {summary['run_id']}{label}")
    for col in ("round", "candidates", "failures", "best score so far", "cost"):
        rounds.add_column(col, justify="right")
    for r in summary["rounds"]:
        rounds.add_row(str(r["round"]), str(r["evaluated"]), str(r["failures"]), f"{r['best_score'] or 0:.4f}",
                       f"${r['cost_usd']:.2f}")
    out_console.print(rounds)
    if not summary["holdout_comparison"]:
        return
    table = Table(title=f"Held-out: best discovered controllers vs the best baseline at matched budgets{label}")
    for col in ("benchmark", "model", "controller", "budgets at or above best baseline", "mean gain",
                "tokens at best-baseline accuracy"):
        table.add_column(col)
    for r in summary["holdout_comparison"]:
        table.add_row(r["benchmark"], r["model"], r["controller"], f"{100 * r['share_at_or_above']:.0f}%",
                      f"{100 * r['mean_gain']:+.1f} pts", saving_words(r))
    out_console.print(table)


# ---------------------------------------------------------------------------------- parser
def _selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bank-id", action="append", metavar="ID", help="warehouse bank id (repeatable)")
    parser.add_argument("--benchmark", action="append", metavar="NAME", help="only these benchmarks (repeatable, comma-separated)")
    parser.add_argument("--model", action="append", metavar="NAME", help="only these models (repeatable, comma-separated)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="autotts",
        description="Discover test-time-scaling strategies by replaying stored reasoning trajectories.",
        epilog="Start with `autotts demo`, then `autotts evaluate --help`. Docs: docs/controller-api.md.",
    )
    parser.add_argument("--version", action="version", version=f"autotts {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    bank = sub.add_parser("bank", help="make or inspect trajectory banks")
    bank_sub = bank.add_subparsers(dest="bank_command", required=True, metavar="ACTION")
    synth = bank_sub.add_parser("synth", help="write the SYNTHETIC default bank (seeded)")
    synth.add_argument("--out", required=True, help="output file (.parquet or .jsonl)")
    synth.add_argument("--seed", type=int, default=0, help="random seed")
    synth.add_argument("--questions", type=positive_int, default=30, help="questions per benchmark (default 30)")
    synth.add_argument("--trajectories", type=positive_int, default=64, help="trajectories per question (default 64)")
    synth.set_defaults(func=cmd_bank_synth)
    stats = bank_sub.add_parser("stats", help="statistics per benchmark and model (calibration)")
    stats.add_argument("files", nargs="+", metavar="FILE")
    stats.add_argument("--answers", choices=("math", "exact"), default="math",
                       help="math: equivalence classes; exact: string answers")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_bank_stats)

    convert = sub.add_parser("convert", help="convert AutoTTS stores or interchange files to Parquet/JSONL")
    convert.add_argument("files", nargs="+", metavar="FILE")
    convert.add_argument("--out", required=True, help="output file (.parquet or .jsonl)")
    convert.set_defaults(func=cmd_convert)

    ev = sub.add_parser("evaluate", help="replay a controller over a bank and report its scaling curve")
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--bank", nargs="+", metavar="FILE", help="interchange .jsonl/.parquet or AutoTTS .json files")
    source.add_argument("--warehouse", metavar="W.duckdb",
                        help="evaluate banks ingested into this warehouse (runs the Prefect evaluate flow; results are stored)")
    _selection(ev)
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

    ing = sub.add_parser("ingest", help="validate, grade and load trajectory files into a warehouse")
    ing.add_argument("files", nargs="+", metavar="FILE")
    ing.add_argument("--warehouse", required=True, metavar="W.duckdb")
    ing.add_argument("--compat", choices=("default", "reference"), default="default",
                     help="reference: string answers and ERR votes, as the AutoTTS reference simulators")
    ing.add_argument("--json", action="store_true")
    ing.set_defaults(func=cmd_ingest)

    sql = sub.add_parser("sql", help="query a warehouse (read-only); see docs/warehouse.md")
    sql.add_argument("query", metavar="SQL")
    sql.add_argument("--warehouse", required=True, metavar="W.duckdb")
    sql.add_argument("--json", action="store_true", help="print rows as a JSON list")
    sql.set_defaults(func=cmd_sql)

    doc = sub.add_parser("doctor", help="check a warehouse's integrity (exit 1 on errors)")
    doc.add_argument("--warehouse", required=True, metavar="W.duckdb")
    doc.add_argument("--json", action="store_true")
    doc.set_defaults(func=cmd_doctor)

    exp = sub.add_parser("export", help="export warehouse banks as interchange Parquet")
    exp.add_argument("--warehouse", required=True, metavar="W.duckdb")
    exp.add_argument("--out", required=True, metavar="FILE.parquet")
    _selection(exp)
    exp.set_defaults(func=cmd_export)

    col = sub.add_parser("collect", help="sample chunked, probed trajectories (vLLM, transformers or an HTTP endpoint)")
    col.add_argument("--problems", required=True, metavar="FILE.jsonl", help="question_id, benchmark, problem, gold per line")
    col.add_argument("--model", required=True, help="model id or local checkpoint directory")
    col.add_argument("--n", type=positive_int, default=64, help="trajectories per question (default 64)")
    col.add_argument("--engine", default="vllm", help=f"{ENGINE_HELP}; runs in --python's environment")
    col.add_argument("--python", help="interpreter of the GPU environment that has vLLM (default: this one)")
    col.add_argument("--concurrent-questions", type=positive_int, default=1, metavar="K",
                     help="questions collected together, so each engine call batches K x N sequences (default 1)")
    col.add_argument("--out", required=True, metavar="FILE.parquet",
                     help="interchange Parquet to write (per-question parts beside it make reruns resume)")
    col.add_argument("--warehouse", metavar="W.duckdb", help="ingest the result here")
    add_sampling_arguments(col)
    col.set_defaults(func=cmd_collect)

    sol = sub.add_parser("solve", help="answer one problem live with any controller (same code as in replay)")
    sol.add_argument("--controller", required=True, metavar="NAME|PATH.py")
    sol.add_argument("--beta", type=float, default=0.5, help="operating point in [0, 1]")
    sol.add_argument("--set", action="append", metavar="KNOB=VALUE")
    sol.add_argument("--problem", required=True, help="the question text")
    sol.add_argument("--model", required=True, help="model id or local checkpoint directory")
    sol.add_argument("--engine", default="vllm", help=ENGINE_HELP)
    sol.add_argument("--max-branches", type=positive_int, default=64, help="trajectories a controller may open (default 64)")
    sol.add_argument("--json", action="store_true")
    add_sampling_arguments(sol)
    sol.set_defaults(func=cmd_solve)

    rep = sub.add_parser("report", help="a self-contained HTML report: curves, Pareto frontiers, discovery progress")
    rep.add_argument("--warehouse", required=True, metavar="W.duckdb")
    rep.add_argument("--out", default="report.html", metavar="FILE.html", help="where to write the report")
    rep.add_argument("--run", action="append", metavar="RUN_ID", help="only these runs (default: latest of each controller)")
    rep.set_defaults(func=cmd_report)

    bl = sub.add_parser("baselines", help="list built-in controllers and their knobs")
    bl.add_argument("--json", action="store_true")
    bl.set_defaults(func=cmd_baselines)

    disc = sub.add_parser("discover", help="search for new controllers (explorer + sandboxed replay), then hold out")
    disc.add_argument("--warehouse", required=True, metavar="W.duckdb")
    disc.add_argument("--bank", nargs="+", metavar="FILE", help="ingest these files first (skipped if already there)")
    disc.add_argument("--search-benchmarks", action="append", metavar="NAMES", help="search split benchmarks (comma-separated)")
    disc.add_argument("--search-models", action="append", metavar="NAMES", help="search split models (default: all)")
    disc.add_argument("--holdout-benchmarks", action="append", metavar="NAMES", help="held-out benchmarks")
    disc.add_argument("--holdout-models", action="append", metavar="NAMES", help="held-out models")
    # set-up options default to None: a new run fills in the flow's defaults, --resume the stored ones
    disc.add_argument("--rounds", type=positive_int, help="discovery rounds (default 6)")
    disc.add_argument("--candidates", type=positive_int, help="candidates per round (default 6)")
    disc.add_argument("--explorer", choices=tuple(EXPLORERS),
                      help="who writes candidates (default offline): " + "; ".join(f"{name}: {what}" for name, what in EXPLORERS.items()))
    disc.add_argument("--explorer-model", metavar="NAME",
                      help="the LLM explorer's model (Anthropic default: the SDK's current Sonnet; openai: required)")
    disc.add_argument("--explorer-base-url", metavar="URL", help="OpenAI-compatible endpoint, e.g. http://gpu-box:8000/v1")
    disc.add_argument("--max-cost-usd", type=float, metavar="USD",
                      help="stop before the LLM explorer could spend more (the run stays resumable with a higher cap)")
    disc.add_argument("--price", action="append", type=_price, metavar="MODEL=IN,OUT",
                      help="USD per million input,output tokens for a model (overrides the built-in table; repeatable)")
    disc.add_argument("--agent-tool-calls", type=positive_int, metavar="N",
                      help="anthropic-agent: sandboxed tool calls per round (default 12)")
    disc.add_argument("--betas", type=positive_int, help="betas per candidate curve (default 5)")
    disc.add_argument("--permutations", type=positive_int, help="permutations per question while searching (default 20)")
    disc.add_argument("--holdout-permutations", type=positive_int,
                      help="permutations per question on held-out data (default 100)")
    disc.add_argument("--resume", metavar="RUN_ID",
                      help="continue a killed or failed discovery run with its stored settings (other settings are refused)")
    disc.add_argument("--no-beta", action="store_const", const=False, dest="beta_parameterized",
                      help="ablation: fixed hyper-parameters instead of beta maps")
    disc.add_argument("--no-feedback", action="store_const", const=False, dest="trace_feedback",
                      help="ablation: no execution-trace feedback to the explorer")
    disc.add_argument("--no-halving", action="store_const", const=False, dest="halving",
                      help="score every candidate at full permutations (default: successive halving)")
    disc.add_argument("--seed", type=int, help="explorer seed (default: a fresh one, recorded with the run)")
    disc.add_argument("--unsafe-no-isolation", action="store_true",
                      help="let an LLM explorer run without an OS jail (resource limits only); recorded on the run")
    disc.add_argument("--carry-over", type=int, metavar="N",
                      help="start from the N best programs per island of earlier runs on the same search split (default 0)")
    disc.add_argument("--json", action="store_true")
    disc.set_defaults(func=cmd_discover)

    demo = sub.add_parser("demo", help="the whole pipeline on the bundled SYNTHETIC bank (offline explorer)")
    demo.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--rounds", type=positive_int, default=8, help="discovery rounds")
    demo.add_argument("--candidates", type=positive_int, default=6, help="candidates per round")
    demo.add_argument("--betas", type=positive_int, default=5, help="betas per curve")
    demo.add_argument("--permutations", type=positive_int, default=10, help="permutations per question")
    demo.set_defaults(func=cmd_demo)

    cache = sub.add_parser("cache", help="the cache of graded banks and bank snapshots (README: Errors, logs and files)")
    cache_sub = cache.add_subparsers(dest="cache_command", required=True, metavar="ACTION")
    cache_sub.add_parser("clear", help="remove every cached file").set_defaults(func=cmd_cache_clear)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbose = getattr(args, "verbose", False)
    console.quiet = getattr(args, "quiet", False)
    logs.configure(verbose)  # before any flow imports Prefect
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `autotts ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as err:  # noqa: BLE001 - every error ends here: one line, or a bug report
        return report(err, verbose)


if __name__ == "__main__":
    sys.exit(main())
