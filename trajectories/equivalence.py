"""Answer equivalence classes and grading, by mathematical equivalence, with a hard time bound.

`1/2`, `\\frac{1}{2}`, `\\dfrac{1}{2}` and `0.5` are one answer. Each question's distinct answers are
grouped into classes; the replay environment votes over class ids and never sees text.

An answer text is read by the cheapest means that is sure of it, in this order:

1. a plain number (`025`, `-3/4`, `12.0`) is read exactly;
2. plain arithmetic LaTeX (`77 + 13\\sqrt{3}`) is read exactly by `autotts.trajectories.arithmetic`;
3. when the question's gold is a closed-form number, an integral, sum, product or limit over an
   undefined function (`\\int_0^1 f(x) dx`) is kept as text: it cannot be graded right, and it is
   where symbolic simplification runs without end (`cannot_be_a_number`);
4. anything else is parsed with math-verify in a `BoundedPool` worker process, as is every
   symbolic comparison. A call past `timeout_s` is killed: the answer or pair counts as "not shown
   equal", one warning line names the answers, and the event is recorded with the question.

Answers that denote a single number are bucketed by value, so they need no pairwise comparison;
the others are compared with math-verify against earlier non-numeric classes after cheap checks
that rule most pairs out: free symbols, values at sample points, and for sets, tuples and
intervals of numbers (`1, 2`, `(-6, 12)`) the numbers they hold (`symbolic.elements_differ`). Readings and verdicts are
cached, keyed by the answer texts and the answer type: per process, and on disk across runs
(`autotts.trajectories.answer_cache`).
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Literal

from autotts.trajectories import symbolic
from autotts.trajectories.answer_cache import AnswerCache
from autotts.trajectories.arithmetic import read_arithmetic
from autotts.trajectories.bounded_pool import BoundedPool, CallTimedOut, WorkerFailed
from autotts.trajectories.symbolic import TEXT_ONLY, Analysis

log = logging.getLogger(__name__)

Mode = Literal["math", "exact"]
NO_ANSWER_TEXT = "ERR"
DEFAULT_TIMEOUT_S = 10.0
SAVE_EVERY = 256
"""New verdicts are written to the disk cache in batches of at most this many (and at the end of
every `classify_questions` call, and at `close`)."""
_NUMBER = re.compile(r"^\s*([+-]?)(\d+)(?:\.(\d+))?\s*$")
_RATIO = re.compile(r"^\s*([+-]?\d+)\s*/\s*(\d+)\s*$")
_BINDER = re.compile(r"\\(?:i{1,3}nt|oint|sum|prod|lim)(?![A-Za-z])")
_UNDEFINED_FUNCTION = re.compile(r"(?<![\\A-Za-z])[A-Za-z](?:_\{[^{}]*\}|_[A-Za-z0-9])?\s*\(")


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


def cannot_be_a_number(text: str) -> bool:
    """True for an integral, sum, product or limit over an undefined function (`\\int_0^1 x^{1824}
    f_{V_1}(x) dx`): it cannot denote a closed-form number, and it is where math-verify's
    simplification runs without end. Two regular expressions, so it runs before any parsing."""
    return _BINDER.search(text) is not None and _UNDEFINED_FUNCTION.search(text) is not None


@dataclass(frozen=True)
class TimeoutEvent:
    """A symbolic call stopped at the time bound: reading `answer`, or comparing it with `other`."""

    answer: str
    other: str | None = None


class AnswerJudge:
    """Reads answers and compares them, with every math-verify call bounded by `timeout_s`.

    One judge per process is shared by ingestion, replay and the live runtime (`default_judge`);
    its caches make a second question, file or run with the same answers nearly free.
    """

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, workers: int | None = None, screen: bool = True,
                 arithmetic_reader: bool = True, cache: AnswerCache | None = None, element_rule: bool = True):
        """`screen` and `arithmetic_reader` switch off steps 3 and 2 of the module docstring, and
        `element_rule` the numbers check on sets, tuples and intervals (to compare with plain
        math-verify); `workers` defaults to the cores this process may use; `cache` keeps readings
        and verdicts on disk across runs."""
        self.timeout_s, self.screen, self.arithmetic_reader = timeout_s, screen, arithmetic_reader
        self.element_rule = element_rule
        self.pool = BoundedPool(workers or _available_cores(), initializer="autotts.trajectories.symbolic:warm_up")
        self.cache = cache
        self._readings, self._verdicts = cache.load() if cache is not None else ({}, {})
        self._timed_out: set[tuple[str, str]] = set()
        self._unsaved: dict[tuple[str, str, str], bool] = {}  # verdicts not yet on disk (`save`)
        self._lock = threading.Lock()
        # Keys a thread is reading or comparing right now: files graded at once share answers, and a
        # second thread waits for the first's result instead of asking again (a second call could
        # time out where the first did not, and overwrite a good reading with text only).
        self._in_flight: dict[tuple, threading.Event] = {}

    def _claim(self, keys: Iterable[tuple], done: dict) -> tuple[list[tuple], list[threading.Event]]:
        """(the keys this thread must compute, events of those another thread is computing)."""
        mine, theirs = [], []
        with self._lock:
            for key in keys:
                if key in done:
                    continue
                if key in self._in_flight:
                    theirs.append(self._in_flight[key])
                else:
                    self._in_flight[key] = threading.Event()
                    mine.append(key)
        return mine, theirs

    def _release(self, keys: Iterable[tuple]) -> None:
        with self._lock:
            for key in keys:
                self._in_flight.pop(key).set()

    def reading(self, text: str, answer_type: str, closed_form_gold: bool = False) -> Analysis:
        """What is known about one answer (see the module docstring for the order of means)."""
        if closed_form_gold and self._screened(text, answer_type):
            return TEXT_ONLY
        key = (text, answer_type)
        known = self._readings.get(key)
        if known is None:
            self.prefetch([text], answer_type)
            known = self._readings[key]
        return known

    def read_timed_out(self, text: str, answer_type: str) -> bool:
        return (text, answer_type) in self._timed_out

    def prefetch(self, texts: Iterable[str], answer_type: str, closed_form_gold: bool = False) -> None:
        """Read many answers at once: exact readers here, math-verify spread over the workers."""
        todo = []
        for text in dict.fromkeys(texts):
            key = (text, answer_type)
            if key in self._readings or closed_form_gold and self._screened(text, answer_type):
                continue
            value = plain_number(text) if answer_type != "choice" else None
            if value is not None:  # the common case: no sympy at all
                self._readings[key] = _plain_reading(value)
                continue
            exact = read_arithmetic(text) if answer_type != "choice" and self.arithmetic_reader else None
            reading = symbolic.number_reading(exact) if exact is not None else None
            if reading is not None and reading.number is not None:
                self._readings[key] = reading
            else:
                todo.append(key)
        todo, theirs = self._claim(todo, self._readings)
        try:
            read = dict(zip(todo, self.pool.map(symbolic.analyze, todo, self.timeout_s, self._unread)))
            self._readings.update(read)
        finally:
            self._release(todo)
        for event in theirs:
            event.wait()
        if self.cache is not None and read:
            self.cache.store({k: v for k, v in read.items() if k not in self._timed_out}, {})

    def _screened(self, text: str, answer_type: str) -> bool:
        return self.screen and answer_type != "choice" and cannot_be_a_number(text)

    def verdict(self, a: str, b: str, answer_type: str) -> bool | None:
        """math-verify's verdict on two parsed, non-numeric answers; None when it timed out."""
        key = (a, b, answer_type) if a <= b else (b, a, answer_type)
        mine, theirs = self._claim([key], self._verdicts)
        for event in theirs:
            event.wait()
        if mine:
            try:
                self._verdicts[key] = self.pool.call(symbolic.verify_texts, a, b, answer_type, timeout_s=self.timeout_s)
                if self.cache is not None:
                    with self._lock:
                        self._unsaved[key] = self._verdicts[key]
                        full = len(self._unsaved) >= SAVE_EVERY
                    if full:  # callers outside `classify_questions` (the live runtime) save as they go
                        self.save()
            except CallTimedOut:
                log.warning("comparing answers %s and %s took over %.1f s and was stopped (not shown equal)",
                            _short(a), _short(b), self.timeout_s)
                self._verdicts[key] = None
            except WorkerFailed:
                self._verdicts[key] = False
            finally:
                self._release(mine)
        return self._verdicts[key]

    def _unread(self, item: tuple[str, str], error: Exception) -> Analysis:
        """An answer math-verify could not read in time (or at all) is kept as text."""
        if isinstance(error, CallTimedOut):
            log.warning("reading answer %s took over %.1f s and was stopped (kept as text)",
                        _short(item[0]), self.timeout_s)
            with self._lock:
                self._timed_out.add(item)
        return TEXT_ONLY

    def save(self) -> None:
        """Write the verdicts found since the last save to the disk cache, in one transaction
        (one per verdict cost more than many of the comparisons themselves)."""
        with self._lock:
            unsaved, self._unsaved = self._unsaved, {}
        if self.cache is not None and unsaved:
            self.cache.store({}, unsaved)

    def close(self) -> None:
        self.save()
        self.pool.close()


def _plain_reading(value: Fraction) -> Analysis:
    """The reading of a plain number, as `symbolic.number_reading` would give it, in microseconds.
    A number beyond floating point (hundreds of digits) is keyed by its exact value."""
    try:
        number = float(value)
    except OverflowError:
        return Analysis(parsed=True, number=f"exact:{value}", symbols=frozenset())
    point = f"{number:.9g},0"
    return Analysis(parsed=True, number=symbolic.float_key(number), symbols=frozenset(), fingerprint=(point, point))


def _short(text: str, limit: int = 120) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _available_cores() -> int:
    env = os.environ.get("AUTOTTS_ANSWER_WORKERS")
    if env:
        return max(1, int(env))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_default: AnswerJudge | None = None
_default_lock = threading.Lock()


def default_judge() -> AnswerJudge:
    """The process's shared judge (bound: `AUTOTTS_ANSWER_TIMEOUT_S`, default 10 s), with readings
    cached on disk next to the bank cache (`answers.sqlite` in `AUTOTTS_CACHE_DIR`)."""
    from autotts.trajectories.bank_cache import cache_dir

    global _default
    with _default_lock:
        if _default is None:
            _default = AnswerJudge(float(os.environ.get("AUTOTTS_ANSWER_TIMEOUT_S") or DEFAULT_TIMEOUT_S),
                                   cache=AnswerCache(cache_dir() / "answers.sqlite"))
            atexit.register(_default.close)
        return _default


def equivalent(a: str, b: str, answer_type: str = "math", judge: AnswerJudge | None = None) -> bool:
    """True when two answer strings denote the same answer (symmetric, cached, bounded)."""
    classes = classify([a, b], gold=a, answer_type=answer_type, judge=judge)
    return classes.of(a) == classes.of(b)


@dataclass(frozen=True)
class QuestionClasses:
    """A question's answer classes: which class each answer string is in, which are right, and
    which symbolic calls were stopped at the time bound."""

    class_of: dict[str | None, int]
    texts: tuple[str, ...]
    correct: tuple[bool, ...]
    timeouts: tuple[TimeoutEvent, ...] = ()

    def of(self, answer: str | None) -> int:
        """Class id of an answer; -1 means "no answer"."""
        return self.class_of.get(answer, -1)


class AnswerClassifier:
    """Assigns a question's answers to classes as they arrive (first-seen order).

    mode="math" compares by equivalence and treats a missing answer as no vote: numbers are
    bucketed by value, anything else is compared with math-verify against the earlier non-numeric
    classes. mode="exact" reproduces the AutoTTS reference simulators: answers are compared as
    strings and a missing answer is the ordinary answer `ERR`. A known `gold` lets answers that
    cannot equal a closed-form gold skip math-verify (the live runtime has none).
    """

    def __init__(self, answer_type: str = "math", mode: Mode = "math", gold: str | None = None,
                 judge: AnswerJudge | None = None):
        self.answer_type, self.mode = answer_type, mode
        self.judge = judge or default_judge()
        self.class_of: dict[str | None, int] = {}
        self.texts: list[str] = []
        self.timeouts: list[TimeoutEvent] = []
        self._by_number: dict[str, int] = {}
        self._symbolic: list[int] = []
        self._noted: set[TimeoutEvent] = set()
        self.closed_form_gold = False
        self.closed_form_gold = gold is not None and mode == "math" and self._reading(gold).number is not None

    def add(self, answer: str | None) -> int:
        """The answer's class id (a new one if it matches none); -1 for "no answer"."""
        if answer in self.class_of:
            return self.class_of[answer]
        if answer is None and self.mode == "math":
            return -1
        if self.mode == "exact":
            cid = self._new(NO_ANSWER_TEXT if answer is None else answer)
        elif (key := self._reading(answer).number) is not None:
            cid = self._by_number.setdefault(key, len(self.texts))
            if cid == len(self.texts):
                self._new(answer)
        else:
            cid = next((c for c in self._symbolic if self._same(self.texts[c], answer)), None)
            if cid is None:
                cid = self._new(answer)
                self._symbolic.append(cid)
        self.class_of[answer] = cid
        return cid

    def correct(self, gold: str) -> tuple[bool, ...]:
        """Grade every class against the gold answer."""
        if self.mode == "exact":
            return tuple(text == gold.strip() for text in self.texts)
        gold_key = self._reading(gold).number
        return tuple((gold_key is not None and self._reading(text).number == gold_key)
                     or (cid in self._symbolic and self._same(gold, text))
                     for cid, text in enumerate(self.texts))

    def _reading(self, text: str) -> Analysis:
        reading = self.judge.reading(text, self.answer_type, self.closed_form_gold)
        if self.judge.read_timed_out(text, self.answer_type):
            self._note(TimeoutEvent(text))
        return reading

    def _same(self, a: str, b: str) -> bool:
        """Whether two non-numeric answers are equivalent (cheap checks first, then math-verify)."""
        if a.strip() == b.strip():
            return True
        ra, rb = self._reading(a), self._reading(b)
        if not ra.parsed or not rb.parsed or ra.symbols != rb.symbols:
            return False
        if ra.fingerprint is not None and rb.fingerprint is not None and ra.fingerprint != rb.fingerprint:
            return False  # differ at a sample point: cannot be equal, skip the symbolic proof
        settled = symbolic.settled_without_sympy(ra, rb)
        if settled is not None:
            return settled
        if self.judge.element_rule and symbolic.elements_differ(ra, rb):
            return False  # sets, tuples or intervals holding different numbers (after the text parts: verify
            #               is True when those are equal)
        verdict = self.judge.verdict(a, b, self.answer_type)
        if verdict is None:
            self._note(TimeoutEvent(a, b))
        return bool(verdict)

    def _note(self, event: TimeoutEvent) -> None:
        if event not in self._noted:
            self._noted.add(event)
            self.timeouts.append(event)

    def _new(self, text: str) -> int:
        self.texts.append(text)
        return len(self.texts) - 1


def classify(answers: Iterable[str | None], gold: str, answer_type: str = "math",
             mode: Mode = "math", judge: AnswerJudge | None = None) -> QuestionClasses:
    """Group a question's answers into classes (in first-seen order) and grade each class
    (see `AnswerClassifier` for the two modes)."""
    return classify_questions([(list(answers), gold, answer_type)], mode, judge)[0]


def classify_questions(questions: list[tuple[list[str | None], str, str]], mode: Mode = "math",
                       judge: AnswerJudge | None = None) -> list[QuestionClasses]:
    """`classify` for many questions (answers, gold, answer type) at once: every answer is read
    first, in parallel across the worker processes, so no core waits on one question's stragglers."""
    judge = judge or default_judge()
    if mode == "math":
        by_type: dict[str, list[str]] = {}
        for answers, _, answer_type in questions:
            by_type.setdefault(answer_type, []).extend(a for a in answers if a is not None)
        for answer_type, texts in by_type.items():  # screened texts are left out; a question
            judge.prefetch(texts, answer_type, closed_form_gold=True)  # without a numeric gold reads them later
    out = []
    for answers, gold, answer_type in questions:
        classifier = AnswerClassifier(answer_type, mode, gold=gold, judge=judge)
        for answer in answers:
            classifier.add(answer)
        out.append(QuestionClasses(class_of=classifier.class_of, texts=tuple(classifier.texts),
                                   correct=classifier.correct(gold), timeouts=tuple(classifier.timeouts)))
    judge.save()
    return out
