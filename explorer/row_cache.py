"""Replayed rows of grammar programs, kept so that discovery never replays the same row twice.

A grammar program's controller at beta is built from its components and the one table row that beta
selects, nothing else. Two programs of the same components that share a row therefore act
identically at that row's betas, and replay is deterministic, so the row's episode results on the
same bank and permutations are the same. Children made by refit, merge and tune keep most of their
parent's rows; with this cache a round pays only for the rows it has not seen.

Only sources that the grammar renders exactly are cached: a module that merely carries a GENOME
literal could act differently. Results enter the cache only from a successful sandboxed evaluation
(its batch-independence checks passed); its arrays are made read-only, since a result is shared,
not copied. The sandbox's resource limits apply to the rows a program replays: a known row met
them in the program that first replayed it. Grammar components use only label-invariant vote
helpers, so a row's results do not depend on the sandbox's per-run relabelling of answer classes.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict

from autotts.explorer.grammar import genome_of, render, row_index, row_key
from replay_core.evaluate import EpisodeResults


class RowCache:
    """Episode results per (bank, permutations, components, row), least recently used dropped first
    once they hold more than `capacity_bytes`."""

    def __init__(self, capacity_bytes: int = 256 << 20):
        self.capacity_bytes = capacity_bytes
        self._bytes = 0
        self._results: OrderedDict[tuple, EpisodeResults] = OrderedDict()
        self._lock = threading.Lock()  # a round evaluates candidates in threads

    def split(self, bank_key: str, source: str, betas: list[float], permutations: int
              ) -> tuple[dict[float, EpisodeResults], list[float]]:
        """(the betas whose rows are known, with their results; the betas still to replay)."""
        keys = _row_keys(bank_key, source, betas, permutations)
        known: dict[float, EpisodeResults] = {}
        with self._lock:
            for beta, key in keys.items():
                if key in self._results:
                    self._results.move_to_end(key)
                    known[beta] = self._results[key]
        return known, [b for b in betas if b not in known]

    def add(self, bank_key: str, source: str, results: dict[float, EpisodeResults], permutations: int) -> None:
        """Remember a successful evaluation's results, row by row."""
        keys = _row_keys(bank_key, source, list(results), permutations)
        with self._lock:
            for beta, key in keys.items():
                if key in self._results:
                    self._results.move_to_end(key)
                    continue
                for array in vars(results[beta]).values():
                    array.setflags(write=False)
                self._results[key] = results[beta]
                self._bytes += _nbytes(results[beta])
            while self._bytes > self.capacity_bytes and self._results:
                self._bytes -= _nbytes(self._results.popitem(last=False)[1])


def _nbytes(result: EpisodeResults) -> int:
    return sum(array.nbytes for array in vars(result).values())


def _row_keys(bank_key: str, source: str, betas: list[float], permutations: int) -> dict[float, tuple]:
    """Per beta, the key of the row it selects; empty for a source the grammar did not render."""
    genome = genome_of(source)
    if genome is None or render(genome) != source:
        return {}
    components = json.dumps(genome.components, sort_keys=True)
    return {beta: (bank_key, permutations, components, row_key(genome.rows[row_index(beta, len(genome.rows))]))
            for beta in betas}
