"""Serve the deployments of prefect.yaml from this process (Prefect's `serve`): no work pool or
worker needed, on one machine. Needs a Prefect server (`prefect server start`) and PREFECT_API_URL
pointing at it; stop with Ctrl-C.

    python -m deployments.serve [--file prefect.yaml] [--only nightly-discovery]

Every setting of a deployment in prefect.yaml is kept (parameters, schedules with their timezone,
description, tags, version, concurrency limit, paused), and `{{ $VAR }}` placeholders are filled
from the environment as `prefect deploy` fills them, so both paths register the same deployments.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import importlib.util
import os
import sys
from pathlib import Path

import yaml
from prefect.schedules import Schedule
from prefect.utilities.templating import apply_values

CHECKOUT = Path(__file__).resolve().parent.parent
SCHEDULE_FIELDS = {f.name for f in dataclasses.fields(Schedule)}


class DeploymentSpecError(ValueError):
    """prefect.yaml cannot be served as written."""


def find_prefect_file(given: str | None = None) -> Path:
    """`--file`, else prefect.yaml in $AUTOTTS_PROJECT_DIR, the current folder or this checkout."""
    if given:
        candidates = [Path(given)]
    else:
        folders = [os.environ.get("AUTOTTS_PROJECT_DIR"), os.getcwd(), str(CHECKOUT)]
        candidates = [Path(f) / "prefect.yaml" for f in folders if f]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise DeploymentSpecError(f"no prefect.yaml at {', '.join(map(str, candidates))}: pass --file or set "
                              "AUTOTTS_PROJECT_DIR to the project checkout")


def declared_deployments(prefect_file: Path, only: list[str] | None = None) -> list[dict]:
    """The deployments section of prefect.yaml, placeholders filled from the environment."""
    spec = yaml.safe_load(prefect_file.read_text())
    chosen = [d for d in spec.get("deployments") or [] if not only or d["name"] in only]
    missing = set(only or []) - {d["name"] for d in chosen}
    if missing:
        raise DeploymentSpecError(f"{prefect_file} declares no deployment {', '.join(sorted(missing))}")
    filled = apply_values(chosen, os.environ, remove_notset=False)
    for d in filled:
        unset = sorted({v for v in _strings(d.get("parameters")) if "{{" in v})
        if unset:
            raise DeploymentSpecError(f"deployment {d['name']}: set the environment for {', '.join(unset)} "
                                      "(see deployments/README.md)")
    return filled


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def schedule(name: str, spec: dict):
    """A prefect.yaml schedule entry as Prefect's `Schedule`, every field kept."""
    unknown = set(spec) - SCHEDULE_FIELDS
    if unknown:
        raise DeploymentSpecError(f"deployment {name}: schedule settings {', '.join(sorted(unknown))} are not "
                                  f"supported here (known: {', '.join(sorted(SCHEDULE_FIELDS))})")
    fields = dict(spec)
    if isinstance(fields.get("interval"), (int, float)):
        fields["interval"] = datetime.timedelta(seconds=fields["interval"])
    if isinstance(fields.get("anchor_date"), str):
        fields["anchor_date"] = datetime.datetime.fromisoformat(fields["anchor_date"])
    return Schedule(**fields)


def load_flow(entrypoint: str, project: Path = CHECKOUT):
    """The flow an entrypoint names. One of ours (`flows/discover.py:discover_flow`) is imported as
    the installed module (`autotts.flows.discover`), not as a second copy under its folder's name;
    any other is imported from the folder of the prefect.yaml that declares it (`project`)."""
    path, name = entrypoint.split(":")
    module_name = path.removesuffix(".py").replace("/", ".")
    if importlib.util.find_spec("autotts." + module_name.partition(".")[0]) is not None:
        return getattr(importlib.import_module("autotts." + module_name), name)
    if str(project) not in sys.path:
        sys.path.insert(0, str(project))
    return getattr(importlib.import_module(module_name), name)


def build(prefect_file: Path, only: list[str] | None = None) -> list:
    """`RunnerDeployment`s for the declared deployments, with all their settings."""
    deployments = []
    for d in declared_deployments(prefect_file, only):
        flow = load_flow(d["entrypoint"], prefect_file.parent)
        deployments.append(flow.to_deployment(
            name=d["name"], description=d.get("description"), parameters=d.get("parameters") or {},
            schedules=[schedule(d["name"], s) for s in d.get("schedules") or []], tags=d.get("tags"),
            version=d.get("version"), concurrency_limit=d.get("concurrency_limit"), paused=d.get("paused")))
    return deployments


def main(argv: list[str] | None = None) -> int:
    from prefect import serve

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", metavar="prefect.yaml", help="default: $AUTOTTS_PROJECT_DIR, this folder or the checkout")
    parser.add_argument("--only", action="append", metavar="NAME", help="serve only this deployment (repeatable)")
    args = parser.parse_args(argv)
    try:
        prefect_file = find_prefect_file(args.file)
        deployments = build(prefect_file, args.only)
    except DeploymentSpecError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    serve(*deployments)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
