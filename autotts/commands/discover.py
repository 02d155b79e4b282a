"""`autotts discover` and `autotts demo`: discovery runs, and the whole pipeline on synthetic data."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table

from autotts import checks
from autotts.commands._shared import console, out_console, split
from autotts.commands.warehouse import ingest_files
from autotts.progress import flow_progress
from autotts.explorer.pricing import parse_price
from autotts.explorer.registry import EXPLORERS
from autotts.live.engines import positive_int
from replay_core.baselines import builtin_sources
from replay_core.metrics import compare_curves


def _price(text: str) -> tuple[str, tuple[float, float]]:
    """--price MODEL=IN,OUT, checked at parse time."""
    try:
        return parse_price(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def cmd_demo(args: argparse.Namespace) -> int:
    """Synthesise the default bank, ingest it, discover a controller offline, compare on holdout."""
    from autotts.trajectories.synthetic import generate
    from autotts.trajectories.writers import write_parquet

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
    from autotts.flows.discover import discover_flow

    shape = f" ({kwargs['rounds']} rounds of {kwargs['candidates']} candidates)" if kwargs.get("rounds") and \
        kwargs.get("candidates") else ""
    with flow_progress(console, f"discovering controllers{shape}"):
        if bank:
            ingest_files(bank, kwargs["warehouse"])
        summary = discover_flow(**kwargs)
    summary["holdout_comparison"] = compare_curves(summary["holdout"])
    console.print(f"report: {summary['report']}")
    return summary


def cmd_discover(args: argparse.Namespace) -> int:
    if (args.explorer or "offline") != "offline":  # the flow checks too; here the refusal is one line, before Prefect
        from replay_core.sandbox import require_isolation

        require_isolation(args.unsafe_no_isolation)
    setup = dict(search_benchmarks=split(args.search_benchmarks), search_models=split(args.search_models),
                 holdout_benchmarks=split(args.holdout_benchmarks), holdout_models=split(args.holdout_models),
                 rounds=args.rounds, candidates=args.candidates, explorer=args.explorer, model=args.explorer_model,
                 betas=args.betas, permutations=args.permutations, holdout_permutations=args.holdout_permutations,
                 beta_parameterized=args.beta_parameterized, trace_feedback=args.trace_feedback, seed=args.seed,
                 carry_over=args.carry_over, start_from=split(args.start_from), halving=args.halving,
                 unsafe_no_isolation=args.unsafe_no_isolation or None,
                 explorer_options={k: v for k, v in (("base_url", args.explorer_base_url),
                                                     ("prices", dict(args.price) if args.price else None),
                                                     ("tool_calls", args.agent_tool_calls)) if v is not None} or None)
    builtin_sources(setup["start_from"] or [])  # an unknown name is refused before --bank is ingested
    if args.resume:  # refuse a conflicting flag in one line, before any flow starts
        from autotts.explorer.run_setup import resumed_setup
        from autotts.warehouse.results import stored_run

        resumed_setup(args.resume, *stored_run(args.warehouse, args.resume, "discover"), setup)
    summary = _discover(warehouse=args.warehouse, bank=args.bank, resume=args.resume, max_cost_usd=args.max_cost_usd,
                        **setup)
    if args.json:
        print(json.dumps(summary, default=str))
        return 0
    _print_discovery(summary, synthetic=False)
    return 0


def _print_discovery(summary: dict, synthetic: bool) -> None:
    from autotts.report.wording import saving_words

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


def register(sub) -> None:
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
    disc.add_argument("--start-from", action="append", metavar="NAME",
                      help="evaluate this built-in controller before round 0 and build on it, e.g. `discovered` to "
                           "refine what ships (repeatable; the offline explorer refines grammar programs only)")
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
