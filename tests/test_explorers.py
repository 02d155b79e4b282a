"""LLM explorers through their real SDKs over mock transports: the recorded real-model sessions
(../shared/explorer-sessions, used by path), the OpenAI-compatible explorer, the agent's tool loop
(budget accounting, every run sandboxed, malformed calls, a model that never submits), the
dollar budget of a discovery run, and pricing."""
from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import httpx2
import pytest

from bench._shared import SHARED
from autotts.explorer import workbench as workbench_module
from autotts.explorer.anthropic_agent import AnthropicAgentExplorer
from autotts.explorer.anthropic_explorer import AnthropicExplorer, default_model
from autotts.explorer.base import DiscoveryContext
from autotts.explorer.conversations import load_conversations
from autotts.explorer.openai_explorer import OpenAIExplorer
from autotts.explorer.parsing import extract_module
from autotts.explorer.pricing import parse_price, price_of
from autotts.explorer.programs_db import ProgramsDatabase
from autotts.explorer.registry import make_explorer
from replay_core.candidate import evaluate_candidate
from autotts.warehouse.discovery_runs import spent_usd
from autotts.warehouse.discovery_store import DiscoveryStore
from tests.test_discovery import HONEST, SMALL, _message, scripted_client
from autotts.warehouse.ingest import load, prepare
from autotts.warehouse.queries import run_sql
from autotts.warehouse.results import start_run

SESSIONS = SHARED / "explorer-sessions"
requires_sessions = pytest.mark.skipif(not (SESSIONS / "reply-5.txt").is_file(),
                                       reason=f"recorded explorer sessions not found in {SESSIONS}")
FORBIDDEN = "import os\ndef make_controller(beta):\n    os.system('true')\n"


@pytest.fixture()
def warehouse(tmp_path, synthetic_file):
    path = str(tmp_path / "w.duckdb")
    load(path, prepare(synthetic_file))
    return path


def _recorded(n: int) -> tuple[dict, str]:
    return json.loads((SESSIONS / f"request-{n}.json").read_text()), (SESSIONS / f"reply-{n}.txt").read_text()


def _openai_client(handler):
    import openai

    return openai.OpenAI(api_key="test-key", base_url="http://vllm.test/v1", max_retries=2,
                         http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))


def _completion(text: str, prompt_tokens: int = 900, completion_tokens: int = 300) -> dict:
    return {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": "qwen3-32b",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


# ------------------------------------------------------------------ recorded real-model sessions
@requires_sessions
def test_recorded_sessions_replay_through_both_sdks():
    """Each recorded request goes out through the SDK exactly as recorded, and each reply comes
    back as a parseable module, over the Anthropic and the OpenAI-compatible explorers alike."""
    for n in range(6):
        request, reply = _recorded(n)
        seen: list = []
        client = scripted_client([(200, _message(reply, 5000, 3000))], seen)
        explorer = AnthropicExplorer(model=request["model"], max_tokens=request["max_tokens"], client=client)
        text, tokens_in, tokens_out = explorer.ask(request["system"], request["messages"][0]["content"])
        assert seen == [request] and text == reply and (tokens_in, tokens_out) == (5000, 3000)
        assert "def make_controller" in extract_module(text)

        sent: list = []

        def handler(req: httpx2.Request) -> httpx2.Response:
            sent.append((req.url.path, json.loads(req.content)))
            return httpx2.Response(200, json=_completion(reply))

        local = OpenAIExplorer(model="qwen3-32b", base_url="http://vllm.test/v1", client=_openai_client(handler))
        text, tokens_in, tokens_out = local.ask(request["system"], request["messages"][0]["content"])
        (path, body), = sent
        assert path == "/v1/chat/completions" and body["model"] == "qwen3-32b"
        assert body["messages"] == [{"role": "system", "content": request["system"]}, request["messages"][0]]
        assert text == reply and (tokens_in, tokens_out) == (900, 300)


@requires_sessions
@pytest.mark.parametrize("n", range(6))
def test_recorded_replies_run_in_the_sandbox(synthetic_bank, n):
    """Done means: no sandbox failure for real-model code that uses only numpy and the documented API."""
    source = extract_module(_recorded(n)[1])
    result = evaluate_candidate(synthetic_bank, source, [0.5], 2)
    assert result.ok, result.error


@requires_sessions
def test_recorded_session_replays_as_a_two_round_discovery(warehouse, prefect_harness, monkeypatch):
    """The six recorded replies answer a 2 x 3 discovery in order: round 1's prompts carry the richer
    signal (the frontier, where each earlier program loses to which baseline, its trace diagnosis),
    and no reply fails in the sandbox."""
    import autotts.flows.discover as discover

    seen: list = []
    replies = [(200, _message(_recorded(n)[1], 5000, 3000)) for n in range(6)]
    explorer = AnthropicExplorer(model=default_model(), client=scripted_client(replies, seen),
                                 prices={default_model(): (3.0, 15.0)})
    monkeypatch.setattr(discover, "make_explorer", lambda name, model=None, **options: explorer)
    summary = discover.discover_flow(warehouse, rounds=2, candidates=3, explorer="anthropic", **SMALL)
    later = seen[3]["messages"][0]["content"]
    assert "## The frontier to beat" in later and "Against the best baseline at matched budgets" in later
    assert " vs " in later.split("Against the best baseline at matched budgets")[1].split("###")[0] or \
        "never below the best baseline" in later
    assert "Execution-trace diagnosis" in later and "premature answers" in later
    assert [r["evaluated"] for r in summary["rounds"]] == [3, 3]
    errors = run_sql(warehouse, "SELECT error FROM candidates WHERE status = 'failed'").column("error").to_pylist()
    assert errors == []


# ------------------------------------------------------------------ OpenAI-compatible explorer
def test_openai_explorer_retries_and_counts_usage(warehouse):
    answers = [(503, {"error": {"message": "busy"}}), (200, _completion(f"```python\n{HONEST}```")),
               (200, _completion("no code today", 500, 20))]
    calls = []

    def handler(req: httpx2.Request) -> httpx2.Response:
        calls.append(req)
        status, body = answers.pop(0)
        return httpx2.Response(status, json=body)

    run_id = start_run(warehouse, "discover", {})
    store = DiscoveryStore(warehouse, run_id)
    context = DiscoveryContext(ProgramsDatabase.load(store), 0, 0, "(no baselines)", store=store)
    explorer = OpenAIExplorer(model="qwen3-32b", base_url="http://vllm.test/v1", client=_openai_client(handler),
                              prices={"qwen3": (0.5, 1.0)})
    proposals, usage = explorer.propose(context, 2)
    assert len(calls) == 3 and len(proposals) == 1 and usage.calls == 2  # the 503 was retried by the SDK
    assert (usage.input_tokens, usage.output_tokens) == (1400, 320)
    assert usage.cost_usd == pytest.approx((1400 * 0.5 + 320 * 1.0) / 1e6)
    assert usage.rejected == ["no Python code block with make_controller(beta) in the answer"]
    stored = load_conversations(store)
    assert [[t.role for t in c.turns] for c in stored] == [["user", "assistant"]] * 2
    assert sum(t.cost_usd for c in stored for t in c.turns) == pytest.approx(usage.cost_usd)


# ------------------------------------------------------------------ the agent's tool loop
def _tool_turn(*uses: tuple[str, dict], text: str = "", tokens: tuple[int, int] = (2000, 500)) -> tuple[int, dict]:
    content = ([{"type": "text", "text": text}] if text else []) + [
        {"type": "tool_use", "id": f"toolu_{i}_{name}", "name": name, "input": args} for i, (name, args) in enumerate(uses)]
    return 200, {"id": "msg_t", "type": "message", "role": "assistant", "model": "test", "content": content,
                 "stop_reason": "tool_use" if uses else "end_turn", "stop_sequence": None,
                 "usage": {"input_tokens": tokens[0], "output_tokens": tokens[1]}}


def _agent(answers: list, seen: list, **kw) -> AnthropicAgentExplorer:
    return AnthropicAgentExplorer(model=default_model(), client=scripted_client(answers, seen),
                                  prices={default_model(): (3.0, 15.0)}, **kw)


def _results(request: dict) -> list[dict]:
    """The tool_result blocks of the last user message the SDK sent."""
    return [b for b in request["messages"][-1]["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]


class _Errors(logging.Handler):
    """Collects ERROR records from Prefect's loggers (which do not propagate to the root logger)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_agent_tool_loop_sandboxes_every_run_and_charges_the_round(warehouse, prefect_harness, monkeypatch):
    import autotts.flows.discover as discover

    sandboxed = []
    real = workbench_module.evaluate_candidate
    monkeypatch.setattr(workbench_module, "evaluate_candidate",
                        lambda *a, **kw: sandboxed.append(a[1]) or real(*a, **kw))
    answers = [
        _tool_turn(("evaluate", {"source": HONEST, "betas": [0, 1], "permutations": 2}), ("frontier", {}),
                   text="Let me measure the worked example first."),
        _tool_turn(("evaluate", {"source": FORBIDDEN}), ("trace", {"source": HONEST, "question": 0, "beta": 0.5})),
        _tool_turn(("submit", {"source": HONEST, "note": "probe majority"})),
    ]
    seen: list = []
    explorer = _agent(answers, seen)
    monkeypatch.setattr(discover, "make_explorer", lambda name, model=None, **options: explorer)
    errors, prefect_logger = _Errors(), logging.getLogger("prefect")
    prefect_logger.addHandler(errors)
    try:
        summary = discover.discover_flow(warehouse, rounds=1, candidates=1, explorer="anthropic-agent", **SMALL)
    finally:
        prefect_logger.removeHandler(errors)
    assert not errors.records, f"an ERROR log line in a discovery run: {errors.records[0].getMessage()[:200]}"

    evaluated, frontier = _results(seen[1])
    assert evaluated["content"].startswith("ok (sandbox") and "score" in evaluated["content"]
    assert "synthetic-aime" in evaluated["content"] and "best baseline" in frontier["content"]
    forbidden, traced = _results(seen[2])
    assert forbidden["content"].startswith("FAILED (sandbox") and "import of 'os' is not allowed" in forbidden["content"]
    assert traced["content"].startswith("question 0") and "premature answers" in traced["content"]
    assert sandboxed == [HONEST, FORBIDDEN, HONEST]  # every code-running tool call went through the sandbox

    (only_round,) = summary["rounds"]
    assert only_round["tool_calls"] == 4 and only_round["evaluated"] == 1 and only_round["failures"] == 0
    row = run_sql(warehouse, "SELECT * FROM discovery_rounds").to_pylist()[0]
    assert (row["input_tokens"], row["output_tokens"]) == (3 * 2000, 3 * 500)
    assert row["cost_usd"] == pytest.approx(3 * (2000 * 3.0 + 500 * 15.0) / 1e6)
    usage = run_sql(warehouse, "SELECT * FROM explorer_usage").to_pylist()
    assert [(u["calls"], u["tool_calls"]) for u in usage] == [(3, 4)]
    assert usage[0]["cost_usd"] == pytest.approx(row["cost_usd"])
    (conversation,) = load_conversations(DiscoveryStore(warehouse, summary["run_id"]))
    assert [t.role for t in conversation.turns] == ["user", "assistant"] * 3 + ["user"]
    assert conversation.turns[-1].content[0]["content"] == "submitted (1 so far)"
    report = Path(summary["report"]).read_text()
    assert "Explorer conversations" in report and "3 turns" not in report and "4 tool calls" in report
    assert "→ evaluate(source=&lt;" in report and "← FAILED (sandbox" in report


def _agent_context(warehouse: str, tmp_path, synthetic_bank, trace_feedback: bool = True) -> DiscoveryContext:
    bank_path = tmp_path / "bank.pkl"
    bank_path.write_bytes(pickle.dumps(synthetic_bank))
    run_id = start_run(warehouse, "discover", {})
    store = DiscoveryStore(warehouse, run_id)
    return DiscoveryContext(ProgramsDatabase.load(store), 0, 0, "(no baselines)", trace_feedback=trace_feedback,
                            bank_path=str(bank_path), betas=(0.0, 1.0), permutations=4, store=store)


def test_agent_malformed_tool_calls_get_error_results(warehouse, tmp_path, synthetic_bank):
    answers = [
        _tool_turn(("evaluate", {"code": HONEST}), ("run_shell", {"cmd": "ls"}),
                   ("trace", {"source": HONEST, "question": "first", "beta": 0.5})),
        _tool_turn(("submit", {"source": "print('no controller here')"}), ("evaluate", {"source": HONEST, "betas": [0, .2, .4, .6, .8, 1]})),
        _tool_turn(("submit", {"source": HONEST})),
    ]
    seen: list = []
    proposals, usage = _agent(answers, seen).propose(_agent_context(warehouse, tmp_path, synthetic_bank), 1)
    first, second = _results(seen[1]), _results(seen[2])
    assert all(r.get("is_error") for r in first + second)
    assert "missing source; unknown code" in first[0]["content"] and "no such tool" in first[1]["content"]
    assert "question must be integer" in first[2]["content"]
    assert "no Python code block with make_controller" in second[0]["content"]
    assert "at most 5 betas" in second[1]["content"]
    assert [p.source for p in proposals] == [HONEST] and usage.tool_calls == 0 and len(usage.rejected) == 5
    assert usage.calls == 3 and not usage.stopped


def test_agent_that_never_submits_ends_the_round_empty(warehouse, tmp_path, synthetic_bank):
    chat = (200, _message("I think a good controller would widen while unsure. Let me think more."))
    seen: list = []
    context = _agent_context(warehouse, tmp_path, synthetic_bank)
    proposals, usage = _agent([chat] * 10, seen, reminders=2).propose(context, 2)
    assert proposals == [] and usage.calls == 3 and "stopped without submitting (0 of 2" in usage.stopped
    assert "submit tool" in seen[1]["messages"][-1]["content"]
    (conversation,) = load_conversations(context.store)
    assert [t.role for t in conversation.turns] == ["user", "assistant"] * 3


def test_agent_tool_budget_is_capped(warehouse, tmp_path, synthetic_bank):
    answers = [_tool_turn(("baselines", {}), ("frontier", {}), ("baselines", {}), ("trace", {})),
               _tool_turn(("submit", {"source": HONEST}))]
    seen: list = []
    context = _agent_context(warehouse, tmp_path, synthetic_bank, trace_feedback=False)
    proposals, usage = _agent(answers, seen, tool_calls=2).propose(context, 1)
    results = _results(seen[1])
    assert [bool(r.get("is_error")) for r in results] == [False, False, True, True]
    assert "tool calls are spent" in results[2]["content"] and usage.tool_calls == 2 and len(proposals) == 1
    assert "no such tool" in results[3]["content"]  # the --no-feedback ablation offers no traces
    assert "trace" not in [t["name"] for t in seen[0]["tools"]]


# ------------------------------------------------------------------ the dollar budget
def test_max_cost_stops_discovery_before_exceeding_and_resumes(warehouse, prefect_harness, monkeypatch):
    import autotts.flows.discover as discover

    reply = (200, _message(f"```python\n{HONEST}```", 1200, 400))
    explorer = AnthropicExplorer(model=default_model(), max_tokens=1000, client=scripted_client([reply] * 20, []),
                                 prices={default_model(): (3.0, 15.0)})
    monkeypatch.setattr(discover, "make_explorer", lambda name, model=None, **options: explorer)
    cap = 0.06  # a call's worst case (~9k prompt characters, 1000 output tokens) is about $0.04; each costs $0.0096
    first = discover.discover_flow(warehouse, rounds=3, candidates=3, explorer="anthropic", max_cost_usd=cap, **SMALL)
    assert first["stopped"] and first["holdout"] == []
    spent = spent_usd(warehouse, first["run_id"])
    assert 0 < spent <= cap
    status = run_sql(warehouse, f"SELECT status FROM runs WHERE run_id = '{first['run_id']}'").column("status")[0].as_py()
    assert status == "running"  # resumable
    done = len(first["rounds"])
    again = discover.discover_flow(warehouse, max_cost_usd=1.0, resume=first["run_id"])  # its stored set-up
    assert [r["round"] for r in again["rounds"]] == list(range(done, 3)) and not again["stopped"]
    assert spent_usd(warehouse, first["run_id"]) <= 1.0


# ------------------------------------------------------------------ prices and the registry
def test_prices_overrides_and_registry_errors():
    assert price_of("claude-sonnet-5-5").input == 3.0 and not price_of("qwen3-32b").known
    assert price_of("qwen3-32b", {"qwen3": (0.0, 0.0)}) == price_of("x", {"x": (0.0, 0.0)})
    assert price_of("claude-sonnet-5-5", {"claude-sonnet-5-5": (2.0, 9.0)}).output == 9.0
    assert parse_price("claude-opus=5,25") == ("claude-opus", (5.0, 25.0))
    with pytest.raises(ValueError, match="expected MODEL=IN,OUT"):
        parse_price("claude-opus=5")
    with pytest.raises(ValueError, match="unknown explorer 'gpt'"):
        make_explorer("gpt")
    with pytest.raises(ValueError, match="needs --explorer-model"):
        make_explorer("openai", base_url="http://localhost:8000/v1")
    with pytest.raises(ValueError, match="no price known for 'qwen3-32b'"):
        make_explorer("openai", model="qwen3-32b", base_url="http://localhost:8000/v1", budgeted=True)
    free = make_explorer("openai", model="qwen3-32b", base_url="http://localhost:8000/v1", budgeted=True,
                         prices={"qwen3-32b": (0.0, 0.0)})
    assert free.name == "openai:qwen3-32b" and free.price.known
