"""What explorers receive and return."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from autotts.explorer.conversations import Conversation
from autotts.explorer.programs_db import ProgramsDatabase
from replay_core.metrics import Point
from autotts.warehouse.discovery_store import DiscoveryStore


@dataclass(frozen=True)
class DiscoveryContext:
    """Everything an explorer may use to write the next candidates."""

    db: ProgramsDatabase
    round: int
    seed: int
    baselines: str                    # the baselines' curves on the search split, as a small table
    beta_parameterized: bool = True   # ablation: False asks for fixed hyper-parameters instead
    trace_feedback: bool = True       # ablation: False withholds execution-trace diagnoses
    budget_usd: float | None = None   # dollars the explorer may still spend this round (None: no limit)
    bank_path: str | None = None      # the search split's bank snapshot, for explorers that run tools on it
    betas: tuple[float, ...] = ()     # the run's beta grid and permutations (what tools may use at most)
    permutations: int = 0
    store: DiscoveryStore | None = None   # the run's rows in the warehouse (None: nothing is kept, e.g. tests)

    def search_curves(self) -> tuple[dict[str, list[Point]], dict[str, list[Point]]]:
        """The run's search-split curves so far: (baselines by name, candidates by controller_id)."""
        return self.store.search_curves() if self.store is not None else ({}, {})

    def keep(self, conversation: Conversation) -> None:
        """Store an explorer conversation with the run's round (however the conversation ended)."""
        if self.store is not None:
            self.store.save_conversation(self.round, conversation)


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
    tool_calls: int = 0               # sandboxed tool runs an agent asked for
    stopped: str = ""                 # why the explorer stopped early (e.g. the dollar budget); "" if it did not

    def charge(self, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        """Add one LLM call's tokens and dollars."""
        self.calls += 1
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cost_usd += cost_usd


class Explorer(Protocol):
    name: str

    def propose(self, context: DiscoveryContext, k: int) -> tuple[list[Proposal], Usage]: ...
