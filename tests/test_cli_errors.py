"""Every bad input a new user tried, through the real `autotts` command in its own process: one
line on stderr, the documented exit code, no traceback, and no file changed (warehouse included)."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, row, write_jsonl
from autotts.warehouse.ingest import load, prepare

BAD_INPUT = 2


@pytest.fixture(scope="module")
def scene(tmp_path_factory, synthetic_file) -> Path:
    """A folder with a real warehouse, a small bank, a file that is not a warehouse, a bad
    trajectory file and a controller that raises in make_controller."""
    folder = tmp_path_factory.mktemp("scene")
    load(folder / "w.duckdb", prepare(synthetic_file))
    (folder / "bank.parquet").write_bytes(Path(synthetic_file).read_bytes())
    (folder / "notdb.duckdb").write_text("this is not a database\n")
    write_jsonl(folder / "bad.jsonl", [row(finished="maybe")])
    (folder / "raises.py").write_text("def make_controller(beta):\n    raise RuntimeError('boom')\n")
    return folder


def autotts(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    environment.update(PYTHONPATH=str(ROOT), COLUMNS="80", **env)
    return subprocess.run([sys.executable, "-m", "autotts", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300)


def fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


CASES = {
    "sql typo": (["sql", "SELEC 1", "--warehouse", "w.duckdb"], "SQL: Parser Error"),
    "sql unknown table": (["sql", "SELECT * FROM nosuch", "--warehouse", "w.duckdb"], "nosuch does not exist"),
    "sql unknown column": (["sql", "SELECT nosuch FROM banks", "--warehouse", "w.duckdb"], "nosuch"),
    "sql empty query": (["sql", "", "--warehouse", "w.duckdb"], "give one SELECT query"),
    "sql missing warehouse": (["sql", "SELECT 1", "--warehouse", "none.duckdb"], "no warehouse at none.duckdb"),
    "sql not a warehouse": (["sql", "SELECT 1", "--warehouse", "notdb.duckdb"], "not a DuckDB warehouse file"),
    "doctor not a warehouse": (["doctor", "--warehouse", "notdb.duckdb"], "not a DuckDB warehouse file"),
    "export not a warehouse": (["export", "--warehouse", "notdb.duckdb", "--out", "x.parquet"], "not a DuckDB"),
    "report not a warehouse": (["report", "--warehouse", "notdb.duckdb", "--out", "r.html"], "not a DuckDB"),
    "ingest not a warehouse": (["ingest", "bank.parquet", "--warehouse", "notdb.duckdb"], "not a DuckDB"),
    "ingest missing file": (["ingest", "missing.json", "--warehouse", "w.duckdb"], "missing.json: no such file"),
    "evaluate bad knob value": (["evaluate", "--bank", "bank.parquet", "--controller", "sc", "--set", "k=abc"],
                                "knob k takes a whole number"),
    "evaluate zero betas": (["evaluate", "--bank", "bank.parquet", "--controller", "sc", "--betas", "0"],
                            "--betas: must be at least 1"),
    "evaluate negative betas": (["evaluate", "--bank", "bank.parquet", "--controller", "sc", "--betas", "-3"],
                                "--betas: must be at least 1"),
    "evaluate zero permutations": (["evaluate", "--bank", "bank.parquet", "--controller", "sc", "--permutations", "0"],
                                   "--permutations: must be at least 1"),
    "evaluate bad file": (["evaluate", "--bank", "bad.jsonl", "--controller", "sc"], "bad.jsonl, row 1, field 'finished'"),
    "controller raises": (["evaluate", "--bank", "bank.parquet", "--controller", "raises.py", "--permutations", "2",
                           "--betas", "2", "--workers", "1"], "RuntimeError: boom"),
    "discover zero betas": (["discover", "--warehouse", "w.duckdb", "--betas", "0"], "--betas: must be at least 1"),
    "discover without API key": (["discover", "--warehouse", "w.duckdb", "--explorer", "anthropic"],
                                 "needs ANTHROPIC_API_KEY"),
    "convert unknown format": (["convert", "bank.parquet", "--out", "o.txt"], "unknown output format '.txt'"),
    "report unknown run": (["report", "--warehouse", "w.duckdb", "--run", "nosuch", "--out", "r.html"], "no run nosuch"),
    "unknown command": (["frobnicate"], "invalid choice"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_changes_nothing(scene, case):
    argv, expected = CASES[case]
    before = fingerprint(scene)
    result = autotts(argv, scene)
    lines = result.stderr.splitlines()
    assert result.returncode == BAD_INPUT, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert fingerprint(scene) == before


def test_a_rejected_ingest_is_one_line_without_prefect_noise(scene, prefect_harness):
    """This one runs the ingest flow (the file is read inside it), against the test API."""
    before = fingerprint(scene)
    result = autotts(["ingest", "bad.jsonl", "--warehouse", "w.duckdb"], scene, PREFECT_API_URL=prefect_harness)
    lines = result.stderr.splitlines()
    assert result.returncode == BAD_INPUT
    assert len(lines) == 1 and lines[0].startswith("error: bad.jsonl, row 1, field 'finished'"), result.stderr
    assert "nothing from that file was written" in lines[0] and "INFO" not in result.stderr
    assert fingerprint(scene) == before


def test_verbose_shows_the_traceback(scene):
    result = autotts(["--verbose", "sql", "SELEC 1", "--warehouse", "w.duckdb"], scene)
    assert result.returncode == BAD_INPUT
    assert "Traceback" in result.stderr and result.stderr.splitlines()[-1].startswith("error: SQL: Parser Error")


def test_a_closed_stdout_is_not_an_error(scene):
    """`autotts baselines --json | head -c 0`: the reader went away before the output."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-m", "autotts", "baselines", "--json"], cwd=scene, stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.close(write_end)
    assert result.returncode == 141 and result.stderr == ""


def test_version_and_help_pages(scene):
    from autotts import __version__

    assert autotts(["--version"], scene).stdout.strip() == f"autotts {__version__}"
    page = autotts(["evaluate", "--help"], scene).stdout
    assert "replay a controller over a bank" in page          # a description
    assert "examples:" in page and "autotts evaluate --bank" in page
    assert "(default: 100)" in page or "(default 100)" in page  # defaults are shown
    assert "exit codes:" in page
    discover = autotts(["discover", "--help"], scene).stdout
    assert "--explorer-model" in discover and "--model " not in discover


def test_every_help_example_parses():
    """The examples the help pages show are accepted by the parser they document."""
    import shlex

    from autotts.arguments import EXAMPLES
    from autotts.cli import build_parser

    parser = build_parser()
    for examples in EXAMPLES.values():
        for line in examples:
            argv = shlex.split(line.split("autotts ", 1)[1])
            assert parser.parse_args(argv).func, line


def test_errors_are_sorted_into_bad_input_failed_runs_and_bugs(capsys):
    from autotts.errors import EXIT_BAD_INPUT, EXIT_BUG, EXIT_RUN_FAILED, report

    assert report(FileNotFoundError(2, "No such file or directory", "x.json"), verbose=False) == EXIT_BAD_INPUT
    assert capsys.readouterr().err == "error: x.json: No such file or directory\n"
    assert report(RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server. "
                               "stdout: ..."), verbose=False) == EXIT_RUN_FAILED
    assert capsys.readouterr().err.count("\n") == 1
    assert report(KeyError("an unexpected bug"), verbose=False) == EXIT_BUG
    err = capsys.readouterr().err
    assert "KeyError: 'an unexpected bug'" in err and err.splitlines()[-1].startswith("error: this is a bug in autotts")


def test_notes_never_wrap_and_quiet_silences_them(tmp_path):
    folder = tmp_path / ("a-folder-with-a-long-name-" * 4)
    folder.mkdir()
    result = autotts(["bank", "synth", "--out", str(folder / "bank.parquet"), "--questions", "2", "--trajectories", "4"],
                     tmp_path)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"SYNTHETIC trajectories to {folder / 'bank.parquet'}"), lines
    quiet = autotts(["--quiet", "bank", "synth", "--out", "b.jsonl", "--questions", "2", "--trajectories", "4"], tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "" and (tmp_path / "b.jsonl").exists()
