"""The cache of graded banks and bank snapshots: content-named snapshots, a size cap that drops the
oldest files first, and `autotts cache clear`."""
from __future__ import annotations

import os
import pickle

from autotts.cli import main
from autotts.trajectories import bank_cache


def test_snapshots_are_named_by_content_and_shared(tmp_path, monkeypatch, synthetic_bank):
    monkeypatch.setenv("AUTOTTS_CACHE_DIR", str(tmp_path))
    first = bank_cache.store_snapshot(synthetic_bank)
    again = bank_cache.store_snapshot(synthetic_bank)
    assert first == again and first.parent == tmp_path / "snapshots"
    with open(first, "rb") as handle:
        assert pickle.load(handle).n_questions == synthetic_bank.n_questions
    assert not list(tmp_path.glob("**/*.tmp"))  # written atomically


def test_the_cap_removes_the_oldest_files_first(tmp_path, monkeypatch, synthetic_bank):
    monkeypatch.setenv("AUTOTTS_CACHE_DIR", str(tmp_path))
    old = tmp_path / "banks" / "old.pkl"
    old.parent.mkdir()
    old.write_bytes(b"x" * 1000)
    os.utime(old, (1, 1))
    size = len(pickle.dumps(synthetic_bank, protocol=pickle.HIGHEST_PROTOCOL))
    monkeypatch.setenv("AUTOTTS_CACHE_MAX_MB", str((size + 500) / 1e6))  # room for the snapshot, not for both
    kept = bank_cache.store_snapshot(synthetic_bank)
    assert kept.exists() and not old.exists()


def test_cache_clear_empties_it_and_says_where(tmp_path, monkeypatch, synthetic_bank, capsys):
    monkeypatch.setenv("AUTOTTS_CACHE_DIR", str(tmp_path))
    bank_cache.store_snapshot(synthetic_bank)
    bank_cache.store("key", synthetic_bank)
    assert main(["cache", "clear"]) == 0
    assert bank_cache.entries() == []
    said = capsys.readouterr().err
    assert said.startswith("removed 2 file(s)") and said.rstrip().endswith(f"from {tmp_path}")
