"""Throughput of the transformers engine on a tiny random model (SYNTHETIC: its text is noise).

Collects `--questions` x `--n` chunked, probed trajectories through the real engine code and
reports sampled tokens per second, probe tokens per second, and, side by side in the same run,
how much faster collecting all questions together is than one at a time, and one batched probe
call over all sequences than probing them one at a time.
On a GPU machine `scripts/gpu_check.sh` runs it; here it runs on the CPU.

    python bench/engine_throughput.py [--device cuda] [--hidden 512 --layers 8] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autotts.collection.collector import collect_questions  # noqa: E402
from autotts.collection.problems import Problem  # noqa: E402
from autotts.live.engine import Sampling  # noqa: E402
from tests.support.collect import collect_question  # noqa: E402
from tests.support.tiny_model import build_tiny_model  # noqa: E402
from autotts.live.transformers_engine import TransformersEngine  # noqa: E402


def wait_for_device(engine: TransformersEngine) -> None:
    """GPU work is asynchronous: finish it before reading the clock."""
    if engine.device.startswith("cuda"):
        engine.torch.cuda.synchronize()


class Timed:
    """The engine seam with a stopwatch: seconds and tokens spent sampling and probing."""

    def __init__(self, engine: TransformersEngine):
        self.engine = engine
        self.seconds = {"sample": 0.0, "probe": 0.0}
        self.tokens = {"sample": 0, "probe": 0}

    def open(self, prompt):
        return self.engine.open(prompt)

    def close(self, handle):
        self.engine.close(handle)

    def extend(self, handles, chunks):
        start = time.perf_counter()
        out = self.engine.extend(handles, chunks)
        wait_for_device(self.engine)
        self.seconds["sample"] += time.perf_counter() - start
        self.tokens["sample"] += sum(c.tokens for produced in out for c in produced)
        return out

    def probe(self, handles):
        start = time.perf_counter()
        out = self.engine.probe(handles)
        wait_for_device(self.engine)
        self.seconds["probe"] += time.perf_counter() - start
        self.tokens["probe"] += sum(k for _, k in out)
        return out


def batching_ratio(engine: TransformersEngine, n: int, chunks: int) -> dict:
    """Seconds to probe n sequences in one call vs one call each (same sequences, same run)."""
    handles = [engine.open(f"Compute {i} * {i + 3} and explain.") for i in range(n)]
    engine.extend(handles, [chunks] * n)
    live = [h for h in handles if engine.generated[h] < engine.sampling.max_tokens and engine.tokens[h][-1] not in engine.eos]
    seconds, answers = {}, {}
    for name, calls in (("batched", [live]), ("one_by_one", [[h] for h in live])):
        start = time.perf_counter()
        answers[name] = [a for call in calls for a in engine.probe(call)]
        wait_for_device(engine)
        seconds[name] = time.perf_counter() - start
    same = sum(a == b for a, b in zip(answers["batched"], answers["one_by_one"]))  # < all: padding numerics
    return {"sequences": len(live), "batched_s": seconds["batched"], "one_by_one_s": seconds["one_by_one"],
            "speedup": seconds["one_by_one"] / seconds["batched"], "same_probes": same}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if present)")
    parser.add_argument("--dtype", default="auto", help="auto (float32), bfloat16, float16")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--n", type=int, default=16, help="trajectories per question")
    parser.add_argument("--chunk-tokens", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    sampling = Sampling(chunk_tokens=args.chunk_tokens, max_tokens=args.max_tokens, temperature=1.0, probe_tokens=8)
    with tempfile.TemporaryDirectory() as folder:
        model_dir = build_tiny_model(Path(folder) / "tiny", hidden=args.hidden, layers=args.layers,
                                     heads=max(1, args.hidden // 64))
        engine = TransformersEngine(str(model_dir), sampling, device=args.device, dtype=args.dtype)
        parameters = engine.model.num_parameters()
        collect_question(engine, Problem("warmup", "synthetic-tiny", "Say hi.", "0"), "tiny", 2, 1)  # first-call costs
        problems = [Problem(f"q{q}", "synthetic-tiny", f"What is {q} + {q}? Show your work.", str(2 * q))
                    for q in range(args.questions)]
        max_chunks = -(-args.max_tokens // args.chunk_tokens)
        timed, wall = Timed(engine), {}
        for concurrent in (1, args.questions):  # one question per engine call, then all of them together
            clock = time.perf_counter()
            for start in range(0, len(problems), concurrent):
                collect_questions(timed if concurrent == 1 else engine, problems[start:start + concurrent], "tiny",
                                  args.n, max_chunks)
            wall[concurrent] = time.perf_counter() - clock
        ratio = batching_ratio(engine, args.n, min(2, max_chunks - 1))  # leave room below the cap
    figures = {
        "synthetic": True, "device": engine.device, "host": platform.node(), "dtype": str(engine.model.dtype),
        "parameters": parameters, "questions": args.questions, "n": args.n, "chunk_tokens": args.chunk_tokens,
        "max_tokens": args.max_tokens, "wall_s": wall[1], "wall_s_questions_together": wall[args.questions],
        "sampled_tokens": timed.tokens["sample"], "sample_s": timed.seconds["sample"],
        "sampled_tokens_per_s": timed.tokens["sample"] / timed.seconds["sample"],
        "probe_tokens": timed.tokens["probe"], "probe_s": timed.seconds["probe"],
        "probe_tokens_per_s": timed.tokens["probe"] / max(timed.seconds["probe"], 1e-9),
        "probe_batching": ratio,
    }
    if engine.device.startswith("cuda"):
        figures["gpu"] = engine.torch.cuda.get_device_name(engine.model.device)
    print(f"SYNTHETIC tiny random model, {parameters:,} parameters, {figures['dtype']} on "
          f"{figures.get('gpu', engine.device)}")
    print(f"  {args.questions} questions x {args.n} trajectories, {args.chunk_tokens}-token chunks, cap "
          f"{args.max_tokens}: {wall[1]:.1f} s one question at a time, {wall[args.questions]:.1f} s all together "
          f"({wall[1] / wall[args.questions]:.1f}x)")
    print(f"  sampling: {figures['sampled_tokens']:,} tokens in {figures['sample_s']:.2f} s = "
          f"{figures['sampled_tokens_per_s']:,.0f} tokens/s")
    print(f"  probing:  {figures['probe_tokens']:,} tokens in {figures['probe_s']:.2f} s = "
          f"{figures['probe_tokens_per_s']:,.0f} tokens/s")
    print(f"  one batched probe of {ratio['sequences']} sequences: {ratio['batched_s']:.3f} s vs "
          f"{ratio['one_by_one_s']:.3f} s one by one ({ratio['speedup']:.1f}x); "
          f"{ratio['same_probes']}/{ratio['sequences']} probes identical")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
