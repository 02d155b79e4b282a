"""Checks the `autotts` command makes before any work starts (before a flow and its temporary
Prefect server start, before a bank is graded), so bad input fails in a second with one line."""
from __future__ import annotations

import os
from pathlib import Path

from autotts.errors import UserError

DUCKDB_MAGIC = b"DUCK"  # bytes 8..12 of every DuckDB database file


def input_files(paths: list[str]) -> None:
    """Every input file exists and is a readable file."""
    for path in paths:
        p = Path(path)
        if not p.exists():
            raise UserError(f"{path}: no such file")
        if not p.is_file():
            raise UserError(f"{path}: not a file")
        if not os.access(p, os.R_OK):
            raise UserError(f"{path}: not readable (check its permissions)")


def warehouse(path: str, must_exist: bool = True) -> None:
    """The warehouse is a DuckDB file (or, when it may be created, absent)."""
    p = Path(path)
    if not p.exists():
        if must_exist:
            raise UserError(f"no warehouse at {path}; create one with `autotts ingest FILE --warehouse {path}`")
        if not p.parent.is_dir():
            raise UserError(f"{path}: folder {p.parent} does not exist")
        return
    if p.is_dir():
        raise UserError(f"{path} is a folder, not a DuckDB warehouse file")
    with open(p, "rb") as handle:
        head = handle.read(12)
    if head and head[8:12] != DUCKDB_MAGIC:
        raise UserError(f"{path} is not a DuckDB warehouse file; give the path of one made by `autotts ingest`, "
                        "or a new path to create one")


def output_file(path: str, suffixes: tuple[str, ...]) -> None:
    """An output path whose suffix names a format we write, in an existing folder."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise UserError(f"{path}: unknown output format {p.suffix or '(no suffix)'!r}; "
                        f"use a file name ending in {' or '.join(suffixes)}")
    if not p.parent.is_dir():
        raise UserError(f"{path}: folder {p.parent} does not exist")


def explorer_ready(explorer: str) -> None:
    """The explorer can run: the Anthropic one needs an API key in the environment."""
    if explorer.startswith("anthropic") and not os.environ.get("ANTHROPIC_API_KEY"):
        raise UserError(f"--explorer {explorer} needs ANTHROPIC_API_KEY in the environment "
                        "(or use --explorer offline, which needs no API)")
