"""Back ends that generate from token ids (vLLM, transformers): sequences are token lists.

A sequence is the chat-templated prompt's token ids plus everything generated so far; a probe
greedily continues it plus the tokenised cue. A subclass supplies only a batched sampling call and
a batched greedy call."""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from autotts.live.engine import Sampling
from autotts.live.round_engine import Continuation, RoundEngine


@dataclass(frozen=True)
class Generation:
    """What a token back end generated for one prompt."""

    token_ids: list[int]
    logprobs: list[float]  # the model's log-probability of each generated token (empty: not asked)
    stopped: bool  # ended with an end-of-sequence token rather than at the token limit


class TokenEngine(RoundEngine):
    def __init__(self, tokenizer, sampling: Sampling):
        super().__init__(sampling)
        self.tokenizer = tokenizer
        self.tokens: dict[int, list[int]] = {}
        self.prompt_length: dict[int, int] = {}
        self._cue = tokenizer.encode(sampling.probe_cue, add_special_tokens=False)

    @abstractmethod
    def _sample(self, prompts: list[list[int]], max_new: list[int], seeds: list[int]) -> list[Generation]:
        """Sample a continuation of each prompt (temperature/top-p from `self.sampling`), with log-probs."""

    @abstractmethod
    def _greedy(self, prompts: list[list[int]], max_new: int) -> list[Generation]:
        """The greedy continuation of each prompt (log-probs not needed)."""

    def _start(self, handle: int, prompt: str) -> None:
        text = self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                  add_generation_prompt=True)
        self.tokens[handle] = self.tokenizer.encode(text, add_special_tokens=False)
        self.prompt_length[handle] = len(self.tokens[handle])

    def _continue(self, handles: list[int], budgets: list[int], seeds: list[int]) -> list[Continuation]:
        outs = self._sample([self.tokens[h] for h in handles], budgets, seeds)
        for h, out in zip(handles, outs):
            self.tokens[h].extend(out.token_ids)
        return [Continuation(len(out.token_ids), out.logprobs, out.stopped) for out in outs]

    def _probe(self, handles: list[int]) -> list[tuple[str, int]]:
        outs = self._greedy([self.tokens[h] + self._cue for h in handles], self.sampling.probe_tokens)
        return [(self.tokenizer.decode(o.token_ids, skip_special_tokens=True), len(o.token_ids)) for o in outs]

    def _text(self, handle: int) -> str:
        return self.tokenizer.decode(self.tokens[handle][self.prompt_length[handle]:], skip_special_tokens=True)

    def _forget(self, handle: int) -> None:
        self.tokens.pop(handle, None)
        self.prompt_length.pop(handle, None)
