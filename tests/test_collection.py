"""Collection through the engine seam: a scripted engine, and the OpenAI-compatible HTTP engine
over a mock transport (real client code), with bad input and engine failures."""
from __future__ import annotations

import importlib.util
import json

import httpx
import pytest

from autotts.collection.__main__ import stats_warnings
from autotts.collection.collector import EngineFailed, QuestionStats, collect, merge
from autotts.collection.problems import Problem, read_problems
from autotts.live.answers import extract_answer, probe_answer
from autotts.live.engine import Sampling
from autotts.live.openai_engine import OpenAIEngine
from tests.support.collect import collect_question
from tests.support.scripted_engine import ScriptedEngine
from replay_core.baselines import BASELINES
from replay_core.evaluate import evaluate
from autotts.trajectories.banking import group_records, load_bank
from autotts.trajectories.readers import read_parquet
from autotts.trajectories.schema import FormatError
from autotts.trajectories.synthetic import generate


def test_scripted_collection_reproduces_the_stored_trajectories_and_evaluates(tmp_path):
    stored = list(group_records(generate(questions=2, trajectories=8, seed=2)).values())
    parts = []
    for i, trajs in enumerate(stored[:3]):
        problem = Problem(trajs[0].question_id, trajs[0].benchmark, "p", trajs[0].gold, trajs[0].answer_type)
        got = collect_question(ScriptedEngine(trajs, list(range(8))), problem, trajs[0].model, 8, 200)
        for mine, theirs in zip(got, trajs):
            assert mine.chunk_tokens == theirs.chunk_tokens and mine.final_answer == theirs.final_answer
            assert mine.probe_answers[:-1] == theirs.probe_answers[:-1]
        from autotts.trajectories.writers import write_parquet

        parts.append(tmp_path / f"part{i}.parquet")
        write_parquet(got, parts[-1])
    assert merge(parts, tmp_path / "all.parquet") == 24
    bank = load_bank([tmp_path / "all.parquet"])
    result = evaluate(bank, BASELINES["sc"].make_controller, [1.0], permutations=2)[1.0]
    assert len(result) == 6


class QuestionsEngine:
    """Several stored questions behind one engine (each prompt names its question), counting the
    sequences in every extend call."""

    def __init__(self, stored: dict[str, list]):
        self.engines = {q: ScriptedEngine(trajs, list(range(len(trajs)))) for q, trajs in stored.items()}
        self.handles: list[tuple[ScriptedEngine, int]] = []
        self.batches: list[int] = []

    def open(self, prompt: str) -> int:
        engine = self.engines[prompt.split("\n")[0]]
        self.handles.append((engine, engine.open(prompt)))
        return len(self.handles) - 1

    def extend(self, handles, chunks):
        self.batches.append(len(handles))
        return [self.handles[h][0].extend([self.handles[h][1]], [k])[0] for h, k in zip(handles, chunks)]

    def probe(self, handles):
        return [self.handles[h][0].probe([self.handles[h][1]])[0] for h in handles]

    def close(self, handle):
        pass


def test_concurrent_questions_batch_across_questions_and_collect_the_same(tmp_path):
    stored = {trajs[0].question_id: trajs for trajs in group_records(generate(questions=2, trajectories=6, seed=4)).values()}
    problems = [Problem(q, trajs[0].benchmark, q, trajs[0].gold, trajs[0].answer_type) for q, trajs in stored.items()]
    results, engines = {}, {}
    for concurrent in (1, 4):
        engines[concurrent] = QuestionsEngine(stored)
        parts = collect(engines[concurrent], problems, "m", 6, 200, tmp_path / f"c{concurrent}", concurrent=concurrent)
        results[concurrent] = [r for part in parts for r in read_parquet(part)]
    assert results[1] == results[4] and len(results[1]) == 6 * len(problems)
    assert max(engines[1].batches) == 6 and max(engines[4].batches) == 6 * 4  # 4 questions per engine call
    assert len(engines[4].batches) < len(engines[1].batches)


def test_answer_extraction():
    assert extract_answer("so the answer is \\boxed{\\frac{1}{2}} done") == "\\frac{1}{2}"
    assert extract_answer("we get 12 and then 17.") == "17"
    assert extract_answer("no numbers") is None
    assert probe_answer("42} because") == "42" and probe_answer("42 and it never closes") is None


def completions(script: list):
    """A mock OpenAI-compatible server answering from a script of (status, text, tokens, finish)."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append(body)
        status, text, tokens, finish = script.pop(0)
        if status != 200:
            return httpx.Response(status, json={"error": "boom"})
        return httpx.Response(200, json={"choices": [{"text": text, "finish_reason": finish,
                                                       "logprobs": {"token_logprobs": [-0.5] * tokens}}],
                                         "usage": {"completion_tokens": tokens}})

    return httpx.Client(transport=httpx.MockTransport(handler), base_url="http://engine"), calls


def test_openai_engine_collects_chunks_probes_and_unclosed_boxes(tmp_path):
    script = [
        (200, "Let x = 4.", 100, "length"),          # chunk 1
        (200, "4} since", 3, "stop"),                # probe after chunk 1
        (200, " So \\boxed{42}", 30, "stop"),        # chunk 2 ends the trajectory
    ]
    client, calls = completions(script)
    engine = OpenAIEngine("http://engine", "m", Sampling(chunk_tokens=100), client=client)
    problem = Problem("q1", "b", "What?", "42")
    (record,) = collect_question(engine, problem, "m", 1, 10)
    assert record.chunk_tokens == (100, 30) and record.probe_answers == ("4", "42") and record.final_answer == "42"
    assert record.probe_tokens == (3, 0) and record.finished and record.chunk_confidence == (-0.5, -0.5)
    assert calls[1]["prompt"].endswith("\\boxed{") and calls[1]["temperature"] == 0.0
    never_closes = [(200, "thinking", 100, "length"), (200, "42 and on and on", 24, "length")]
    client, _ = completions(never_closes)
    (cut,) = collect_question(OpenAIEngine("http://engine", "m", Sampling(chunk_tokens=100), client=client), problem, "m", 1, 1)
    assert cut.probe_answers == (None,) and not cut.finished and cut.final_answer is None


def test_engine_failure_keeps_finished_questions_and_resumes(tmp_path):
    problems = [Problem(f"q{i}", "b", "What?", "1") for i in range(3)]
    ok = [(200, "\\boxed{1}", 10, "stop")]
    client, _ = completions(ok + [(500, "", 0, "")])
    engine = OpenAIEngine("http://engine", "m", client=client)
    with pytest.raises(EngineFailed, match=r"failed on b/q1 \(HTTPStatusError.*1 finished question\(s\) are kept") as err:
        collect(engine, problems, "m", 1, 5, tmp_path / "parts")
    assert isinstance(err.value.__cause__, httpx.HTTPStatusError)
    assert [p.name for p in sorted((tmp_path / "parts").glob("*.parquet"))] == ["b__q0.parquet"]
    client, _ = completions(ok * 2)
    seen = []
    parts = collect(OpenAIEngine("http://engine", "m", client=client), problems, "m", 1, 5, tmp_path / "parts",
                    on_question=lambda p, stats: seen.append((p.question_id, stats and stats.tokens)))
    assert len(parts) == 3 and seen == [("q0", None), ("q1", 10), ("q2", 10)]


def test_problems_file_errors_are_located(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"question_id": "1", "benchmark": "b", "problem": "x", "gold": "2"}) + "\n"
                    + json.dumps({"question_id": "2", "benchmark": "b", "gold": "3"}) + "\n")
    with pytest.raises(FormatError, match="row 2, field 'problem'"):
        read_problems(path)


GOOD_ROW = {"question_id": "1", "benchmark": "b", "problem": "x", "gold": "2"}


@pytest.mark.parametrize("row, engine, status, message", [
    ({**GOOD_ROW, "gold": None}, "openai:http://127.0.0.1:9", 2, "p.jsonl, row 1, field 'gold': missing"),
    (GOOD_ROW, "openai:http://127.0.0.1:9", 1, "error: the engine failed on b/1 (ConnectError"),  # port 9: nobody
    (GOOD_ROW, "vllm", 2, "error: the vllm engine needs vllm, which is not installed here"),
    (GOOD_ROW, "tgi:http://x", 2, "error: unknown engine 'tgi:http://x'"),
])
def test_collection_command_reports_bad_input_in_one_line(tmp_path, row, engine, status, message):
    if engine == "vllm" and importlib.util.find_spec("vllm"):
        pytest.skip("vLLM is installed in this environment")
    import subprocess
    import sys

    from tests.conftest import ROOT

    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(row) + "\n")
    done = subprocess.run([sys.executable, "-m", "autotts.collection", "--problems", str(path), "--model", "m",
                           "--engine", engine, "--out", str(tmp_path / "o.parquet")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == status and message in done.stderr and "Traceback" not in done.stderr


def test_the_collection_side_imports_nothing_from_the_prefect_side():
    """The GPU environment (requirements/gpu.txt) has no Prefect, DuckDB, math-verify, plotly or
    anthropic: `python -m autotts.collection` and every engine must import without them. (rich may appear:
    httpx imports it when it is installed, and does without it.)"""
    import subprocess
    import sys

    from tests.conftest import ROOT

    probe = ("import sys, autotts.collection.__main__, autotts.live.engines, autotts.live.vllm_engine, autotts.live.transformers_engine, "
             "autotts.live.openai_engine, tests.support.tiny_model; print(sorted({m.removeprefix('autotts.').split('.')[0] for m in sys.modules}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    imported = set(eval(done.stdout))
    assert imported & {"numpy", "pyarrow", "collection", "live"} == {"numpy", "pyarrow", "collection", "live"}
    assert not imported & {"prefect", "duckdb", "math_verify", "plotly", "anthropic", "warehouse", "flows", "tasks"}


def test_warnings_name_the_setting_behind_unanswered_probes_and_cut_trajectories():
    healthy = QuestionStats(trajectories=4, tokens=900, probes=12, unanswered_probes=2, cut=1, batch_tokens_per_s=1.0)
    assert stats_warnings(healthy, 24) == []
    never_closes = QuestionStats(trajectories=4, tokens=900, probes=12, unanswered_probes=11, cut=4, batch_tokens_per_s=1.0)
    first, second = stats_warnings(never_closes, 8)
    assert "11 of 12 probes stated no answer" in first and "--probe-tokens 8" in first
    assert "--max-tokens" in second


def test_sampling_options_round_trip_through_the_command_line_and_the_cue_is_what_probes_send():
    import argparse

    from autotts.live.engines import add_sampling_arguments, sampling_argv, sampling_from

    parser = argparse.ArgumentParser()
    add_sampling_arguments(parser)
    thinking = Sampling(chunk_tokens=128, max_tokens=4096, temperature=0.7, top_p=0.8, probe_tokens=12, seed=3,
                        probe_cue="</think>\n\n**Final Answer**: \\boxed{")
    assert sampling_from(parser.parse_args(sampling_argv(thinking))) == thinking
    typed = parser.parse_args(["--probe-cue", "</think>\\n\\nAnswer: \\boxed{"])  # as typed in a shell
    assert typed.probe_cue == "</think>\n\nAnswer: \\boxed{"
    with pytest.raises(ValueError, match="must end with"):
        Sampling(probe_cue="Answer:")
    client, calls = completions([(200, "step", 10, "length"), (200, "5}", 2, "stop")])
    engine = OpenAIEngine("http://engine", "m", Sampling(chunk_tokens=10, probe_cue=thinking.probe_cue), client=client)
    (record,) = collect_question(engine, Problem("q", "b", "x", "5"), "m", 1, 1)
    assert calls[1]["prompt"] == "x\n\nPlease reason step by step, and put your final answer within \\boxed{}.step" \
        + thinking.probe_cue and record.probe_answers == ("5",)


def test_openai_engine_sends_a_rounds_requests_concurrently_with_distinct_seeds():
    import threading

    together = threading.Barrier(4, timeout=10)  # breaks unless all four chunk requests are in flight at once
    seeds = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        together.wait()
        seeds.append(body["seed"])
        return httpx.Response(200, json={"choices": [{"text": " step", "finish_reason": "length"}],
                                         "usage": {"completion_tokens": 5}})

    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://engine")
    engine = OpenAIEngine("http://engine", "m", Sampling(chunk_tokens=5, max_tokens=100), client=client)
    handles = [engine.open("x") for _ in range(4)]
    assert [len(out) for out in engine.extend(handles, [2] * 4)] == [2] * 4
    assert len(set(seeds)) == 8  # every sequence and chunk draws with its own seed
