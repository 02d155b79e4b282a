"""The vLLM engine (GPU environment only; vLLM is imported lazily, so this module loads anywhere).

Sequences are token lists: each chunk continues one with `LLM.generate` on a `TokensPrompt`
(vLLM's prefix cache makes the shared prefix cheap), `SamplingParams(logprobs=1)` gives the
per-token log-probs behind chunk confidence, and a probe is a short greedy continuation of the
prefix plus the forced-answer cue. Calls are batched over all sequences of a round."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from live.answers import extract_answer, probe_answer
from live.engine import Chunk, Sampling
from live.openai_engine import CUE


@dataclass
class VLLMEngine:
    model: str
    sampling: Sampling = Sampling()
    llm_kwargs: dict = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        from vllm import LLM  # the GPU environment has it; nothing else needs it

        self.llm = LLM(model=self.model, enable_prefix_caching=True, seed=self.sampling.seed, **self.llm_kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self.tokens: dict[int, list[int]] = {}
        self.prompt_length: dict[int, int] = {}

    def open(self, prompt: str) -> int:
        handle = next(self._ids)
        text = self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                  add_generation_prompt=True)
        self.tokens[handle] = self.tokenizer.encode(text, add_special_tokens=False)
        self.prompt_length[handle] = len(self.tokens[handle])
        return handle

    def _generate(self, prompts: list[list[int]], params: list) -> list:
        from vllm.inputs import TokensPrompt

        return self.llm.generate([TokensPrompt(prompt_token_ids=p) for p in prompts], params, use_tqdm=False)

    def extend(self, handles: list[int], chunks: list[int]) -> list[list[Chunk]]:
        from vllm import SamplingParams

        sp = self.sampling
        produced: dict[int, list[Chunk]] = {h: [] for h in handles}
        pending = {h: k for h, k in zip(handles, chunks)}
        while pending:
            batch = list(pending)
            params = [SamplingParams(temperature=sp.temperature, top_p=sp.top_p, logprobs=1,
                                     seed=sp.seed + 7919 * h + len(produced[h]),
                                     max_tokens=max(1, min(sp.chunk_tokens,
                                                           sp.max_tokens - len(self.tokens[h]) + self.prompt_length[h])))
                      for h in batch]
            for h, result in zip(batch, self._generate([self.tokens[h] for h in batch], params)):
                out = result.outputs[0]
                self.tokens[h].extend(out.token_ids)
                logprobs = [next(iter(step.values())).logprob for step in (out.logprobs or []) if step]
                generated = len(self.tokens[h]) - self.prompt_length[h]
                ended = out.finish_reason == "stop" or generated >= sp.max_tokens
                answer = None
                if out.finish_reason == "stop":
                    answer = extract_answer(self.tokenizer.decode(self.tokens[h][self.prompt_length[h]:]))
                produced[h].append(Chunk(len(out.token_ids), sum(logprobs) / len(logprobs) if logprobs else float("nan"),
                                         ended, answer))
                pending[h] -= 1
                if ended or pending[h] == 0:
                    del pending[h]
        return [produced[h] for h in handles]

    def probe(self, handles: list[int]) -> list[tuple[str | None, int]]:
        from vllm import SamplingParams

        cue = self.tokenizer.encode(CUE, add_special_tokens=False)
        params = SamplingParams(temperature=0.0, max_tokens=self.sampling.probe_tokens)
        results = self._generate([self.tokens[h] + cue for h in handles], [params] * len(handles))
        return [(probe_answer(r.outputs[0].text), len(r.outputs[0].token_ids)) for r in results]

    def close(self, handle: int) -> None:
        self.tokens.pop(handle, None)
