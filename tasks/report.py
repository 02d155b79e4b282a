"""What a run publishes: the analysts' snapshot of the warehouse, and the HTML report with its
Prefect artifacts (the key numbers inline, and a link a browser opens)."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact

from autotts.report.build import write_report
from autotts.warehouse.queries import run_leaders
from autotts.warehouse.snapshot import publish_snapshot


@task(name="publish-snapshot", task_run_name="publish snapshot after {after}")
def publish_warehouse_snapshot(warehouse: str, after: str) -> str:
    """Refresh the read-only copy analysts query (docs/warehouse.md), without waiting on them."""
    return str(publish_snapshot(warehouse))


def report_url(path: Path) -> str | None:
    """Where a browser opens the report: `AUTOTTS_REPORT_URL` names the URL that serves the
    report's folder (browsers refuse file:// links from the Prefect UI's http page)."""
    base = os.environ.get("AUTOTTS_REPORT_URL")
    return f"{base.rstrip('/')}/{quote(path.name)}" if base else None


@task(name="publish-report", task_run_name="publish report")
def publish_report(warehouse: str, out: str, run_id: str | None = None) -> str:
    """Write the report; show the run's leaders at matched budgets in the UI, and link the report."""
    path = write_report(warehouse, out).resolve()
    url = report_url(path)
    if url:
        create_link_artifact(key="report", link=url, link_text=path.name,
                             description="Self-contained HTML report (curves, Pareto frontiers, discovery)")
    leaders = run_leaders(warehouse, run_id)
    lines = [f"### Report `{path}`", "",
             f"Open: [{path.name}]({url})" if url else
             f"Open it from the machine that ran the flow: `{path}` (or set AUTOTTS_REPORT_URL to a URL serving "
             f"`{path.parent}`, see deployments/README.md).", "",
             "Best controller per benchmark and model at matched budgets (score: area under accuracy over the "
             "budget range; gain: mean accuracy over the best baseline at the same budgets):", "",
             "| benchmark | model | controller | origin | score | gain over best baseline |", "|---|---|---|---|---|---|"]
    for bench, model, controller, origin, score, gain, _ in leaders:
        gain_text = "" if gain is None else f"{100 * gain:+.1f} pts"
        lines.append(f"| {bench} | {model} | {controller} | {origin} | {score:.4f} | {gain_text} |")
    create_markdown_artifact("\n".join(lines), key="report-summary", description=f"Report {path.name}")
    return str(path)
