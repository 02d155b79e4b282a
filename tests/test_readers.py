"""Interchange and AutoTTS readers: valid files load, bad files fail with a located error."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import record, requires_stores, row, write_jsonl
from autotts.trajectories.readers import read_any, read_autotts_store, read_jsonl
from autotts.trajectories.schema import FormatError
from autotts.trajectories.writers import write_jsonl as write_records_jsonl, write_parquet


def test_jsonl_roundtrips_through_parquet(tmp_path):
    rows = [row(traj_id=i, chunk_confidence=[-0.1, -0.2, -0.3]) for i in range(3)]
    records = read_jsonl(write_jsonl(tmp_path / "a.jsonl", rows))
    write_parquet(records, tmp_path / "a.parquet")
    write_records_jsonl(records, tmp_path / "b.jsonl")
    assert read_any(tmp_path / "a.parquet") == records
    assert read_any(tmp_path / "b.jsonl") == records
    assert records[0].probe_answers == ("1", None, "2")


@pytest.mark.parametrize("bad, line, field", [
    ({"traj_id": -1}, 2, "traj_id"),
    ({"chunk_tokens": [100, "x", 50]}, 2, "chunk_tokens"),
    ({"probe_answers": ["1"]}, 2, "probe_answers"),
    ({"probe_tokens": [1, 2]}, 2, "probe_tokens"),
    ({"finished": "yes"}, 2, "finished"),
    ({"chunk_tokens": []}, 2, "chunk_tokens"),
    ({"chunk_confidence": [0.1, float("nan"), 0.3]}, 2, "chunk_confidence"),
    ({"gold": "3"}, 2, "gold"),
    ({"traj_id": 0}, 2, "traj_id"),
])
def test_bad_rows_are_located(tmp_path, bad, line, field):
    path = write_jsonl(tmp_path / "bad.jsonl", [row(traj_id=0), row(**{"traj_id": 1, **bad})])
    with pytest.raises(FormatError) as err:
        read_jsonl(path)
    assert err.value.row == line and err.value.field == field
    assert str(path) in str(err.value)


def test_missing_field_and_broken_json(tmp_path):
    missing = row()
    del missing["gold"]
    with pytest.raises(FormatError, match="row 1, field 'gold': missing required field"):
        read_jsonl(write_jsonl(tmp_path / "m.jsonl", [missing]))
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(row()) + "\n{not json\n")
    with pytest.raises(FormatError, match="row 2: not valid JSON"):
        read_jsonl(path)


def test_empty_unknown_and_corrupt_files(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(FormatError, match="contains no trajectories"):
        read_any(tmp_path / "empty.jsonl")
    (tmp_path / "x.csv").write_text("a,b")
    with pytest.raises(FormatError, match="unknown file type"):
        read_any(tmp_path / "x.csv")
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(FormatError, match="not a readable Parquet file"):
        read_any(tmp_path / "corrupt.parquet")
    with pytest.raises(FormatError, match="no such file"):
        read_any(tmp_path / "absent.jsonl")


def test_parquet_with_a_wrongly_typed_column_is_located(tmp_path):
    table = pa.Table.from_pylist([row(), row(traj_id=1, finished=None)])
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(FormatError, match="row 2, field 'finished'"):
        read_any(tmp_path / "t.parquet")


def test_autotts_store_semantics(tmp_path):
    store = [{"question": "Q?", "gold_answer": "7", "probe_freq": 500, "final_answers_trace": ["7", "ERR"],
              "each_branch": [[["ERR", "5", "7"], 1234, "7"], [[], 300, "ERR"]]}]
    path = tmp_path / "ModelX" / "bench1.json"
    path.parent.mkdir()
    path.write_text(json.dumps(store))
    first, second = read_autotts_store(path)
    assert (first.model, first.benchmark, first.question_id) == ("ModelX", "bench1", "bench1-000")
    # three probe intervals, then a closing chunk that reveals the final answer
    assert first.chunk_tokens == (500, 500, 500, 0) and first.length == 1234
    assert first.probe_answers == (None, "5", "7", "7")
    assert second.chunk_tokens == (300,) and second.final_answer is None and not second.finished


def test_autotts_store_errors_name_the_question(tmp_path):
    path = tmp_path / "M" / "b.json"
    path.parent.mkdir()
    path.write_text(json.dumps([{"question": "Q", "gold_answer": "1", "probe_freq": 500,
                                 "each_branch": [[["1"], -5, "1"]]}]))
    with pytest.raises(FormatError, match="question 0, field .each_branch.: branch 0: branch_tokens must be"):
        read_any(path)
    path.write_text("[{")
    with pytest.raises(FormatError, match="not valid JSON"):
        read_any(path)


@requires_stores
def test_real_store_loads(real_store):
    records = read_any(real_store("Qwen3-4B", "aime24"))
    assert len(records) == 30 * 128
    assert all(r.length >= 0 and len(r.chunk_tokens) == len(r.probe_answers) for r in records)


def test_record_helper_is_valid():
    assert record().length == 250
