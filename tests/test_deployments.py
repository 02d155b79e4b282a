"""A real Prefect server on loopback, used as deployments/README.md says: serve the deployments of
prefect.yaml (schedules keep their timezone), and register nightly-discovery on a process work pool
without the GPU pool, trigger it twice on a small SYNTHETIC bank, and see the second night build on
the first."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autotts.warehouse.ingest import load, prepare
from autotts.warehouse.queries import run_sql

ROOT = Path(__file__).resolve().parent.parent

TRIGGER = """
import json, sys
from prefect.deployments import run_deployment
run = run_deployment(sys.argv[1], timeout=400, poll_interval=1, parameters=json.loads(sys.argv[2]))
print(run.state.type.value)
"""
NIGHT = {"search_benchmarks": ["synthetic-aime"], "holdout_benchmarks": [], "rounds": 1, "candidates": 3,
         "betas": 3, "permutations": 3, "parallel": 1}


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


def _stop(*procs: subprocess.Popen | None) -> None:
    for proc in procs:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory, synthetic_file):
    """`prefect server start --host 127.0.0.1`, and the environment a user exports for it: the API
    URL, the project checkout and the warehouse (with the SYNTHETIC bank ingested)."""
    folder = tmp_path_factory.mktemp("deployments")
    warehouse = folder / "w.duckdb"
    load(warehouse, prepare(synthetic_file))
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(folder / "prefect"), "PREFECT_API_URL": api, "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "AUTOTTS_PROJECT_DIR": str(ROOT),
           "AUTOTTS_WAREHOUSE": str(warehouse), "PYTHONPATH": str(ROOT), "PREFECT_WORKER_QUERY_SECONDS": "2"}
    server_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
    prefect = Path(sys.executable).with_name("prefect")
    proc = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=server_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if not _wait_healthy(api, proc, 120):
            proc.kill()
            pytest.skip(f"the Prefect server could not start here: {proc.communicate()[0][-500:]}")
        yield {"env": env, "warehouse": warehouse, "prefect": str(prefect)}
    finally:
        _stop(proc)


def _trigger(server: dict, name: str, parameters: dict) -> str:
    """Run a deployment through the API (retrying until it is registered); its final state."""
    for _ in range(60):
        run = subprocess.run([sys.executable, "-c", TRIGGER, name, json.dumps(parameters)], env=server["env"],
                             cwd=ROOT, capture_output=True, text=True, timeout=500)
        if "ObjectNotFound" not in run.stderr and "not found" not in run.stderr.lower():
            return run.stdout.strip() + run.stderr[-2000:]
        time.sleep(1)
    raise AssertionError(f"{name} was never registered")


def _read_deployment(server: dict, name: str) -> dict:
    code = ("import json, sys\nfrom prefect.client.orchestration import get_client\n"
            "with get_client(sync_client=True) as c:\n    d = c.read_deployment_by_name(sys.argv[1])\n"
            "print(json.dumps({'parameters': d.parameters, 'work_pool': d.work_pool_name, "
            "'schedules': [{'cron': s.schedule.cron, 'timezone': s.schedule.timezone} for s in d.schedules]}))")
    out = subprocess.run([sys.executable, "-c", code, name], env=server["env"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_served_deployments_keep_every_setting_and_run_through_the_api(server):
    served = subprocess.Popen([sys.executable, "-m", "deployments.serve", "--only", "evaluate",
                               "--only", "nightly-discovery"], env=server["env"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        state = _trigger(server, "evaluate/evaluate", {"controllers": ["sc"], "betas": 2, "permutations": 4,
                                                       "workers": 1})
        assert state.startswith("COMPLETED"), state
        nightly = _read_deployment(server, "discover/nightly-discovery")
    finally:
        _stop(served)
    assert nightly["schedules"] == [{"cron": "0 2 * * *", "timezone": "UTC"}]
    assert nightly["parameters"]["warehouse"] == str(server["warehouse"]) and nightly["parameters"]["carry_over"] == 2
    runs = run_sql(server["warehouse"], "SELECT kind, status FROM runs WHERE kind = 'evaluate'").to_pylist()
    assert runs == [{"kind": "evaluate", "status": "completed"}]


def test_serve_refuses_an_unset_warehouse_in_one_line(server):
    env = {k: v for k, v in server["env"].items() if k != "AUTOTTS_WAREHOUSE"}
    out = subprocess.run([sys.executable, "-m", "deployments.serve", "--only", "evaluate"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and out.stderr.strip().splitlines()[-1].startswith("error: deployment evaluate")
    assert "AUTOTTS_WAREHOUSE" in out.stderr


def test_nightly_discovery_on_a_process_pool_builds_on_the_previous_night(server):
    env, prefect = server["env"], server["prefect"]
    pool = subprocess.run([prefect, "work-pool", "create", "autotts-cpu", "--type", "process"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert pool.returncode == 0, pool.stdout + pool.stderr
    deploy = subprocess.run([prefect, "--no-prompt", "deploy", "--name", "nightly-discovery"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)  # the GPU pool does not exist
    assert deploy.returncode == 0, deploy.stdout[-2000:] + deploy.stderr[-2000:]
    registered = _read_deployment(server, "discover/nightly-discovery")
    assert registered["work_pool"] == "autotts-cpu"
    assert registered["schedules"] == [{"cron": "0 2 * * *", "timezone": "UTC"}]
    worker = subprocess.Popen([prefect, "worker", "start", "--pool", "autotts-cpu"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for night in (1, 2):
            state = _trigger(server, "discover/nightly-discovery", NIGHT)
            assert state.startswith("COMPLETED"), f"night {night}: {state}"
    finally:
        _stop(worker)
    warehouse = server["warehouse"]
    first, second = run_sql(warehouse, "SELECT run_id, status, parameters FROM runs WHERE kind = 'discover' "
                                       "ORDER BY started_at").to_pylist()
    assert first["status"] == second["status"] == "completed"
    assert json.loads(first["parameters"])["seed"] != json.loads(second["parameters"])["seed"]
    best_of_first = run_sql(warehouse, f"SELECT controller_id FROM candidates WHERE run_id = '{first['run_id']}' "
                                       "AND status = 'evaluated' ORDER BY score DESC, controller_id LIMIT 1")
    carried = run_sql(warehouse, f"SELECT controller_id, carried_from FROM candidates WHERE run_id = "
                                 f"'{second['run_id']}' AND round = -1").to_pylist()
    assert best_of_first.column("controller_id")[0].as_py() in {c["controller_id"] for c in carried}
    assert {c["carried_from"] for c in carried} == {first["run_id"]}


def test_every_deployment_in_prefect_yaml_passes_its_flow_valid_parameters():
    import yaml

    from deployments.serve import load_flow

    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    assert {d["name"] for d in deployments} >= {"ingest", "evaluate", "collect", "nightly-discovery"}
    for deployment in deployments:
        flow = load_flow(deployment["entrypoint"])
        assert flow.fn.__module__.startswith("autotts.flows.")  # the installed module, not a second copy
        flow.validate_parameters(deployment.get("parameters") or {})  # raises on unknown or mistyped ones
        assert deployment["parameters"].get("warehouse") == "{{ $AUTOTTS_WAREHOUSE }}"


def test_serve_imports_a_users_own_entrypoint_from_its_prefect_yaml_folder(tmp_path, monkeypatch):
    from deployments.serve import load_flow

    (tmp_path / "my_nightly_flows").mkdir()
    (tmp_path / "my_nightly_flows" / "__init__.py").write_text("")
    (tmp_path / "my_nightly_flows" / "report.py").write_text(
        "from prefect import flow\n\n@flow\ndef weekly(n: int = 1):\n    return n\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    flow = load_flow("my_nightly_flows/report.py:weekly", tmp_path)
    assert flow.name == "weekly" and flow.fn.__module__ == "my_nightly_flows.report"


def test_serve_finds_prefect_yaml_outside_the_checkout_and_keeps_schedule_fields(tmp_path, monkeypatch):
    import datetime

    from deployments.serve import DeploymentSpecError, find_prefect_file, schedule

    monkeypatch.chdir(tmp_path)  # e.g. an installed package run from elsewhere
    monkeypatch.setenv("AUTOTTS_PROJECT_DIR", str(ROOT))
    assert find_prefect_file() == ROOT / "prefect.yaml"
    with pytest.raises(DeploymentSpecError, match="no prefect.yaml"):
        find_prefect_file(str(tmp_path / "absent.yaml"))
    every = schedule("d", {"interval": 3600, "anchor_date": "2026-01-01T02:00:00", "timezone": "Europe/Paris",
                           "active": False, "parameters": {"rounds": 2}, "slug": "hourly"})
    assert (every.interval, every.timezone, every.active, every.parameters, every.slug) == \
        (datetime.timedelta(hours=1), "Europe/Paris", False, {"rounds": 2}, "hourly")
    with pytest.raises(DeploymentSpecError, match="catchup"):
        schedule("d", {"cron": "0 2 * * *", "catchup": True})


def test_the_yaml_reader_is_a_declared_dependency():
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.lower().startswith("pyyaml") for d in declared)
