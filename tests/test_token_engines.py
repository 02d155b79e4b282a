"""The token engines on a tiny randomly initialised model (SYNTHETIC, built here; no hub).

The transformers engine: real chat templating, tokenisation, left-padded batched generation,
log-probs, chunking and probing, through collection, ingest, evaluation and `autotts solve`. The
vLLM engine's own code, over a stand-in for vLLM backed by the same model (vLLM needs a GPU).

AUTOTTS_TEST_DEVICE=cuda runs them on a GPU (scripts/gpu_check.sh does)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="the transformers engine needs PyTorch (`pip install .[transformers]`)")
pytest.importorskip("transformers", reason="the transformers engine needs transformers (`pip install .[transformers]`)")

import torch  # noqa: E402

from autotts.live.answers import PROMPT_TEMPLATE  # noqa: E402
from autotts.live.engine import Sampling  # noqa: E402
from tests.support.tiny_model import build_tiny_model  # noqa: E402
from replay_core.baselines import BASELINES  # noqa: E402
from autotts.live.transformers_engine import TransformersEngine  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

DEVICE = os.environ.get("AUTOTTS_TEST_DEVICE", "cpu")
PROMPTS = ["What is 2+2?", "Find the remainder when 7^{2024} is divided by 5, and explain every step.", "x"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> str:
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-random")))


@pytest.fixture(scope="module")
def talker(tmp_path_factory) -> str:
    """The tiny model trained a few seconds on addition dialogues: it writes `\\boxed{n}` and stops."""
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-talker"), train_steps=200))


def engine(tiny: str, **sampling) -> TransformersEngine:
    return TransformersEngine(tiny, Sampling(**{"temperature": 1.0, "probe_tokens": 6, **sampling}), device=DEVICE)


def model_logprobs(e, model, handle: int) -> list[float]:
    """Each generated token's log-probability, from one unpadded forward pass of the whole sequence."""
    ids = e.tokens[handle]
    with torch.inference_mode():
        logp = torch.log_softmax(model(torch.tensor([ids], device=model.device)).logits[0].float(), dim=-1)
    start = e.prompt_length[handle]
    return [logp[i - 1, ids[i]].item() for i in range(start, len(ids))]


def assert_confidence_is_the_chunks_mean_logprob(e, model, handle: int, chunks) -> None:
    logprobs, start = model_logprobs(e, model, handle), 0
    for chunk in chunks:
        mean = sum(logprobs[start:start + chunk.tokens]) / chunk.tokens
        assert chunk.confidence == pytest.approx(mean, abs=1e-4)
        start += chunk.tokens


def assert_ended_at_the_cap_or_eos(e, handle: int, last) -> None:
    """Asked for more than the 40-token cap allows: the sequence ended, cut at the cap unless the
    model happened to emit its end-of-sequence token first."""
    eos = e.tokenizer.eos_token_id
    assert last.finished
    if e.tokens[handle][-1] == eos:
        assert not last.cut and e.generated[handle] <= 40
    else:
        assert last.cut and e.generated[handle] == 40 and last.answer is None


def test_prompts_go_through_the_models_chat_template(tiny):
    e = engine(tiny)
    handle = e.open("What is 2+2?")
    assert e.tokenizer.decode(e.tokens[handle]) == "<|user|>\nWhat is 2+2?<|end|>\n<|assistant|>\n"


def test_chunks_are_the_sequences_tokens_and_confidence_is_the_models_logprob(tiny):
    e = engine(tiny, chunk_tokens=12, max_tokens=40)
    handles = [e.open(p) for p in PROMPTS]  # different lengths: the batch is left-padded
    produced = e.extend(handles, [2, 1, 4])
    for handle, chunks, asked in zip(handles, produced, [2, 1, 4]):
        assert sum(c.tokens for c in chunks) == e.generated[handle] <= 40
        ended = [c.finished for c in chunks]
        assert ended[:-1] == [False] * (len(chunks) - 1)
        assert len(chunks) == asked or ended[-1]  # fewer chunks only when the sequence ended
        stopped_at_eos = e.tokens[handle][-1] in e.eos
        assert all(c.tokens == 12 for c in chunks[:-1]) and (chunks[-1].tokens in (12, 4) or stopped_at_eos)
        assert_confidence_is_the_chunks_mean_logprob(e, e.model, handle, chunks)
    assert_ended_at_the_cap_or_eos(e, handles[2], produced[2][-1])


def test_probe_is_a_greedy_answer_after_the_cue_and_leaves_the_sequence_alone(tiny):
    e = engine(tiny, chunk_tokens=8, max_tokens=64)
    handles = [e.open(p) for p in PROMPTS]
    e.extend(handles, [1, 2, 3])
    before = {h: list(e.tokens[h]) for h in handles}
    batched = e.probe(handles)
    assert {h: e.tokens[h] for h in handles} == before
    assert batched == [e.probe([h])[0] for h in handles]  # padding does not change a probe
    cue = e.tokenizer.encode(e.sampling.probe_cue, add_special_tokens=False)
    for handle, (answer, tokens) in zip(handles, batched):
        with torch.inference_mode():
            greedy = e.model.generate(torch.tensor([e.tokens[handle] + cue]), do_sample=False, max_new_tokens=6,
                                      pad_token_id=e.pad)[0, len(e.tokens[handle]) + len(cue):].tolist()
        assert tokens == len(greedy) <= 6
        text = e.tokenizer.decode(greedy, skip_special_tokens=True)
        assert answer == (text[:text.index("}")].strip() or None if "}" in text else None)


def test_sampling_is_temperature_and_top_p_and_nothing_else(tiny):
    """No hidden top-k (transformers' default is 50): at top_p=1 tokens far down the ranking are
    drawn; at top_p=0.5 every drawn token lies inside the nucleus."""
    def ranks_and_mass_above(top_p: float) -> list[tuple[int, float]]:
        e = engine(tiny, chunk_tokens=100, max_tokens=100, top_p=top_p)
        handles = [e.open(p) for p in PROMPTS]
        e.extend(handles, [1] * len(handles))
        out = []
        for h in handles:
            ids, start = e.tokens[h], e.prompt_length[h]
            with torch.inference_mode():
                probs = torch.softmax(e.model(torch.tensor([ids], device=e.model.device)).logits[0].float(), -1)
            for i in range(start, len(ids)):
                p = probs[i - 1]
                above = p > p[ids[i]]
                out.append((int(above.sum()), float(p[above].sum())))
        return out

    assert max(rank for rank, _ in ranks_and_mass_above(1.0)) > 50
    assert max(mass for _, mass in ranks_and_mass_above(0.5)) < 0.5


def test_same_seed_same_sequences_other_seed_others_and_the_callers_rng_untouched(tiny):
    def run(seed: int) -> list[list[int]]:
        e = engine(tiny, chunk_tokens=10, max_tokens=30, seed=seed)
        handles = [e.open(p) for p in PROMPTS]
        e.extend(handles, [3, 3, 3])
        return [e.tokens[h] for h in handles]

    state = torch.get_rng_state()
    assert run(0) == run(0) != run(1)
    assert torch.equal(torch.get_rng_state(), state)


def test_collection_with_the_tiny_model_ingests_and_evaluates(tiny, tmp_path, prefect_harness):
    from autotts.cli import main

    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps({"question_id": f"q{i}", "benchmark": "synthetic-tiny",
                                            "problem": f"What is {i}+{i}?", "gold": str(2 * i)}) + "\n"
                                for i in range(3)))
    warehouse = tmp_path / "w.duckdb"
    assert main(["collect", "--problems", str(problems), "--model", tiny, "--engine", f"transformers:{DEVICE}", "--n", "4",
                 "--chunk-tokens", "16", "--max-tokens", "48", "--probe-tokens", "4", "--temperature", "1.0",
                 "--out", str(tmp_path / "tiny.parquet"), "--warehouse", str(warehouse)]) == 0
    from autotts.warehouse.queries import run_sql

    rows = run_sql(warehouse, "SELECT count(*) AS n, max(total_tokens) AS longest, count(*) FILTER "
                              "(WHERE total_tokens = 48 AND NOT finished AND final_answer IS NULL) AS cut "
                              "FROM trajectories").to_pylist()[0]
    assert rows["n"] == 12 and rows["longest"] <= 48 and rows["cut"] >= 1  # noise rarely ends by itself
    probes = run_sql(warehouse, "SELECT count(*) AS n, max(probe_tokens) AS most FROM probes").to_pylist()[0]
    assert probes["most"] <= 4 and probes["n"] == run_sql(warehouse, "SELECT sum(n_chunks) AS n FROM trajectories"
                                                          ).to_pylist()[0]["n"]
    done = subprocess.run([sys.executable, "-m", "autotts.cli", "evaluate", "--bank", str(tmp_path / "tiny.parquet"),
                           "--controller", "sc", "--set", "k=4", "--json"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    (point,) = result["points"]
    assert result["synthetic"] is True  # the benchmark's name marks the noise as synthetic
    assert point["questions"] == 3 and 0 < point["tokens"] <= 4 * 48 + 3 * 4 * 4


def test_solve_live_with_the_tiny_model(tiny, capsys):
    from autotts.cli import main

    assert main(["solve", "--controller", "sc", "--set", "k=3", "--problem", "What is 3+4?", "--model", tiny,
                 "--engine", f"transformers:{DEVICE}", "--chunk-tokens", "16", "--max-tokens", "32", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 3 <= result["tokens"] <= 3 * 32 and result["rounds"] >= 1


def test_vllm_engine_code_over_a_stand_in_for_vllm(tiny, monkeypatch):
    """VLLMEngine's own code (TokensPrompt, per-request SamplingParams, the sampled token's
    log-prob, finish reasons) over tests/vllm_on_transformers.py, since vLLM needs a GPU."""
    from autotts.live.vllm_engine import VLLMEngine
    from tests import vllm_on_transformers

    vllm_on_transformers.install(monkeypatch)
    sampling = Sampling(chunk_tokens=12, max_tokens=40, temperature=1.0, probe_tokens=6)
    batched, alone = VLLMEngine(tiny, sampling), VLLMEngine(tiny, sampling)
    handles = [batched.open(p) for p in PROMPTS]
    assert [alone.open(p) for p in PROMPTS] == handles
    produced = batched.extend(handles, [2, 1, 4])
    for handle, chunks in zip(handles, produced):
        assert sum(c.tokens for c in chunks) == batched.generated[handle] <= 40
        assert_confidence_is_the_chunks_mean_logprob(batched, batched.llm.model, handle, chunks)
    for handle, asked in zip(reversed(handles), [4, 1, 2]):  # per-request seeds: batch-mates do not matter
        alone.extend([handle], [asked])
    assert [alone.tokens[h] for h in handles] == [batched.tokens[h] for h in handles]
    assert_ended_at_the_cap_or_eos(batched, handles[2], produced[2][-1])
    assert batched.probe(handles) == [alone.probe([h])[0] for h in handles]


def test_collection_command_warns_when_the_model_never_closes_its_box(tiny, tmp_path):
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps({"question_id": "q", "benchmark": "synthetic-tiny", "problem": "1+1?", "gold": "2"}))
    done = subprocess.run([sys.executable, "-m", "autotts.collection", "--problems", str(problems), "--model", tiny,
                           "--engine", f"transformers:{DEVICE}", "--n", "3", "--chunk-tokens", "8", "--max-tokens", "16",
                           "--probe-tokens", "2", "--out", str(tmp_path / "o.parquet")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    # noise rarely closes `\boxed{` within 2 tokens; the count and the setting to change are named
    assert "probes stated no answer" in done.stderr and "--probe-tokens 2" in done.stderr
    assert (tmp_path / "o.parquet").is_file()


def test_vllm_engine_collects_the_same_records_one_question_at_a_time_or_together(tiny, tmp_path, monkeypatch):
    from autotts.collection.collector import collect
    from autotts.collection.problems import Problem
    from autotts.live.vllm_engine import VLLMEngine
    from tests import vllm_on_transformers
    from autotts.trajectories.readers import read_parquet

    vllm_on_transformers.install(monkeypatch)
    problems = [Problem(f"q{i}", "synthetic-tiny", f"What is {i} + 1?", str(i + 1)) for i in range(3)]
    sampling = Sampling(chunk_tokens=8, max_tokens=24, temperature=1.0, probe_tokens=4)
    collected = {}
    for concurrent in (1, 3):
        parts = collect(VLLMEngine(tiny, sampling), problems, "tiny", 2, 3, tmp_path / str(concurrent),
                        concurrent=concurrent)
        collected[concurrent] = [r for part in parts for r in read_parquet(part)]
    assert collected[1] == collected[3] and len(collected[1]) == 6


LIVE_SAMPLING = Sampling(chunk_tokens=8, max_tokens=40, temperature=1.0, probe_tokens=12)
LIVE_PROBLEM = "What is 2 + 2?"


@pytest.fixture(scope="module")
def vllm_bank(talker):
    """A bank collected once with VLLMEngine over the stand-in (16 trajectories of one question),
    its branch order permuted as replay's seed 3 permutes it: (bank, n, seed)."""
    import dataclasses

    from autotts.collection.problems import Problem
    from autotts.live.vllm_engine import VLLMEngine
    from autotts.trajectories.banking import build_bank
    from replay_core.evaluate import _shuffled
    from tests import vllm_on_transformers
    from tests.support.collect import collect_question

    n, seed = 16, 3
    with pytest.MonkeyPatch.context() as patch:
        vllm_on_transformers.install(patch)
        collected = collect_question(VLLMEngine(talker, LIVE_SAMPLING), Problem("q", "synthetic-tiny", LIVE_PROBLEM, "4"),
                                     "tiny", n, 5)
    order = _shuffled(n, seed)  # replay's branch b reads trajectory order[b]; live branch b is handle b
    bank = build_bank([dataclasses.replace(collected[b], traj_id=int(order[b])) for b in range(n)], synthetic=True)
    assert sum(r.finished for r in collected) >= n // 2 and len(bank.class_texts[0]) >= 3  # not a trivial bank
    return bank, n, seed


@pytest.mark.parametrize("name", list(BASELINES))
def test_served_live_over_vllm_a_controller_does_what_replay_of_that_engines_bank_says(talker, vllm_bank, monkeypatch,
                                                                                       name):
    """Serve each baseline live with a fresh engine over the stand-in that collected `vllm_bank`:
    per-request seeds regenerate the very trajectories replay reads, so answers, tokens, rounds and
    latency must be equal — the live runtime and replay are one environment."""
    import numpy as np

    from autotts.live.runtime import solve
    from autotts.live.vllm_engine import VLLMEngine
    from autotts.trajectories.equivalence import equivalent
    from replay_core.evaluate import run_episodes
    from tests import vllm_on_transformers

    vllm_on_transformers.install(monkeypatch)
    bank, n, seed = vllm_bank
    for beta in (0.0, 1.0):
        factory = BASELINES[name].make_controller
        replayed = run_episodes(bank, factory, beta, np.array([0]), np.array([seed]))
        live = solve(VLLMEngine(talker, LIVE_SAMPLING), factory, beta, PROMPT_TEMPLATE.format(problem=LIVE_PROBLEM),
                     max_branches=n)
        assert (live.tokens, live.rounds, live.seq_tokens) == \
            (replayed.tokens[0], replayed.rounds[0], replayed.seq_tokens[0])
        expected = bank.class_texts[0][replayed.answers[0]] if replayed.answers[0] >= 0 else None
        assert live.answer is not None and equivalent(live.answer, expected)
