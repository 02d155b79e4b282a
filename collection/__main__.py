"""`python -m autotts.collection`: collect trajectories in the GPU environment (no Prefect here).

    python -m autotts.collection --problems problems.jsonl --model Qwen/Qwen3-4B --n 64 --chunk-tokens 256 \\
        --engine vllm --out bank.parquet
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autotts.collection.collector import EngineFailed, QuestionStats, collect, merge
from autotts.collection.problems import read_problems
from autotts.live.engines import ENGINE_HELP, add_sampling_arguments, make_engine, positive_int, sampling_from
from autotts.trajectories.schema import FormatError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autotts.collection", description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", required=True, help="JSONL: question_id, benchmark, problem, gold per line")
    parser.add_argument("--model", required=True, help="model id or local checkpoint directory")
    parser.add_argument("--n", type=positive_int, default=64, help="trajectories per question (default 64)")
    parser.add_argument("--engine", default="vllm", help=ENGINE_HELP)
    parser.add_argument("--concurrent-questions", type=positive_int, default=1, metavar="K",
                        help="questions collected together, so each engine call batches K x N sequences (default 1)")
    parser.add_argument("--out", required=True, help="interchange Parquet to write; per-question parts go beside it")
    add_sampling_arguments(parser)
    args = parser.parse_args(argv)
    try:
        problems = read_problems(args.problems)
    except FormatError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    parts = out.with_suffix(".parts")
    sampling = sampling_from(args)
    try:
        engine = make_engine(args.engine, args.model, sampling)
    except ValueError as err:  # an unknown spec, or an engine whose library is not installed here
        print(f"error: {err}", file=sys.stderr)
        return 2
    done = [0]

    def progress(problem, stats: QuestionStats | None) -> None:
        done[0] += 1
        line = f"[{done[0]}/{len(problems)}] {problem.benchmark}/{problem.question_id}"
        if stats is None:
            line += " kept from an earlier run"
        else:
            line += (f": {stats.tokens:,} tokens, {stats.cut}/{stats.trajectories} cut at --max-tokens "
                     f"({stats.batch_tokens_per_s:,.0f} tokens/s)")
            for warning in stats_warnings(stats, sampling.probe_tokens):
                line += f"\n  warning: {warning}"
        print(line, file=sys.stderr, flush=True)

    max_chunks = -(-sampling.max_tokens // sampling.chunk_tokens)
    try:
        written = collect(engine, problems, args.model, args.n, max_chunks, parts, on_question=progress,
                          concurrent=args.concurrent_questions)
    except EngineFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {merge(written, out)} trajectories to {out}", file=sys.stderr)
    return 0


def stats_warnings(stats: QuestionStats, probe_tokens: int) -> list[str]:
    """Plain-language warnings for numbers that usually mean a misconfigured run."""
    warnings = []
    if stats.probes and stats.unanswered_probes > stats.probes / 2:
        warnings.append(f"{stats.unanswered_probes} of {stats.probes} probes stated no answer: the model did not "
                        f"close \\boxed{{ within --probe-tokens {probe_tokens}; raise it, or check the chat template")
    if stats.trajectories and stats.cut == stats.trajectories:
        warnings.append("every trajectory reached --max-tokens: none has a final answer; raise --max-tokens")
    return warnings


if __name__ == "__main__":
    raise SystemExit(main())
