"""The LLM explorer on the Anthropic API.

The API key comes from ANTHROPIC_API_KEY; model and max tokens are configurable. Transient errors
(rate limits, overload, timeouts, 5xx) are retried by the SDK with backoff; token usage and dollar
cost are recorded per call; malformed answers are rejected with a reason and cost nothing more.
"""
from __future__ import annotations

import os
import typing
from dataclasses import dataclass

from explorer.base import DiscoveryContext, Proposal, Usage
from explorer.parsing import MalformedAnswer, extract_module
from explorer.prompt import SYSTEM, build_prompt

# USD per million tokens (input, output) by model family, as listed at the time of writing.
# Override with AnthropicExplorer(price_in=..., price_out=...) when prices change.
PRICES = {"haiku": (1.0, 5.0), "sonnet": (3.0, 15.0), "opus": (15.0, 75.0)}
PREFERRED = ("claude-sonnet-5-5", "claude-sonnet-5", "claude-sonnet-4-6", "claude-opus-4-8")


def default_model() -> str:
    """The preferred Sonnet the installed SDK lists and does not call deprecated."""
    from anthropic._data import DEPRECATED_MODELS
    from anthropic.types import Model

    known = [name for member in typing.get_args(Model) for name in (typing.get_args(member) or (member,))
             if isinstance(name, str)]
    for name in PREFERRED:
        if name in known and name not in DEPRECATED_MODELS:
            return name
    return next(m for m in known if "sonnet" in m and m not in DEPRECATED_MODELS)


def price_of(model: str) -> tuple[float, float]:
    family = next((f for f in PRICES if f in model), "sonnet")
    return PRICES[family]


@dataclass
class AnthropicExplorer:
    model: str = ""
    max_tokens: int = 8000
    client: object | None = None
    price_in: float | None = None
    price_out: float | None = None
    max_retries: int = 4
    name: str = "anthropic"

    def __post_init__(self) -> None:
        self.model = self.model or default_model()
        self.name = f"anthropic:{self.model}"
        if self.client is None:
            import anthropic

            key = os.environ.get("ANTHROPIC_API_KEY")
            if not key:
                raise RuntimeError("ANTHROPIC_API_KEY is not set; use --explorer offline to search without an API")
            self.client = anthropic.Anthropic(api_key=key, max_retries=self.max_retries)
        default_in, default_out = price_of(self.model)
        self.price_in = default_in if self.price_in is None else self.price_in
        self.price_out = default_out if self.price_out is None else self.price_out

    def propose(self, context: DiscoveryContext, k: int) -> tuple[list[Proposal], Usage]:
        usage = Usage()
        proposals = []
        for i in range(k):
            island = i % context.db.islands
            parents = tuple(p.controller_id for p in context.db.sample(island))
            message = self.client.messages.create(
                model=self.model, max_tokens=self.max_tokens, system=SYSTEM,
                messages=[{"role": "user", "content": build_prompt(context, island)}])
            usage.calls += 1
            usage.input_tokens += message.usage.input_tokens
            usage.output_tokens += message.usage.output_tokens
            usage.cost_usd += (message.usage.input_tokens * self.price_in + message.usage.output_tokens * self.price_out) / 1e6
            text = "".join(getattr(block, "text", "") for block in message.content)
            try:
                proposals.append(Proposal(extract_module(text), island, parents))
            except MalformedAnswer as err:
                usage.rejected.append(str(err))
        return proposals, usage
