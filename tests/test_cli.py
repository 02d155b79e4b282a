"""The `autotts` command end to end: synth, convert, evaluate (--json), baselines, errors."""
from __future__ import annotations

import json
import subprocess
import sys

from autotts.cli import main
from tests.conftest import requires_stores, row, write_jsonl


def test_help_reads_well():
    out = subprocess.run([sys.executable, "-m", "autotts", "--help"], capture_output=True, text=True, check=True)
    for command in ("bank", "convert", "evaluate", "baselines", "demo"):
        assert command in out.stdout


def test_synth_then_evaluate_json(tmp_path, capsys):
    bank = tmp_path / "bank.parquet"
    assert main(["bank", "synth", "--out", str(bank), "--questions", "4", "--trajectories", "16"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--bank", str(bank), "--controller", "asc", "--betas", "3",
                 "--permutations", "5", "--workers", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["controller"] == "asc" and result["synthetic"] is True
    assert len(result["points"]) == 3 * 6
    point = result["points"][0]
    assert {"beta", "benchmark", "model", "accuracy", "tokens", "rounds"} <= set(point)
    assert 0 <= point["accuracy"] <= 1


def test_evaluate_a_controller_module_with_knobs(tmp_path, capsys):
    module = tmp_path / "mine.py"
    module.write_text(
        "from replay_core.baselines.self_consistency import SelfConsistency\n"
        "def make_controller(beta, width=2):\n    return SelfConsistency(width)\n")
    bank = write_jsonl(tmp_path / "b.jsonl", [row(traj_id=i) for i in range(4)])
    assert main(["evaluate", "--bank", str(bank), "--controller", str(module), "--set", "width=3",
                 "--permutations", "2", "--workers", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["controller"] == "mine(width=3)"
    assert result["points"][0]["tokens"] == 750 and result["points"][0]["accuracy"] == 1.0


def test_errors_are_one_clear_line(tmp_path, capsys):
    bad = write_jsonl(tmp_path / "bad.jsonl", [row(finished="maybe")])
    assert main(["evaluate", "--bank", str(bad), "--controller", "sc"]) == 2
    assert "bad.jsonl, row 1, field 'finished'" in capsys.readouterr().err
    assert main(["evaluate", "--bank", str(bad), "--controller", "nope"]) == 2
    assert "unknown controller" in capsys.readouterr().err


def test_convert_and_baselines(tmp_path, capsys):
    src = write_jsonl(tmp_path / "a.jsonl", [row(traj_id=i) for i in range(2)])
    assert main(["convert", str(src), "--out", str(tmp_path / "a.parquet")]) == 0
    assert (tmp_path / "a.parquet").stat().st_size > 0
    assert main(["baselines", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert set(listed) >= {"sc", "asc", "esc", "parallel-probe", "first-k", "deepconf"}


@requires_stores
def test_issue_acceptance_command(real_store, capsys):
    assert main(["evaluate", "--bank", str(real_store("Qwen3-4B", "aime24")), "--controller", "sc",
                 "--set", "k=64", "--json"]) == 0
    point = json.loads(capsys.readouterr().out)["points"][0]
    assert round(point["accuracy"], 3) == 0.800 and abs(point["tokens"] - 886_800) < 500
