"""Choosing an engine and its sampling settings from the command line.

One spec string names the engine, so `python -m collection`, `autotts collect` and `autotts solve`
accept the same ones:

    vllm                    vLLM in this interpreter (the GPU environment)
    transformers[:DEVICE]   Hugging Face transformers, e.g. transformers:cuda (default: cuda if present)
    openai:URL              an OpenAI-compatible completions endpoint, e.g. `vllm serve` at URL
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, fields

from live.engine import Engine, Sampling

ENGINE_HELP = "vllm | transformers[:DEVICE] | openai:URL (a `vllm serve` endpoint)"


def make_engine(spec: str, model: str, sampling: Sampling) -> Engine:
    """The engine a spec names; heavy libraries are imported only for the one chosen."""
    kind, _, rest = spec.partition(":")
    if kind == "vllm" and not rest:
        from live.vllm_engine import VLLMEngine

        return VLLMEngine(model, sampling)
    if kind == "transformers":
        from live.transformers_engine import TransformersEngine

        return TransformersEngine(model, sampling, device=rest or None)
    if kind == "openai" and rest:
        from live.openai_engine import OpenAIEngine

        return OpenAIEngine(rest, model, sampling)
    raise ValueError(f"unknown engine {spec!r}: use {ENGINE_HELP}")


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """`--chunk-tokens`, `--max-tokens`, `--temperature`, `--top-p`, `--probe-tokens`, `--seed`."""
    helps = {"chunk_tokens": "tokens per chunk; a probe follows each", "max_tokens": "tokens per trajectory at most",
             "temperature": "sampling temperature", "top_p": "nucleus sampling mass",
             "probe_tokens": "tokens a probe may use to state its answer", "seed": "sampling seed"}
    for f in fields(Sampling):
        parser.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default,
                            metavar="N" if isinstance(f.default, int) else "X",
                            help=f"{helps[f.name]} (default {f.default})")


def sampling_from(args: argparse.Namespace) -> Sampling:
    return Sampling(**{f.name: getattr(args, f.name) for f in fields(Sampling)})


def sampling_argv(sampling: Sampling) -> list[str]:
    """The command-line arguments that recreate `sampling` (for a subprocess)."""
    return [item for name, value in asdict(sampling).items() for item in ("--" + name.replace("_", "-"), str(value))]
