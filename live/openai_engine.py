"""An engine over an OpenAI-compatible completions endpoint (e.g. `vllm serve MODEL`).

Each sequence keeps its text; a chunk is one completion of up to `chunk_tokens` tokens continuing
it; a probe is a short greedy completion after the cue. A round's requests (every sequence's next
chunk, or every probe) are sent concurrently, so the server can batch them. Confidence is the
chunk's mean token log-probability when the server returns log-probs."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from autotts.live.engine import Sampling
from autotts.live.round_engine import Continuation, RoundEngine


class OpenAIEngine(RoundEngine):
    def __init__(self, base_url: str, model: str, sampling: Sampling = Sampling(), client: httpx.Client | None = None,
                 max_concurrency: int = 64):
        super().__init__(sampling)
        self.model = model
        self.client = client or httpx.Client(base_url=base_url, timeout=600)
        self.texts: dict[int, str] = {}
        self.prompt_chars: dict[int, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="openai-engine")

    def _complete(self, prompt: str, max_tokens: int, temperature: float, seed: int) -> dict:
        response = self.client.post("/v1/completions", json={
            "model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": temperature,
            "top_p": self.sampling.top_p if temperature > 0 else 1.0, "seed": seed, "logprobs": 1})
        response.raise_for_status()
        body = response.json()
        choice = body["choices"][0]
        logprobs = (choice.get("logprobs") or {}).get("token_logprobs") or []
        return {"text": choice["text"], "tokens": int(body.get("usage", {}).get("completion_tokens", 0)),
                "logprobs": [lp for lp in logprobs if lp is not None], "stopped": choice.get("finish_reason") == "stop"}

    def _round(self, requests: list[tuple[str, int, float, int]]) -> list[dict]:
        """One round's requests, sent concurrently; replies in request order (the first error raises)."""
        return list(self._pool.map(lambda request: self._complete(*request), requests))

    def _start(self, handle: int, prompt: str) -> None:
        self.texts[handle] = prompt
        self.prompt_chars[handle] = len(prompt)

    def _continue(self, handles: list[int], budgets: list[int], seeds: list[int]) -> list[Continuation]:
        replies = self._round([(self.texts[h], budget, self.sampling.temperature, seed)
                               for h, budget, seed in zip(handles, budgets, seeds)])
        for h, reply in zip(handles, replies):
            self.texts[h] += reply["text"]
        return [Continuation(r["tokens"], r["logprobs"], r["stopped"]) for r in replies]

    def _probe(self, handles: list[int]) -> list[tuple[str, int]]:
        replies = self._round([(self.texts[h] + self.sampling.probe_cue, self.sampling.probe_tokens, 0.0, 0)
                               for h in handles])
        return [(r["text"], r["tokens"]) for r in replies]

    def _text(self, handle: int) -> str:
        return self.texts[handle][self.prompt_chars[handle]:]

    def _forget(self, handle: int) -> None:
        self.texts.pop(handle, None)
        self.prompt_chars.pop(handle, None)
