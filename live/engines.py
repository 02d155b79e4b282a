"""Choosing an engine and its sampling settings from the command line.

One spec string names the engine, so `python -m autotts.collection`, `autotts collect` and `autotts solve`
accept the same ones:

    vllm                    vLLM in this interpreter (the GPU environment)
    transformers[:DEVICE]   Hugging Face transformers, e.g. transformers:cuda (default: cuda if present)
    openai:URL              an OpenAI-compatible completions endpoint, e.g. `vllm serve` at URL
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, fields

from autotts.live.engine import Engine, Sampling, check_probe_cue

ENGINE_HELP = "vllm | transformers[:DEVICE] | openai:URL (a `vllm serve` endpoint)"


class EngineUnavailable(ValueError):
    """The library an engine needs is not installed in this environment."""


def make_engine(spec: str, model: str, sampling: Sampling) -> Engine:
    """The engine a spec names; heavy libraries are imported only for the one chosen."""
    kind, _, rest = spec.partition(":")
    try:
        if kind == "vllm" and not rest:
            from autotts.live.vllm_engine import VLLMEngine

            return VLLMEngine(model, sampling)
        if kind == "transformers":
            from autotts.live.transformers_engine import TransformersEngine

            return TransformersEngine(model, sampling, device=rest or None)
    except ModuleNotFoundError as err:
        if err.name not in ("vllm", "torch", "transformers"):
            raise
        hint = ("vLLM lives in the GPU environment (`make gpu-env`; it cannot share one with Prefect): "
                "collect with `--python .venv-gpu/bin/python`, or serve the model with `vllm serve MODEL` "
                "and use --engine openai:URL" if err.name == "vllm" else "pip install '.[transformers]'")
        raise EngineUnavailable(f"the {kind} engine needs {err.name}, which is not installed here: {hint}") from err
    if kind == "openai" and rest:
        from autotts.live.openai_engine import OpenAIEngine

        return OpenAIEngine(rest, model, sampling)
    raise ValueError(f"unknown engine {spec!r}: use {ENGINE_HELP}")


def positive_int(text: str) -> int:
    """An argparse type for counts that must be at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cue(text: str) -> str:
    """A probe cue from the command line, where `\\n` stands for a newline (other backslashes, as in
    `\\boxed{`, stay as typed)."""
    try:
        return check_probe_cue(text.replace("\\n", "\n"))
    except ValueError as err:  # argparse shows an ArgumentTypeError's message, not a ValueError's
        raise argparse.ArgumentTypeError(str(err)) from None


_OPTIONS = {  # field: (type, metavar, help)
    "chunk_tokens": (positive_int, "N", "tokens per chunk; a probe follows each"),
    "max_tokens": (positive_int, "N", "tokens per trajectory at most"),
    "temperature": (float, "X", "sampling temperature"),
    "top_p": (float, "X", "nucleus sampling mass"),
    "probe_tokens": (positive_int, "N", "tokens a probe may use to state its answer"),
    "seed": (int, "N", "sampling seed"),
    "probe_cue": (_cue, "TEXT", "appended to a sequence to force its answer; \\n is a newline"),
}


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per `Sampling` field: `--chunk-tokens`, `--max-tokens`, ..., `--probe-cue`."""
    for f in fields(Sampling):
        kind, metavar, text = _OPTIONS[f.name]
        shown = str(f.default).replace("\n", "\\n")
        parser.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default, metavar=metavar,
                            help=f"{text} (default {shown})".replace("%", "%%"))


def sampling_from(args: argparse.Namespace) -> Sampling:
    return Sampling(**{f.name: getattr(args, f.name) for f in fields(Sampling)})


def sampling_argv(sampling: Sampling) -> list[str]:
    """The command-line arguments that recreate `sampling` (for a subprocess)."""
    return [item for name, value in asdict(sampling).items() for item in ("--" + name.replace("_", "-"), str(value))]
