"""The LLM explorer on the Anthropic API, single-shot: one message per proposal.

The API key comes from ANTHROPIC_API_KEY; model and max tokens are configurable. Transient errors
(rate limits, overload, timeouts, 5xx) are retried by the SDK with backoff; token usage and dollar
cost are recorded per call; malformed answers are rejected with a reason and cost nothing more.
"""
from __future__ import annotations

import os
import typing
from dataclasses import dataclass

from autotts.explorer.base import DiscoveryContext, Proposal, Usage
from autotts.explorer.pricing import Price, price_of
from autotts.explorer.single_shot import propose_single_shot

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


def anthropic_client(max_retries: int):
    """An SDK client keyed from ANTHROPIC_API_KEY, or one clear error naming the way out."""
    import anthropic

    key = os.environ.get("ANTHROPIC_API_KEY")
    if not key:
        raise RuntimeError("ANTHROPIC_API_KEY is not set; use --explorer offline to search without an API")
    return anthropic.Anthropic(api_key=key, max_retries=max_retries)


@dataclass
class AnthropicExplorer:
    model: str = ""
    max_tokens: int = 8000
    client: object | None = None
    prices: dict[str, tuple[float, float]] | None = None   # overrides of autotts.explorer.pricing's table
    max_retries: int = 4
    name: str = "anthropic"

    def __post_init__(self) -> None:
        self.model = self.model or default_model()
        self.name = f"anthropic:{self.model}"
        if self.client is None:
            self.client = anthropic_client(self.max_retries)
        self.price: Price = price_of(self.model, self.prices)

    def ask(self, system: str, prompt: str) -> tuple[str, int, int]:
        message = self.client.messages.create(model=self.model, max_tokens=self.max_tokens, system=system,
                                              messages=[{"role": "user", "content": prompt}])
        text = "".join(getattr(block, "text", "") for block in message.content)
        return text, message.usage.input_tokens, message.usage.output_tokens

    def propose(self, context: DiscoveryContext, k: int) -> tuple[list[Proposal], Usage]:
        return propose_single_shot(context, k, self.ask, self.price, self.max_tokens, self.name)
