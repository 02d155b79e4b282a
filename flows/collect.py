"""The collect flow: run collection in the GPU environment, then ingest what it wrote.

vLLM and Prefect cannot share one environment (DESIGN §6), so the collection step is a
subprocess of the GPU environment's interpreter (`python -m collection`), and its output
Parquet goes through the ordinary ingest flow."""
from __future__ import annotations

import subprocess
import sys

from prefect import flow, task

from flows.ingest import ingest_flow
from live.engine import Sampling
from live.engines import sampling_argv


@task(name="collect-trajectories", retries=1)
def run_collection(python: str, problems: str, model: str, n: int, engine: str, sampling: Sampling, out: str,
                   concurrent_questions: int = 1) -> str:
    """Collection is resumable per question, so a retry continues where a failure stopped."""
    subprocess.run([python, "-m", "collection", "--problems", problems, "--model", model, "--n", str(n),
                    "--engine", engine, "--out", out, "--concurrent-questions", str(concurrent_questions),
                    *sampling_argv(sampling)], check=True)
    return out


@flow(name="collect", log_prints=True)
def collect_flow(problems: str, model: str, out: str, warehouse: str | None = None, n: int = 64,
                 chunk_tokens: int = 256, engine: str = "vllm", python: str | None = None,
                 sampling: dict | None = None, concurrent_questions: int = 1) -> str:
    """Sample trajectories on a GPU (or an OpenAI-compatible endpoint) and ingest them. `sampling`
    holds any other `Sampling` settings (max_tokens, temperature, top_p, probe_tokens, seed);
    `concurrent_questions` questions are collected together so the engine batches across them."""
    settings = Sampling(**{**(sampling or {}), "chunk_tokens": chunk_tokens})
    path = run_collection(python or sys.executable, problems, model, n, engine, settings, out, concurrent_questions)
    if warehouse:
        ingest_flow([path], warehouse)
    return path
