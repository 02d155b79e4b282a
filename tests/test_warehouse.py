"""The warehouse: migrations, transactional and idempotent ingest, bank round trip, export, views."""
from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pytest

from replay_core.baselines import BASELINES
from replay_core.evaluate import evaluate
from tests.conftest import row, write_jsonl
from autotts.trajectories.banking import load_bank as load_file_bank
from autotts.trajectories.readers import read_any
from autotts.trajectories.schema import FormatError
from autotts.warehouse.bank_io import BankSelectionError, load_bank
from autotts.warehouse.db import SCHEMA_VERSION, connect, migrations, schema_version
from autotts.warehouse.export import export_parquet
from autotts.warehouse.ingest import load, prepare

TABLES = ("banks", "questions", "answer_classes", "trajectories", "probes", "controllers", "evaluations")


def fingerprint(warehouse) -> dict[str, tuple[int, str]]:
    """Row count and a content hash of every table (order-independent)."""
    out = {}
    with connect(warehouse, read_only=True) as con:
        for table in TABLES:
            rows = sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall()))
            out[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def test_schema_is_created_and_versioned(tmp_path):
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        assert schema_version(con) == SCHEMA_VERSION
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert {"leaderboard", "pareto_frontier", "baseline_curves"} <= views
    with connect(path) as con:  # reopening applies nothing twice
        assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(migrations())


def test_ingest_is_idempotent_and_round_trips(tmp_path, synthetic_file):
    path = tmp_path / "w.duckdb"
    assert load(path, prepare(synthetic_file)) is True
    before = fingerprint(path)
    assert load(path, prepare(synthetic_file)) is False
    assert fingerprint(path) == before
    assert before["trajectories"][0] == 6 * 16 * 6
    from_warehouse = load_bank(path)
    from_file = load_file_bank([synthetic_file])
    factory = BASELINES["parallel-probe"].make_controller
    a = evaluate(from_warehouse, factory, [0.5], permutations=4)[0.5]
    b = evaluate(from_file, factory, [0.5], permutations=4)[0.5]
    assert a.correct.mean() == b.correct.mean() and a.tokens.mean() == b.tokens.mean()
    exported = tmp_path / "out.parquet"
    assert export_parquet(path, exported) == 6 * 16 * 6
    key = lambda r: (r.benchmark, r.model, r.question_id, r.traj_id)  # noqa: E731
    assert sorted(read_any(exported), key=key) == sorted(read_any(synthetic_file), key=key)


def test_a_bad_file_changes_nothing(tmp_path, synthetic_file):
    path = tmp_path / "w.duckdb"
    load(path, prepare(synthetic_file))
    before = fingerprint(path)
    bad = write_jsonl(tmp_path / "bad.jsonl", [row(traj_id=0), row(traj_id=1, chunk_tokens=[1, -2, 3])])
    with pytest.raises(FormatError, match="row 2, field 'chunk_tokens'"):
        load(path, prepare(bad))
    assert fingerprint(path) == before


def test_a_failed_write_rolls_back(tmp_path, synthetic_file, monkeypatch):
    import autotts.warehouse.ingest as ingest

    path = tmp_path / "w.duckdb"
    payload = prepare(synthetic_file)
    calls = []

    def failing_insert(con, table, data):
        calls.append(table)
        if table == "probes":
            raise RuntimeError("disk full")
        con.register("_x", data)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _x")

    monkeypatch.setattr(ingest, "insert_arrow", failing_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        load(path, payload)
    assert "trajectories" in calls
    assert all(count == 0 for count, _ in fingerprint(path).values())


def test_selection_errors_are_clear(tmp_path, synthetic_file):
    path = tmp_path / "w.duckdb"
    load(path, prepare(synthetic_file))
    with pytest.raises(BankSelectionError, match="no questions"):
        load_bank(path, benchmarks=["nope"])
    load(path, prepare(synthetic_file, mode="exact"))  # same data again, graded differently
    with pytest.raises(BankSelectionError, match="several files"):
        load_bank(path)
    with pytest.raises(FileNotFoundError, match="no warehouse"):
        load_bank(tmp_path / "absent.duckdb")


def test_readers_are_not_blocked_between_writes(tmp_path, synthetic_file):
    path = tmp_path / "w.duckdb"
    load(path, prepare(synthetic_file))
    reader = duckdb.connect(str(path), read_only=True)  # an ad-hoc query session, left open
    try:
        assert reader.execute("SELECT count(*) FROM questions").fetchone()[0] == 36
    finally:
        reader.close()
    assert np.isfinite(load_bank(path).chunk_conf).any()


def test_queries_wait_briefly_for_a_writer_then_say_busy(tmp_path, synthetic_file):
    import subprocess
    import sys

    from autotts.warehouse.db import WarehouseBusy
    from autotts.warehouse.queries import run_sql

    path = tmp_path / "w.duckdb"
    load(path, prepare(synthetic_file))
    hold = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
            "time.sleep(float(sys.argv[2]))")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(path), "1.5"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    assert run_sql(path, "SELECT count(*) AS n FROM banks", wait_s=30).to_pylist() == [{"n": 1}]
    holder.wait()
    holder = subprocess.Popen([sys.executable, "-c", hold, str(path), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy, match="locked by another process"):
            run_sql(path, "SELECT 1", wait_s=0.3)
    finally:
        holder.kill()


def test_doctor_passes_a_healthy_warehouse_and_names_damage(tmp_path, synthetic_file):
    from autotts.cli import main
    from autotts.warehouse.doctor import check

    path = tmp_path / "w.duckdb"
    load(path, prepare(synthetic_file))
    assert check(path) == []
    with connect(path) as con:
        con.execute("DELETE FROM probes WHERE chunk = 1 AND traj_id = 0")
        con.execute("INSERT INTO runs VALUES ('r1', 'discover', NULL, now(), NULL, 'running')")
        con.execute("INSERT INTO runs VALUES ('r2', 'discover', NULL, now(), now(), 'failed')")
    findings = {f.what: f for f in check(path)}
    damaged = findings["trajectories whose probe rows do not match n_chunks"]
    assert damaged.severity == "error" and damaged.count == 36
    assert findings[next(w for w in findings if w.startswith("runs marked running"))].count == 1
    assert findings["runs that failed (a discovery run can be resumed with --resume RUN_ID)"].count == 1
    assert main(["doctor", "--warehouse", str(path)]) == 1
