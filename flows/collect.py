"""The collect flow: run collection in the GPU environment, then ingest what it wrote.

vLLM and Prefect cannot share one environment (DESIGN §6), so the collection step is a
subprocess of the GPU environment's interpreter (`python -m autotts.collection`), and its output
Parquet goes through the ordinary ingest flow."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prefect import flow, task

from autotts.flows.ingest import ingest_flow
from autotts.live.engine import Sampling
from autotts.live.engines import sampling_argv


ENGINE_FAILED = 1  # `python -m autotts.collection`'s exit status when the engine failed (2: bad input)


class CollectionFailed(RuntimeError):
    """`python -m autotts.collection` stopped; its own one-line error is in the output above."""

    def __init__(self, status: int, out: str):
        self.status = status
        if status == ENGINE_FAILED:
            advice = (f"the engine failed (its message is above); finished questions are kept in "
                      f"{Path(out).with_suffix('.parts')}: rerun the same command to resume")
        else:
            advice = "its input or options were rejected (the message is above): fix them and rerun"
        super().__init__(f"collection stopped with exit status {status}: {advice}")


def _engine_failed(task, task_run, state) -> bool:
    """Retry only an engine failure (it resumes where it stopped); bad input would fail again."""
    try:
        state.result()
    except CollectionFailed as err:
        return err.status == ENGINE_FAILED
    except Exception:  # noqa: BLE001 (anything else is not ours to judge)
        return True
    return False


@task(name="collect-trajectories", retries=1, retry_condition_fn=_engine_failed)
def run_collection(python: str, problems: str, model: str, n: int, engine: str, sampling: Sampling, out: str,
                   concurrent_questions: int = 1) -> str:
    """Collection is resumable per question, so a retry continues where a failure stopped."""
    done = subprocess.run([python, "-m", "autotts.collection", "--problems", problems, "--model", model, "--n", str(n),
                           "--engine", engine, "--out", out, "--concurrent-questions", str(concurrent_questions),
                           *sampling_argv(sampling)])
    if done.returncode:
        raise CollectionFailed(done.returncode, out)
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
