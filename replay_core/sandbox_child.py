"""The sandboxed side: a supervisor that forks one fresh worker per batch of episodes.

Started by `replay_core.sandbox` as `python -m replay_core.sandbox_child`, inside a bubblewrap jail
when one is available (see docs/security.md), with a control socket whose descriptor is its argument. It never sees
labels: the replay environment stays in the parent and sends only observations.

The supervisor never runs candidate code. It checks and compiles the source, preloads every module
a controller may use, and lowers its resource limits. Then, for every batch, the parent sends
`start` with a fresh pair of pipes (the first of a group of batches replayed side by side is
marked `fresh`: the supervisor kills the previous workers), the supervisor forks a new worker, and
that worker alone sees the pipes. The worker installs a syscall allow-list (seccomp), runs the
candidate module from scratch, calls `make_controller(beta)` and serves `act` calls until the
parent closes the pipes. So nothing a candidate computes survives its batch: no module state, no
process, no IPC object, no file.

The Python-level guards below (AST check, import allow-list, reduced builtins) are lint that gives
an explorer clear messages early. They are not the boundary: the kernel is.
"""
from __future__ import annotations

import ast
import builtins
import os
import sys

NUMPY_SUBMODULES = ("numpy.linalg", "numpy.fft", "numpy.random", "numpy.polynomial", "numpy.ma", "numpy.dtypes",
                    "numpy.exceptions", "numpy.rec", "numpy.char", "numpy.strings", "numpy.lib.stride_tricks",
                    "numpy.lib.scimath")
"""numpy imports these lazily on first use; a locked-down worker could not, so they are loaded first."""
PRELOADED = ("numpy", *NUMPY_SUBMODULES, "math", "collections", "itertools", "functools", "heapq", "bisect",
             "dataclasses", "typing", "enum", "statistics", "__future__", "replay_core", "replay_core.actions",
             "replay_core.observation", "replay_core.votes", "replay_core.baselines")
ALLOWED_IMPORTS = frozenset(PRELOADED)
WORKER_MODULES = ("replay_core.wire", "replay_core.play", "json", "struct", "select", "math", "resource")
"""What the worker itself uses (not the candidate): loaded once in the supervisor, so a fork does
not read and compile them again for every batch."""
ALLOWED_PACKAGES = ("numpy.", "replay_core.baselines.")  # and their submodules
ALLOWED_DUNDERS = frozenset({"__init__", "__call__", "__name__", "__len__", "__iter__", "__next__",
                             "__getitem__", "__setitem__", "__contains__", "__eq__", "__lt__", "__le__",
                             "__gt__", "__ge__", "__hash__", "__repr__", "__str__", "__post_init__",
                             "__future__", "__slots__"})
FORBIDDEN_ATTRIBUTES = frozenset({"f_globals", "f_locals", "f_back", "f_builtins", "f_code", "gi_frame",
                                  "gi_code", "cr_frame", "ag_frame", "tb_frame", "tb_next", "co_code",
                                  "func_globals", "mro"})
REMOVED_BUILTINS = ("open", "exec", "eval", "compile", "input", "breakpoint", "globals", "locals", "vars",
                    "help", "exit", "quit", "memoryview", "__build_class__")
WORKER_SYSCALLS = (
    "read", "write", "readv", "writev", "pread64", "close", "fstat", "newfstatat", "statx", "lseek", "openat",
    "getdents64", "readlink", "getcwd", "fcntl", "mmap", "munmap", "mremap", "mprotect", "brk", "madvise",
    "futex", "getrandom", "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "exit", "exit_group", "getpid", "gettid",
    "getuid", "geteuid", "getgid", "getegid", "select", "pselect6", "poll", "ppoll", "sched_getaffinity",
    "sched_yield", "getrusage", "times", "sysinfo", "uname", "getrlimit", "set_robust_list", "rseq",
    "restart_syscall")
OWN_PROCESS_ONLY = ("prlimit64",)
"""Allowed only on the calling process (pid argument 0): no changing another process's limits."""
"""What a worker may ask of the kernel once candidate code runs: compute, read its pipes, map memory.
Everything else fails with EPERM — in particular fork/clone/exec, kill, ptrace, sockets, pipes,
SysV and POSIX IPC, memfd, io_uring, bpf, keyrings, namespaces and mounts."""
WORKER_FILES = 16  # RLIMIT_NOFILE of a worker: its pipes, stdio and a few spare


class Rejected(Exception):
    """The candidate's source breaks a sandbox rule."""


def check_source(source: str) -> ast.Module:
    """Parse and reject forbidden constructs, with a message an explorer can act on."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        raise Rejected(f"SyntaxError: {err.msg} (line {err.lineno})") from None
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.Name):
            name = node.id
        if name and ((name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS)
                     or name in FORBIDDEN_ATTRIBUTES):
            raise Rejected(f"forbidden name {name!r} (line {node.lineno}): no introspection in controllers")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if module not in ALLOWED_IMPORTS and not module.startswith(ALLOWED_PACKAGES):
                    raise Rejected(f"import of {module!r} is not allowed (line {node.lineno}); "
                                   f"allowed: {', '.join(sorted(ALLOWED_IMPORTS))}")
    return tree


NEVER_IMPORTED = frozenset({"os", "sys", "posix", "subprocess", "socket", "ctypes", "gc", "inspect", "importlib",
                            "builtins", "io", "shutil", "signal", "multiprocessing", "threading", "_thread",
                            "resource", "pickle", "marshal", "pathlib", "tempfile", "random", "time"})


def _guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    """Runtime imports: numpy's C code imports its own submodules through the calling frame's
    builtins, so modules already loaded are served, except the dangerous ones. (The candidate's own
    import statements were already held to ALLOWED_IMPORTS by `check_source`.)"""
    top = name.split(".")[0]
    if level != 0 or top in NEVER_IMPORTED or (top not in ALLOWED_IMPORTS and name not in sys.modules):
        raise ImportError(f"import of {name!r} is not allowed in a controller")
    return __import__(name, globals, locals, fromlist, level)


def _no_dunder(fn):
    def guarded(obj, name, *rest):
        if isinstance(name, str) and name.startswith("__"):
            raise AttributeError(f"{fn.__name__} of {name!r} is not allowed in a controller")
        return fn(obj, name, *rest)
    return guarded


NUMPY_FILE_ACCESS = ("load", "save", "savez", "savez_compressed", "fromfile", "loadtxt", "savetxt",
                     "genfromtxt", "memmap", "fromregex", "DataSource")


def disarm_numpy() -> None:
    """Remove numpy's file readers and writers: a controller has no business with files."""
    import numpy

    for name in NUMPY_FILE_ACCESS:
        for module in (numpy, getattr(numpy, "lib", None), getattr(getattr(numpy, "lib", None), "npyio", None)):
            if module is not None and hasattr(module, name):
                try:
                    delattr(module, name)
                except AttributeError:
                    pass


def candidate_builtins() -> dict:
    safe = {k: v for k, v in vars(builtins).items() if k not in REMOVED_BUILTINS}
    safe["__import__"] = _guarded_import
    safe["__build_class__"] = builtins.__build_class__  # class statements need it
    safe["getattr"], safe["setattr"], safe["delattr"] = (_no_dunder(getattr), _no_dunder(setattr), _no_dunder(delattr))
    safe["hasattr"] = _no_dunder(hasattr)
    safe["print"] = lambda *a, **k: None
    return safe


def limit_supervisor(limits: dict) -> None:
    """Limits every worker inherits: memory (address space), no file growth, no core dumps."""
    import resource

    memory = int(limits.get("memory_bytes", 3 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _seccomp_available() -> bool:
    """Load pyseccomp and libseccomp while imports still work; False when either is missing."""
    try:
        import pyseccomp  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def syscall_filter():
    """The allow-list of WORKER_SYSCALLS as a libseccomp filter (needs `_seccomp_available()`).
    The supervisor builds it once; each worker only loads it, after fork, before candidate code."""
    import errno

    import pyseccomp as seccomp

    allowed = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
    for name in WORKER_SYSCALLS:
        try:
            allowed.add_rule(seccomp.ALLOW, name)
        except Exception:  # a name this architecture lacks (e.g. "time" on arm64)
            pass
    for name in OWN_PROCESS_ONLY:
        allowed.add_rule(seccomp.ALLOW, name, seccomp.Arg(0, seccomp.EQ, 0))
    return allowed


class Supervisor:
    """Holds the compiled candidate and forks a worker per batch; reports how workers ended."""

    def __init__(self, control, code, limits: dict):
        self.control = control
        self.code = code
        self.cpu_budget = float(limits.get("cpu_seconds", 300))
        self.cpu_used = 0.0
        self.workers: list[int] = []
        self.seccomp = _seccomp_available()
        self.syscall_filter = syscall_filter() if self.seccomp else None

    def serve(self) -> int:
        import json
        import socket

        while True:
            message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 2)
            if not message:  # the parent is done: collect the workers, then end
                self.reap()
                return 0
            header = json.loads(message)
            if header["kind"] == "start" and len(fds) == 2:
                if header.get("fresh"):
                    self.reap()
                pid = os.fork()
                if pid == 0:
                    os._exit(self.run_worker(float(header["beta"]), *fds))
                self.workers.append(pid)
                for fd in fds:
                    os.close(fd)
            elif header["kind"] == "reap":
                signal_number, code = self.reap(grace=min(float(header.get("grace", 0.0)), 2.0))
                self.control.send(json.dumps({"kind": "exited", "signal": signal_number, "code": code,
                                              "cpu": round(self.cpu_used, 3)}).encode())
            else:
                return 0

    def reap(self, grace: float = 0.0) -> tuple[int, int]:
        """Kill and collect every worker: (signal, exit code) of the first that had already ended
        badly on its own, or (0, 0). `grace`: seconds to wait for one to end on its own first (the
        parent saw a worker's pipe close, and a dying process closes its files before it can be
        collected; on a busy machine the gap is long enough to report a SIGXCPU as "exit code 0")."""
        import signal
        import time

        ended, collected = (0, 0), {}
        deadline = time.monotonic() + grace
        while True:
            for pid in self.workers:
                if pid not in collected:
                    finished, status, usage = os.wait4(pid, os.WNOHANG)
                    if finished:
                        collected[pid] = usage
                        if ended == (0, 0) and (os.WIFSIGNALED(status) or os.WEXITSTATUS(status)):
                            ended = (os.WTERMSIG(status), 0) if os.WIFSIGNALED(status) else (0, os.WEXITSTATUS(status))
            if ended != (0, 0) or len(collected) == len(self.workers) or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        for pid in self.workers:
            if pid not in collected:
                os.kill(pid, signal.SIGKILL)
                collected[pid] = os.wait4(pid, 0)[2]
            self.cpu_used += collected[pid].ru_utime + collected[pid].ru_stime
        self.workers = []
        return ended

    def run_worker(self, beta: float, obs_fd: int, act_fd: int) -> int:
        """In the forked worker: lock down, load the candidate afresh, serve one batch."""
        import math
        import resource

        from replay_core import wire
        from replay_core.actions import Actions
        from replay_core.observation import Observation
        from replay_core.play import wants_live_only

        out = _Writer(act_fd)
        try:
            self.control.close()
            cpu = max(1, math.ceil(self.cpu_budget - self.cpu_used))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            resource.setrlimit(resource.RLIMIT_NOFILE, (WORKER_FILES, WORKER_FILES))
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
            if self.syscall_filter is not None:
                self.syscall_filter.load()
            namespace = {"__builtins__": candidate_builtins(), "__name__": "candidate"}
            exec(self.code, namespace)  # the one sanctioned exec, in a locked-down, single-use process
            factory = namespace.get("make_controller")
            if not callable(factory):
                raise Rejected("the module defines no make_controller(beta)")
            controller = factory(beta)
            out.send({"kind": "started", "live_only": wants_live_only(controller)})
            reader = wire.Reader(obs_fd, wire.MAX_TRUSTED_HEADER)
            while True:
                try:
                    header, arrays = reader.receive()
                except EOFError:
                    return 0
                obs = Observation(**_padded(arrays, header), n_classes=int(header["n_classes"]))
                actions = controller.act(obs)
                if not isinstance(actions, Actions):
                    raise TypeError(f"act() must return Actions, got {type(actions).__name__}")
                n, b = obs.n_episodes, obs.n_branches
                out.send({"kind": "actions"}, {
                    "branch": _as(actions.branch, "int64", (n,)), "prune": _as(actions.prune, "bool", (n, b)),
                    "extend": _as(actions.extend, "int64", (n, b)), "probe": _as(actions.probe, "bool", (n, b)),
                    "answer": _as(actions.answer, "int64", (n,))})
        except BaseException as err:  # report anything, including a crash at import
            try:
                out.send({"kind": "error", "error": _describe(err)})
            except BaseException:
                pass
            return 1


class _Writer:
    def __init__(self, fd: int):
        self.fd = fd

    def send(self, header: dict, arrays: dict | None = None) -> None:
        from replay_core import wire

        wire.write_all(self.fd, wire.encode(header, arrays))


def _padded(arrays: dict, header: dict) -> dict:
    """Branch arrays back at full width: the parent sends only opened slots, and the value the
    others hold."""
    import numpy as np

    branches, fill = int(header["branches"]), header["fill"]
    out = {}
    for name, array in arrays.items():
        if name in fill:
            full = np.full((array.shape[0], branches), fill[name], array.dtype)
            full[:, :array.shape[1]] = array
            full.flags.writeable = False
            array = full
        out[name] = array
    return out


def _as(value, dtype: str, shape: tuple) -> "object":
    import numpy as np

    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"an Actions array has shape {array.shape}, expected {shape}")
    return array.astype(dtype)


def _describe(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}"
    return text if len(text) <= 400 else text[:400] + "..."


def main() -> int:
    import json
    import socket

    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    for module in (*PRELOADED, *WORKER_MODULES):
        __import__(module)
    seccomp = _seccomp_available()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    control = socket.socket(fileno=int(sys.argv[1]))
    try:
        header = json.loads(control.recv(1 << 20))
        code = compile(check_source(header["source"]), "<candidate>", "exec")
        limit_supervisor(header.get("limits", {}))
        disarm_numpy()
    except BaseException as err:
        control.send(json.dumps({"kind": "error", "error": _describe(err)}).encode())
        return 1
    control.send(json.dumps({"kind": "ready", "seccomp": seccomp}).encode())
    return Supervisor(control, code, header.get("limits", {})).serve()


if __name__ == "__main__":
    sys.exit(main())
