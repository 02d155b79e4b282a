"""Answer equivalence classes and grading, by mathematical equivalence (math-verify).

`1/2`, `\\frac{1}{2}`, `\\dfrac{1}{2}` and `0.5` are one answer. Each question's distinct answers are
grouped into classes; the replay environment votes over class ids and never sees text. Comparisons
are cached: plain numbers (the common case on AIME-style benchmarks) are keyed by their exact
rational value without a symbolic call, parsed expressions are memoised per string, and pairwise
verdicts per pair, so a 128-trajectory x 80-probe question costs a handful of symbolic comparisons.

math-verify's own timeouts use SIGALRM, which fails outside the main thread, so they are disabled
here; answers are short strings, and `MAX_ANSWER_CHARS` bounds what is parsed symbolically.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Iterable, Literal

from math_verify import parse, verify
from sympy import Basic, Pow, preorder_traversal
from math_verify.parser import ExprExtractionConfig, LatexExtractionConfig, StringExtractionConfig

logging.getLogger("math_verify").setLevel(logging.ERROR)

Mode = Literal["math", "exact"]
MAX_ANSWER_CHARS = 300
NO_ANSWER_TEXT = "ERR"
_NUMBER = re.compile(r"^\s*([+-]?)(\d+)(?:\.(\d+))?\s*$")
_RATIO = re.compile(r"^\s*([+-]?\d+)\s*/\s*(\d+)\s*$")
_MATH_CONFIG = (LatexExtractionConfig(), ExprExtractionConfig())
_CHOICE_CONFIG = (StringExtractionConfig(),)


def plain_number(text: str) -> Fraction | None:
    """Exact value of a plain decimal or integer ratio (`025`, `12.0`, `-3/4`), else None."""
    m = _NUMBER.match(text)
    if m:
        sign, whole, frac = m.groups()
        value = Fraction(int(whole + (frac or "")), 10 ** len(frac or ""))
        return -value if sign == "-" else value
    m = _RATIO.match(text)
    if m and int(m.group(2)) != 0:
        return Fraction(int(m.group(1)), int(m.group(2)))
    return None


@lru_cache(maxsize=200_000)
def _parsed(text: str, answer_type: str) -> tuple:
    """math-verify's parse, or () when the text is too long or parses to something too costly to
    simplify (see `_tame`): such answers are compared by their text alone."""
    if len(text) > MAX_ANSWER_CHARS:
        return ()
    if answer_type == "choice":
        return tuple(parse(text, extraction_config=_CHOICE_CONFIG, parsing_timeout=None))
    wrapped = text if ("$" in text or "\\boxed" in text) else f"${text}$"
    parsed = tuple(parse(wrapped, extraction_config=_MATH_CONFIG, parsing_timeout=None))
    return parsed if all(_tame(p) for p in parsed) else ()


_COMBINATORIAL = {"factorial", "factorial2", "subfactorial", "binomial", "gamma", "RisingFactorial",
                  "FallingFactorial", "fibonacci", "lucas", "bell", "catalan", "harmonic"}
MAX_COMBINATORIAL_ARG = 300
MAX_EXPONENT = 2000


def _tame(expr) -> bool:
    """False for expressions whose simplification or evaluation can take unbounded time (huge
    factorials, towers of powers); math-verify's own timeouts are unusable off the main thread."""
    if not isinstance(expr, Basic):
        return True
    for node in preorder_traversal(expr):
        name = type(node).__name__
        if name in _COMBINATORIAL and any(a.is_number and abs(complex(a.evalf(5))) > MAX_COMBINATORIAL_ARG
                                          or not a.is_number for a in node.args):
            return False
        if isinstance(node, Pow) and node.exp.is_number and node.exp.is_real:
            if abs(float(node.exp)) > MAX_EXPONENT:
                return False
            if isinstance(node.exp, Pow):
                return False
    return True


@lru_cache(maxsize=500_000)
def equivalent(a: str, b: str, answer_type: str = "math") -> bool:
    """True when two answer strings denote the same answer (symmetric, cached)."""
    if a.strip() == b.strip():
        return True
    if answer_type != "choice":
        na, nb = plain_number(a), plain_number(b)
        if na is not None and nb is not None:
            return na == nb
    pa, pb = _parsed(a, answer_type), _parsed(b, answer_type)
    if not pa or not pb:
        return False
    fa, fb = _fingerprint(a, answer_type), _fingerprint(b, answer_type)
    if fa is not None and fb is not None and fa != fb:
        return False  # differ at a sample point: cannot be equal, skip the symbolic proof
    try:
        return bool(verify(list(pa), list(pb), timeout_seconds=None)
                    or verify(list(pb), list(pa), timeout_seconds=None))
    except Exception:  # a symbolic failure means "not shown equal", never a crash
        return False


@lru_cache(maxsize=200_000)
def numeric_key(text: str, answer_type: str = "math") -> str | None:
    """A canonical key for answers that denote a single real number, else None.

    Plain numbers are read exactly; other text is parsed by math-verify and evaluated. Answers
    with equal keys are equivalent, which lets `classify` bucket numbers without pairwise calls.
    """
    if answer_type == "choice":
        return None
    value = plain_number(text)
    if value is not None:
        return _key(float(value))
    parsed = _parsed(text, answer_type)
    if not parsed or not hasattr(parsed[0], "free_symbols"):
        return None
    expr = parsed[0]
    try:
        if expr.free_symbols or not expr.is_number:
            return None
        number = complex(expr.evalf(20))
    except Exception:
        return None
    if number.imag != 0 or number.real != number.real or abs(number.real) == float("inf"):
        return None
    return _key(number.real)


@lru_cache(maxsize=200_000)
def _symbols(text: str, answer_type: str) -> frozenset[str] | None:
    """Free symbols of a parsed answer: answers with different symbols are never equivalent, so
    the (slow) symbolic comparison is skipped for them."""
    parsed = _parsed(text, answer_type)
    if not parsed or not hasattr(parsed[0], "free_symbols"):
        return None
    return frozenset(str(sym) for sym in parsed[0].free_symbols)


_SAMPLE_POINTS = (0.5772156649, 1.4142135623)


@lru_cache(maxsize=200_000)
def _fingerprint(text: str, answer_type: str) -> tuple[str, ...] | None:
    """Values of an expression with every free symbol set to fixed sample points.

    Equal expressions have equal fingerprints, so different fingerprints rule out equivalence
    cheaply. None when the expression cannot be evaluated (sets, equations, intervals...)."""
    parsed = _parsed(text, answer_type)
    if not parsed or not hasattr(parsed[0], "free_symbols"):
        return None
    expr = parsed[0]
    values = []
    try:
        symbols = sorted(expr.free_symbols, key=str)
        for point in _SAMPLE_POINTS:
            number = complex(expr.subs({sym: point + i for i, sym in enumerate(symbols)}).evalf(20))
            values.append(f"{number.real:.9g},{number.imag:.9g}")
    except Exception:
        return None
    return tuple(values)


def _key(value: float) -> str:
    return format(value + 0.0, ".12g")


@dataclass(frozen=True)
class QuestionClasses:
    """A question's answer classes: which class each answer string is in, and which are right."""

    class_of: dict[str | None, int]
    texts: tuple[str, ...]
    correct: tuple[bool, ...]

    def of(self, answer: str | None) -> int:
        """Class id of an answer; -1 means "no answer"."""
        return self.class_of.get(answer, -1)


class AnswerClassifier:
    """Assigns a question's answers to classes as they arrive (first-seen order).

    mode="math" compares by equivalence and treats a missing answer as no vote: numbers are
    bucketed by value, anything else is compared with math-verify against the earlier non-numeric
    classes. mode="exact" reproduces the AutoTTS reference simulators: answers are compared as
    strings and a missing answer is the ordinary answer `ERR`.
    """

    def __init__(self, answer_type: str = "math", mode: Mode = "math"):
        self.answer_type, self.mode = answer_type, mode
        self.class_of: dict[str | None, int] = {}
        self.texts: list[str] = []
        self._by_number: dict[str, int] = {}
        self._symbolic: list[int] = []

    def add(self, answer: str | None) -> int:
        """The answer's class id (a new one if it matches none); -1 for "no answer"."""
        if answer in self.class_of:
            return self.class_of[answer]
        if answer is None and self.mode == "math":
            return -1
        if self.mode == "exact":
            cid = self._new(NO_ANSWER_TEXT if answer is None else answer)
        elif (key := numeric_key(answer, self.answer_type)) is not None:
            cid = self._by_number.setdefault(key, len(self.texts))
            if cid == len(self.texts):
                self._new(answer)
        else:
            cid = next((c for c in self._symbolic if _symbols(self.texts[c], self.answer_type)
                        == _symbols(answer, self.answer_type) and equivalent(self.texts[c], answer, self.answer_type)), None)
            if cid is None:
                cid = self._new(answer)
                self._symbolic.append(cid)
        self.class_of[answer] = cid
        return cid

    def correct(self, gold: str) -> tuple[bool, ...]:
        """Grade every class against the gold answer."""
        if self.mode == "exact":
            return tuple(text == gold.strip() for text in self.texts)
        t = self.answer_type
        gold_key = numeric_key(gold, t)
        return tuple((gold_key is not None and numeric_key(text, t) == gold_key)
                     or (cid in self._symbolic and _symbols(gold, t) == _symbols(text, t) and equivalent(gold, text, t))
                     for cid, text in enumerate(self.texts))

    def _new(self, text: str) -> int:
        self.texts.append(text)
        return len(self.texts) - 1


def classify(answers: Iterable[str | None], gold: str, answer_type: str = "math",
             mode: Mode = "math") -> QuestionClasses:
    """Group a question's answers into classes (in first-seen order) and grade each class
    (see `AnswerClassifier` for the two modes)."""
    classifier = AnswerClassifier(answer_type, mode)
    for answer in answers:
        classifier.add(answer)
    return QuestionClasses(class_of=classifier.class_of, texts=tuple(classifier.texts),
                           correct=classifier.correct(gold))
