"""The commands that run Prefect flows, through the real `autotts` command in its own process
(against the session's test API): quiet by default, every written file named, and the report's
headline and matched-budget table agreeing with `autotts discover --json`'s held-out numbers."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.test_cli_errors import autotts


@pytest.fixture(scope="module")
def session(tmp_path_factory, synthetic_file, prefect_harness):
    """ingest -> evaluate --warehouse -> discover --json on the SYNTHETIC test bank."""
    folder = tmp_path_factory.mktemp("cli-flows")
    shutil.copy(synthetic_file, folder / "bank.parquet")
    api = {"PREFECT_API_URL": prefect_harness, "AUTOTTS_LOG_FILE": str(folder / "autotts.log")}
    runs = {
        "ingest": autotts(["ingest", "bank.parquet", "--warehouse", "w.duckdb"], folder, **api),
        "evaluate": autotts(["evaluate", "--warehouse", "w.duckdb", "--controller", "sc", "--betas", "2",
                             "--permutations", "2", "--workers", "1"], folder, **api),
        "discover": autotts(["discover", "--warehouse", "w.duckdb", "--search-benchmarks", "synthetic-aime",
                             "--holdout-benchmarks", "synthetic-math", "--rounds", "1", "--candidates", "3", "--betas", "3",
                             "--permutations", "3", "--holdout-permutations", "3", "--json"], folder, **api),
    }
    for name, result in runs.items():
        assert result.returncode == 0, (name, result.stderr)
    return folder, runs


@pytest.mark.parametrize("command", ["ingest", "evaluate", "discover"])
def test_flows_are_quiet_by_default(session, command):
    folder, runs = session
    result = runs[command]
    for line in (result.stdout + result.stderr).splitlines():
        assert not re.search(r"\| (INFO|WARNING|ERROR) +\|", line), line
        assert "Traceback" not in line and "prefect" not in line.lower(), line
    assert "Finished in state Completed" in (folder / "autotts.log").read_text()  # the logs went to the file


def test_every_written_report_is_named(session):
    folder, runs = session
    for command in ("evaluate", "discover"):
        named = [line.removeprefix("report: ") for line in runs[command].stderr.splitlines() if line.startswith("report: ")]
        assert named == [str(folder / "w.report.html")]
    assert (folder / "w.report.html").exists()


def _rows(text: str, table_id: str) -> list[dict]:
    table = re.search(rf"<table id='{table_id}'>(.*?)</table>", text, re.S)
    assert table, table_id
    return [dict(re.findall(r"data-([a-z]+)='([^']*)'", row)) for row in re.findall(r"<tr data-[^>]*>", table.group(1))]


def test_report_headline_and_savings_agree_with_discover_json(session):
    folder, runs = session
    summary = json.loads(runs["discover"].stdout)
    text = (folder / "w.report.html").read_text()
    expected = {(r["benchmark"], r["model"], r["controller"]): r for r in summary["holdout_comparison"]}
    assert expected, "discover --json compared no held-out curve"

    def same(row: dict) -> None:
        want = expected[(row["benchmark"], row["model"], row["controller"])]
        assert float(row["gain"]) == pytest.approx(100 * want["mean_gain"], abs=1e-3)
        assert float(row["share"]) == pytest.approx(100 * want["share_at_or_above"], abs=1e-3)
        if want["token_saving"] is None:
            assert row["saving"] == ""
        else:
            assert float(row["saving"]) == pytest.approx(100 * want["token_saving"], abs=1e-3)

    headline = _rows(text, "headline")
    best = f"candidate-{summary['best'][0]['candidate']}"
    assert headline and {r["controller"] for r in headline} == {best}
    assert {(r["benchmark"], r["model"]) for r in headline} == {(b, m) for b, m, c in expected if c == best}
    for row in headline:
        same(row)
    held_out = [r for r in _rows(text, "savings") if r["benchmark"] == "synthetic-math"]
    assert {(r["benchmark"], r["model"], r["controller"]) for r in held_out} == set(expected)
    for row in held_out:
        same(row)
    assert "held-out [SYNTHETIC]" in text and "search (run " in text


def test_the_evaluate_flow_reports_progress_the_terminal_draws(tmp_path, synthetic_file, prefect_harness):
    import io

    from rich.console import Console

    from autotts.progress import flow_progress
    from autotts.flows.evaluate import evaluate_flow
    from autotts.tasks.progress import listening, report
    from autotts.warehouse.ingest import load, prepare

    warehouse = str(tmp_path / "w.duckdb")
    load(warehouse, prepare(synthetic_file))
    events = []
    with listening(lambda *event: events.append(event)):
        evaluate_flow(warehouse, ["sc", "asc"], betas=2, permutations=3, block=2, workers=1,
                      report=str(tmp_path / "r.html"))
    assert [total for stage, _, total in events if total] == [2 * 2 * 3]  # controllers x betas x permutations
    assert sum(done for stage, done, _ in events if stage == "replay") == 12

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    with flow_progress(terminal, "ingesting 2 file(s)"):
        for stage, done, total in [("ingest", 0, 2), ("ingest", 1, None), ("ingest", 1, None)]:
            report(stage, done, total)
    assert "files ingested" in screen.getvalue() and "2/2" in screen.getvalue()


def test_a_controller_that_fails_inside_a_flow_is_a_failed_run(session, prefect_harness, tmp_path):
    """Exit 1, not 2: the run started, and the warehouse records the failed curve."""
    folder = shutil.copytree(session[0], tmp_path / "session")  # the session's report stays as it was
    (folder / "raises.py").write_text("def make_controller(beta):\n    raise RuntimeError('boom')\n")
    result = autotts(["evaluate", "--warehouse", "w.duckdb", "--controller", "raises.py", "--trusted", "--betas", "2",
                      "--permutations", "2", "--workers", "1"], folder, PREFECT_API_URL=prefect_harness,
                     AUTOTTS_LOG_FILE=str(folder / "autotts.log"))
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.returncode == 1, result.stderr
    assert len(errors) == 1 and "raises failed during the run" in errors[0] and "boom" in errors[0]
    assert "Traceback" not in result.stderr
