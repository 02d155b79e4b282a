"""The ingest flow: validate -> grade -> load, one transaction per file; a few files are graded at
once (`autotts.warehouse.ingest.FILES_AT_ONCE`) and loaded in the order given."""
from __future__ import annotations

from collections import deque

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.task_runners import ThreadPoolTaskRunner

from autotts.tasks import progress
from autotts.tasks.ingest import load_payload, prepare_file
from autotts.tasks.report import publish_warehouse_snapshot
from autotts.trajectories.schema import FormatError
from autotts.warehouse.ingest import FILES_AT_ONCE


class IngestFailed(RuntimeError):
    """Some files were rejected; the others were ingested."""


@flow(name="ingest", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=FILES_AT_ONCE))
def ingest_flow(paths: list[str], warehouse: str, answer_mode: str = "math") -> list[dict]:
    """Ingest trajectory files into the warehouse. A bad file changes nothing and is reported;
    re-ingesting a file already there is a no-op."""
    summaries, errors = [], []
    progress.report("ingest", 0, total=len(paths))
    waiting, pending = iter(paths), deque()

    def submit_next() -> None:
        path = next(waiting, None)
        if path is not None:
            pending.append((path, prepare_file.submit(path, answer_mode)))

    for _ in range(FILES_AT_ONCE + 1):  # a window of files in grading: memory stays bounded however many
        submit_next()
    while pending:
        path, future = pending.popleft()
        submit_next()
        try:
            payload = future.result()
        except FormatError as err:
            errors.append(str(err))
            progress.report("ingest")
            continue
        added = load_payload(warehouse, payload)
        summaries.append({"file": path, "bank_id": payload.bank_id, "trajectories": payload.n_trajectories,
                          "probes": payload.tables["probes"].num_rows, "synthetic": payload.synthetic,
                          "answer_timeouts": payload.n_answer_timeouts,
                          "status": "ingested" if added else "already present"})
        progress.report("ingest")
    lines = ["| file | bank | trajectories | probes | answer timeouts | status |", "|---|---|---|---|---|---|"]
    lines += [f"| {s['file']} | {s['bank_id']} | {s['trajectories']} | {s['probes']} | {s['answer_timeouts']} | {s['status']} |"
              for s in summaries]
    lines += [f"| rejected | | | | | {e} |" for e in errors]
    create_markdown_artifact("\n".join(lines), key="ingest-summary", description="Files ingested by this run")
    if any(s["status"] == "ingested" for s in summaries):
        publish_warehouse_snapshot(warehouse, "ingest")
    if errors:
        raise IngestFailed("; ".join(errors))
    return summaries
