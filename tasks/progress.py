"""Progress of a flow's units of work, for whoever runs the flow in this process (the `autotts`
command draws its bars from it; Prefect's UI shows task runs instead). Tasks that run in other
processes (a Dask cluster) report nothing, and with no listener a report costs nothing."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

Listener = Callable[[str, int, "int | None"], None]
_listeners: list[Listener] = []


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call `listener(stage, done, total)` for every report made while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def report(stage: str, done: int = 1, total: int | None = None) -> None:
    """`done` more units of `stage` finished; `total`, when given, is the stage's size."""
    for listener in list(_listeners):
        listener(stage, done, total)
