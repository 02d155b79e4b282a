"""Connections, migrations and transactions for the DuckDB warehouse file.

DuckDB allows one writing process or many reading ones per file, and a second process fails at
once (no waiting) while a writer holds it. So every writer here holds the file only for a short
transaction, and `connect` retries briefly when the file is locked.
"""
from __future__ import annotations

import contextlib
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import duckdb

SQL_DIR = Path(__file__).resolve().parent / "sql"


class WarehouseBusy(RuntimeError):
    """Another process held the warehouse for longer than we were willing to wait."""


def migrations() -> list[tuple[int, Path]]:
    """The versioned schema files, in order: `NNN_name.sql` is version NNN."""
    files = sorted(SQL_DIR.glob("[0-9][0-9][0-9]_*.sql"))
    return [(int(f.name[:3]), f) for f in files]


SCHEMA_VERSION = migrations()[-1][0]


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _open(path: str | Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as err:  # "Could not set lock on file": another process has it
            if "lock" not in str(err).lower() or time.monotonic() > deadline:
                if "lock" in str(err).lower():
                    raise WarehouseBusy(f"{path} is locked by another process; try again shortly ({err})") from None
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


@contextlib.contextmanager
def connect(path: str | Path, read_only: bool = False, wait_s: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse, migrated to the current schema when opened for writing."""
    if read_only and not Path(path).exists():
        raise FileNotFoundError(f"no warehouse at {path}; create one with `autotts ingest`")
    con = _open(path, read_only, wait_s)
    try:
        if not read_only:
            migrate(con)
        yield con
    finally:
        con.close()


@contextlib.contextmanager
def transaction(path: str | Path, wait_s: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
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
    """Apply every schema file newer than the file's version, each in its own transaction."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    current = schema_version(con)
    for version, path in migrations():
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text())
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, now()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        current = version
    return current


def insert_arrow(con: duckdb.DuckDBPyConnection, table: str, data) -> None:
    """Insert an Arrow table by column name."""
    con.register("_incoming", data)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")
