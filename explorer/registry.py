"""Explorers by name: what `--explorer` accepts, built from plain settings.

    make_explorer("openai", model="qwen3-32b", base_url="http://gpu-box:8000/v1", prices={"qwen3": (0, 0)})

The discovery flow and the CLI build explorers only here, so a new provider is one entry.
Provider SDKs are imported only when their explorer is built.
"""
from __future__ import annotations

from autotts.explorer.base import Explorer

EXPLORERS = {
    "offline": "evolutionary search over the template controller family; no key, no network",
    "anthropic": "single-shot Claude: one message per candidate (ANTHROPIC_API_KEY)",
    "anthropic-agent": "Claude with tools: tests code in the sandbox within a round, then submits (ANTHROPIC_API_KEY)",
    "openai": "single-shot, any OpenAI-compatible endpoint (--explorer-base-url, OPENAI_API_KEY; e.g. vllm serve)",
}


def make_explorer(name: str, model: str | None = None, base_url: str | None = None, max_tokens: int = 8000,
                  prices: dict[str, tuple[float, float]] | None = None, tool_calls: int = 12,
                  budgeted: bool = False) -> Explorer:
    """The explorer called `name`; an unknown name or a missing setting is one clear error. With
    `budgeted` (a dollar limit is set), an LLM explorer must know its model's price."""
    explorer = _build(name, model, base_url, max_tokens, prices, tool_calls)
    price = getattr(explorer, "price", None)
    if budgeted and price is not None and not price.known:
        raise ValueError(f"no price known for {explorer.model!r}, so --max-cost-usd cannot be kept; "
                         f"give one with --price {explorer.model}=IN,OUT (USD per million tokens)")
    return explorer


def _build(name: str, model: str | None, base_url: str | None, max_tokens: int,
           prices: dict[str, tuple[float, float]] | None, tool_calls: int) -> Explorer:
    if name == "offline":
        from autotts.explorer.offline import OfflineExplorer

        return OfflineExplorer()
    if name == "anthropic":
        from autotts.explorer.anthropic_explorer import AnthropicExplorer

        return AnthropicExplorer(model=model or "", max_tokens=max_tokens, prices=prices)
    if name == "anthropic-agent":
        from autotts.explorer.anthropic_agent import AnthropicAgentExplorer

        return AnthropicAgentExplorer(model=model or "", max_tokens=max_tokens, prices=prices, tool_calls=tool_calls)
    if name == "openai":
        from autotts.explorer.openai_explorer import OpenAIExplorer

        return OpenAIExplorer(model=model or "", base_url=base_url, max_tokens=max_tokens, prices=prices)
    raise ValueError(f"unknown explorer {name!r}: use one of {', '.join(EXPLORERS)}")
