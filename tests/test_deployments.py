"""A real Prefect server on loopback: serve the evaluate deployment of prefect.yaml, trigger a run
through the API, and see it complete and write to the warehouse."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from warehouse.ingest import load, prepare
from warehouse.queries import run_sql

ROOT = Path(__file__).resolve().parent.parent

TRIGGER = """
import sys
from prefect.deployments import run_deployment
run = run_deployment("evaluate/evaluate", timeout=240, parameters={
    "warehouse": sys.argv[1], "controllers": ["sc"], "betas": 2, "permutations": 4, "workers": 1})
print(run.state.type.value)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def test_deployment_served_from_prefect_yaml_runs_through_the_api(tmp_path, synthetic_file):
    warehouse = tmp_path / "w.duckdb"
    load(warehouse, prepare(synthetic_file))
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": api,
           "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "AUTOTTS_PROJECT_DIR": str(ROOT)}
    server_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    prefect = Path(sys.executable).with_name("prefect")
    server = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=server_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    served = None
    try:
        if not _wait_healthy(api, server, 90):
            server.kill()
            pytest.skip(f"the Prefect server could not start here: {server.communicate()[0][-500:]}")
        served = subprocess.Popen([sys.executable, str(ROOT / "deployments" / "serve.py"), "--only", "evaluate"],
                                  env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        trigger = None
        for _ in range(60):  # the deployment appears once serve.py has registered it
            trigger = subprocess.run([sys.executable, "-c", TRIGGER, str(warehouse)], env=env, cwd=ROOT,
                                     capture_output=True, text=True, timeout=300)
            if "ObjectNotFound" not in trigger.stderr and "not found" not in trigger.stderr.lower():
                break
            time.sleep(1)
        assert trigger.stdout.strip().endswith("COMPLETED"), trigger.stdout + trigger.stderr[-2000:]
        runs = run_sql(warehouse, "SELECT kind, status FROM runs").to_pylist()
        assert runs == [{"kind": "evaluate", "status": "completed"}]
    finally:
        for proc in (served, server):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_every_deployment_in_prefect_yaml_passes_its_flow_valid_parameters():
    import importlib

    import yaml

    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    assert {d["name"] for d in deployments} >= {"ingest", "evaluate", "collect", "nightly-discovery"}
    for deployment in deployments:
        path, _, name = deployment["entrypoint"].partition(":")
        flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)
        flow.validate_parameters(deployment.get("parameters") or {})  # raises on unknown or mistyped ones
