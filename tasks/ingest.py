"""Tasks of the ingest flow."""
from __future__ import annotations

from prefect import task

from autotts.warehouse.ingest import IngestPayload, load, prepare


@task(name="validate-and-grade", task_run_name="validate-and-grade {path}")
def prepare_file(path: str, answer_mode: str = "math") -> IngestPayload:
    """Read, validate and grade one file (raises FormatError, naming row and field, on bad input)."""
    return prepare(path, answer_mode)


@task(name="load-into-warehouse", task_run_name="load {payload.source}", retries=3, retry_delay_seconds=2)
def load_payload(warehouse: str, payload: IngestPayload) -> bool:
    """One transaction per file; retried when another process holds the warehouse."""
    return load(warehouse, payload)
