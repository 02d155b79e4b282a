"""Connections, migrations and transactions for the DuckDB warehouse file.

DuckDB allows one writing process or many reading ones per file, and a second process fails at
once (no waiting) while another holds it, readers included. So every writer here holds the file
only for a short transaction, and `connect` waits, saying so, while the file is locked: at most
`AUTOTTS_WAREHOUSE_WAIT` seconds (default 120). Analysts query the snapshot that runs publish
(warehouse/snapshot.py), which never blocks anyone.
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "sql"
DEFAULT_WAIT_S = 120.0
log = logging.getLogger("autotts.warehouse")


class WarehouseBusy(RuntimeError):
    """Another process held the warehouse for longer than we were willing to wait."""


def migrations() -> list[tuple[int, Path]]:
    """The versioned schema files, in order: `NNN_name.sql` is version NNN."""
    files = sorted(SQL_DIR.glob("[0-9][0-9][0-9]_*.sql"))
    return [(int(f.name[:3]), f) for f in files]


SCHEMA_VERSION = migrations()[-1][0]


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def max_wait_s() -> float:
    """How long a connection waits for a locked warehouse: `AUTOTTS_WAREHOUSE_WAIT` seconds, else 120."""
    value = os.environ.get("AUTOTTS_WAREHOUSE_WAIT", "")
    try:
        return float(value) if value else DEFAULT_WAIT_S
    except ValueError:
        raise ValueError(f"AUTOTTS_WAREHOUSE_WAIT={value!r} is not a number of seconds") from None


def _open(path: str | Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    delay = 0.05
    waiting = False
    while True:
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
            if waiting:
                log.warning("%s is free again; going on", path)
            return connection
        except duckdb.IOException as err:  # "Could not set lock on file": another process has it
            if "lock" not in str(err).lower():
                raise
            if time.monotonic() > deadline:
                raise WarehouseBusy(f"{path} stayed locked by another process for {wait_s:g} s (an open DuckDB "
                                    "session? query the snapshot instead, see docs/warehouse.md; "
                                    "AUTOTTS_WAREHOUSE_WAIT sets the wait)") from None
            if not waiting:
                waiting = True
                log.warning("%s is locked by another process (an open DuckDB session?); waiting up to %g s",
                            path, wait_s)
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


@contextlib.contextmanager
def connect(path: str | Path, read_only: bool = False,
            wait_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse, migrated to the current schema when opened for writing;
    waits at most `wait_s` (default `max_wait_s()`) while another process holds the file."""
    if read_only and not Path(path).exists():
        raise FileNotFoundError(f"no warehouse at {path}; create one with `autotts ingest`")
    con = _open(path, read_only, max_wait_s() if wait_s is None else wait_s)
    try:
        if not read_only:
            migrate(con)
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(path: str | Path, wait_s: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """One short write transaction: all of it commits, or none of it does."""
    with connect(path, wait_s=wait_s) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'").fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every schema file not yet applied to this file, in order, each in its own transaction.
    A file is skipped by its own version, not by the highest applied one, so a migration merged
    after a later-numbered one was applied still runs."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    applied = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    for version, path in migrations():
        if version in applied:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text())
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, now()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return schema_version(con)


def insert_arrow(con: duckdb.DuckDBPyConnection, table: str, data) -> None:
    """Insert an Arrow table by column name."""
    con.register("_incoming", data)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")
