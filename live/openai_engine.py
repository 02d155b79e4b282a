"""An engine over an OpenAI-compatible completions endpoint (e.g. `vllm serve MODEL`).

Each sequence keeps its text; a chunk is one completion of `chunk_tokens` tokens continuing it; a
probe is a short greedy completion after the forced cue. Confidence is the chunk's mean token
log-probability when the server returns log-probs."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import httpx

from live.answers import extract_answer, probe_answer
from live.engine import Chunk, Sampling


@dataclass
class OpenAIEngine:
    base_url: str
    model: str
    sampling: Sampling = Sampling()
    client: httpx.Client | None = None
    texts: dict[int, str] = field(default_factory=dict)
    prompts: dict[int, int] = field(default_factory=dict)
    generated: dict[int, int] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.client = self.client or httpx.Client(base_url=self.base_url, timeout=600)

    def _complete(self, prompt: str, max_tokens: int, temperature: float, seed: int) -> dict:
        response = self.client.post("/v1/completions", json={
            "model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": temperature,
            "top_p": self.sampling.top_p if temperature > 0 else 1.0, "seed": seed, "logprobs": 1})
        response.raise_for_status()
        return response.json()

    def open(self, prompt: str) -> int:
        handle = next(self._ids)
        self.texts[handle] = prompt
        self.prompts[handle] = len(prompt)
        self.generated[handle] = 0
        return handle

    def extend(self, handles: list[int], chunks: list[int]) -> list[list[Chunk]]:
        out = []
        for handle, k in zip(handles, chunks):
            produced = []
            for _ in range(k):
                sampling = self.sampling
                budget = min(sampling.chunk_tokens, sampling.max_tokens - self.generated[handle])
                body = self._complete(self.texts[handle], budget, sampling.temperature, sampling.seed + 7919 * handle)
                choice = body["choices"][0]
                tokens = int(body.get("usage", {}).get("completion_tokens", 0))
                self.texts[handle] += choice["text"]
                self.generated[handle] += tokens
                logprobs = (choice.get("logprobs") or {}).get("token_logprobs") or []
                confidence = sum(logprobs) / len(logprobs) if logprobs else float("nan")
                ended = choice.get("finish_reason") == "stop" or self.generated[handle] >= sampling.max_tokens
                finished = choice.get("finish_reason") == "stop"
                answer = extract_answer(self.texts[handle][self.prompts[handle]:]) if finished else None
                produced.append(Chunk(tokens, confidence, ended, answer, cut=ended and not finished))
                if ended:
                    break
            out.append(produced)
        return out

    def probe(self, handles: list[int]) -> list[tuple[str | None, int]]:
        out = []
        for handle in handles:
            body = self._complete(self.texts[handle] + self.sampling.probe_cue, self.sampling.probe_tokens, 0.0, 0)
            out.append((probe_answer(body["choices"][0]["text"]), int(body.get("usage", {}).get("completion_tokens", 0))))
        return out

    def close(self, handle: int) -> None:
        self.texts.pop(handle, None)
