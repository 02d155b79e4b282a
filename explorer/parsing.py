"""Turn an LLM answer into candidate source, or a clear reason why not."""
from __future__ import annotations

import ast
import re
import threading

from replay_core.sandbox import MAX_SOURCE_CHARS  # an answer the sandbox would refuse is refused here
_BLOCK = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.S)


_PARSING = threading.Lock()


def parse_python(source: str) -> ast.Module:
    """`ast.parse`, one thread at a time. CPython 3.11 keeps the AST constructor's recursion depth in
    interpreter-wide state, so two threads parsing at once (a round evaluates candidates in a thread
    pool) can fail with "SystemError: AST constructor recursion depth mismatch".

    A lone surrogate (JSON can carry one, UTF-8 cannot) is reported as a SyntaxError, like any other
    source that does not parse, so that every caller's handling of bad code covers it."""
    with _PARSING:
        try:
            return ast.parse(source)
        except UnicodeEncodeError as err:
            line, column = source.count("\n", 0, err.start) + 1, err.start - source.rfind("\n", 0, err.start)
            raise SyntaxError(f"character {source[err.start]!r} is not valid UTF-8",
                              ("<unknown>", line, column, None)) from None


class MalformedAnswer(ValueError):
    """The answer holds no usable controller module."""


def extract_module(answer: str) -> str:
    """The last fenced Python block defining make_controller (else the whole answer, if it parses)."""
    blocks = _BLOCK.findall(answer) or [answer]
    for block in reversed(blocks):
        source = block.strip() + "\n"
        if "make_controller" not in source:
            continue
        if len(source) > MAX_SOURCE_CHARS:
            raise MalformedAnswer(f"the module is {len(source)} characters; the limit is {MAX_SOURCE_CHARS}")
        try:
            tree = parse_python(source)
        except SyntaxError as err:
            raise MalformedAnswer(f"the code does not parse: {err.msg} (line {err.lineno})") from None
        if not any(isinstance(n, ast.FunctionDef) and n.name == "make_controller" for n in tree.body):
            raise MalformedAnswer("the code defines no top-level make_controller(beta)")
        return source
    raise MalformedAnswer("no Python code block with make_controller(beta) in the answer")
