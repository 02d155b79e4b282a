"""Answer equivalence classes (math-verify) and grading."""
from __future__ import annotations

from autotts.trajectories.equivalence import classify, equivalent


def test_equivalent_forms_share_a_class():
    answers = ["1/2", "\\frac{1}{2}", "\\dfrac{1}{2}", "0.5", "12", "12.0", "025", "25",
               "\\sqrt{2}/2", "\\frac{\\sqrt2}{2}", "x+1", "1+x", "2x", None]
    classes = classify(answers, gold="x + 1")
    same = lambda a, b: classes.of(a) == classes.of(b)  # noqa: E731
    assert same("1/2", "\\frac{1}{2}") and same("1/2", "\\dfrac{1}{2}") and same("1/2", "0.5")
    assert same("12", "12.0") and same("025", "25") and same("\\sqrt{2}/2", "\\frac{\\sqrt2}{2}")
    assert same("x+1", "1+x") and not same("x+1", "2x")
    assert not same("1/2", "12") and not same("12", "25")
    assert classes.of(None) == -1
    assert len(classes.texts) == 6
    assert [classes.correct[classes.of(a)] for a in ("1+x", "1/2", "2x")] == [True, False, False]


def test_grading_handles_leading_zeros_and_choice_letters():
    assert classify(["25"], gold="025").correct == (True,)
    choice = classify(["B", "The answer is B", "C"], gold="B", answer_type="choice")
    assert choice.of("B") == choice.of("The answer is B") and choice.correct == (True, False)
    assert equivalent("100", "10^{2}")
    assert not equivalent("x^2", "x")


def test_exact_mode_reproduces_reference_string_voting():
    classes = classify(["7", "7.0", None], gold="7", mode="exact")
    assert classes.of("7") != classes.of("7.0")
    assert classes.of(None) >= 0 and classes.texts[classes.of(None)] == "ERR"
    assert classes.correct == (True, False, False)


def test_many_distinct_answers_stay_cheap():
    answers = [str(i) for i in range(2000)] + [f"{i}.0" for i in range(2000)]
    classes = classify(answers, gold="5")
    assert len(classes.texts) == 2000


def test_pathological_answers_are_compared_by_text():
    """Huge factorials and power towers would take hours to simplify; they are compared as text."""
    answers = ["1000000!", "1000001!", "10^{10^{10}}", "9^{9^9}", "(10^{1000})!", "120", "5!", "1" + "0" * 400,
               "1" + "0" * 400 + ".0", "2" + "0" * 400]
    classes = classify(answers, gold="120")
    assert classes.of("5!") == classes.of("120") and classes.correct[classes.of("5!")]
    assert classes.of("1" + "0" * 400) == classes.of("1" + "0" * 400 + ".0")
    assert len({classes.of(a) for a in answers}) == 8


# ----------------------------------------------------------------------------- the time bound
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from bench._shared import have_stores, store  # noqa: E402
from autotts.trajectories import symbolic  # noqa: E402
from autotts.trajectories.arithmetic import read_arithmetic  # noqa: E402
from autotts.trajectories.bounded_pool import BoundedPool, CallTimedOut  # noqa: E402
from autotts.trajectories.equivalence import AnswerJudge, cannot_be_a_number, plain_number  # noqa: E402

CORPUS = json.loads((Path(__file__).parent / "fixtures" / "adversarial_answers.json").read_text(encoding="utf-8"))
HANGING = CORPUS["integral_of_unknown_function"][0]  # from a real Qwen3 store: math-verify never returns
GOLD = "\\frac{2025}{101}"


def test_a_call_past_its_bound_is_killed_and_the_worker_replaced():
    pool = BoundedPool(1)
    try:
        with pytest.raises(CallTimedOut):
            pool.call(time.sleep, 3600, timeout_s=0.5)
        assert pool.call(abs, -7, timeout_s=30) == 7  # a fresh worker answers the next call
        assert (pool.counters.calls, pool.counters.timed_out, pool.counters.completed) == (2, 1, 1)
        assert pool.counters.workers_started == 2
    finally:
        pool.close()


def test_the_real_hanging_pair_is_stopped_counted_and_graded_wrong():
    """With the cheap screen off, math-verify meets the integral that hung a real evaluation: the
    call is killed at the bound, the event is recorded, and the answer is "not shown equal"."""
    judge = AnswerJudge(timeout_s=5.0, workers=1, screen=False)  # ample for every other pair, even on a busy machine
    try:
        classes = classify([HANGING, "\\frac{4050}{202}"], gold=GOLD, judge=judge)
        assert classes.correct == (False, True)
        assert len(classes.timeouts) >= 1 and all(HANGING in (t.answer, t.other) for t in classes.timeouts)
        assert judge.pool.counters.timed_out == len(classes.timeouts)
    finally:
        judge.close()


def test_integrals_of_unknown_functions_are_screened_without_a_symbolic_call():
    assert cannot_be_a_number(HANGING) and cannot_be_a_number("\\sum_{k=1}^{n} f(k)")
    assert not cannot_be_a_number("\\sum_{k=1}^{10} k") and not cannot_be_a_number("C(8, 4)")
    judge = AnswerJudge(timeout_s=1.0, workers=1)
    try:
        classes = classify([HANGING, "2025/101"], gold=GOLD, judge=judge)
        assert classes.correct == (False, True) and classes.timeouts == ()
        assert judge.pool.counters.calls == 0
    finally:
        judge.close()


def _classify_corpus(judge: AnswerJudge) -> dict:
    return {kind: classify(texts + CORPUS["ordinary"], gold=GOLD, judge=judge)
            for kind, texts in CORPUS.items() if not kind.startswith("_")}


def test_adversarial_corpus_classifies_with_every_call_bounded_and_the_same_every_run():
    runs = []
    for _ in range(2):  # two judges: no cache shared between the runs
        judge = AnswerJudge(workers=2)
        try:
            result = _classify_corpus(judge)
            counters = judge.pool.counters
            # every symbolic call either finished or was stopped at the bound and recorded as an event
            assert counters.calls == counters.completed + counters.timed_out
            assert counters.timed_out == len({e for c in result.values() for e in c.timeouts})
            runs.append({kind: (c.class_of, c.correct, c.timeouts) for kind, c in result.items()})
        finally:
            judge.close()
    assert runs[0] == runs[1]
    for kind, (class_of, correct, _) in runs[0].items():
        right = {a for a, c in class_of.items() if c >= 0 and correct[c]}
        assert {"\\frac{2025}{101}", "\\dfrac{4050}{202}", "2025/101"} <= right, kind
        assert not right & set(CORPUS["integral_of_unknown_function"]), kind


ARITHMETIC = ["\\frac{2}{9}", "77 + 13\\sqrt{3}", "2^5 \\times 5! + 1", "\\frac{62! \\cdot 64!}{2! \\cdot 6! \\cdot 3}",
              "1/2\\sqrt{3}", "24(13 + \\sqrt{390})", "-2^2", "\\left(\\frac{1}{2}\\right)^{10}", "3\\pi", "2.5 \\cdot 4",
              "\\dfrac{\\sqrt{421} - 17}{2}", "6^{10} \\div 3"]


def _real_answer_sample(limit: int) -> list[str]:
    from autotts.trajectories.readers import read_any

    texts = []
    for model, bench in (("Qwen3-0.6B", "hmmt25"), ("Qwen3-4B", "aime25")):
        seen = dict.fromkeys(a for r in read_any(store(model, bench)) for a in (*r.probe_answers, r.final_answer)
                             if a not in (None, "ERR") and plain_number(a) is None)
        texts.extend(list(seen)[::max(1, len(seen) // limit)][:limit])
    return texts


def test_the_arithmetic_reader_agrees_with_math_verify():
    texts = ARITHMETIC + (_real_answer_sample(40) if have_stores() else [])
    accepted = [t for t in texts if read_arithmetic(t) is not None]
    assert set(ARITHMETIC) <= set(accepted)
    for text in accepted:
        assert symbolic.number_key(read_arithmetic(text)) == symbolic.analyze(text, "math").number, text
    for text in ("10^{10^{10}}", "(10^{1000})!", "2^{100000}", "x + 1", "\\frac{1}{0}", "025 + 1", "2 3"):
        assert read_arithmetic(text) is None, text


@pytest.mark.skipif(not have_stores(), reason="real AutoTTS stores not in ../shared/data/autotts-replay")
def test_two_stage_parsing_in_workers_reads_real_answers_like_plain_math_verify():
    texts = [t for t in _real_answer_sample(30) if read_arithmetic(t) is None]
    pool = BoundedPool(2, initializer="autotts.trajectories.symbolic:warm_up")  # workers parse two-stage
    try:
        in_workers = pool.map(symbolic.analyze, [(t, "math") for t in texts], 60.0, lambda item, err: err)
    finally:
        pool.close()
    assert in_workers == [symbolic.analyze(t, "math") for t in texts]  # this process: plain LL parsing


@pytest.mark.skipif(not have_stores(), reason="real AutoTTS stores not in ../shared/data/autotts-replay")
def test_real_questions_get_the_same_classes_as_with_math_verify_alone():
    """A sample of real questions: the default reading (exact readers, screen) against reading every
    non-plain answer with math-verify, as before the time bound existed."""
    from autotts.trajectories.banking import group_records
    from autotts.trajectories.readers import read_any

    fast, reference = AnswerJudge(workers=2), AnswerJudge(workers=2, screen=False, arithmetic_reader=False)
    try:
        for model, bench in (("Qwen3-1.7B", "hmmt25"), ("Qwen3-4B", "aime24")):
            questions = list(group_records(read_any(store(model, bench))).values())
            for trajs in questions[::10]:
                answers = [a for r in trajs for a in (*r.probe_answers, r.final_answer)]
                ours = classify(answers, trajs[0].gold, judge=fast)
                theirs = classify(answers, trajs[0].gold, judge=reference)
                assert (ours.class_of, ours.correct) == (theirs.class_of, theirs.correct), trajs[0].question_id
                assert ours.timeouts == theirs.timeouts == ()
    finally:
        fast.close()
        reference.close()


def test_stopped_checks_reach_the_bank_statistics_and_the_warehouse(tmp_path, monkeypatch):
    """The hanging pair inside a real ingest: the event is in the bank's statistics and in the
    warehouse table `answer_timeouts`, and everything else is ingested as usual."""
    from conftest import record

    from autotts.trajectories import equivalence
    from autotts.trajectories.banking import build_bank
    from autotts.trajectories.stats import answer_timeouts
    from autotts.trajectories.writers import write_jsonl
    from autotts.warehouse.db import connect
    from autotts.warehouse.ingest import load, prepare

    judge = AnswerJudge(timeout_s=5.0, workers=1, screen=False)  # ample for every other pair, even on a busy machine
    monkeypatch.setattr(equivalence, "_default", judge)
    try:
        records = [record(traj_id=t, gold=GOLD, probes=(HANGING, None, "20"), final=final)
                   for t, final in enumerate(["2025/101", HANGING, "20"])]
        path = tmp_path / "bank.jsonl"
        write_jsonl(records, path)
        assert answer_timeouts(build_bank(records)) >= 1
        payload = prepare(path)
        assert payload.n_answer_timeouts >= 1 and load(tmp_path / "w.duckdb", payload)
        with connect(tmp_path / "w.duckdb", read_only=True) as con:
            rows = con.execute("SELECT question_id, answer, other FROM answer_timeouts").fetchall()
            graded = con.execute("SELECT answer, correct FROM answer_classes ORDER BY answer").fetchall()
        assert rows and all(r[0] == "q1" and HANGING in r[1:] for r in rows)  # the pair, in either order
        assert sorted(graded) == sorted([("2025/101", True), (HANGING, False), ("20", False)])
    finally:
        judge.close()


def test_the_live_runtime_classifies_under_the_same_bound(monkeypatch):
    """Live answers arrive one at a time, off any gold: the hanging pair is stopped at the bound
    and self-consistency still answers with the majority."""
    from conftest import record

    from autotts.live.runtime import solve
    from tests.support.scripted_engine import ScriptedEngine
    from replay_core.baselines import BASELINES
    from autotts.trajectories import equivalence

    judge = AnswerJudge(timeout_s=1.0, workers=1)
    monkeypatch.setattr(equivalence, "_default", judge)
    try:
        finals = ["\\frac{2025}{101}", HANGING, "2025/101", "\\int_0^1 x^{1824} \\cdot f(x) \\, dx"]
        trajs = [record(traj_id=t, gold=GOLD, probes=(None, None, final), final=final) for t, final in enumerate(finals)]
        live = solve(ScriptedEngine(trajs, [0, 1, 2, 3]), BASELINES["sc"].make_controller, 1.0, "question",
                     max_branches=4)
        assert live.answer == "\\frac{2025}{101}"
        counters = judge.pool.counters
        assert counters.timed_out >= 1 and counters.calls == counters.completed + counters.timed_out
    finally:
        judge.close()


def test_the_bound_holds_off_the_main_thread_and_inside_a_prefect_flow(tmp_path, monkeypatch, prefect_harness):
    """math-verify's own SIGALRM timeouts fail off the main thread; ours kill a process, so they
    work in any thread and in Prefect's task runs."""
    import threading

    from conftest import record

    from autotts.flows.ingest import ingest_flow
    from autotts.trajectories import equivalence
    from autotts.trajectories.writers import write_jsonl

    judge = AnswerJudge(timeout_s=5.0, workers=1, screen=False)  # ample for every other pair, even on a busy machine
    monkeypatch.setattr(equivalence, "_default", judge)
    try:
        in_thread = []
        thread = threading.Thread(target=lambda: in_thread.append(classify([HANGING, "2025/101"], gold=GOLD)))
        thread.start()
        thread.join()
        assert in_thread[0].correct == (False, True) and in_thread[0].timeouts

        path = tmp_path / "bank.jsonl"
        write_jsonl([record(traj_id=t, gold=GOLD, probes=("x + 1", None, final), final=final)
                     for t, final in enumerate(["\\int_0^1 x^{1824} \\cdot g(x) \\, dx", "2025/101"])], path)
        (summary,) = ingest_flow([str(path)], str(tmp_path / "w.duckdb"))
        assert summary["status"] == "ingested" and summary["answer_timeouts"] >= 1
    finally:
        judge.close()


def test_verdicts_settled_without_sympy_match_math_verify():
    """Pairs decided from the parses' text parts (no worker call) get math-verify's own verdict."""
    texts = ["square of the height of the cave", "needed here]", "needed here] ", "m + n", "m+n", "154.9  minutes.",
             "[value of the product divided by 1000]", "Number of intersections:  2", "x^2 + y^2 = 1", "\\{1, 2, 3\\}"]
    readings = {t: symbolic.analyze(t, "math") for t in texts}
    settled = 0
    for a in texts:
        for b in texts:
            verdict = symbolic.settled_without_sympy(readings[a], readings[b])
            if verdict is not None and a != b:
                settled += 1
                assert verdict == symbolic.verify_texts(a, b, "math"), (a, b)
    assert settled > 0


# ----------------------------------------------------------------------------- sets, tuples, intervals
CONTAINERS = ["1, 2", "2, 1", "(1, 2)", "[1, 2]", "[0, 1)", "\\{1, 2\\}", "\\left( -6, 12 \\right)", "0.333333, 1",
              "\\frac{1}{3}, 1", "\\{3\\}", "3", "9\\%, 1", "9, 1", "(1, (2, 3))", "1, 2, 3", "(-\\infty, 2]", "1, 1",
              "\\frac{3(1 + \\sqrt{17})}{2}, \\frac{3(1 - \\sqrt{17})}{2}", "\\sqrt{2}, -\\sqrt{2}", "1.414214, -1.414214"]


def _container_answers(limit: int) -> list[str]:
    """The first `limit` distinct answers with a comma of the real question whose gold is a pair
    (Qwen3-0.6B HMMT25, the tenth question): thousands of set-against-tuple comparisons before the rule."""
    from autotts.trajectories.banking import group_records
    from autotts.trajectories.readers import read_any

    trajs = list(group_records(read_any(store("Qwen3-0.6B", "hmmt25"))).values())[9]
    answers = dict.fromkeys(a for r in trajs for a in (*r.probe_answers, r.final_answer) if a and "," in a)
    return [trajs[0].gold, *list(answers)[:limit]]


def test_pairs_ruled_out_by_their_numbers_are_pairs_math_verify_finds_different():
    """`elements_differ` is a necessary condition for math-verify's verdict: every pair it rules
    out is one `verify` calls different, and the pairs `verify` calls equal (sets against tuples,
    an open interval against a pair, float rounding, a one-element set against its number, a
    percentage) are never ruled out."""
    texts = CONTAINERS + (_container_answers(6) if have_stores() else [])
    readings = {t: symbolic.analyze(t, "math") for t in texts}
    assert readings["(1, (2, 3))"].elements == ("(1+0j)", "(2+0j)", "(3+0j)") and readings["9\\%, 1"].elements is None
    ruled_out = equal = 0
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            verdict = symbolic.verify_texts(a, b, "math")
            equal += verdict
            if symbolic.elements_differ(readings[a], readings[b]):
                ruled_out += 1
                assert not verdict, (a, b)
    assert ruled_out > 100 and equal >= 8


@pytest.mark.skipif(not have_stores(), reason="real AutoTTS stores not in ../shared/data/autotts-replay")
def test_a_real_question_of_pairs_gets_the_same_classes_without_most_verify_calls():
    """Answers of the real question with a pair as gold: the same classes and grades as with every
    pair sent to math-verify, with far fewer symbolic comparisons."""
    gold, *answers = _container_answers(12)
    answers += ["\\frac{-1-\\sqrt{17}}{2}, \\frac{-1+\\sqrt{17}}{2}", None]  # the gold's numbers, swapped
    fast, reference = AnswerJudge(workers=2), AnswerJudge(workers=2, element_rule=False)
    compared: dict[str, list] = {"fast": [], "reference": []}
    for name, judge in (("fast", fast), ("reference", reference)):
        judge.verdict = lambda *pair, _seen=compared[name], _verdict=judge.verdict: _seen.append(pair) or _verdict(*pair)
    try:
        ours = classify(answers, gold, judge=fast)
        theirs = classify(answers, gold, judge=reference)
        assert (ours.class_of, ours.correct) == (theirs.class_of, theirs.correct)
        assert any(ours.correct) and len(ours.texts) > 5
        assert len(compared["fast"]) * 4 < len(compared["reference"])
    finally:
        fast.close()
        reference.close()


def test_the_answer_cache_keeps_element_values_and_upgrades_an_older_file(tmp_path):
    """Readings round-trip through the on-disk cache with their element values, also in a file
    written before the elements column existed (whose rows, of older rules, are not used)."""
    import sqlite3

    from autotts.trajectories.answer_cache import AnswerCache

    path = tmp_path / "answers.sqlite"
    with sqlite3.connect(path) as con:  # the rules-version-2 layout
        con.execute("CREATE TABLE readings (rules TEXT NOT NULL, answer_type TEXT NOT NULL, text TEXT NOT NULL, "
                    "parsed INTEGER NOT NULL, number TEXT, symbols TEXT, fingerprint TEXT, strings TEXT, "
                    "has_expression INTEGER, PRIMARY KEY (rules, answer_type, text))")
        con.execute("INSERT INTO readings VALUES ('2/old', 'math', '1, 2', 1, NULL, '[]', NULL, NULL, 1)")
    reading = symbolic.analyze("\\left( -6, 12 \\right)", "math")
    assert reading.elements == ("(-6+0j)", "(12+0j)")
    cache = AnswerCache(path)
    cache.store({("\\left( -6, 12 \\right)", "math"): reading}, {})
    readings, _ = cache.load()
    assert readings == {("\\left( -6, 12 \\right)", "math"): reading}


def test_number_and_fingerprint_is_number_key_and_fingerprint_computed_once():
    """The shared evaluation (`symbolic.number_and_fingerprint`, one `evalf` for an expression
    without free symbols) gives exactly what `number_key` and `fingerprint` give apart, on the
    adversarial corpus, the arithmetic reader's values and a sample of real answers."""
    texts = [t for kind, values in CORPUS.items() if not kind.startswith("_") for t in values]
    texts += ARITHMETIC + ["x + 1", "\\frac{a}{b}", "f(2)", "C(7, 2)", "\\{1, 2\\}", "x = 3", "\\sqrt{-4}", "1 + i",
                           "0^0", "\\frac{1}{0}", "\\infty", "-\\infty", "\\text{yes}", "\\begin{pmatrix}1 & 2\\end{pmatrix}",
                           "10^{-200}", "\\frac{1}{34} + \\frac{-1 + \\sqrt{273}}{68} + \\frac{-1 - \\sqrt{273}}{68}"]
    texts += _real_answer_sample(60) if have_stores() else []
    exprs = [read_arithmetic(t) for t in ARITHMETIC]
    pool = BoundedPool(1, initializer="autotts.trajectories.symbolic:warm_up")  # parses can be slow: bounded
    try:
        parses = pool.map(symbolic.parsed, [(t, "math") for t in texts], 30.0, lambda item, err: ())
    finally:
        pool.close()
    exprs += [p for parse in parses for p in parse if not isinstance(p, str)]
    constants = 0
    for expr in exprs:
        expected = (symbolic.number_key(expr), symbolic.fingerprint(expr))
        assert symbolic.number_and_fingerprint(expr) == expected, expr
        constants += getattr(expr, "free_symbols", None) == set()
    assert constants > 30 and len(exprs) - constants > 10  # both branches are exercised


def test_new_verdicts_reach_the_disk_cache_in_batches(tmp_path):
    """Verdicts are written once per `classify_questions` call (and at `close`), not one
    transaction each; a second judge on the same file finds them."""
    from autotts.trajectories.answer_cache import AnswerCache

    cache = AnswerCache(tmp_path / "answers.sqlite")
    judge = AnswerJudge(workers=1, cache=cache)
    try:
        classify(["x + 1", "1 + x", "2x", "x \\cdot 2", "x^2"], gold="x + 1", judge=judge)
        _, verdicts = cache.load()
        assert verdicts and judge._unsaved == {}
        assert verdicts == {k: v for k, v in judge._verdicts.items() if v is not None}
        judge.verdict("y + 1", "1 + y", "math")  # outside classify_questions: saved at close
        assert len(cache.load()[1]) == len(verdicts)
    finally:
        judge.close()
    assert ("1 + y", "y + 1", "math") in cache.load()[1]


def test_threads_asking_for_the_same_answers_at_once_share_one_call_each():
    """Files graded at once share answers: a text or pair that one thread is reading or comparing
    is waited for by the others, never sent to the workers a second time."""
    import threading

    judge = AnswerJudge(workers=2)
    calls: list[tuple] = []
    map_, call_ = judge.pool.map, judge.pool.call

    def slow_map(fn, items, *args):
        calls.extend(items)
        time.sleep(0.3)  # keep the first thread's keys in flight while the others arrive
        return map_(fn, items, *args)

    def slow_call(fn, *args, **kwargs):
        if fn is symbolic.verify_texts:  # (map reads through call too)
            calls.append(args[:2])
            time.sleep(0.3)
        return call_(fn, *args, **kwargs)

    judge.pool.map, judge.pool.call = slow_map, slow_call
    texts = [r"\{1, 2\}", r"\{2, 1\}", r"x^2 + y"]
    threads = [threading.Thread(target=lambda: (judge.prefetch(texts, "math"),
                                                judge.verdict(texts[0], texts[1], "math"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reads = [c for c in calls if len(c) == 2 and c[1] == "math"]
    assert sorted(reads) == sorted(set(reads)) and len(reads) <= len(texts)
    assert sum(1 for c in calls if c == (texts[0], texts[1])) + sum(1 for c in calls if c == (texts[1], texts[0])) == 1
    assert all(judge.reading(t, "math") is not None for t in texts)
