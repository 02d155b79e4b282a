"""Shared fixtures: small hand-made banks, the synthetic bank, and the real stores in ../shared."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._shared import STORES, have_stores, store  # noqa: E402
from autotts.trajectories.schema import TrajectoryRecord  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _isolated_state(tmp_path_factory):
    """Bank cache, autotts log and Prefect home in temp dirs: tests never touch the user's."""
    os.environ["AUTOTTS_CACHE_DIR"] = str(tmp_path_factory.mktemp("bank-cache"))
    os.environ["AUTOTTS_LOG_FILE"] = str(tmp_path_factory.mktemp("logs") / "autotts.log")
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"


@pytest.fixture(scope="session")
def prefect_harness(_isolated_state) -> str:
    """One temporary Prefect API for every test that runs flows; its URL, for flows that child
    processes run (an ephemeral server of their own would first migrate a fresh database, 10-20 s)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield PREFECT_API_URL.value()


@pytest.fixture(scope="session")
def synthetic_file(tmp_path_factory) -> Path:
    """A small SYNTHETIC bank as interchange Parquet."""
    from autotts.trajectories.synthetic import generate
    from autotts.trajectories.writers import write_parquet

    path = tmp_path_factory.mktemp("bank") / "synthetic.parquet"
    write_parquet(generate(questions=6, trajectories=16, seed=5), path)
    return path


def record(question_id="q1", traj_id=0, chunks=(100, 100, 50), probes=("1", None, "2"), final="2",
           gold="2", finished=True, **extra) -> TrajectoryRecord:
    return TrajectoryRecord(
        question_id=question_id, benchmark=extra.pop("benchmark", "bench"), model=extra.pop("model", "m"),
        gold=gold, traj_id=traj_id, chunk_tokens=tuple(chunks), probe_answers=tuple(probes),
        probe_tokens=tuple(extra.pop("probe_tokens", [5] * len(chunks))), final_answer=final,
        finished=finished, **extra)


def row(**overrides) -> dict:
    base = {"question_id": "q1", "benchmark": "bench", "model": "m", "gold": "2", "traj_id": 0,
            "chunk_tokens": [100, 100, 50], "probe_answers": ["1", None, "2"], "probe_tokens": [5, 5, 5],
            "final_answer": "2", "finished": True}
    base.update(overrides)
    return base


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


requires_stores = pytest.mark.skipif(not have_stores(), reason=f"real AutoTTS stores not found in {STORES}")


@pytest.fixture(scope="session")
def synthetic_bank():
    from autotts.trajectories.banking import build_bank
    from autotts.trajectories.synthetic import generate

    return build_bank(generate(questions=8, trajectories=32, seed=3), synthetic=True)


@pytest.fixture(scope="session")
def real_store():
    return lambda model, bench: store(model, bench)
