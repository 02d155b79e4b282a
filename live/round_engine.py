"""The engine operations shared by every generating back end (vLLM, transformers, HTTP).

A round continues every pending sequence by one chunk in a single back-end call (one batch for
vLLM or transformers, concurrent requests for an HTTP server), and a probe round asks every
given sequence for its forced answer at once. What a chunk means — its token budget under the
cap, its seed, whether it ended or was cut, its confidence and final answer — is decided here,
once; a back end only generates."""
from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from autotts.live.answers import extract_answer, probe_answer
from autotts.live.engine import Chunk, Sampling


@dataclass(frozen=True)
class Continuation:
    """What a back end generated for one sequence in one round."""

    tokens: int
    logprobs: list[float]  # the model's log-probability of each generated token (empty: not reported)
    stopped: bool  # ended naturally (end of sequence) rather than at the token budget


class RoundEngine(ABC):
    """`Engine` over per-sequence state kept by a back end; subclasses implement the five hooks."""

    def __init__(self, sampling: Sampling):
        self.sampling = sampling
        self.generated: dict[int, int] = {}  # tokens generated per sequence, its prompt excluded
        self.chunks_done: dict[int, int] = {}
        self._ids = itertools.count()

    @abstractmethod
    def _start(self, handle: int, prompt: str) -> None:
        """Set up a new sequence for the prompt."""

    @abstractmethod
    def _continue(self, handles: list[int], budgets: list[int], seeds: list[int]) -> list[Continuation]:
        """Sample up to `budgets[i]` more tokens of each sequence (seeded), append them to it."""

    @abstractmethod
    def _probe(self, handles: list[int]) -> list[tuple[str, int]]:
        """Each sequence's greedy continuation after the probe cue (not kept), and its tokens."""

    @abstractmethod
    def _text(self, handle: int) -> str:
        """The text a sequence has generated so far."""

    def _forget(self, handle: int) -> None:
        """Free a back end's state for a sequence."""

    def open(self, prompt: str) -> int:
        handle = next(self._ids)
        self._start(handle, prompt)
        self.generated[handle] = 0
        self.chunks_done[handle] = 0
        return handle

    def extend(self, handles: list[int], chunks: list[int]) -> list[list[Chunk]]:
        sp = self.sampling
        produced: dict[int, list[Chunk]] = {h: [] for h in handles}
        pending = {h: k for h, k in zip(handles, chunks) if k > 0 and self.generated[h] < sp.max_tokens}
        while pending:  # one round per chunk depth: sequences asking for more chunks stay in
            batch = list(pending)
            budgets = [min(sp.chunk_tokens, sp.max_tokens - self.generated[h]) for h in batch]
            seeds = [sp.seed + 7919 * h + self.chunks_done[h] for h in batch]
            for h, out in zip(batch, self._continue(batch, budgets, seeds)):
                self.generated[h] += out.tokens
                self.chunks_done[h] += 1
                ended = out.stopped or self.generated[h] >= sp.max_tokens
                confidence = math.fsum(out.logprobs) / len(out.logprobs) if out.logprobs else float("nan")
                answer = extract_answer(self._text(h)) if out.stopped else None
                produced[h].append(Chunk(out.tokens, confidence, ended, answer, cut=ended and not out.stopped))
                pending[h] -= 1
                if ended or pending[h] == 0:
                    del pending[h]
        return [produced[h] for h in handles]

    def probe(self, handles: list[int]) -> list[tuple[str | None, int]]:
        return [(probe_answer(text), tokens) for text, tokens in self._probe(handles)] if handles else []

    def close(self, handle: int) -> None:
        self._forget(handle)
        self.generated.pop(handle, None)
        self.chunks_done.pop(handle, None)
