"""Real Prefect flow runs (temporary local API) against a real DuckDB file."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import row, write_jsonl
from autotts.warehouse.queries import run_sql

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, prefect_harness, synthetic_file):
    from autotts.flows.evaluate import evaluate_flow
    from autotts.flows.ingest import ingest_flow

    warehouse = str(tmp_path_factory.mktemp("wh") / "w.duckdb")
    first = ingest_flow([str(synthetic_file)], warehouse)
    again = ingest_flow([str(synthetic_file)], warehouse)
    result = evaluate_flow(warehouse, ["sc", "asc"], betas=3, permutations=6, block=3, executor="process", workers=2)
    return warehouse, first, again, result


@pytest.fixture
def evaluated_copy(tmp_path, evaluated) -> str:
    """A copy of the evaluated warehouse for a test that adds runs: the module's warehouse stays as
    its first run left it, whichever order a test worker runs the tests in."""
    return str(shutil.copy(evaluated[0], tmp_path / "w.duckdb"))


def test_ingest_flow_is_idempotent(evaluated):
    warehouse, first, again, _ = evaluated
    assert first[0]["status"] == "ingested" and again[0]["status"] == "already present"
    assert run_sql(warehouse, "SELECT count(*) AS n FROM banks").to_pylist() == [{"n": 1}]


def test_evaluate_flow_writes_curves_scores_and_frontier(evaluated):
    warehouse, _, _, result = evaluated
    assert [c["controller"] for c in result["curves"]] == ["sc", "asc"]
    assert all(c["error"] is None and len(c["points"]) == 3 * 6 for c in result["curves"])
    board = run_sql(warehouse, "SELECT * FROM leaderboard ORDER BY benchmark, model, rank").to_pylist()
    assert len(board) == 2 * 6 and {r["controller"] for r in board} == {"sc", "asc"}
    assert all(0 <= r["score"] <= 1 for r in board)
    curves = run_sql(warehouse, "SELECT count(*) AS n FROM baseline_curves").to_pylist()[0]["n"]
    assert curves == 2 * 3 * 6
    assert run_sql(warehouse, "SELECT count(*) AS n FROM pareto_frontier").to_pylist()[0]["n"] >= 6
    status = run_sql(warehouse, "SELECT status FROM runs").to_pylist()
    assert status == [{"status": "completed"}]
    stored = run_sql(warehouse, "SELECT accuracy FROM evaluations e JOIN controllers c USING (controller_id) "
                                "WHERE c.name = 'sc' ORDER BY benchmark, model, beta").column("accuracy").to_pylist()
    points = sorted(result["curves"][0]["points"], key=lambda p: (p["benchmark"], p["model"], p["beta"]))
    assert stored == [p["accuracy"] for p in points]


def test_a_broken_controller_fails_its_curve_not_the_run(tmp_path, evaluated_copy):
    from autotts.flows.evaluate import evaluate_flow

    warehouse = evaluated_copy
    broken = tmp_path / "broken.py"
    broken.write_text("def make_controller(beta):\n    raise RuntimeError('no luck')\n")
    result = evaluate_flow(warehouse, ["esc", str(broken)], betas=[0.5], permutations=2, block=2, executor="process", workers=1)
    errors = {c["controller"]: c["error"] for c in result["curves"]}
    assert errors["esc"] is None and "no luck" in errors["broken"]
    rows = run_sql(warehouse, f"SELECT error FROM evaluations WHERE run_id = '{result['run_id']}' AND error IS NOT NULL")
    assert rows.num_rows == 6 and "no luck" in rows.column("error")[0].as_py()


def test_dask_runs_match_local_runs(evaluated_copy):
    from autotts.flows.evaluate import evaluate_flow

    warehouse = evaluated_copy
    local = evaluate_flow(warehouse, ["parallel-probe"], betas=[0.3], permutations=4, block=2, executor="process", workers=2)
    dask = evaluate_flow(warehouse, ["parallel-probe"], betas=[0.3], permutations=4, block=2, executor="dask", workers=2)
    assert local["curves"][0]["points"] == dask["curves"][0]["points"]


def test_ingest_flow_reports_a_bad_file_and_keeps_the_good_ones(tmp_path, prefect_harness, synthetic_file):
    from autotts.flows.ingest import IngestFailed, ingest_flow

    warehouse = str(tmp_path / "w.duckdb")
    bad = write_jsonl(tmp_path / "bad.jsonl", [row(probe_answers=["1"])])
    with pytest.raises(IngestFailed, match="bad.jsonl, row 1, field 'probe_answers'"):
        ingest_flow([str(bad), str(synthetic_file)], warehouse)
    assert run_sql(warehouse, "SELECT count(*) AS n FROM banks").to_pylist() == [{"n": 1}]


def test_ingest_flow_grades_files_at_once_like_one_at_a_time(tmp_path, prefect_harness, monkeypatch):
    """The flow grades several files at once, in threads sharing one answer judge. What it stores
    equals preparing and loading the files one after another with a fresh judge of one worker."""
    from autotts.flows.ingest import ingest_flow
    from autotts.trajectories import equivalence
    from autotts.warehouse.db import connect
    from autotts.warehouse.ingest import FILES_AT_ONCE, load, prepare

    answers = ["x + 1", "1 + x", "\\{1, 2\\}", "(1, 2)", "\\frac{1}{2}", "0.5", "\\sqrt{2}", "y^2", "2", None]
    golds = ["2", "x + 1", "\\frac{1}{2}", "(1, 2)"]
    paths = []
    for f in range(FILES_AT_ONCE + 1):  # shared texts in a different first-seen order per file and question
        rows = [row(question_id=f"q{q}", traj_id=t, gold=golds[(f + q) % len(golds)],
                    probe_answers=[answers[(f + q + t + i) % len(answers)] for i in range(3)],
                    final_answer=answers[(f * q + t) % len(answers)]) for q in range(3) for t in range(6)]
        paths.append(str(write_jsonl(tmp_path / f"f{f}.jsonl", rows)))
    at_once, one_by_one = tmp_path / "at-once.duckdb", tmp_path / "one-by-one.duckdb"
    ingest_flow(paths, str(at_once))
    monkeypatch.setattr(equivalence, "_default", equivalence.AnswerJudge(workers=1))
    try:
        for path in paths:
            load(one_by_one, prepare(path))
    finally:
        equivalence._default.close()

    def contents(warehouse):
        with connect(warehouse, read_only=True) as con:
            return {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
                    for table in ("questions", "answer_classes", "trajectories", "probes", "answer_timeouts")}

    assert contents(at_once) == contents(one_by_one)
    assert len(contents(at_once)["answer_classes"]) > 3 * len(paths)


def test_docs_warehouse_examples_run(evaluated):
    warehouse = evaluated[0]
    text = (DOCS / "warehouse.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", text, re.S)
    assert len(queries) >= 4
    for query in queries:
        run_sql(warehouse, query)


def test_evaluate_flow_attaches_the_report(evaluated):
    warehouse, _, _, result = evaluated
    report = Path(result["report"])
    assert report.exists() and report.name.endswith(".report.html")
    assert "Accuracy vs tokens" in report.read_text()


def test_task_runs_of_one_flow_run_have_distinct_names(evaluated_copy):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    from autotts.flows.evaluate import evaluate_flow

    state = evaluate_flow(evaluated_copy, ["asc"], betas=2, permutations=4, block=2, executor="process", workers=1,
                          return_state=True)
    parent = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        subflows = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent])))
        ids = [parent] + [f.id for f in subflows]
        names = [t.name for t in client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))]
    replays = [n for n in names if n.startswith("replay asc")]
    assert len(replays) == 2 * 2  # 2 betas x 2 permutation blocks
    assert len(names) == len(set(names)), sorted(names)
