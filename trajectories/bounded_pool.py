"""Run functions in worker processes with a hard wall-clock bound per call.

math-verify's own time limits use SIGALRM, which only works on the main thread (not inside
Prefect's task threads) and cannot interrupt long C-level big-number arithmetic anyway. So the
bound here is a kill: each call is sent to a worker process, and a worker that has not answered
by the deadline is killed and replaced; the call raises `CallTimedOut`. Callers on any thread
may share one pool: each call takes an idle worker, so N threads keep N workers busy.

Workers are fresh interpreters (no fork of a threaded parent) that run an initializer before they
report ready, so imports and warm-up never count against a call's deadline.
"""
from __future__ import annotations

import importlib
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Callable, Iterable

STARTUP_TIMEOUT_S = 120.0


class CallTimedOut(Exception):
    """A call did not finish within its bound; its worker was killed."""


class WorkerFailed(RuntimeError):
    """A worker died or raised instead of answering."""


@dataclass
class PoolCounters:
    """What the pool has done, for tests and statistics: every call ends as completed or timed out."""

    calls: int = 0
    completed: int = 0
    timed_out: int = 0
    workers_started: int = 0


def _serve(requests: Connection, replies: Connection, initializer: str | None) -> None:
    """Worker main loop: answer `(fn, args)` requests until the pipe closes."""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    if initializer:
        module, name = initializer.split(":")
        getattr(importlib.import_module(module), name)()
    replies.send("ready")
    while True:
        try:
            fn, args = requests.recv()
        except (EOFError, OSError):
            return
        try:
            replies.send((True, fn(*args)))
        except Exception as err:  # reported to the caller, the worker lives on
            replies.send((False, f"{type(err).__name__}: {err}"))


def _exit_with_parent(parent: int) -> None:
    """A worker whose caller died (killed mid-call, say) must not compute on for ever."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


class _Worker:
    """One worker: a fresh interpreter (`python -m autotts.trajectories.bounded_pool`) with our sys.path,
    talking over two pipes. A plain subprocess, not multiprocessing's spawn, so that the caller's
    main script is never re-imported in the worker."""

    def __init__(self, initializer: str | None):
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(request_r), str(reply_w), initializer or ""],
            pass_fds=(request_r, reply_w), env=env, stdin=subprocess.DEVNULL)
        os.close(request_r)
        os.close(reply_w)
        self.requests = Connection(request_w, readable=False)
        self.replies = Connection(reply_r, writable=False)
        try:
            ready = self.replies.poll(STARTUP_TIMEOUT_S) and self.replies.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise WorkerFailed("a bounded worker did not start")

    def call(self, fn: Callable, args: tuple, timeout_s: float) -> Any:
        self.requests.send((fn, args))
        if not self.replies.poll(timeout_s):
            raise CallTimedOut
        ok, value = self.replies.recv()
        if not ok:
            raise WorkerFailed(value)
        return value

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)
        self.requests.close()
        self.replies.close()


class BoundedPool:
    """`size` worker processes (started on first use); `call` runs one function with a deadline."""

    def __init__(self, size: int, initializer: str | None = None):
        """`initializer`, as "module:function", runs in each worker before it takes calls."""
        self.size = max(1, size)
        self.initializer = initializer
        self.counters = PoolCounters()
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(self.size):
            self._idle.put(None)  # a slot: a worker is started when a call first needs it
        self._lock = threading.Lock()

    def call(self, fn: Callable, *args, timeout_s: float) -> Any:
        """fn(*args) in a worker; raises `CallTimedOut` (worker replaced) past `timeout_s` seconds."""
        worker = self._idle.get()
        try:
            if worker is None:
                worker = _Worker(self.initializer)
                self._count("workers_started")
            self._count("calls")
            try:
                value = worker.call(fn, args, timeout_s)
            except CallTimedOut:
                worker.kill()
                worker = None
                self._count("timed_out")
                raise
            except (EOFError, OSError, WorkerFailed) as err:
                if not isinstance(err, WorkerFailed) or not worker.alive():
                    worker.kill()
                    worker = None
                raise WorkerFailed(str(err)) from None
            self._count("completed")
            return value
        finally:
            self._idle.put(worker)

    def map(self, fn: Callable, items: Iterable[tuple], timeout_s: float,
            fallback: Callable[[tuple, Exception], Any]) -> list:
        """fn(*item) for every item, spread over the workers; a call that times out or fails gives
        `fallback(item, error)` instead."""
        def one(item: tuple):
            try:
                return self.call(fn, *item, timeout_s=timeout_s)
            except (CallTimedOut, WorkerFailed) as err:
                return fallback(item, err)

        items = list(items)
        if len(items) <= 1:
            return [one(item) for item in items]
        with ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="bounded-pool") as threads:
            return list(threads.map(one, items))

    def close(self) -> None:
        """Stop the idle workers (busy ones stop after their call, or with this process); a later
        call starts fresh ones. Never blocks, so it is safe at interpreter exit."""
        drained = []
        while True:
            try:
                drained.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for worker in drained:
            if worker is not None:
                worker.kill()
            self._idle.put(None)

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self.counters, name, getattr(self.counters, name) + 1)


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False), sys.argv[3])
