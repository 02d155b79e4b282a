"""An engine over an OpenAI-compatible completions endpoint (e.g. `vllm serve MODEL`).

Each sequence keeps its text; a chunk is one completion of `chunk_tokens` tokens continuing it; a
probe is a short greedy completion after the forced cue. The requests of one round (every
sequence's next chunk, or every probe) are sent concurrently, so the server can batch them as
vLLM's scheduler does. Confidence is the chunk's mean token log-probability when the server
returns log-probs."""
from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
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
    max_concurrency: int = 64
    texts: dict[int, str] = field(default_factory=dict)
    prompts: dict[int, int] = field(default_factory=dict)
    generated: dict[int, int] = field(default_factory=dict)
    chunks_done: dict[int, int] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.client = self.client or httpx.Client(base_url=self.base_url, timeout=600)
        self._pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="openai-engine")

    def _complete(self, prompt: str, max_tokens: int, temperature: float, seed: int) -> dict:
        response = self.client.post("/v1/completions", json={
            "model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": temperature,
            "top_p": self.sampling.top_p if temperature > 0 else 1.0, "seed": seed, "logprobs": 1})
        response.raise_for_status()
        return response.json()

    def _round(self, requests: list[tuple[str, int, float, int]]) -> list[dict]:
        """Send one round's requests concurrently; replies in request order (the first error raises)."""
        return list(self._pool.map(lambda r: self._complete(*r), requests))

    def open(self, prompt: str) -> int:
        handle = next(self._ids)
        self.texts[handle] = prompt
        self.prompts[handle] = len(prompt)
        self.generated[handle] = 0
        self.chunks_done[handle] = 0
        return handle

    def extend(self, handles: list[int], chunks: list[int]) -> list[list[Chunk]]:
        sp = self.sampling
        produced: dict[int, list[Chunk]] = {h: [] for h in handles}
        pending = {h: k for h, k in zip(handles, chunks) if k > 0 and self.generated[h] < sp.max_tokens}
        while pending:
            batch = list(pending)
            replies = self._round([(self.texts[h], min(sp.chunk_tokens, sp.max_tokens - self.generated[h]),
                                    sp.temperature, sp.seed + 7919 * h + self.chunks_done[h]) for h in batch])
            for h, body in zip(batch, replies):
                choice = body["choices"][0]
                tokens = int(body.get("usage", {}).get("completion_tokens", 0))
                self.texts[h] += choice["text"]
                self.generated[h] += tokens
                self.chunks_done[h] += 1
                logprobs = (choice.get("logprobs") or {}).get("token_logprobs") or []
                confidence = sum(logprobs) / len(logprobs) if logprobs else float("nan")
                finished = choice.get("finish_reason") == "stop"
                ended = finished or self.generated[h] >= sp.max_tokens
                answer = extract_answer(self.texts[h][self.prompts[h]:]) if finished else None
                produced[h].append(Chunk(tokens, confidence, ended, answer, cut=ended and not finished))
                pending[h] -= 1
                if ended or pending[h] == 0:
                    del pending[h]
        return [produced[h] for h in handles]

    def probe(self, handles: list[int]) -> list[tuple[str | None, int]]:
        replies = self._round([(self.texts[h] + self.sampling.probe_cue, self.sampling.probe_tokens, 0.0, 0)
                               for h in handles])
        return [(probe_answer(body["choices"][0]["text"]), int(body.get("usage", {}).get("completion_tokens", 0)))
                for body in replies]

    def close(self, handle: int) -> None:
        for table in (self.texts, self.prompts, self.generated, self.chunks_done):
            table.pop(handle, None)
