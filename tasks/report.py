"""Render the HTML report and attach it to the flow run as Prefect artifacts."""
from __future__ import annotations

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact

from report.build import write_report
from report.data import load


@task(name="publish-report")
def publish_report(warehouse: str, out: str) -> str:
    """Write the report next to the warehouse; link it and summarise the leaders in the UI."""
    path = write_report(warehouse, out).resolve()
    create_link_artifact(key="report", link=path.as_uri(), link_text=path.name,
                         description="Self-contained HTML report (curves, Pareto frontiers, discovery)")
    data = load(warehouse)
    lines = ["| benchmark | model | best controller | accuracy | tokens/question |", "|---|---|---|---|---|"]
    for key in sorted({(c["benchmark"], c["model"]) for c in data.curves}):
        best = max((c for c in data.curves if (c["benchmark"], c["model"]) == key), key=lambda c: (c["accuracy"], -c["tokens"]))
        lines.append(f"| {key[0]} | {key[1]} | {best['controller']} | {100 * best['accuracy']:.1f}% | {best['tokens'] / 1000:.1f}k |")
    create_markdown_artifact("\n".join(lines), key="report-summary", description=f"Report {path.name}")
    return str(path)
