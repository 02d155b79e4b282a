"""What LLM calls cost, and how much a call may cost at most before it is made.

Prices are USD per million tokens (input, output). The built-in table covers Anthropic's model
families as listed when it was written; anything else (OpenAI-compatible endpoints, a local
`vllm serve`, new families) is priced by the user with `--price MODEL=IN,OUT` (`MODEL=0,0` for a
free local model). An override matches a model id exactly or as a substring, like the table.
"""
from __future__ import annotations

from dataclasses import dataclass

# Matched as substrings of the model id, first match wins.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {"haiku": (1.0, 5.0), "sonnet": (3.0, 15.0), "opus": (15.0, 75.0)}


class BudgetExceeded(RuntimeError):
    """The next call could cost more than the dollars left; the explorer stops before making it."""


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens; `known` is False when no table entry matched."""

    input: float
    output: float
    known: bool = True

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1e6

    def worst_case(self, prompt_chars: int, max_output_tokens: int) -> float:
        """An upper bound on one call's cost: a token is never shorter than one character, so the
        prompt has at most `prompt_chars` tokens, and the reply at most `max_output_tokens`."""
        return self.cost(prompt_chars, max_output_tokens)


def price_of(model: str, overrides: dict[str, tuple[float, float]] | None = None) -> Price:
    """The user's override for `model` (exact id first, then substring), else the table's family price."""
    for table in (overrides or {}, DEFAULT_PRICES):
        if model in table:
            return Price(*table[model])
        for key, (price_in, price_out) in table.items():
            if key in model:
                return Price(price_in, price_out)
    return Price(0.0, 0.0, known=False)


def parse_price(text: str) -> tuple[str, tuple[float, float]]:
    """`MODEL=IN,OUT` (USD per million tokens) -> (model, (in, out)); a clear error otherwise."""
    model, _, numbers = text.partition("=")
    try:
        price_in, price_out = (float(x) for x in numbers.split(","))
    except ValueError:
        raise ValueError(f"--price {text!r}: expected MODEL=IN,OUT in USD per million tokens, e.g. "
                         "claude-sonnet=3,15") from None
    if not model or price_in < 0 or price_out < 0:
        raise ValueError(f"--price {text!r}: needs a model name and prices of at least 0")
    return model, (price_in, price_out)


@dataclass
class Allowance:
    """Dollars an explorer may still spend this round (None: no limit)."""

    dollars: float | None

    def check(self, price: Price, prompt_chars: int, max_output_tokens: int, spent: float) -> None:
        """Raise BudgetExceeded when the next call's worst case would take spending past the limit."""
        if self.dollars is None:
            return
        worst = price.worst_case(prompt_chars, max_output_tokens)
        if spent + worst > self.dollars:
            raise BudgetExceeded(f"the next call could cost up to ${worst:.4f}; ${max(0.0, self.dollars - spent):.4f} "
                                 "of the budget is left")
