"""A small exact reader for arithmetic LaTeX: the fast path of answer grading.

Most answers that are not plain numbers are still plain arithmetic (`\\frac{2}{9}`,
`77 + 13\\sqrt{3}`, `2^5 \\times 5! + 1`). math-verify reads those through an ANTLR parser at
about 40 ms each; this reader builds the same sympy value in well under a millisecond. It accepts
only a conservative subset and returns None for anything else (letters, decimals, commas, sets,
relations, unbalanced braces, big powers or factorials), which then goes to the bounded
math-verify path. Its precedence follows math-verify's LaTeX grammar: implicit products
(`2\\sqrt{3}`, `1/2\\sqrt{3}` = 1/(2 sqrt 3)) bind tighter than explicit `*`, `/`, `\\cdot`.

Sizes are checked before sympy evaluates anything, so no input can make this reader slow.
"""
from __future__ import annotations

import re

from sympy import Expr, Integer, Rational, factorial, pi, sqrt

MAX_EXPONENT = 2000
MAX_FACTORIAL_ARG = 300
MAX_RESULT_BITS = 100_000
MAX_TEXT_CHARS = 300
MAX_RADICAND_BITS = 2000

_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\\[A-Za-z]+|[-+*/^!(){}])")
_FRACTIONS = {"\\frac", "\\dfrac", "\\tfrac"}
_PRODUCTS = {"*", "\\cdot", "\\times"}
_QUOTIENTS = {"/", "\\div"}
_KNOWN = _FRACTIONS | _PRODUCTS | _QUOTIENTS | {"\\sqrt", "\\pi", "\\left", "\\right"}


class _Reject(Exception):
    """The text is outside the subset (or too big): let math-verify decide."""


def read_arithmetic(text: str) -> Expr | None:
    """The exact sympy value of an arithmetic LaTeX answer, or None when the text is outside the
    subset this reader vouches for."""
    if len(text) > MAX_TEXT_CHARS:
        return None
    tokens = _tokens(text)
    if tokens is None:
        return None
    parser = _Parser(tokens)
    try:
        value = parser.additive()
        if parser.peek() is not None:
            return None
    except (_Reject, RecursionError):
        return None
    return value


def _tokens(text: str) -> list[str] | None:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            return None
        token = m.group(1)
        if token.startswith("\\") and token not in _KNOWN:
            return None
        if token in ("\\left", "\\right"):  # only \left( and \right) are plain parentheses
            nxt = _TOKEN.match(text, m.end())
            if not nxt or nxt.group(1) not in "()":
                return None
        else:
            tokens.append(token)
        pos = m.end()
    return tokens


class _Parser:
    """Recursive descent over the token list; every method returns an evaluated sympy number."""

    def __init__(self, tokens: list[str]):
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise _Reject
        self.i += 1
        return token

    def additive(self) -> Expr:
        value = self.multiplicative()
        while self.peek() in ("+", "-"):
            value = value + self.multiplicative() if self.take() == "+" else value - self.multiplicative()
        return value

    def multiplicative(self) -> Expr:
        value = self.unary()
        while self.peek() in _PRODUCTS or self.peek() in _QUOTIENTS:
            if self.take() in _PRODUCTS:
                value = value * self.unary()
            else:
                divisor = self.unary()
                if divisor == 0:
                    raise _Reject
                value = value / divisor
        return value

    def unary(self) -> Expr:
        if self.peek() in ("+", "-"):
            return self.unary() if self.take() == "+" else -self.unary()
        value = self.postfix()
        while self._starts_implicit_factor():
            value = value * self.postfix()
        return value

    def _starts_implicit_factor(self) -> bool:
        # a number right after another factor ("2 3") is ambiguous: leave it to math-verify
        return self.peek() in ("(", "\\sqrt", "\\pi") or self.peek() in _FRACTIONS

    def postfix(self) -> Expr:
        value = self.power()
        if self.peek() == "!":
            self.take()
            if self.peek() in ("!", "^") or not (value.is_Integer and 0 <= value <= MAX_FACTORIAL_ARG):
                raise _Reject
            value = factorial(value)
        return value

    def power(self) -> Expr:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        if self.peek() == "{":
            exponent = self.group("{", "}")
        elif self.peek() is not None and self.peek().isdigit() and len(self.peek()) == 1:  # 2^5
            exponent = Integer(self.take())
        else:
            raise _Reject
        if self.peek() == "^" or not exponent.is_Rational or abs(exponent) > MAX_EXPONENT:
            raise _Reject
        if base.is_Rational and base != 0 and _bits(base) * abs(exponent) > MAX_RESULT_BITS:
            raise _Reject
        elif base == 0 and exponent <= 0:
            raise _Reject
        return base ** exponent

    def atom(self) -> Expr:
        token = self.peek()
        if token is None:
            raise _Reject
        if token[0].isdigit():
            self.take()
            if token[0] == "0" and token[1:2].isdigit() or self.peek() is not None and self.peek()[0].isdigit():
                raise _Reject  # "025" or "2 3": leave such spellings to math-verify
            return Rational(token)
        if token == "(":
            return self.group("(", ")")
        if token == "{":
            return self.group("{", "}")
        if token in _FRACTIONS:
            self.take()
            numerator = self.group("{", "}")
            denominator = self.group("{", "}")
            if denominator == 0:
                raise _Reject
            return numerator / denominator
        if token == "\\sqrt":
            self.take()
            radicand = self.group("{", "}")
            if radicand.is_negative or radicand.is_Rational and _bits(radicand) > MAX_RADICAND_BITS:
                raise _Reject  # sympy factors rational radicands: keep them small
            return sqrt(radicand)
        if token == "\\pi":
            self.take()
            return pi
        raise _Reject

    def group(self, opening: str, closing: str) -> Expr:
        self.take(opening)
        value = self.additive()
        self.take(closing)
        return value


def _bits(value: Rational) -> int:
    return max(abs(value.p).bit_length(), value.q.bit_length())
