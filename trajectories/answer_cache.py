"""An on-disk cache of answer readings and verdicts, shared across files, runs and processes.

math-verify takes tens of milliseconds to hundreds per distinct answer text, and the same texts
come back in every evaluation and re-ingestion of a bank. This SQLite file keeps what
`autotts.trajectories.equivalence` learned, keyed by the answer texts, the answer type and `rules_version`
(our reading rules and the installed math-verify), so a changed grader never hits a stale entry.
Calls stopped at the time bound are not stored: they are tried again in the next run. Like the bank
cache it is a local convenience; delete it at will, and a read-only home only disables it.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from importlib.metadata import version
from pathlib import Path

from autotts.trajectories.symbolic import Analysis

RULES_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    rules TEXT NOT NULL, answer_type TEXT NOT NULL, text TEXT NOT NULL,
    parsed INTEGER NOT NULL, number TEXT, symbols TEXT, fingerprint TEXT, strings TEXT, has_expression INTEGER,
    elements TEXT, PRIMARY KEY (rules, answer_type, text));
CREATE TABLE IF NOT EXISTS verdicts (
    rules TEXT NOT NULL, answer_type TEXT NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, equal INTEGER NOT NULL,
    PRIMARY KEY (rules, answer_type, a, b));
"""


def rules_version() -> str:
    return f"{RULES_VERSION}/math-verify-{version('math-verify')}"


class AnswerCache:
    """Readings and verdicts in one SQLite file (`path`), loaded whole on first use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rules = rules_version()
        self._lock = threading.Lock()

    def load(self) -> tuple[dict[tuple[str, str], Analysis], dict[tuple[str, str, str], bool]]:
        """Every stored reading and verdict for the current rules (empty when the file is unusable)."""
        try:
            with closing(self._connect()) as con:
                readings = {(text, answer_type): Analysis(bool(parsed), number, _set(symbols), _tuple(fingerprint),
                                                          _tuple(strings), bool(has_expression), _tuple(elements))
                            for answer_type, text, parsed, number, symbols, fingerprint, strings, has_expression,
                            elements in con.execute("SELECT answer_type, text, parsed, number, symbols, fingerprint, "
                                                    "strings, has_expression, elements FROM readings WHERE rules = ?",
                                                    [self.rules])}
                verdicts = {(a, b, answer_type): bool(equal) for answer_type, a, b, equal in con.execute(
                    "SELECT answer_type, a, b, equal FROM verdicts WHERE rules = ?", [self.rules])}
        except (sqlite3.Error, OSError):
            return {}, {}
        return readings, verdicts

    def store(self, readings: dict[tuple[str, str], Analysis], verdicts: dict[tuple[str, str, str], bool]) -> None:
        """Add new entries in one transaction; failures (a read-only or busy file) are ignored."""
        if not readings and not verdicts:
            return
        rows = [(self.rules, answer_type, text, int(r.parsed), r.number,
                 None if r.symbols is None else json.dumps(sorted(r.symbols)),
                 None if r.fingerprint is None else json.dumps(r.fingerprint),
                 None if r.strings is None else json.dumps(r.strings), int(r.has_expression),
                 None if r.elements is None else json.dumps(r.elements))
                for (text, answer_type), r in readings.items()]
        pairs = [(self.rules, answer_type, a, b, int(equal)) for (a, b, answer_type), equal in verdicts.items()]
        try:
            with self._lock, closing(self._connect()) as con, con:
                con.executemany("INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                con.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?, ?, ?, ?)", pairs)
        except (sqlite3.Error, OSError):
            pass

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.executescript(_SCHEMA)
        if "elements" not in {row[1] for row in con.execute("PRAGMA table_info(readings)")}:
            con.execute("ALTER TABLE readings ADD COLUMN elements TEXT")  # a file from rules version 2
        return con


def _set(value: str | None) -> frozenset[str] | None:
    return None if value is None else frozenset(json.loads(value))


def _tuple(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(json.loads(value))
