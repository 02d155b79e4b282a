"""End to end over a real HTTP server on loopback that speaks the OpenAI completions API (a stand-in
for `vllm serve`): `autotts solve` and `autotts collect` (flow, subprocess, ingest)."""
from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from autotts.cli import main
from autotts.warehouse.queries import run_sql


class _Completions(BaseHTTPRequestHandler):
    """Every sequence thinks for two chunks, then answers 7; probes say 7 after the first chunk."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["prompt"]
        if prompt.endswith("\\boxed{"):
            text, tokens, finish = "7} done", 2, "length"
        elif prompt.count("step.") >= 1:
            text, tokens, finish = " so \\boxed{7}", 40, "stop"
        else:
            text, tokens, finish = " first step.", body["max_tokens"], "length"
        reply = json.dumps({"choices": [{"text": text, "finish_reason": finish, "logprobs": {"token_logprobs": [-0.2] * tokens}}],
                            "usage": {"completion_tokens": tokens}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]):
    """A loopback HTTP server with this handler, for the duration; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


@pytest.fixture(scope="module")
def server():
    with serving(_Completions) as url:
        yield url


def test_solve_live_over_http(server, capsys):
    assert main(["solve", "--controller", "sc", "--set", "k=3", "--problem", "What is 3+4?", "--model", "m",
                 "--engine", f"openai:{server}", "--chunk-tokens", "64", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["answer"] == "7" and result["tokens"] == 3 * (64 + 40) and result["rounds"] == 1


def test_collect_flow_over_http_then_ingest(server, tmp_path, prefect_harness):
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps({"question_id": f"q{i}", "benchmark": "http", "problem": "3+4?", "gold": "7"}) + "\n"
                                for i in range(2)))
    warehouse = tmp_path / "w.duckdb"
    assert main(["collect", "--problems", str(problems), "--model", "m", "--n", "4", "--chunk-tokens", "64",
                 "--engine", f"openai:{server}", "--out", str(tmp_path / "b.parquet"), "--warehouse", str(warehouse)]) == 0
    rows = run_sql(warehouse, "SELECT count(*) AS n, sum(n_chunks) AS chunks, bool_and(finished) AS done, "
                              "min(final_answer) AS answer FROM trajectories").to_pylist()[0]
    assert rows == {"n": 8, "chunks": 16, "done": True, "answer": "7"}
    probes = run_sql(warehouse, "SELECT probe_answer, probe_tokens FROM probes WHERE chunk = 1").to_pylist()
    assert all(p == {"probe_answer": "7", "probe_tokens": 2} for p in probes)


class _Broken(BaseHTTPRequestHandler):
    """An endpoint that fails every request, counting them."""

    requests = 0

    def do_POST(self):  # noqa: N802 (http.server's naming)
        type(self).requests += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("row, status, requests", [
    ({"question_id": "1", "benchmark": "b", "problem": "x", "gold": "2"}, 1, 2),  # engine failed: retried once
    ({"question_id": "1", "benchmark": "b", "problem": "x"}, 2, 0),  # bad input: the engine is never asked
])
def test_collect_command_stops_with_the_collections_status_and_retries_an_engine_failure(tmp_path, prefect_harness, row, status,
                                                                        requests):
    _Broken.requests = 0
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps(row) + "\n")
    with serving(_Broken) as url:
        assert main(["collect", "--problems", str(problems), "--model", "m", "--n", "1", "--engine", f"openai:{url}",
                     "--out", str(tmp_path / "b.parquet")]) == status
    assert _Broken.requests == requests


def test_only_an_engine_failure_is_worth_a_retry():
    from prefect.states import Failed

    from autotts.flows.collect import CollectionFailed, _engine_failed

    assert _engine_failed(None, None, Failed(data=CollectionFailed(1, "b.parquet")))
    assert not _engine_failed(None, None, Failed(data=CollectionFailed(2, "b.parquet")))
