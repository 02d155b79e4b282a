"""`python -m collection`: collect trajectories in the GPU environment (no Prefect here).

    python -m collection --problems problems.jsonl --model Qwen/Qwen3-4B --n 64 --chunk-tokens 256 \\
        --engine vllm --out bank.parquet
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from collection.collector import collect, merge
from collection.problems import read_problems
from trajectories.schema import FormatError


def make_engine(spec: str, model: str, chunk_tokens: int, max_tokens: int, seed: int):
    from live.engine import Sampling

    sampling = Sampling(chunk_tokens=chunk_tokens, max_tokens=max_tokens, seed=seed)
    if spec == "vllm":
        from live.vllm_engine import VLLMEngine

        return VLLMEngine(model, sampling)
    if spec.startswith("openai:"):
        from live.openai_engine import OpenAIEngine

        return OpenAIEngine(spec.removeprefix("openai:"), model, sampling)
    raise ValueError(f"unknown engine {spec!r}: use vllm or openai:URL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m collection", description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--n", type=int, default=64, help="trajectories per question")
    parser.add_argument("--chunk-tokens", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=32_768)
    parser.add_argument("--engine", default="vllm", help="vllm, or openai:URL for a `vllm serve` endpoint")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="interchange Parquet to write")
    args = parser.parse_args(argv)
    try:
        problems = read_problems(args.problems)
    except FormatError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out)
    parts = out.with_suffix(".parts")
    engine = make_engine(args.engine, args.model, args.chunk_tokens, args.max_tokens, args.seed)
    done = [0]

    def progress(problem, what):
        done[0] += 1
        print(f"[{done[0]}/{len(problems)}] {problem.benchmark}/{problem.question_id}: {what}", file=sys.stderr, flush=True)

    max_chunks = -(-args.max_tokens // args.chunk_tokens)
    written = collect(engine, problems, args.model, args.n, max_chunks, parts, on_question=progress)
    print(f"wrote {merge(written, out)} trajectories to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
