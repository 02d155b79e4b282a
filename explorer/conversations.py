"""LLM explorer conversations, kept in the warehouse turn by turn (`explorer_conversations`).

A conversation is what one proposal (single-shot explorers) or one agent session exchanged with
the model: the prompt, the replies, the tool calls and their results, with the tokens, dollars
and sandboxed tool runs each turn cost. It is written in one short transaction when it ends,
including when it ends early (a budget stop, a model that never submits, an error), by the run's
store (`DiscoveryStore.save_conversation`).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from autotts.warehouse.discovery_store import DiscoveryStore


@dataclass
class Turn:
    role: str                  # user | assistant
    content: object            # a string, or a list of content blocks (JSON-serialisable)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    tool_calls: int = 0


@dataclass
class Conversation:
    explorer: str
    turns: list[Turn] = field(default_factory=list)
    conversation: str = field(default_factory=lambda: uuid.uuid4().hex[:16])

    def add(self, role: str, content: object, **cost) -> None:
        self.turns.append(Turn(role, content, **cost))


def load_conversations(store: DiscoveryStore, rnd: int | None = None) -> list[Conversation]:
    """A run's conversations (optionally of one round), turns in order."""
    out: dict[str, Conversation] = {}
    for cid, explorer, role, content, tin, tout, cost, tools in store.conversation_turns(rnd):
        out.setdefault(cid, Conversation(explorer, conversation=cid)).add(
            role, json.loads(content), input_tokens=tin, output_tokens=tout, cost_usd=cost, tool_calls=tools)
    return list(out.values())
