"""The sandbox with honest, pooling and reused controllers (hostile ones: tests/test_redteam.py)."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from replay_core.candidate import evaluate_candidate
from replay_core.controller import load_module_factory
from replay_core.evaluate import run_batch
from replay_core import wire
from replay_core.sandbox import CandidateFailed, Limits, Sandbox, isolation_available
from tests.conftest import ROOT

# round_seconds also bounds loading the module (jail, interpreter, numpy): room for a loaded machine.
FAST = Limits(round_seconds=10, total_seconds=30, cpu_seconds=20, memory_bytes=2 << 30)
HONEST = (ROOT / "docs" / "controller-api.md").read_text().split("```python\n")[-1].split("```")[0]


def test_honest_candidate_matches_in_process_replay(synthetic_bank, tmp_path):
    result = evaluate_candidate(synthetic_bank, HONEST, [0.0, 1.0], permutations=3, limits=FAST)
    assert result.ok, result.error
    module = tmp_path / "honest.py"
    module.write_text(HONEST)
    direct = run_batch(synthetic_bank, load_module_factory(module), 1.0, np.arange(synthetic_bank.n_questions), np.arange(3))
    assert np.array_equal(np.sort(result.results[1.0].tokens), np.sort(direct.tokens))
    assert result.results[1.0].correct.mean() == direct.correct.mean()
    assert result.isolation == ("bubblewrap+seccomp" if isolation_available() else "none+seccomp")


def test_invalid_actions_fail_the_candidate(synthetic_bank):
    source = ("import numpy as np\nclass C:\n    def act(self, obs):\n        a = obs.no_actions()\n"
              "        a.extend[:, 0] = 1\n        return a\ndef make_controller(beta):\n    return C()\n")
    result = evaluate_candidate(synthetic_bank, source, [0.5], permutations=2, limits=FAST)
    assert "invalid action" in result.error and "not open" in result.error


POOLING = """
import numpy as np
from replay_core import DEFAULT_VOTE, FULL

class Pooling:
    live_only = True

    def act(self, obs):
        a = obs.no_actions()
        fresh = obs.n_open == 0
        # leaks: how wide to go depends on how many episodes share the batch
        width = 1 + len(obs.live) % 4
        a.branch[fresh] = np.minimum(width, obs.n_unused[fresh])
        a.extend[fresh[:, None] & (np.arange(obs.n_branches) < a.branch[:, None])] = 1
        going = ~fresh & obs.active.any(1)
        stop = ~fresh & ((obs.rounds >= 3) | ~going)
        a.answer[stop] = DEFAULT_VOTE
        a.extend[(going & ~stop)[:, None] & obs.active] = 1
        return a

def make_controller(beta):
    return Pooling()
"""


def test_a_controller_that_pools_episodes_is_caught(synthetic_bank):
    """Deciding from a batch-wide statistic uses other episodes' data; regrouping exposes it."""
    result = evaluate_candidate(synthetic_bank, POOLING, [0.5], permutations=4, limits=FAST)
    assert not result.ok and "depend on other episodes" in result.error, result.error


def test_a_sandbox_is_reusable_across_batches(synthetic_bank):
    with Sandbox(HONEST, FAST) as sandbox:
        for beta in (0.0, 1.0):
            run_batch(synthetic_bank, sandbox.factory, beta, np.arange(2), np.arange(2))
        sandbox.close()
        with pytest.raises(CandidateFailed, match="no longer running"):
            run_batch(synthetic_bank, sandbox.factory, 0.5, np.arange(2), np.arange(2))


MEMORISING = """
import numpy as np
from replay_core import DEFAULT_VOTE

SEEN = {}  # an episode's first chunks -> the round it answered at, paid in full (at beta = 0)


class Memorising:
    def __init__(self, beta):
        self.stop_at = 2 + round(6 * (1 - beta))
        self.keys = {}

    def act(self, obs):
        a = obs.no_actions()
        for i in np.flatnonzero(obs.live):
            if obs.n_open[i] == 0:
                a.branch[i] = min(4, int(obs.n_unused[i]))
                a.extend[i, :a.branch[i]] = 1
                continue
            key = self.keys.setdefault(int(obs.episode[i]), tuple(int(t) for t in obs.branch_tokens[i, :4]))
            if obs.rounds[i] >= SEEN.get(key, self.stop_at) or not obs.active[i].any():
                a.answer[i] = DEFAULT_VOTE
                SEEN.setdefault(key, int(obs.rounds[i]))
            else:
                a.extend[i, obs.active[i]] = 1
        return a


def make_controller(beta):
    return Memorising(beta)
"""


def test_a_memorising_candidate_scores_as_it_would_in_fresh_processes(synthetic_bank, tmp_path):
    """Memory from beta = 0 would change its answers at beta = 1 (shown in-process first); in the
    sandbox every batch starts from nothing, so the sweep scores exactly as a lone beta = 1 run."""
    module = tmp_path / "memorising.py"
    module.write_text(MEMORISING)
    questions = np.arange(synthetic_bank.n_questions)
    shared = load_module_factory(module)
    run_batch(synthetic_bank, shared, 0.0, questions, np.arange(1))
    remembered = run_batch(synthetic_bank, shared, 1.0, questions, np.arange(1))
    fresh = run_batch(synthetic_bank, load_module_factory(module), 1.0, questions, np.arange(1))
    assert not np.array_equal(remembered.tokens, fresh.tokens)  # the memory is worth something in-process

    sweep = evaluate_candidate(synthetic_bank, MEMORISING, [0.0, 1.0], permutations=3, limits=FAST)
    alone = evaluate_candidate(synthetic_bank, MEMORISING, [1.0], permutations=3, limits=FAST)
    assert sweep.ok and alone.ok, (sweep.error, alone.error)
    assert np.array_equal(sweep.results[1.0].tokens, alone.results[1.0].tokens)
    assert np.array_equal(sweep.results[1.0].answers, alone.results[1.0].answers)
    assert np.array_equal(sweep.results[1.0].tokens[:len(questions)], fresh.tokens)


NUMPY_EVERYWHERE = """
import numpy as np
from replay_core import DEFAULT_VOTE


def width():
    masked = np.ma.masked_array([3, 1, 4, 1, 5], mask=[0, 1, 0, 0, 0])
    det = np.linalg.det(np.array([[2.0, 1.0], [1.0, 3.0]]))
    draws = np.random.default_rng(7).integers(0, 3, 5)
    values, index, inverse, counts = np.unique(np.array([3, 1, 3, 2, 1]), return_index=True,
                                               return_inverse=True, return_counts=True)
    rows = np.unique(np.array([[1, 2], [1, 2], [0, 1]]), axis=0)
    nans = np.unique(np.array([np.nan, np.nan, 1.0]), equal_nan=False)
    loose = np.unique(np.array([2, 1, 2]), sorted=False)
    spectrum = np.fft.rfft(np.ones(4)).real
    fit = np.polynomial.Polynomial.fit([0, 1, 2], [1, 3, 5], 1).convert().coef
    total = (int(masked.sum()) + round(det) + int(draws.sum()) + int(index.sum() + inverse.sum() + counts.sum())
             + len(values) + len(rows) + len(nans) + len(loose) + int(spectrum[0]) + round(fit[1]))
    return 1 + total % 5


class Numeric:
    def __init__(self):
        self.width = width()

    def act(self, obs):
        a = obs.no_actions()
        fresh = obs.live & (obs.n_open == 0)
        a.branch[fresh] = np.minimum(self.width, obs.n_unused[fresh])
        a.extend[fresh[:, None] & (np.arange(obs.n_branches) < a.branch[:, None])] = 1
        going = obs.live & ~fresh
        stop = going & ((obs.rounds >= 4) | ~obs.active.any(1))
        a.answer[stop] = DEFAULT_VOTE
        a.extend[(going & ~stop)[:, None] & obs.active] = 1
        return a


def make_controller(beta):
    return Numeric()
"""


def test_numpy_works_in_full_inside_the_sandbox(synthetic_bank, tmp_path):
    """numpy's lazily imported submodules (ma, linalg, random, fft, polynomial) and every option
    of np.unique work in a locked-down worker, with the same results as in-process."""
    result = evaluate_candidate(synthetic_bank, NUMPY_EVERYWHERE, [0.5], permutations=2, limits=FAST)
    assert result.ok, result.error
    module = tmp_path / "numeric.py"
    module.write_text(NUMPY_EVERYWHERE)
    direct = run_batch(synthetic_bank, load_module_factory(module), 0.5, np.arange(synthetic_bank.n_questions),
                       np.arange(1))
    assert np.array_equal(result.results[0.5].tokens[:synthetic_bank.n_questions], direct.tokens)


LOOPS_AT_ROUND_THREE = HONEST.replace("    def act(self, obs) -> Actions:\n", "    def act(self, obs) -> Actions:\n"
                                      "        while obs.rounds.max() >= 2:\n            pass\n", 1)


@pytest.mark.parametrize("limits, cause", [
    (Limits(round_seconds=5, total_seconds=60, cpu_seconds=60), "timeout while acting"),
    (Limits(round_seconds=60, total_seconds=60, cpu_seconds=1), "SIGXCPU: CPU time limit"),
])
def test_time_and_cpu_failures_say_what_was_used(synthetic_bank, limits, cause):
    """An explorer can act on a limit only if it learns how far the candidate got and what was slow."""
    assert LOOPS_AT_ROUND_THREE != HONEST
    result = evaluate_candidate(synthetic_bank, LOOPS_AT_ROUND_THREE, [0.5], permutations=1, limits=limits)
    assert cause in result.error, result.error
    assert f"of {limits.cpu_seconds} s" in result.error and "calls answered" in result.error, result.error
    assert "slowest call" in result.error and "reached round 3" in result.error, result.error


@pytest.mark.parametrize("grace, dies_after, ended", [(2.0, 0.3, "SIGXCPU"), (0.0, 5.0, None)])
def test_reaping_after_a_worker_died_waits_to_say_how(grace, dies_after, ended):
    """A dying worker closes its pipes before it can be collected; the supervisor, told a worker
    died, waits (a bounded grace) to report its signal instead of killing it and reporting nothing."""
    import signal

    from replay_core.sandbox_child import Supervisor

    pid = os.fork()
    if pid == 0:  # a worker that runs out of CPU a moment after its pipe closed
        time.sleep(dies_after)  # without a grace the supervisor must not wait for it, however busy the machine
        os.kill(os.getpid(), signal.SIGXCPU)
        os._exit(0)
    supervisor = Supervisor(None, None, {})
    supervisor.workers = [pid]
    signal_number, code = supervisor.reap(grace=grace)
    assert supervisor.workers == [] and code == 0
    assert (signal.Signals(signal_number).name if signal_number else None) == ended


def test_a_peer_that_stops_reading_cannot_block_a_write():
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    try:
        with pytest.raises(TimeoutError):
            wire.write_all(writer, b"x" * (8 << 20), deadline=time.monotonic() + 0.2)
    finally:
        os.close(reader)
        os.close(writer)


def test_a_message_larger_than_the_pipe_arrives_whole_in_its_pieces():
    """`encode` hands arrays over in pieces (no joined copy) and `write_all` resumes after partial
    writes; the reader puts each message's arrays in one fresh, read-only buffer."""
    arrays = {"wide": np.arange(300_000, dtype=np.int64).reshape(1000, 300)[:, :200],  # 1.6 MB, not contiguous
              "empty": np.zeros((0, 4)), "flags": np.ones((7, 3), bool)}
    reader, writer = os.pipe()
    os.set_blocking(writer, False)
    got: dict = {}
    thread = threading.Thread(target=lambda: got.update(message=wire.Reader(reader, wire.MAX_TRUSTED_HEADER).receive()))
    try:
        thread.start()
        wire.write_all(writer, wire.encode({"kind": "act"}, arrays), deadline=time.monotonic() + 30)
        thread.join(30)
    finally:
        os.close(reader)
        os.close(writer)
    header, received = got["message"]
    assert header["kind"] == "act" and received.keys() == arrays.keys()
    for name, array in arrays.items():
        assert received[name].dtype == array.dtype and np.array_equal(received[name], array), name
        assert not received[name].flags.writeable


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            for child in (task / "children").read_text().split():
                found.add(int(child))
                todo.append(int(child))
    return found


def test_nothing_a_candidate_started_outlives_its_sandbox(synthetic_bank):
    sandbox = Sandbox(HONEST, FAST)
    run_batch(synthetic_bank, sandbox.factory, 0.5, np.arange(2), np.arange(1))
    sandbox.factory(0.5)  # a worker is running now
    started = _descendants(sandbox.proc.pid) | {sandbox.proc.pid}
    assert len(started) >= 3  # the jail, the supervisor, the worker
    sandbox.close()
    for _ in range(100):  # the kernel tears a pid namespace down asynchronously
        alive = [pid for pid in started if _running(pid)]
        if not alive:
            break
        time.sleep(0.05)
    assert not alive


def _running(pid: int) -> bool:
    """Exists and is not a zombie (a dead process its new parent has yet to collect)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


SEES_THE_SECRET = """
import numpy._core._methods as reach_os
from replay_core.baselines.self_consistency import SelfConsistency

def make_controller(beta, width=2):
    if not reach_os.os.environ.get("AUTOTTS_TEST_SECRET"):
        raise RuntimeError("no secret in sight")
    return SelfConsistency(width)
"""


def test_autotts_evaluate_sandboxes_a_module_unless_trusted(tmp_path, capsys, monkeypatch):
    from autotts.cli import main
    from tests.conftest import row, write_jsonl

    monkeypatch.setenv("AUTOTTS_TEST_SECRET", "hunter2")
    module = tmp_path / "mine.py"
    module.write_text(SEES_THE_SECRET)
    bank = write_jsonl(tmp_path / "b.jsonl", [row(traj_id=i) for i in range(4)])
    common = ["evaluate", "--bank", str(bank), "--controller", str(module), "--set", "width=3", "--permutations", "2",
              "--json"]
    assert main(common) == 2
    err = capsys.readouterr().err
    assert "mine(width=3) failed in the sandbox: RuntimeError: no secret in sight" in err and err.count("\n") == 1
    assert main([*common, "--trusted"]) == 0
    assert json.loads(capsys.readouterr().out)["points"][0]["tokens"] == 750


def test_an_llm_explorer_refuses_to_start_without_isolation(tmp_path, capsys, monkeypatch):
    """The narrowest seam: this machine has user namespaces, so their absence is simulated.
    (The CLI refuses before Prefect is imported, so no Prefect log handler binds to capsys.)"""
    from autotts.cli import main

    monkeypatch.setattr("replay_core.sandbox.isolation_available", lambda: False)
    warehouse = str(tmp_path / "w.duckdb")
    assert main(["discover", "--warehouse", warehouse, "--explorer", "anthropic"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no OS isolation" in err and "--unsafe-no-isolation" in err and "\n" not in err
    assert not Path(warehouse).exists()  # refused before anything was written


def test_the_discover_flow_refuses_too(tmp_path, monkeypatch):
    """A deployment calls the flow directly, without the CLI."""
    from autotts.flows.discover import discover_flow
    from replay_core.sandbox import IsolationUnavailable

    monkeypatch.setattr("replay_core.sandbox.isolation_available", lambda: False)
    with pytest.raises(IsolationUnavailable, match="--unsafe-no-isolation"):
        discover_flow.fn(warehouse=str(tmp_path / "w.duckdb"), explorer="anthropic")


def test_a_run_without_isolation_is_recorded_and_reported(tmp_path):
    from autotts.report.build import render
    from autotts.report.data import load
    from autotts.warehouse.db import connect
    from autotts.warehouse.results import start_run

    warehouse = str(tmp_path / "w.duckdb")
    with connect(warehouse):  # a new, empty warehouse
        pass
    unsafe = start_run(warehouse, "discover", {"explorer": "anthropic", "unsafe_no_isolation": True})
    start_run(warehouse, "discover", {"explorer": "anthropic", "unsafe_no_isolation": False})
    data = load(warehouse)
    assert data.unisolated_runs == [unsafe]
    assert f"discovery run(s) {unsafe} ran LLM-written candidates with --unsafe-no-isolation" in render(data)
