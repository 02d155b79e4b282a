"""Commands that drive a model: `collect` trajectories and `solve` one problem live."""
from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from rich.markup import escape

from autotts.commands._shared import console
from autotts.live.answers import PROMPT_TEMPLATE
from autotts.live.engines import ENGINE_HELP, add_sampling_arguments, make_engine, positive_int, sampling_from
from replay_core.controller import parse_knob, resolve


def cmd_collect(args: argparse.Namespace) -> int:
    from autotts.flows.collect import CollectionFailed, collect_flow

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
    from autotts.live.runtime import solve

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


def register(sub) -> None:
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
