"""Discovery runs over many nights: a run's stored set-up is what --resume uses, failed runs say
so, each night continues the programs of earlier ones and records its champion, and an analyst's
session on the warehouse never stops a run. All on a small SYNTHETIC bank."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from autotts.warehouse.ingest import load, prepare
from autotts.warehouse.queries import run_sql

SMALL = dict(search_benchmarks=["synthetic-aime"], betas=3, permutations=3, rounds=1, candidates=3, parallel=1)
HOLD = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('SELECT count(*) FROM runs').fetchone()[0], flush=True); "
        "sys.stdin.readline(); print(c.execute('SELECT count(*) FROM runs').fetchone()[0], flush=True)")


@pytest.fixture()
def warehouse(tmp_path, synthetic_file):
    path = str(tmp_path / "w.duckdb")
    load(path, prepare(synthetic_file))
    return path


def _analyst(path: str) -> subprocess.Popen:
    """Another process holding a read-only DuckDB session open, as a notebook would, until told to
    query once more and leave; its first line is what it saw on opening."""
    return subprocess.Popen([sys.executable, "-c", HOLD, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def test_nights_compound_while_an_analyst_holds_the_snapshot_open(warehouse, prefect_harness, monkeypatch):
    from autotts.flows.discover import discover_flow

    monkeypatch.setenv("AUTOTTS_REPORT_URL", "http://127.0.0.1:8765/reports")
    first = discover_flow(warehouse, carry_over=2, **SMALL)
    analyst = _analyst(first["snapshot"])
    try:
        assert analyst.stdout.readline().strip() == "1"  # night 1 is in the snapshot
        second = discover_flow(warehouse, carry_over=2, **SMALL)
        analyst.stdin.write("\n")
        analyst.stdin.flush()
        assert analyst.stdout.readline().strip() == "1"  # the open session kept reading its copy
    finally:
        analyst.communicate(timeout=30)
    assert analyst.returncode == 0
    assert run_sql(second["snapshot"], "SELECT count(*) AS n FROM runs").to_pylist() == [{"n": 2}]

    # night 2 starts from night 1's best programs, island by island, re-evaluated on its own data
    night1 = run_sql(warehouse, f"SELECT controller_id, island, score, round FROM candidates WHERE run_id = "
                                f"'{first['run_id']}' AND status = 'evaluated'").to_pylist()
    best_per_island = {}
    for c in sorted(night1, key=lambda c: (-c["score"], c["round"], c["controller_id"])):  # ties as the database breaks them
        best_per_island.setdefault(c["island"], []).append(c["controller_id"])
    # ... and night 1's champion and runner-up (chosen by worst-fold gain), whatever their scores
    chosen = run_sql(warehouse, f"SELECT controller_id, runner_up FROM run_champions WHERE run_id = '{first['run_id']}'")
    (champion, runner_up), = [tuple(r.values()) for r in chosen.to_pylist()]
    assert champion == first["best"][0]["candidate"]
    expected = {cid for ids in best_per_island.values() for cid in ids[:2]} | {champion, runner_up} - {None}
    carried = run_sql(warehouse, f"SELECT controller_id, carried_from, status, score FROM candidates "
                                 f"WHERE run_id = '{second['run_id']}' AND round = -1").to_pylist()
    assert {c["controller_id"] for c in carried} == expected and second["carried_over"] == len(expected)
    assert {c["carried_from"] for c in carried} == {first["run_id"]}
    assert all(c["status"] == "evaluated" for c in carried)
    assert [r["round"] for r in second["rounds"]] == [-1, 0]

    # each night drew its own seed and recorded it with the run
    seeds = {r["run_id"]: json.loads(r["parameters"])["seed"] for r in
             run_sql(warehouse, "SELECT run_id, parameters FROM runs").to_pylist()}
    assert seeds == {first["run_id"]: first["seed"], second["run_id"]: second["seed"]}
    assert first["seed"] != second["seed"]

    # the champion history: who led each night, since when, by how much
    history = run_sql(warehouse, "SELECT * FROM champion_history ORDER BY started_at").to_pylist()
    assert [h["run_id"] for h in history] == [first["run_id"], second["run_id"]]
    assert [h["controller_id"] for h in history] == [first["best"][0]["candidate"], second["best"][0]["candidate"]]
    assert history[0]["new_champion"] and history[0]["leading_since"] == history[0]["started_at"]
    kept = history[1]["controller_id"] == history[0]["controller_id"]
    assert history[1]["new_champion"] is not kept
    assert history[1]["leading_since"] == (history[0] if kept else history[1])["started_at"]
    assert second["champions"] == history
    report = Path(second["report"]).read_text()
    assert "id='champions'" in report and all(h["run_id"] in report for h in history)

    # the Prefect UI: the key numbers inline (best at matched budgets), the report at an http URL
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        summary = client.read_latest_artifacts()
        by_key = {a.key: a for a in summary}
    leaders = run_sql(warehouse, f"SELECT controller, score FROM leaderboard WHERE rank = 1 "
                                 f"AND run_id = '{second['run_id']}'").to_pylist()
    assert leaders and all(f"| {r['controller']} |" in by_key["report-summary"].data and f"{r['score']:.4f}" in
                           by_key["report-summary"].data for r in leaders)
    assert by_key["report"].data.endswith("(http://127.0.0.1:8765/reports/w.report.html)")
    assert second["best"][0]["candidate"] in by_key["discovery-summary"].data
    assert "Champion history" in by_key["discovery-summary"].data


def test_a_night_can_start_from_the_shipped_controller(warehouse, prefect_harness):
    """`start_from=["discovered"]`: the shipped controller's code is evaluated before round 0, and
    round 0 refines it instead of proposing the seed programs; an unknown name opens no run."""
    from autotts.explorer.programs_db import candidate_id
    from autotts.flows.discover import discover_flow
    from replay_core.baselines import BASELINES

    with pytest.raises(ValueError, match="unknown built-in controller nope"):
        discover_flow(warehouse, start_from=["nope"], **SMALL)
    assert run_sql(warehouse, "SELECT count(*) AS n FROM runs").to_pylist() == [{"n": 0}]

    night = discover_flow(warehouse, start_from=["discovered"], **{**SMALL, "betas": 11})  # its table has 11 rows
    shipped = candidate_id(BASELINES["discovered"].source)
    rows = run_sql(warehouse, f"SELECT controller_id, round, carried_from, status, source, parents FROM candidates "
                              f"WHERE run_id = '{night['run_id']}'").to_pylist()
    started = [(r["controller_id"], r["carried_from"], r["status"]) for r in rows if r["round"] == -1]
    assert started == [(shipped, "built-in discovered", "evaluated")] and night["carried_over"] == 1
    children = [r for r in rows if r["round"] == 0]
    assert len(children) == SMALL["candidates"]
    assert all(shipped in json.loads(r["parents"]) for r in children)  # refinements, not the seed programs
    assert json.loads(run_sql(warehouse, f"SELECT parameters FROM runs WHERE run_id = '{night['run_id']}'")
                      .to_pylist()[0]["parameters"])["start_from"] == ["discovered"]  # kept for --resume

    # what `make results --ship` writes: a better child with its provenance, or the shipped code unchanged
    from bench.real_discovery import shipped_source

    champion, _, source, _ = shipped_source(warehouse, night["run_id"], "cmd")
    assert (source == BASELINES["discovered"].source) is (champion == shipped)
    if champion != shipped:
        assert f"starting from the built-in discovered controller as it was then (candidate {shipped})" in source
    bare = discover_flow(warehouse, start_from=["discovered"], **{**SMALL, "betas": 11, "rounds": 0})
    champion, _, source, _ = shipped_source(warehouse, bare["run_id"], "cmd")
    assert (champion, source) == (shipped, BASELINES["discovered"].source)


def _cli(*args: str) -> subprocess.CompletedProcess:
    """The real command in its own process: what a user sees on the terminal."""
    return subprocess.run([sys.executable, "-m", "autotts", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_resume_uses_the_stored_set_up_and_refuses_other_settings(warehouse, prefect_harness):
    from autotts.explorer.run_setup import new_setup
    from autotts.flows.discover import discover_flow
    from autotts.warehouse.results import finish_run, start_run

    stored = new_setup({**SMALL, "candidates": 2, "seed": 11})
    run_id = start_run(warehouse, "discover", stored)
    finish_run(warehouse, run_id, "failed")  # as a crashed run leaves it
    refused = _cli("discover", "--warehouse", warehouse, "--resume", run_id, "--explorer", "offline", "--candidates", "6")
    assert refused.returncode == 2 and refused.stdout == ""
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "candidates=6 (stored: 2)" in refused.stderr and "explorer" not in refused.stderr
    assert run_sql(warehouse, "SELECT count(*) AS n FROM candidates").to_pylist() == [{"n": 0}]  # nothing ran

    summary = discover_flow(warehouse, resume=run_id)  # no settings given: the stored ones
    assert summary["seed"] == 11 and [r["round"] for r in summary["rounds"]] == [0]
    assert run_sql(warehouse, "SELECT count(*) AS n FROM candidates").to_pylist() == [{"n": 2}]
    points = run_sql(warehouse, "SELECT count(DISTINCT beta) AS n FROM evaluations "
                                "JOIN candidates USING (controller_id)").to_pylist()
    assert points == [{"n": 3}]  # the stored grid (the baselines' bar is on its own fixed grid)
    assert run_sql(warehouse, "SELECT status FROM runs").to_pylist() == [{"status": "completed"}]
    again = _cli("discover", "--warehouse", warehouse, "--resume", run_id)
    assert again.returncode == 2 and "already completed" in again.stderr


def test_a_failed_run_is_marked_failed_and_doctor_says_so(warehouse, prefect_harness, tmp_path):
    from autotts.flows.discover import discover_flow
    from autotts.warehouse.bank_io import BankSelectionError
    from autotts.warehouse.doctor import check

    with pytest.raises(BankSelectionError):
        discover_flow(warehouse, **{**SMALL, "search_benchmarks": ["no-such-benchmark"]})
    assert run_sql(warehouse, "SELECT status FROM runs").to_pylist() == [{"status": "failed"}]
    assert [f.what for f in check(warehouse) if "failed" in f.what] == \
        ["runs that failed (a discovery run can be resumed with --resume RUN_ID)"]

    missing = tmp_path / "typo.duckdb"
    with pytest.raises(FileNotFoundError, match="no warehouse"):
        discover_flow(str(missing), **SMALL)
    assert not missing.exists()  # no empty warehouse left behind


def test_a_busy_warehouse_waits_visibly_up_to_its_limit(warehouse, monkeypatch, caplog):
    import threading

    from autotts.warehouse.db import WarehouseBusy, transaction

    analyst = _analyst(warehouse)  # on the live file, against the advice: writers must wait for it
    try:
        assert analyst.stdout.readline().strip() == "0"
        monkeypatch.setenv("AUTOTTS_WAREHOUSE_WAIT", "0.3")
        with pytest.raises(WarehouseBusy, match="snapshot"):
            with transaction(warehouse):
                pass
        monkeypatch.setenv("AUTOTTS_WAREHOUSE_WAIT", "60")
        leave = threading.Timer(1.0, lambda: (analyst.stdin.write("\n"), analyst.stdin.flush()))
        leave.start()
        with caplog.at_level(logging.WARNING, logger="autotts.warehouse"):
            with transaction(warehouse) as con:
                con.execute("INSERT INTO runs VALUES ('r', 'evaluate', NULL, now(), NULL, 'running')")
        leave.join()
    finally:
        analyst.communicate(timeout=30)
    assert any("locked by another process" in r.getMessage() and "up to 60 s" in r.getMessage() for r in caplog.records)
    assert run_sql(warehouse, "SELECT count(*) AS n FROM runs").to_pylist() == [{"n": 1}]


def test_a_migration_merged_after_a_later_one_still_applies(tmp_path, monkeypatch):
    import autotts.warehouse.db as db

    every = db.migrations()
    later, earlier = tmp_path / "090_later.sql", tmp_path / "080_earlier.sql"
    later.write_text("CREATE TABLE later_one (x INTEGER);")
    earlier.write_text("CREATE TABLE earlier_one (x INTEGER);")
    path = tmp_path / "w.duckdb"
    monkeypatch.setattr(db, "migrations", lambda: every + [(90, later)])
    with db.connect(path):
        pass
    monkeypatch.setattr(db, "migrations", lambda: every + [(80, earlier), (90, later)])
    with db.connect(path) as con:
        assert con.execute("SELECT count(*) FROM earlier_one").fetchone()[0] == 0
        versions = [v for (v,) in con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]
    assert versions == [v for v, _ in every] + [80, 90]
