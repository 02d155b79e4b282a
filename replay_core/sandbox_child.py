"""The sandboxed side: runs one untrusted controller module and nothing else.

Started by `replay_core.sandbox` as `python -m replay_core.sandbox_child` with pipes for stdin and
stdout. It never sees labels: the replay environment stays in the parent and sends only
observations. Before it loads the candidate it locks itself down:

* resource limits: address space (memory), CPU seconds, no file may grow (RLIMIT_FSIZE = 0), few
  open files;
* as root (CI, servers): a private network namespace with no interfaces, a chroot into an empty
  directory (nothing on disk is readable), and the unprivileged uid `nobody` with no processes to
  spare (no fork);
* the candidate runs with a reduced set of builtins (no open/eval/exec/compile/input), an import
  allow-list, and code that passes an AST check forbidding dunder and frame introspection.
Everything the candidate prints goes to /dev/null; the protocol uses a private copy of stdout.
"""
from __future__ import annotations

import ast
import builtins
import os
import sys

PRELOADED = ("numpy", "math", "collections", "itertools", "functools", "heapq", "bisect", "dataclasses",
             "typing", "enum", "statistics", "__future__", "replay_core", "replay_core.actions",
             "replay_core.observation", "replay_core.votes")
ALLOWED_IMPORTS = frozenset(PRELOADED)
ALLOWED_DUNDERS = frozenset({"__init__", "__call__", "__name__", "__len__", "__iter__", "__next__",
                             "__getitem__", "__setitem__", "__contains__", "__eq__", "__lt__", "__le__",
                             "__gt__", "__ge__", "__hash__", "__repr__", "__str__", "__post_init__",
                             "__future__", "__slots__"})
FORBIDDEN_ATTRIBUTES = frozenset({"f_globals", "f_locals", "f_back", "f_builtins", "f_code", "gi_frame",
                                  "gi_code", "cr_frame", "ag_frame", "tb_frame", "tb_next", "co_code",
                                  "func_globals", "mro"})
REMOVED_BUILTINS = ("open", "exec", "eval", "compile", "input", "breakpoint", "globals", "locals", "vars",
                    "help", "exit", "quit", "memoryview", "__build_class__")


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
                if module not in ALLOWED_IMPORTS and not module.startswith("numpy."):
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
    """Remove numpy's file readers and writers: a controller has no business with files, and
    without root (no chroot) they could otherwise read a bank from disk."""
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


def lockdown(limits: dict) -> str:
    """Apply OS-level isolation and limits; returns a word for the isolation level reached."""
    import resource

    isolation = "rlimits"
    if os.geteuid() == 0:
        import ctypes
        import tempfile

        jail = tempfile.mkdtemp(prefix="autotts-jail-")
        os.chmod(jail, 0o555)
        libc = ctypes.CDLL(None, use_errno=True)
        isolation = "full" if libc.unshare(0x40000000) == 0 else "no-netns"  # CLONE_NEWNET
        os.chroot(jail)
        os.chdir("/")
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    memory = int(limits.get("memory_bytes", 3 << 30))
    cpu = int(limits.get("cpu_seconds", 120))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    return isolation


def main() -> int:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    for module in PRELOADED:
        __import__(module)
    import resource  # noqa: F401  (needed after the chroot)

    from replay_core import wire
    from replay_core.actions import Actions
    from replay_core.observation import Observation

    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = sys.stderr = open(devnull, "w", closefd=False)  # noqa: SIM115
    io_in = _Reader(proto_in)

    header, _ = wire.receive(io_in)
    try:
        tree = check_source(header["source"])
        isolation = lockdown(header.get("limits", {}))
        disarm_numpy()
        namespace = {"__builtins__": candidate_builtins(), "__name__": "candidate"}
        exec(compile(tree, "<candidate>", "exec"), namespace)  # the one sanctioned exec, locked down
        factory = namespace.get("make_controller")
        if not callable(factory):
            raise Rejected("the module defines no make_controller(beta)")
    except BaseException as err:  # report anything, including a crash at import
        wire.send(proto_out, {"kind": "error", "error": _describe(err)})
        return 1
    wire.send(proto_out, {"kind": "ready", "isolation": isolation})
    controller = None
    while True:
        try:
            header, arrays = wire.receive(io_in)
        except EOFError:
            return 0
        try:
            if header["kind"] == "start":
                controller = factory(float(header["beta"]))
                wire.send(proto_out, {"kind": "started", "live_only": bool(getattr(controller, "live_only", False))})
            elif header["kind"] == "act":
                obs = Observation(**arrays, n_classes=int(header["n_classes"]))
                actions = controller.act(obs)
                if not isinstance(actions, Actions):
                    raise TypeError(f"act() must return Actions, got {type(actions).__name__}")
                n, b = obs.n_episodes, obs.n_branches
                wire.send(proto_out, {"kind": "actions"}, {
                    "branch": _as(actions.branch, "int64", (n,)), "prune": _as(actions.prune, "bool", (n, b)),
                    "extend": _as(actions.extend, "int64", (n, b)), "probe": _as(actions.probe, "bool", (n, b)),
                    "answer": _as(actions.answer, "int64", (n,))})
            else:
                return 0
        except BaseException as err:
            wire.send(proto_out, {"kind": "error", "error": _describe(err)})
            return 1


class _Reader:
    """Blocking exact reads over a raw pipe."""

    def __init__(self, raw):
        self.raw = raw

    def read(self, n: int) -> bytes:
        return self.raw.read(n)


def _as(value, dtype: str, shape: tuple) -> "object":
    import numpy as np

    array = np.asarray(value)
    if array.shape != shape:
        raise ValueError(f"an Actions array has shape {array.shape}, expected {shape}")
    return array.astype(dtype)


def _describe(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}"
    return text if len(text) <= 400 else text[:400] + "..."


if __name__ == "__main__":
    sys.exit(main())
