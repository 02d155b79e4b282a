"""The single-shot LLM explorer loop, whatever the provider: one prompt per proposal, one module
per reply, every call priced, checked against the round's dollar allowance before it is made,
and kept in the warehouse as a conversation."""
from __future__ import annotations

from typing import Callable

from autotts.explorer.base import DiscoveryContext, Proposal, Usage
from autotts.explorer.conversations import Conversation
from autotts.explorer.parsing import MalformedAnswer, extract_module
from autotts.explorer.pricing import Allowance, BudgetExceeded, Price
from autotts.explorer.prompt import SYSTEM, build_prompt

# (system, user prompt) -> (reply text, input tokens, output tokens)
Ask = Callable[[str, str], tuple[str, int, int]]


def propose_single_shot(context: DiscoveryContext, k: int, ask: Ask, price: Price, max_tokens: int,
                        name: str) -> tuple[list[Proposal], Usage]:
    """K proposals, one call each, island by island; stops before a call that could break the budget."""
    usage = Usage()
    allowance = Allowance(context.budget_usd)
    proposals = []
    for i in range(k):
        island = i % context.db.islands
        parents = tuple(p.controller_id for p in context.db.sample(island))
        prompt = build_prompt(context, island)
        try:
            allowance.check(price, len(SYSTEM) + len(prompt), max_tokens, usage.cost_usd)
        except BudgetExceeded as err:
            usage.stopped = f"dollar budget: {err}"
            break
        text, input_tokens, output_tokens = ask(SYSTEM, prompt)
        cost = price.cost(input_tokens, output_tokens)
        usage.charge(input_tokens, output_tokens, cost)
        conversation = Conversation(name)
        conversation.add("user", prompt)
        conversation.add("assistant", text, input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=cost)
        context.keep(conversation)
        try:
            proposals.append(Proposal(extract_module(text), island, parents))
        except MalformedAnswer as err:
            usage.rejected.append(str(err))
    return proposals, usage
