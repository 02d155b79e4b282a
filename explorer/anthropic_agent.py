"""The agentic LLM explorer (`--explorer anthropic-agent`): Anthropic tool use within a round.

The model gets the single-shot prompt plus tools (explorer/workbench.py): it may evaluate code
on the search split, trace one question, read the baselines and the frontier, and fix its code
before it submits the round's K candidates. Each tool run is sandboxed and charged to the round:
tool calls (capped), tokens and dollars (checked against the round's allowance before every
call). A malformed tool call gets an error result the model can correct; a model that stops
without submitting is reminded twice, then the round ends with what was submitted. The whole
conversation goes to the warehouse (`explorer_conversations`), however it ends.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from autotts.explorer.anthropic_explorer import anthropic_client, default_model
from autotts.explorer.base import DiscoveryContext, Proposal, Usage
from autotts.explorer.conversations import Conversation
from autotts.explorer.parsing import MalformedAnswer, extract_module
from autotts.explorer.pricing import Allowance, BudgetExceeded, Price, price_of
from autotts.explorer.prompt import SYSTEM, build_prompt
from autotts.explorer.workbench import ToolInputError, Workbench

_SOURCE = {"type": "string", "description": "a complete controller module defining make_controller(beta)"}
TOOLS = [
    {"name": "evaluate", "description": "Replay a module in the sandbox on the search split; returns accuracy and "
     "tokens per beta, score, gain and where it loses to which baseline.",
     "input_schema": {"type": "object", "required": ["source"], "properties": {
         "source": _SOURCE, "betas": {"type": "array", "items": {"type": "number"}, "description": "at most 5, in [0, 1]"},
         "permutations": {"type": "integer", "description": "orders per question, at most 10"}}}},
    {"name": "trace", "description": "One search-split question's episodes under a module, round by round, diagnosed.",
     "input_schema": {"type": "object", "required": ["source", "question", "beta"], "properties": {
         "source": _SOURCE, "question": {"type": "integer"}, "beta": {"type": "number"}}}},
    {"name": "baselines", "description": "Every baseline's curve on the search split.",
     "input_schema": {"type": "object", "properties": {}}},
    {"name": "frontier", "description": "Per budget, the best baseline and its accuracy.",
     "input_schema": {"type": "object", "properties": {}}},
    {"name": "submit", "description": "Submit a finished module as one of this round's candidates.",
     "input_schema": {"type": "object", "required": ["source"], "properties": {
         "source": _SOURCE, "note": {"type": "string", "description": "one line: the idea"}}}},
]
_TYPES = {"source": str, "note": str, "question": int, "beta": (int, float), "permutations": int, "betas": list}


@dataclass
class _Round:
    """What one round's session accumulates: its tools, spending and submissions."""

    bench: Workbench
    island: int
    islands: int
    parents: tuple[str, ...]
    tools: list[dict]
    usage: Usage = field(default_factory=Usage)
    proposals: list[Proposal] = field(default_factory=list)


REMINDER = "Use the submit tool to submit your module ({left} more to submit); code is only scored once submitted."


@dataclass
class AnthropicAgentExplorer:
    model: str = ""
    max_tokens: int = 8000
    client: object | None = None
    prices: dict[str, tuple[float, float]] | None = None
    max_retries: int = 4
    tool_calls: int = 12      # sandboxed and read-only tool calls per round (submissions are not counted)
    turns: int = 30           # model calls per round at most
    reminders: int = 2        # times a model that stops without submitting is asked to submit
    name: str = "anthropic-agent"

    def __post_init__(self) -> None:
        self.model = self.model or default_model()
        self.name = f"anthropic-agent:{self.model}"
        if self.client is None:
            self.client = anthropic_client(self.max_retries)
        self.price: Price = price_of(self.model, self.prices)

    def propose(self, context: DiscoveryContext, k: int) -> tuple[list[Proposal], Usage]:
        island = context.round % context.db.islands
        tools = [t for t in TOOLS if context.trace_feedback or t["name"] != "trace"]  # ablation: no traces
        session = _Round(Workbench.from_context(context), island, context.db.islands,
                         tuple(p.controller_id for p in context.db.sample(island)), tools)
        usage, proposals = session.usage, session.proposals
        prompt = build_prompt(context, island, submissions=k)
        messages: list[dict] = [{"role": "user", "content": prompt}]
        conversation = Conversation(self.name)
        conversation.add("user", prompt)
        allowance, reminders = Allowance(context.budget_usd), 0
        try:
            for _ in range(self.turns):
                try:
                    allowance.check(self.price, len(SYSTEM) + len(json.dumps(tools)) + len(json.dumps(messages)),
                                    self.max_tokens, usage.cost_usd)
                except BudgetExceeded as err:
                    usage.stopped = f"dollar budget: {err}"
                    break
                content, tokens_in, tokens_out = self._call(messages, tools)
                cost = self.price.cost(tokens_in, tokens_out)
                usage.charge(tokens_in, tokens_out, cost)
                messages.append({"role": "assistant", "content": content})
                conversation.add("assistant", content, input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost)
                uses = [block for block in content if block["type"] == "tool_use"]
                if not uses:
                    if reminders == self.reminders:
                        usage.stopped = f"the model stopped without submitting ({len(proposals)} of {k} submitted)"
                        break
                    reminders += 1
                    reply: list[dict] | str = REMINDER.format(left=k - len(proposals))
                    ran = 0
                else:
                    before = usage.tool_calls
                    reply = [self._answer(use, session) for use in uses]
                    ran = usage.tool_calls - before
                messages.append({"role": "user", "content": reply})
                conversation.add("user", reply, tool_calls=ran)
                if len(proposals) >= k:
                    break
            else:
                usage.stopped = f"the model used all {self.turns} turns ({len(proposals)} of {k} submitted)"
        finally:
            context.keep(conversation)
        return proposals[:k], usage

    def _call(self, messages: list[dict], tools: list[dict]) -> tuple[list[dict], int, int]:
        """One model turn, as plain content blocks (text and tool calls) that can be stored and sent back."""
        message = self.client.messages.create(model=self.model, max_tokens=self.max_tokens, system=SYSTEM,
                                              tools=tools, messages=messages)
        content = []
        for block in message.content:
            if block.type == "text":
                content.append({"type": "text", "text": block.text})
            elif block.type == "tool_use":
                content.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
        return content, message.usage.input_tokens, message.usage.output_tokens

    def _answer(self, use: dict, session: _Round) -> dict:
        """The tool_result block for one tool call; misuse becomes an error result, never an exception."""
        try:
            text = self._run(use["name"], use["input"], session)
            error = False
        except (ToolInputError, MalformedAnswer) as err:
            text, error = f"{use['name']}: {err}", True
            session.usage.rejected.append(text)
        block = {"type": "tool_result", "tool_use_id": use["id"], "content": text}
        return {**block, "is_error": True} if error else block

    def _run(self, name: str, args: object, session: _Round) -> str:
        tool = next((t for t in session.tools if t["name"] == name), None)
        if tool is None:
            raise ToolInputError(f"no such tool; the tools are {', '.join(t['name'] for t in session.tools)}")
        _check_arguments(tool, args)
        if name == "submit":
            source = extract_module(args["source"])
            if any(p.source == source for p in session.proposals):
                raise ToolInputError("this module was already submitted this round")
            island = (session.island + len(session.proposals)) % session.islands
            session.proposals.append(Proposal(source, island, session.parents, args.get("note", "")))
            return f"submitted ({len(session.proposals)} so far)"
        if session.usage.tool_calls >= self.tool_calls:
            raise ToolInputError(f"the round's {self.tool_calls} tool calls are spent; submit your module now")
        bench = session.bench
        if name == "evaluate":
            text = bench.evaluate(args["source"], args.get("betas"), args.get("permutations"))
        elif name == "trace":
            text = bench.trace(args["source"], args["question"], args["beta"])
        else:
            text = bench.baselines_text() if name == "baselines" else bench.frontier_text()
        session.usage.tool_calls += 1  # charged once it ran (a failing candidate included), not when refused
        return text


def _check_arguments(tool: dict, args: object) -> None:
    """Required arguments present, no unknown ones, each of its declared type."""
    schema = tool["input_schema"]
    if not isinstance(args, dict):
        raise ToolInputError("the arguments must be a JSON object")
    missing = [k for k in schema.get("required", []) if k not in args]
    unknown = [k for k in args if k not in schema["properties"]]
    if missing or unknown:
        raise ToolInputError("; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                                     unknown and f"unknown {', '.join(unknown)}"])))
    for key, value in args.items():
        if not isinstance(value, _TYPES[key]) or isinstance(value, bool):
            raise ToolInputError(f"{key} must be {schema['properties'][key]['type']}, got {type(value).__name__}")
