"""Run an untrusted controller in a separate, locked-down process (see `sandbox_child`).

The replay environment, and with it every label, stays in this process; the child receives
observations and returns actions. A syntax error, exception, timeout, memory blow-up, forbidden
import or invalid action becomes a `CandidateFailed` with a short reason an explorer can act on.

    runner = Sandbox(source)                       # starts and locks down the child
    factory = runner.factory                       # use like make_controller with run_batch
    ...
    runner.close()
"""
from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from replay_core import wire
from replay_core.actions import Actions
from replay_core.observation import Observation

_ROOT = Path(__file__).resolve().parent.parent


class CandidateFailed(RuntimeError):
    """The candidate broke, hung, ran out of resources, or broke a sandbox rule."""


@dataclass(frozen=True)
class Limits:
    round_seconds: float = 20.0        # wall-clock for one act() (or for loading the module)
    total_seconds: float = 300.0       # wall-clock for the whole evaluation
    cpu_seconds: int = 300             # CPU time of the child (RLIMIT_CPU)
    memory_bytes: int = 3 << 30        # address space of the child (RLIMIT_AS)


class _TimedPipe:
    """Reads from the child's stdout, giving up at a deadline."""

    def __init__(self, fd: int):
        self.fd = fd
        self.deadline = float("inf")

    def read(self, n: int) -> bytes:
        left = self.deadline - time.monotonic()
        if left <= 0 or not select.select([self.fd], [], [], left)[0]:
            raise TimeoutError
        return os.read(self.fd, n)


class Sandbox:
    """One child process serving one candidate module, for as many batches as needed."""

    def __init__(self, source: str, limits: Limits = Limits()):
        self.limits = limits
        self.started = time.monotonic()
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(_ROOT), "PYTHONDONTWRITEBYTECODE": "1",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # no secrets, no API keys
        self.proc = subprocess.Popen([sys.executable, "-m", "replay_core.sandbox_child"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=env, cwd=str(_ROOT), start_new_session=True)
        self.out = _TimedPipe(self.proc.stdout.fileno())
        self.isolation = "unknown"
        self._exchange({"kind": "load", "source": source,
                        "limits": {"cpu_seconds": limits.cpu_seconds, "memory_bytes": limits.memory_bytes}},
                       expect="ready", phase="loading the module")

    # -------------------------------------------------------------------------------- protocol
    def _exchange(self, header: dict, arrays: dict | None = None, expect: str = "", phase: str = ""):
        if self.proc.poll() is not None or self.proc.stdin.closed:
            raise CandidateFailed(f"the sandbox process is no longer running ({phase})")
        self.out.deadline = min(time.monotonic() + self.limits.round_seconds,
                                self.started + self.limits.total_seconds)
        try:
            wire.send(self.proc.stdin, header, arrays)
            reply, got = wire.receive(self.out)
        except TimeoutError:
            self.close()
            limit = "its total time" if time.monotonic() >= self.started + self.limits.total_seconds else \
                f"{self.limits.round_seconds:g} s"
            raise CandidateFailed(f"timeout while {phase}: no answer within {limit}") from None
        except (EOFError, BrokenPipeError, OSError):
            code = self.proc.wait()
            raise CandidateFailed(f"the sandbox process died while {phase} ({_death(code)})") from None
        except wire.WireError as err:
            self.close()
            raise CandidateFailed(f"malformed reply while {phase}: {err}") from None
        if reply.get("kind") == "error":
            self.close()
            raise CandidateFailed(f"{reply.get('error', 'unknown error')} (while {phase})")
        if reply.get("kind") != expect:
            self.close()
            raise CandidateFailed(f"unexpected reply while {phase}")
        if expect == "ready":
            self.isolation = str(reply.get("isolation", "unknown"))
        return reply, got

    def factory(self, beta: float) -> "_RemoteController":
        reply, _ = self._exchange({"kind": "start", "beta": float(beta)}, expect="started",
                                  phase=f"calling make_controller({beta:g})")
        return _RemoteController(self, bool(reply.get("live_only")))

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _RemoteController:
    """Stands in for the candidate's controller: forwards observations, returns checked actions."""

    def __init__(self, sandbox: Sandbox, live_only: bool):
        self.sandbox = sandbox
        self.live_only = live_only

    def act(self, obs: Observation) -> Actions:
        arrays = {k: v for k, v in vars(obs).items() if isinstance(v, np.ndarray)}
        _, got = self.sandbox._exchange({"kind": "act", "n_classes": obs.n_classes}, arrays,
                                        expect="actions", phase="acting")
        n, b = obs.n_episodes, obs.n_branches
        shapes = {"branch": (n,), "prune": (n, b), "extend": (n, b), "probe": (n, b), "answer": (n,)}
        if set(got) != set(shapes) or any(got[k].shape != s for k, s in shapes.items()):
            raise CandidateFailed("the sandbox returned actions of the wrong shape")
        return Actions(**{k: np.array(v) for k, v in got.items()})


def _death(code: int) -> str:
    if code < 0:
        import signal

        name = signal.Signals(-code).name
        hint = {"SIGXCPU": "CPU time limit", "SIGKILL": "killed, likely out of memory",
                "SIGSEGV": "crashed", "SIGXFSZ": "tried to write a file"}.get(name, "signal")
        return f"{name}: {hint}"
    return f"exit code {code}"
