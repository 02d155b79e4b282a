"""The LLM explorer on any OpenAI-compatible chat endpoint: hosted APIs, or a local `vllm serve`.

Uses the official `openai` SDK: `base_url` points it anywhere (e.g. http://gpu-box:8000/v1), the
key comes from OPENAI_API_KEY (a local server that checks none gets a placeholder), and the SDK
retries connection errors, 408/409/429 and 5xx with backoff. Usage comes from each response.
Prices: autotts.explorer.pricing has none for these models; give one with --price MODEL=IN,OUT.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from autotts.explorer.base import DiscoveryContext, Proposal, Usage
from autotts.explorer.pricing import Price, price_of
from autotts.explorer.single_shot import propose_single_shot


@dataclass
class OpenAIExplorer:
    model: str
    base_url: str | None = None
    max_tokens: int = 8000
    client: object | None = None
    prices: dict[str, tuple[float, float]] | None = None
    max_retries: int = 4
    name: str = "openai"

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("--explorer openai needs --explorer-model NAME (the model the endpoint serves)")
        self.name = f"openai:{self.model}"
        if self.client is None:
            import openai

            key = os.environ.get("OPENAI_API_KEY")
            if not key and not self.base_url:
                raise RuntimeError("OPENAI_API_KEY is not set; set it, or point --explorer-base-url at a local "
                                   "OpenAI-compatible server (e.g. vllm serve)")
            self.client = openai.OpenAI(api_key=key or "no-key-needed", base_url=self.base_url,
                                        max_retries=self.max_retries)
        self.price: Price = price_of(self.model, self.prices)

    def ask(self, system: str, prompt: str) -> tuple[str, int, int]:
        reply = self.client.chat.completions.create(
            model=self.model, max_completion_tokens=self.max_tokens,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}])
        usage = reply.usage
        text = (reply.choices[0].message.content or "") if reply.choices else ""
        return text, (usage.prompt_tokens if usage else 0), (usage.completion_tokens if usage else 0)

    def propose(self, context: DiscoveryContext, k: int) -> tuple[list[Proposal], Usage]:
        return propose_single_shot(context, k, self.ask, self.price, self.max_tokens, self.name)
