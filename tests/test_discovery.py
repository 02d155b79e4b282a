"""Discovery end to end: offline and Anthropic explorers (real SDK, mocked transport), bad
candidates, programs database, and a killed run resumed with nothing lost or repeated."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx2
import pytest

from autotts.explorer.anthropic_explorer import AnthropicExplorer, default_model
from autotts.explorer.parsing import MalformedAnswer, extract_module
from tests.conftest import ROOT
from autotts.warehouse.ingest import load, prepare
from autotts.warehouse.queries import run_sql
from replay_core.baselines import ENVELOPE_BETAS

HONEST = (ROOT / "docs" / "controller-api.md").read_text().split("```python\n")[-1].split("```")[0]
SMALL = dict(search_benchmarks=["synthetic-aime"], holdout_benchmarks=["synthetic-math"], betas=3, permutations=3,
             holdout_permutations=3, holdout_top=1)


@pytest.fixture()
def warehouse(tmp_path, synthetic_file):
    path = str(tmp_path / "w.duckdb")
    load(path, prepare(synthetic_file))
    return path


def test_offline_discovery_records_rounds_candidates_and_holdout(warehouse, prefect_harness):
    from autotts.flows.discover import discover_flow

    summary = discover_flow(warehouse, rounds=2, candidates=3, **SMALL)
    assert [r["round"] for r in summary["rounds"]] == [0, 1]
    rounds = run_sql(warehouse, "SELECT * FROM discovery_progress ORDER BY round").to_pylist()
    assert [r["candidates"] for r in rounds] == [3, 3] and rounds[1]["best_so_far"] >= rounds[0]["best_so_far"]
    candidates = run_sql(warehouse, "SELECT status, score, feedback, parents FROM candidates").to_pylist()
    assert len(candidates) == 6 and all(c["status"] == "evaluated" for c in candidates)
    assert all("premature answers" in c["feedback"] for c in candidates)
    assert any(json.loads(c["parents"]) for c in candidates)  # round 1 descends from round 0
    holdout = {c["controller"] for c in summary["holdout"]}
    assert "sc" in holdout and any(name.startswith("candidate-") for name in holdout)
    board = run_sql(warehouse, "SELECT DISTINCT benchmark FROM leaderboard").column("benchmark").to_pylist()
    assert "synthetic-math" in board
    # the bar is drawn on one fixed beta grid, whatever the run's --betas (here 3), search split and held out
    grids = run_sql(warehouse, "SELECT benchmark, controller, list(DISTINCT beta ORDER BY beta) AS betas "
                               "FROM baseline_curves GROUP BY ALL").to_pylist()
    assert {g["benchmark"] for g in grids} == {"synthetic-aime", "synthetic-math"}
    assert all(g["betas"] == pytest.approx(list(ENVELOPE_BETAS)) for g in grids)
    assert len({p["beta"] for c in summary["holdout"] if c["controller"].startswith("candidate-")
                for p in c["points"]}) == 3
    # bench/row_union.py: every measured row pooled per fold bounds each candidate's own gain from above
    from bench.row_union import pooled_gains

    full = run_sql(warehouse, "SELECT fold_gains FROM candidates WHERE permutations = 3").column("fold_gains").to_pylist()
    _, folds = pooled_gains(warehouse, None, permutations=3)
    assert folds and {(b, m) for b, m, *_ in folds} == {tuple(k.split("/", 1)) for k in json.loads(full[0])}
    for benchmark, model, _, pooled, _ in folds:
        assert pooled >= max(100 * json.loads(g)[f"{benchmark}/{model}"] for g in full) - 1e-9


def _message(text: str, input_tokens: int = 1200, output_tokens: int = 400) -> dict:
    return {"id": "msg_test", "type": "message", "role": "assistant", "model": "test",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}


def scripted_client(answers: list, seen: list):
    """The real Anthropic SDK over a mock transport that replays scripted responses."""
    import anthropic

    queue = list(answers)

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        status, body = queue.pop(0)
        return httpx2.Response(status, json=body)

    return anthropic.Anthropic(api_key="test-key", max_retries=2,
                               http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))


def test_anthropic_explorer_round_survives_bad_answers(warehouse, prefect_harness, monkeypatch):
    import autotts.flows.discover as discover

    overloaded = (529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    answers = [
        overloaded,  # transient: the SDK retries it
        (200, _message(f"A probe-majority controller.\n```python\n{HONEST}```")),
        (200, _message("I would rather not write code today.")),
        (200, _message("```python\nimport os\ndef make_controller(beta):\n    os.system('true')\n```")),
    ]
    seen: list = []
    explorer = AnthropicExplorer(model=default_model(), client=scripted_client(answers, seen),
                                 prices={default_model(): (3.0, 15.0)})
    monkeypatch.setattr(discover, "make_explorer", lambda name, model=None, **options: explorer)
    summary = discover.discover_flow(warehouse, rounds=1, candidates=3, explorer="anthropic", **SMALL)
    (only_round,) = summary["rounds"]
    assert only_round["evaluated"] == 2 and only_round["failures"] == 1
    assert only_round["rejected"] == ["no Python code block with make_controller(beta) in the answer"]
    row = run_sql(warehouse, "SELECT * FROM discovery_rounds").to_pylist()[0]
    assert (row["input_tokens"], row["output_tokens"]) == (3 * 1200, 3 * 400)
    assert row["cost_usd"] == pytest.approx((3 * 1200 * 3.0 + 3 * 400 * 15.0) / 1e6)
    assert row["explorer"].startswith("anthropic:")
    failed = run_sql(warehouse, "SELECT error FROM candidates WHERE status = 'failed'").column("error").to_pylist()
    assert len(failed) == 1 and "import of 'os' is not allowed" in failed[0]
    prompt = seen[-1]["messages"][0]["content"]
    assert "make_controller(beta)" in prompt and "Baselines on the search split" in prompt
    assert seen[-1]["model"] == default_model()


def test_default_model_is_current():
    from anthropic._data import DEPRECATED_MODELS

    assert default_model() not in DEPRECATED_MODELS


def test_answer_parsing():
    assert "make_controller" in extract_module(f"text\n```python\n{HONEST}```\nmore")
    with pytest.raises(MalformedAnswer, match="does not parse"):
        extract_module("```python\ndef make_controller(beta:\n```")
    with pytest.raises(MalformedAnswer, match="no top-level make_controller"):
        extract_module("```python\nclass A:\n    def make_controller(self): pass\n```")
    with pytest.raises(MalformedAnswer, match=r"'\\ud800' is not valid UTF-8 \(line 2\)"):
        extract_module('```python\ndef make_controller(beta):\n    return "\ud800"\n```')


KILLABLE = """
import os, sys
os.environ.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
sys.path.insert(0, sys.argv[2])
from autotts.flows.discover import discover_flow
if __name__ == "__main__":
    discover_flow(sys.argv[1], rounds=3, candidates=4, parallel=1, search_benchmarks=["synthetic-aime"],
                  betas=3, permutations=3)
"""


def test_a_killed_discovery_resumes_without_loss_or_duplicates(warehouse, prefect_harness):
    from autotts.flows.discover import discover_flow

    env = {**os.environ, "PREFECT_API_URL": prefect_harness}
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, warehouse, str(ROOT)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    killed_mid_round = False
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
            try:
                state = run_sql(warehouse, "SELECT (SELECT count(*) FROM discovery_rounds) AS rounds, "
                                           "(SELECT count(*) FROM candidates WHERE round = 1 AND status <> 'proposed') AS done",
                                wait_s=2).to_pylist()[0]
            except Exception:
                continue
            if state["rounds"] == 1 and state["done"] >= 1:
                os.killpg(proc.pid, signal.SIGKILL)
                killed_mid_round = True
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert killed_mid_round, "the run finished or stalled before it could be killed mid-round"
    run_id = run_sql(warehouse, "SELECT run_id FROM runs WHERE kind = 'discover'").column("run_id")[0].as_py()
    before = run_sql(warehouse, "SELECT controller_id, status FROM candidates WHERE status <> 'proposed'").to_pylist()
    summary = discover_flow(warehouse, rounds=3, candidates=4, parallel=1, search_benchmarks=["synthetic-aime"],
                            betas=3, permutations=3, resume=run_id)
    assert [r["round"] for r in summary["rounds"]] == [1, 2]
    candidates = run_sql(warehouse, "SELECT round, controller_id, status FROM candidates").to_pylist()
    assert len(candidates) == 12 and all(c["status"] in ("evaluated", "failed") for c in candidates)
    assert {(c["controller_id"], c["status"]) for c in candidates} >= {(b["controller_id"], b["status"]) for b in before}
    per_candidate = run_sql(warehouse, "SELECT controller_id, count(*) AS n FROM evaluations e JOIN candidates c "
                                       "USING (controller_id) GROUP BY ALL").column("n").to_pylist()
    assert set(per_candidate) == {3 * 2}  # 3 betas x 2 search groups, each exactly once
    assert run_sql(warehouse, "SELECT count(*) AS n FROM discovery_rounds").to_pylist() == [{"n": 3}]
    assert run_sql(warehouse, f"SELECT status FROM runs WHERE run_id = '{run_id}'").to_pylist() == [{"status": "completed"}]


def test_offline_proposals_are_unique(warehouse):
    from autotts.explorer.base import DiscoveryContext
    from autotts.explorer.offline import OfflineExplorer
    from autotts.explorer.programs_db import ProgramsDatabase
    from autotts.warehouse.discovery_store import DiscoveryStore
    from autotts.warehouse.results import start_run

    db = ProgramsDatabase.load(DiscoveryStore(warehouse, start_run(warehouse, "discover", {})))
    proposals, usage = OfflineExplorer().propose(DiscoveryContext(db, 0, 0, ""), 12)
    assert len({p.source for p in proposals}) == 12 and usage.cost_usd == 0


def test_concurrent_readers_neither_block_a_run_nor_see_a_half_written_round(warehouse, prefect_harness):
    env = {**os.environ, "PREFECT_API_URL": prefect_harness}
    proc = subprocess.Popen([sys.executable, "-c", KILLABLE, warehouse, str(ROOT)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    reads = 0
    try:
        while proc.poll() is None:
            state = run_sql(warehouse, "SELECT (SELECT count(*) FROM candidates c JOIN discovery_rounds r "
                                       "USING (run_id, round) WHERE c.status = 'proposed') AS half_written",
                            wait_s=60).to_pylist()[0]
            assert state["half_written"] == 0
            reads += 1
            time.sleep(0.05)  # a reader polling, not a core spinning against the run it watches
        assert proc.wait(timeout=300) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert reads > 3
    assert run_sql(warehouse, "SELECT count(*) AS n FROM discovery_rounds").to_pylist() == [{"n": 3}]
