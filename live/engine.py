"""The engine seam: the few operations the live runtime needs from a generator."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Protocol

from autotts.live.answers import CUE


def check_probe_cue(cue: str) -> str:
    """A probe's answer is read up to the brace closing `\\boxed{`, so the cue must end with it."""
    if not cue.endswith("\\boxed{"):
        raise ValueError(f"the probe cue must end with \\boxed{{ (the answer is read up to its closing brace); "
                         f"got {cue!r}")
    return cue


@dataclass(frozen=True)
class Sampling:
    """How an engine samples: shared by every real engine."""

    chunk_tokens: int = 256
    max_tokens: int = 32_768
    temperature: float = 0.6
    top_p: float = 0.95
    probe_tokens: int = 24
    seed: int = 0
    probe_cue: str = CUE  # e.g. "</think>" + CUE makes a thinking model leave its thoughts to answer

    def __post_init__(self) -> None:
        check_probe_cue(self.probe_cue)
        if min(self.chunk_tokens, self.max_tokens, self.probe_tokens) < 1:
            raise ValueError("chunk_tokens, max_tokens and probe_tokens must be at least 1")


@dataclass(frozen=True)
class Chunk:
    """One generated chunk: its tokens, confidence, and the final answer if the sequence ended.
    `finished` says the sequence has no more chunks; `cut` that it ended at the token cap rather
    than naturally (the data contract's `finished` is `finished and not cut`)."""

    tokens: int
    confidence: float = float("nan")
    finished: bool = False
    answer: str | None = None
    cut: bool = False


class Engine(Protocol):
    """A generator of chunked reasoning sequences (vLLM, an HTTP endpoint, or a scripted replay)."""

    def open(self, prompt: str) -> Hashable:
        """Start a new sampled sequence for the prompt (nothing is generated yet)."""

    def extend(self, handles: list[Hashable], chunks: list[int]) -> list[list[Chunk]]:
        """Generate up to `chunks[i]` more chunks of each sequence (fewer when it ends)."""

    def probe(self, handles: list[Hashable]) -> list[tuple[str | None, int]]:
        """The answer each sequence states when forced to answer now, and the probe's tokens."""

    def close(self, handle: Hashable) -> None:
        """Stop a sequence (PRUNE) and free its resources."""
