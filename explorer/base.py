"""What explorers receive and return."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from explorer.programs_db import ProgramsDatabase


def candidate_id(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DiscoveryContext:
    """Everything an explorer may use to write the next candidates."""

    db: ProgramsDatabase
    round: int
    seed: int
    baselines: str                    # the baselines' curves on the search split, as a small table
    beta_parameterized: bool = True   # ablation: False asks for fixed hyper-parameters instead
    trace_feedback: bool = True       # ablation: False withholds execution-trace diagnoses
    rows: int = 11                    # beta steps a candidate's configuration table has (the beta grid)


@dataclass(frozen=True)
class Proposal:
    source: str
    island: int
    parents: tuple[str, ...] = ()
    note: str = ""


@dataclass
class Usage:
    """What proposing cost: LLM tokens and dollars (zero offline)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    rejected: list[str] = field(default_factory=list)  # malformed answers, with why


class Explorer(Protocol):
    name: str

    def propose(self, context: DiscoveryContext, k: int) -> tuple[list[Proposal], Usage]: ...
