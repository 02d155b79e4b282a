"""The symbolic side of answer equivalence: math-verify parsing and comparison, and what is read
off a parsed value (its number, its free symbols, its values at sample points).

`analyze` and `verify_texts` can take unbounded time on hostile input (an integral of an unknown
function against a fraction never returns), so `autotts.trajectories.equivalence` only calls them inside
a `BoundedPool` worker. The value helpers (`number_key`, `tame`) are cheap and also used in the
calling process on values from `autotts.trajectories.arithmetic`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from math_verify import parse, verify
from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig, StringExtractionConfig
from sympy import (Basic, FiniteSet, Interval, MatrixBase, Pow, Product, Sum, Tuple, UnevaluatedExpr, exp,
                   preorder_traversal)

MAX_ANSWER_CHARS = 300
MAX_COMBINATORIAL_ARG = 300
MAX_EXPONENT = 2000
MAX_TERMS = 10_000
_MATH_CONFIG = (LatexExtractionConfig(), ExprExtractionConfig())
_CHOICE_CONFIG = (StringExtractionConfig(),)
_COMBINATORIAL = {"factorial", "factorial2", "subfactorial", "binomial", "gamma", "RisingFactorial",
                  "FallingFactorial", "fibonacci", "lucas", "bell", "catalan", "harmonic"}
_SAMPLE_POINTS = (0.5772156649, 1.4142135623)
ELEMENT_TOLERANCE = 2e-6
"""Two numbers closer than this (absolute, plus 1e-9 relative) may be equal to math-verify: it rounds
floats to 6 decimals before comparing them; every other number comparison it makes is exact."""
ZERO_RESIDUE = 1e-100
"""evalf of an unevaluated sum that cancels exactly (`\\frac{1}{34} + \\frac{-1 + \\sqrt{273}}{68} + ...`)
leaves a residue near 1e-137 rather than 0; no answer is that small, so such values read as 0."""


@dataclass(frozen=True)
class Analysis:
    """What grading needs to know about one answer text.

    `parsed` is False when math-verify gave nothing usable (or took too long): such an answer is
    only ever equal to the same text. `number` is a canonical key when the answer is a single real
    number; `symbols` and `fingerprint` rule out equivalence cheaply (see `fingerprint`).
    `strings` (the parse's text parts, stripped; None: not known) and `has_expression` let the
    caller settle what math-verify's `verify` would compare as strings (`settled_without_sympy`).
    `elements` are the values of the numbers in a set, tuple or interval of numbers (`1, 2`,
    `\\left( -6, 12 \\right)`, `[0, 1)`): such answers have no single value and no fingerprint, so
    `elements_differ` is what rules out most of their pairs without a symbolic call.
    """

    parsed: bool
    number: str | None = None
    symbols: frozenset[str] | None = None
    fingerprint: tuple[str, ...] | None = None
    strings: tuple[str, ...] | None = None
    has_expression: bool = True
    elements: tuple[str, ...] | None = None


TEXT_ONLY = Analysis(parsed=False)


def warm_up() -> None:
    """Worker initializer: two-stage parsing, quiet logs, and the first-parse cost paid up front."""
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    use_two_stage_parsing()
    analyze("\\frac{1}{2} + x", "math")


def use_two_stage_parsing() -> None:
    """Make math-verify's LaTeX parser try ANTLR's SLL prediction first and fall back to full LL
    only when SLL reports an error: ANTLR's standard two-stage strategy, the same trees, about six
    times faster on real answers (full-LL prediction is most of math-verify's ~40 ms per parse).
    Installed in worker processes only (`warm_up`); tests compare it with plain LL parsing."""
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy

    if getattr(_Latex2Sympy, "_two_stage", False):
        return
    make_parser, parse_ll = _Latex2Sympy.create_parser, _Latex2Sympy.parse

    def create_parser(self, latex_str):
        parser = make_parser(self, latex_str)
        if getattr(self, "_sll_first", False):
            parser._interp.predictionMode = PredictionMode.SLL
        return parser

    def parse_two_stage(self, latex_str):
        self._sll_first = True
        try:
            return parse_ll(self, latex_str)
        except Exception:  # SLL could not decide, or the text is malformed: full LL decides
            pass
        finally:
            self._sll_first = False
        return parse_ll(self, latex_str)

    _Latex2Sympy.create_parser, _Latex2Sympy.parse, _Latex2Sympy._two_stage = create_parser, parse_two_stage, True


@lru_cache(maxsize=100_000)
def parsed(text: str, answer_type: str) -> tuple:
    """math-verify's parse, or () when the text is too long or parses to something too costly to
    simplify (see `tame`)."""
    if len(text) > MAX_ANSWER_CHARS:
        return ()
    if answer_type == "choice":
        return tuple(parse(text, extraction_config=_CHOICE_CONFIG, parsing_timeout=None))
    wrapped = text if ("$" in text or "\\boxed" in text) else f"${text}$"
    result = tuple(parse(wrapped, extraction_config=_MATH_CONFIG, parsing_timeout=None))
    return result if all(tame(p) for p in result) else ()


def analyze(text: str, answer_type: str) -> Analysis:
    """Parse an answer with math-verify and read off its number, symbols and fingerprint."""
    try:
        result = parsed(text, answer_type)
    except Exception:  # math-verify or sympy choking on malformed input: the answer stays text
        return TEXT_ONLY
    if not result:
        return TEXT_ONLY
    strings = tuple(p.strip() for p in result if isinstance(p, str) and p.strip())
    has_expression = any(isinstance(p, (Basic, MatrixBase)) for p in result)
    if answer_type == "choice" or not hasattr(result[0], "free_symbols"):
        return Analysis(parsed=True, strings=strings, has_expression=has_expression)
    expr = result[0]
    one_expression = sum(isinstance(p, (Basic, MatrixBase)) for p in result) == 1
    number, points = number_and_fingerprint(expr)
    return Analysis(parsed=True, number=number, symbols=frozenset(str(s) for s in expr.free_symbols),
                    fingerprint=points, strings=strings, has_expression=has_expression,
                    elements=element_values(expr) if one_expression else None)


def settled_without_sympy(a: Analysis, b: Analysis) -> bool | None:
    """math-verify's `verify` on two parses, when it needs no sympy: it is True as soon as two text
    parts are equal, and text never equals an expression. None when only sympy can tell (or the
    text parts are not known)."""
    if a.strings is None or b.strings is None:
        return None
    if set(a.strings) & set(b.strings):
        return True
    return None if a.has_expression and b.has_expression else False


def element_values(expr) -> tuple[str, ...] | None:
    """The distinct values (as complex numbers, sorted) of every number in a set, tuple or interval
    of numbers, nested ones included; None for anything else, and for a container holding a
    symbol, a relation, a percentage (math-verify compares `9%` with `9` by its digits) or a value
    that does not evaluate."""
    if not isinstance(expr, (FiniteSet, Tuple, Interval)):
        return None
    values: set[complex] = set()
    pending = [expr]
    try:
        while pending:
            node = pending.pop()
            if isinstance(node, (FiniteSet, Tuple)):
                pending.extend(node.args)
            elif isinstance(node, Interval):
                pending.extend((node.start, node.end))
            elif (not isinstance(node, Basic) or node.free_symbols or not node.is_number
                  or node.has(UnevaluatedExpr)):
                return None
            else:
                value = complex(node.evalf(20))
                if value != value:  # nan
                    return None
                values.add(value)
    except Exception:
        return None
    return tuple(repr(v) for v in sorted(values, key=lambda v: (v.real, v.imag)))


def elements_differ(a: Analysis, b: Analysis) -> bool:
    """True when math-verify's `verify` must find the two parsed answers different, because their
    numbers differ (see `element_values`; a single number counts as a one-element set).

    `verify` on two sets, tuples or intervals of numbers (or one of them and a number, which it
    treats as a one-element set) is True only by structural equality, equal sets, element-by-element
    equality of two containers of the same length, equal interval ends, or an open interval against
    a pair: in every case each number of one is equal to a number of the other, exactly or within
    float rounding. So if some number of one is far from every number of the other, they differ.
    A necessary condition only: pairs it does not rule out still go to `verify`."""
    va, vb = _values(a), _values(b)
    if va is None or vb is None or (a.elements is None and b.elements is None):
        return False
    return not (all(any(_close(x, y) for y in vb) for x in va) and all(any(_close(y, x) for x in va) for y in vb))


def _values(reading: Analysis) -> list[complex] | None:
    if reading.elements is not None:
        return [complex(v) for v in reading.elements]
    if reading.number is not None and not reading.number.startswith("exact:"):
        return [complex(float(reading.number))]
    return None


def _close(x: complex, y: complex) -> bool:
    if x == y:
        return True
    return abs(x - y) <= ELEMENT_TOLERANCE + 1e-9 * max(abs(x), abs(y))


def number_reading(expr) -> Analysis:
    """The reading of an exact number (from a plain number or `autotts.trajectories.arithmetic`): what
    `analyze` gives for the same value, without math-verify."""
    number, points = number_and_fingerprint(expr)
    return Analysis(parsed=True, number=number, symbols=frozenset(), fingerprint=points)


def verify_texts(a: str, b: str, answer_type: str) -> bool:
    """math-verify's verdict on two answer texts, in both argument orders."""
    pa, pb = parsed(a, answer_type), parsed(b, answer_type)
    if not pa or not pb:
        return False
    try:
        return bool(verify(list(pa), list(pb), timeout_seconds=None)
                    or verify(list(pb), list(pa), timeout_seconds=None))
    except Exception:  # a symbolic failure means "not shown equal", never a crash
        return False


def tame(expr) -> bool:
    """False for expressions whose simplification or evaluation can take very long: huge
    factorials, towers of powers, sums and products over more than `MAX_TERMS` terms. Those are
    compared by their text alone, the same on every run rather than cut off by the time bound."""
    if not isinstance(expr, Basic):
        return True
    for node in preorder_traversal(expr):
        name = type(node).__name__
        if name in _COMBINATORIAL and any(a.is_number and abs(complex(a.evalf(5))) > MAX_COMBINATORIAL_ARG
                                          or not a.is_number for a in node.args):
            return False
        power = node.exp if isinstance(node, Pow) else node.args[0] if isinstance(node, exp) else None
        if power is not None and power.is_number and power.is_real:
            if any(isinstance(sub, (Pow, exp)) for sub in preorder_traversal(power)):
                return False  # a tower: checked before float(), which could itself take forever
            if abs(float(power)) > MAX_EXPONENT:
                return False
        if isinstance(node, (Sum, Product)) and any(_many_terms(limits) for limits in node.limits):
            return False
    return True


def _many_terms(limits: tuple) -> bool:
    _, low, high = limits
    span = high - low
    return not span.is_number or span.is_infinite or abs(float(span)) > MAX_TERMS


def number_and_fingerprint(expr) -> tuple[str | None, tuple[str, ...] | None]:
    """`(number_key(expr), fingerprint(expr))`, with one evaluation instead of three when the
    expression has no free symbols (most answers): then both sample points substitute nothing
    (`subs({})` returns the expression itself), so `fingerprint` and `number_key` would each
    evaluate the very same `expr.evalf(20)`. The result is the same pair, computed once."""
    try:
        constant = isinstance(expr, Basic) and not expr.free_symbols
    except Exception:
        constant = False
    if not constant:
        return number_key(expr), fingerprint(expr)
    try:  # in number_key's order: is_number, then the evaluation
        is_number = expr.is_number
    except Exception:
        is_number = False
    try:
        value = complex(expr.evalf(20))
    except Exception:
        value = None
    number = _real_key(value) if is_number and value is not None else None
    point = None if value is None else f"{value.real:.9g},{value.imag:.9g}"
    return number, None if point is None else (point,) * len(_SAMPLE_POINTS)


def number_key(expr) -> str | None:
    """A canonical key for a value that is a single real number, else None: equal keys mean
    equal answers, which lets classes bucket numbers without pairwise comparisons."""
    try:
        if not isinstance(expr, Basic) or expr.free_symbols or not expr.is_number:
            return None
        number = complex(expr.evalf(20))
    except Exception:
        return None
    return _real_key(number)


def _real_key(number: complex) -> str | None:
    if number.imag != 0 or number.real != number.real or abs(number.real) == float("inf"):
        return None
    return float_key(0.0 if abs(number.real) < ZERO_RESIDUE else number.real)


def float_key(value: float) -> str:
    return format(value + 0.0, ".12g")


def fingerprint(expr) -> tuple[str, ...] | None:
    """Values of an expression with every free symbol set to fixed sample points.

    Equal expressions have equal fingerprints, so different fingerprints rule out equivalence
    cheaply. None when the expression cannot be evaluated (sets, equations, intervals...)."""
    values = []
    try:
        symbols = sorted(expr.free_symbols, key=str)
        for point in _SAMPLE_POINTS:
            number = complex(expr.subs({sym: point + i for i, sym in enumerate(symbols)}).evalf(20))
            values.append(f"{number.real:.9g},{number.imag:.9g}")
    except Exception:
        return None
    return tuple(values)
