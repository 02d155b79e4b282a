"""Serve every deployment of prefect.yaml from this process (Prefect's `serve`): no work pool or
worker needed, handy on one machine. Needs a Prefect server (`prefect server start`) and
PREFECT_API_URL pointing at it; stop with Ctrl-C.

    python deployments/serve.py [--only evaluate]
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def declared_deployments(only: list[str] | None = None) -> list[dict]:
    """The deployments section of prefect.yaml (optionally only some names)."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return [d for d in spec["deployments"] if not only or d["name"] in only]


def load_flow(entrypoint: str):
    path, name = entrypoint.split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def build(only: list[str] | None = None) -> list:
    """`RunnerDeployment`s for the declared deployments, with their parameters and schedules."""
    deployments = []
    for d in declared_deployments(only):
        flow = load_flow(d["entrypoint"])
        crons = [s["cron"] for s in d.get("schedules") or [] if "cron" in s]
        deployments.append(flow.to_deployment(name=d["name"], description=d.get("description"),
                                              parameters=d.get("parameters") or {}, cron=crons[0] if crons else None))
    return deployments


def main() -> int:
    from prefect import serve

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="serve only this deployment (repeatable)")
    args = parser.parse_args()
    os.environ.setdefault("AUTOTTS_PROJECT_DIR", str(ROOT))
    os.chdir(ROOT)
    serve(*build(args.only))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
