"""How answers are asked for and read: the question prompt, the probe cue, and extraction from
generated text (the boxed answer, else the last number)."""
from __future__ import annotations

import re

PROMPT_TEMPLATE = "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}."
"""How a question is asked, in collection and live serving alike, so both read answers the same way."""

CUE = "\n\n**Final Answer**: \\boxed{"
"""Appended to a sequence to force it to state its current answer (a probe)."""

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:/\d+)?")


def boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (balanced braces), or None."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    depth, i = 1, start + len("\\boxed{")
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j].strip() or None
    return None


def extract_answer(text: str) -> str | None:
    """A final answer: the last boxed expression, else the last number in the text."""
    found = boxed(text)
    if found is not None:
        return found
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def probe_answer(continuation: str) -> str | None:
    """The answer after a forced cue ending in `\\boxed{`: up to the brace that closes it. A model
    that never closes the box states no answer."""
    return boxed("\\boxed{" + continuation)
