"""Replayed rows of grammar programs, kept so that discovery never replays the same row twice.

A grammar program's controller at beta is built from its components and the one table row that beta
selects, nothing else. Two programs of the same components that share a row therefore act
identically at that row's betas, and replay is deterministic, so the row's episode results on the
same bank and permutations are the same. A momentum row runs the paper's loop whatever the
components, so it is keyed by its knobs alone. Children made by refit, merge and tune keep most of their
parent's rows; with this cache a round pays only for the rows it has not seen.

Only sources that the grammar renders exactly, up to the module docstring, are cached: a module that
merely carries a GENOME literal could act differently, while a docstring is a string the grammar's
code never reads. That keeps the shipped controller's rows (replayed in round -1 of a night that
starts from it) for its children: shipping rewrites the docstring with the controller's
provenance. Results enter the cache only from a successful sandboxed evaluation (its
batch-independence checks passed); its arrays are made read-only, since a result is shared, not
copied. The sandbox's resource limits apply to the rows a program replays: a known row met
them in the program that first replayed it. Its limit on the module's size applies to every
program, cached rows or not. Grammar components use only label-invariant vote
helpers, so a row's results do not depend on the sandbox's per-run relabelling of answer classes.
"""
from __future__ import annotations

import ast
import json
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from autotts.explorer.grammar import Genome, genome_of, is_momentum, render, row_index, row_key
from autotts.explorer.parsing import parse_python
from replay_core.bank import Bank
from replay_core.candidate import CandidateResult, evaluate_candidate
from replay_core.evaluate import EpisodeResults
from replay_core.sandbox import MAX_SOURCE_CHARS, Limits


class RowCache:
    """Episode results per (bank, components, row) on permutations 0..P-1 for the largest P replayed
    so far, least recently used dropped first once they hold more than `capacity_bytes`. Every
    permutation replays alone (a fresh worker per batch, checked), so the first P of a longer run
    are exactly a run on P, and a run on more permutations only replays the ones not yet known."""

    def __init__(self, capacity_bytes: int = 256 << 20):
        self.capacity_bytes = capacity_bytes
        self._bytes = 0
        self._results: OrderedDict[tuple, tuple[int, EpisodeResults]] = OrderedDict()
        self._lock = threading.Lock()  # a round evaluates candidates in threads

    def split(self, bank_key: str, source: str, betas: list[float], permutations: int
              ) -> tuple[dict[float, EpisodeResults], dict[float, int]]:
        """(per beta, its row's known results on the first `permutations` or fewer permutations;
        per beta not fully known, the first permutation still to replay: 0 for an unknown row)."""
        keys = _row_keys(bank_key, source, betas)
        known: dict[float, EpisodeResults] = {}
        missing: dict[float, int] = {}
        with self._lock:
            for beta in betas:
                stored = 0
                if beta in keys and keys[beta] in self._results:
                    self._results.move_to_end(keys[beta])
                    stored, results = self._results[keys[beta]]
                    known[beta] = results.first(permutations)
                if stored < permutations:
                    missing[beta] = stored
        return known, missing

    def evaluate(self, bank: Bank, bank_key: str, source: str, betas: list[float], permutations: int,
                 limits: Limits, trace_betas: tuple[float, ...] = (), side_by_side: int = 1) -> CandidateResult:
        """`evaluate_candidate` on every beta, replaying in the sandbox only the permutations each
        beta's row lacks (one evaluation per first missing permutation; each has the full `limits`)
        and the execution traces asked for; the results, known and new joined in permutation order,
        enter the cache.

        With `side_by_side` > 1 the betas of each evaluation are dealt out to up to that many
        sandboxes run at once: one sandbox alternates between its environment and its workers and
        leaves a core idle, so a candidate replayed alone fills the machine this way. Every beta
        replays the same episodes either way, so the results do not change; but each sandbox has
        the full `limits`, so a candidate close to its CPU or time limit may pass dealt out where
        it would fail in one sandbox (as it may when its rows start at several permutations)."""
        side_by_side = max(1, side_by_side)
        known, missing = self.split(bank_key, source, betas, permutations)
        starts: dict[int, list[float]] = {}
        for beta, first in missing.items():
            starts.setdefault(first, []).append(beta)
        jobs = [(first, todo[i::side_by_side]) for first, todo in sorted(starts.items()) for i in range(side_by_side)]
        # with every row known, the sandbox still opens for traces, and for a source over its size
        # limit, so that a cached program is refused as it would be uncached
        opens = bool(trace_betas) or len(source) > MAX_SOURCE_CHARS
        jobs = [(first, todo) for first, todo in jobs if todo] or ([(0, [])] if opens else [])
        with ThreadPoolExecutor(max_workers=side_by_side) as pool:
            parts = list(pool.map(lambda i: evaluate_candidate(bank, source, jobs[i][1], permutations, limits,
                                                               first_seed=jobs[i][0],
                                                               trace_betas=trace_betas if i == 0 else ()),
                                  range(len(jobs))))
        out = CandidateResult()
        for part in parts:
            if not part.ok:
                return part
            out.isolation = part.isolation
            out.diagnoses += part.diagnoses
            for beta, results in part.results.items():
                out.results[beta] = EpisodeResults.concat([known[beta], results]) if beta in known else results
        self.add(bank_key, source, out.results, permutations)
        out.results = {beta: out.results.get(beta, known.get(beta)) for beta in betas}
        return out

    def add(self, bank_key: str, source: str, results: dict[float, EpisodeResults], permutations: int) -> None:
        """Remember a successful evaluation's results on permutations 0..permutations-1, row by row
        (a row already known on as many permutations keeps its entry)."""
        keys = _row_keys(bank_key, source, list(results))
        with self._lock:
            for beta, key in keys.items():
                if key in self._results and self._results[key][0] >= permutations:
                    self._results.move_to_end(key)
                    continue
                for array in vars(results[beta]).values():
                    array.setflags(write=False)
                if key in self._results:
                    self._bytes -= _nbytes(self._results.pop(key)[1])
                self._results[key] = (permutations, results[beta])
                self._bytes += _nbytes(results[beta])
            while self._bytes > self.capacity_bytes and self._results:
                self._bytes -= _nbytes(self._results.popitem(last=False)[1][1])


def _nbytes(result: EpisodeResults) -> int:
    return sum(array.nbytes for array in vars(result).values())


def _row_keys(bank_key: str, source: str, betas: list[float]) -> dict[float, tuple]:
    """Per beta, the key of the row it selects; empty for a source the grammar did not render."""
    genome = _rendered_genome(source)
    if genome is None:
        return {}
    components = json.dumps(genome.components, sort_keys=True)
    rows = {beta: genome.rows[row_index(beta, len(genome.rows))] for beta in betas}
    return {beta: (bank_key, "momentum" if is_momentum(row) else components, row_key(row)) for beta, row in rows.items()}


def _rendered_genome(source: str) -> Genome | None:
    """The genome of a module the grammar rendered, whatever its docstring says; None for any other source."""
    genome = genome_of(source)
    if genome is None:
        return None
    rendered = render(genome)
    code = _after_docstring(rendered)  # the grammar's modules always open with one
    return genome if source == rendered or (code is not None and _after_docstring(source) == code) else None


def _after_docstring(source: str) -> str | None:
    """The code after a docstring that opens the module at its first character (None for any other
    module): that code must match the grammar's rendering exactly, so nothing that runs can differ."""
    body = parse_python(source).body
    first = body[0] if body else None
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return None
    docstring = ast.get_source_segment(source, first)
    return source[len(docstring):] if docstring and source.startswith(docstring) else None
