"""The terminal's view of a running flow: a spinner with the elapsed time, and a bar with an ETA
for each stage the flow reports through `autotts.tasks.progress` (files ingested, replays done)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from autotts.tasks.progress import listening

STAGES = {"ingest": "files ingested", "replay": "replays (controllers x betas x permutations)",
          "candidates": "candidates scored (this rung of the round)"}


@contextlib.contextmanager
def flow_progress(console: Console, description: str) -> Iterator[None]:
    """Show progress on the console's terminal while the block runs a flow (nothing when the
    console is quiet or not a terminal)."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                        transient=True, disable=console.quiet or not console.is_terminal)
    stages: dict[str, TaskID] = {}

    def advance(stage: str, done: int, total: int | None) -> None:
        if stage not in stages:
            stages[stage] = progress.add_task(f"  {STAGES.get(stage, stage)}", total=total)
        elif total is not None:  # the stage starts again (e.g. another replay in the same flow)
            progress.reset(stages[stage], total=total)
        progress.advance(stages[stage], done)

    with progress, listening(advance):
        progress.add_task(description, total=None)
        yield
