"""The analysts' copy of the warehouse: a consistent snapshot runs publish when they write.

DuckDB lets one process hold a file at a time (a read-only session included), so a notebook left
open on the live warehouse would stop every flow. Flows instead publish a copy beside it after
each run and each discovery round; the copy replaces the previous one by an atomic rename, which
never waits on anyone: a session already open keeps reading the copy it opened, a new session sees
the latest one.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from autotts.warehouse.db import connect


def snapshot_path(warehouse: str | Path) -> Path:
    """`runs.duckdb` -> `runs.snapshot.duckdb`, in the same folder."""
    path = Path(warehouse)
    return path.with_name(f"{path.stem}.snapshot{path.suffix or '.duckdb'}")


def publish_snapshot(warehouse: str | Path) -> Path:
    """Copy the warehouse to its snapshot path: checkpointed and copied while this process holds
    the file (so no write lands half-way), then renamed into place."""
    target = snapshot_path(warehouse)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with connect(warehouse) as con:
            con.execute("CHECKPOINT")
            shutil.copyfile(warehouse, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target.resolve()
