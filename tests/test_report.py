"""The HTML report: rendered from a real warehouse, its numbers match the warehouse, and it
renders in a headless browser without console errors."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from autotts.report.build import write_report
from autotts.warehouse.ingest import load, prepare
from autotts.warehouse.queries import run_sql


@pytest.fixture(scope="module")
def discovered(tmp_path_factory, prefect_harness, synthetic_file):
    from autotts.flows.discover import discover_flow

    folder = tmp_path_factory.mktemp("report")
    warehouse = str(folder / "w.duckdb")
    load(warehouse, prepare(synthetic_file))
    summary = discover_flow(warehouse, rounds=2, candidates=3, search_benchmarks=["synthetic-aime"],
                            holdout_benchmarks=["synthetic-math"], betas=3, permutations=3, holdout_permutations=3,
                            holdout_top=1, report=str(folder / "flow-report.html"))
    return warehouse, summary, folder


def _figure_json(text: str, div_id: str) -> list[dict]:
    match = re.search(r'Plotly\.newPlot\(\s*"' + div_id + r'",\s*(\[.*?\]),\s*\{', text, re.S)
    assert match, div_id
    return json.loads(match.group(1))


def test_report_content_matches_the_warehouse(discovered, tmp_path):
    warehouse, summary, folder = discovered
    assert (folder / "flow-report.html").exists() and summary["report"].endswith("flow-report.html")
    text = write_report(warehouse, tmp_path / "r.html").read_text()
    from plotly.offline import get_plotlyjs

    assert "SYNTHETIC data" in text
    assert text.count(get_plotlyjs()[:2000]) == 1  # plotly.js embedded once: the file works offline
    for section in ("curves-tokens", "curves-rounds", "discovery-progress", "id='savings'"):
        assert section in text
    best = run_sql(warehouse, "SELECT controller_id, source, feedback FROM candidate_ranking "
                              "WHERE selection_rank = 1").to_pylist()[0]
    assert best["controller_id"] in text and "premature answers" in text
    assert "def make_controller(beta):" in text
    traces = _figure_json(text, "curves-tokens")
    sc = run_sql(warehouse, "SELECT benchmark, model, beta, accuracy, tokens FROM baseline_curves "
                            "WHERE controller = 'sc' ORDER BY benchmark, model, tokens").to_pylist()
    plotted = sorted((round(x, 6), round(y, 6)) for t in traces if t.get("name") == "sc" for x, y in zip(t["x"], t["y"]))
    stored = sorted((round(r["tokens"], 6), round(100 * r["accuracy"], 6)) for r in sc)
    assert plotted == stored


def test_report_renders_in_a_headless_browser(discovered, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no chromium on this machine (apt-get install chromium); `make test` installs it under CI")
    warehouse, _, _ = discovered
    page = write_report(warehouse, tmp_path / "r.html")
    shot = tmp_path / "report.png"
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,2400",
            "--virtual-time-budget=10000"]
    dom = subprocess.run(base + ["--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and ("Error" in line or "error" in line)]
    assert not console_errors, console_errors
    assert dom.stdout.count('class="main-svg"') >= 4  # plotly drew the figures
    headline = re.search(r'<div id="headline-[0-9a-f]+"[^>]*>(.*?)</div>', dom.stdout, re.S)
    assert headline and 'class="main-svg"' in dom.stdout[headline.start():headline.start() + 200_000]
    assert dom.stdout.index("Headline:") < dom.stdout.index('id="curves-tokens"')  # the headline comes first
    subprocess.run(base + [f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 50_000


def test_synthetic_marks_exactly_the_synthetic_panels(tmp_path, synthetic_file):
    """A warehouse holding a SYNTHETIC bank and a hand-made (non-synthetic) one: only the former's
    panels say SYNTHETIC, and so does not the page title."""
    from autotts.explorer.discovery import baseline_curve
    from tests.conftest import row, write_jsonl
    from autotts.warehouse.bank_io import load_bank
    from autotts.warehouse.results import start_run, write_results

    warehouse = tmp_path / "w.duckdb"
    load(warehouse, prepare(synthetic_file))
    hand_made = write_jsonl(tmp_path / "hand.jsonl", [row(question_id=f"q{q}", traj_id=i) for q in range(2) for i in range(4)])
    load(warehouse, prepare(hand_made))
    run_id = start_run(warehouse, "evaluate", {})
    write_results(warehouse, run_id, [baseline_curve(load_bank(warehouse, None, None, None), "sc", [0.0, 1.0], 2)])
    text = write_report(warehouse, tmp_path / "r.html").read_text()
    figure = text[text.index('"curves-tokens"'):text.index('"curves-rounds"')]
    texts = [json.loads(f'"{t}"') for t in re.findall(r'"text":"((?:[^"\\]|\\.)*)"', figure)]
    titles = [t for t in texts if " / " in t]
    assert sorted(t.split(" / ")[0] for t in titles) == sorted(
        ["bench"] + [f"synthetic-{b}" for b in ("aime", "hmmt", "math") for _ in range(2)])
    for title in titles:
        assert title.endswith("[SYNTHETIC]") == title.startswith("synthetic-"), title
    assert "<title>AutoTTS report</title>" in text
