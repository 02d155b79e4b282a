"""Engine bookkeeping shared by back ends that generate from token ids (vLLM, transformers).

A sequence is the chat-templated prompt's token ids plus everything generated so far. A chunk
continues it by up to `chunk_tokens` sampled tokens; a probe greedily continues the sequence plus
the forced-answer cue for a few tokens. A back end supplies only the two batched generation calls,
so chunking, token accounting, confidence and answer extraction are the same code on every one."""
from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from live.answers import extract_answer, probe_answer
from live.engine import Chunk, Sampling


@dataclass(frozen=True)
class Generation:
    """What a back end generated for one prompt."""

    token_ids: list[int]
    logprobs: list[float]  # the model's log-probability of each generated token (empty: not asked)
    stopped: bool  # ended with an end-of-sequence token rather than at the token limit


class TokenEngine(ABC):
    """The `Engine` operations over token-id sequences; subclasses implement `_sample` and `_greedy`."""

    def __init__(self, tokenizer, sampling: Sampling):
        self.tokenizer = tokenizer
        self.sampling = sampling
        self.tokens: dict[int, list[int]] = {}
        self.prompt_length: dict[int, int] = {}
        self.chunks_done: dict[int, int] = {}
        self._cue = tokenizer.encode(sampling.probe_cue, add_special_tokens=False)
        self._ids = itertools.count()

    @abstractmethod
    def _sample(self, prompts: list[list[int]], max_new: list[int], seeds: list[int]) -> list[Generation]:
        """Sample a continuation of each prompt (temperature/top-p from `self.sampling`), with log-probs."""

    @abstractmethod
    def _greedy(self, prompts: list[list[int]], max_new: int) -> list[Generation]:
        """The greedy continuation of each prompt (log-probs not needed)."""

    def open(self, prompt: str) -> int:
        handle = next(self._ids)
        text = self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                  add_generation_prompt=True)
        self.tokens[handle] = self.tokenizer.encode(text, add_special_tokens=False)
        self.prompt_length[handle] = len(self.tokens[handle])
        self.chunks_done[handle] = 0
        return handle

    def generated(self, handle: int) -> int:
        """Tokens generated so far by a sequence (its prompt excluded)."""
        return len(self.tokens[handle]) - self.prompt_length[handle]

    def text(self, handle: int) -> str:
        """The generated text of a sequence so far."""
        return self.tokenizer.decode(self.tokens[handle][self.prompt_length[handle]:], skip_special_tokens=True)

    def extend(self, handles: list[int], chunks: list[int]) -> list[list[Chunk]]:
        sp = self.sampling
        produced: dict[int, list[Chunk]] = {h: [] for h in handles}
        pending = {h: k for h, k in zip(handles, chunks) if k > 0 and self.generated(h) < sp.max_tokens}
        while pending:  # one batched call per chunk depth: sequences asking for more stay in
            batch = list(pending)
            budgets = [min(sp.chunk_tokens, sp.max_tokens - self.generated(h)) for h in batch]
            seeds = [sp.seed + 7919 * h + self.chunks_done[h] for h in batch]
            for h, out in zip(batch, self._sample([self.tokens[h] for h in batch], budgets, seeds)):
                self.tokens[h].extend(out.token_ids)
                self.chunks_done[h] += 1
                ended = out.stopped or self.generated(h) >= sp.max_tokens
                confidence = math.fsum(out.logprobs) / len(out.logprobs) if out.logprobs else float("nan")
                answer = extract_answer(self.text(h)) if out.stopped else None
                produced[h].append(Chunk(len(out.token_ids), confidence, ended, answer, cut=ended and not out.stopped))
                pending[h] -= 1
                if ended or pending[h] == 0:
                    del pending[h]
        return [produced[h] for h in handles]

    def probe(self, handles: list[int]) -> list[tuple[str | None, int]]:
        if not handles:
            return []
        outs = self._greedy([self.tokens[h] + self._cue for h in handles], self.sampling.probe_tokens)
        return [(probe_answer(self.tokenizer.decode(o.token_ids, skip_special_tokens=True)), len(o.token_ids))
                for o in outs]

    def close(self, handle: int) -> None:
        for table in (self.tokens, self.prompt_length, self.chunks_done):
            table.pop(handle, None)
