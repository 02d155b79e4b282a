"""What every command module shares: the consoles, progress bars, option helpers and tables."""
from __future__ import annotations

import argparse

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from replay_core.metrics import Point

# Lines never wrap: stderr notes are soft-wrapped, and tables written to a file or pipe are as wide as they need.
console = Console(stderr=True, soft_wrap=True)
out_console = Console(width=None if Console().is_terminal else 1000)


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=True,
                    disable=console.quiet or not console.is_terminal)


def split(values: list[str] | None) -> list[str] | None:
    """Repeatable, comma-separated options -> a list (None when not given)."""
    if not values:
        return None
    return [v for item in values for v in item.split(",") if v]


def add_selection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bank-id", action="append", metavar="ID", help="warehouse bank id (repeatable)")
    parser.add_argument("--benchmark", action="append", metavar="NAME", help="only these benchmarks (repeatable, comma-separated)")
    parser.add_argument("--model", action="append", metavar="NAME", help="only these models (repeatable, comma-separated)")


def betas_of(args: argparse.Namespace) -> list[float]:
    """--beta, --betas or the default grid (pinned knobs usually fix the operating point: one beta)."""
    if args.beta is not None:
        return [args.beta]
    if args.betas is None:
        return [1.0] if args.set else [float(b) for b in np.linspace(0.0, 1.0, 5)]
    return [float(b) for b in np.linspace(0.0, 1.0, args.betas)]


def print_points(name: str, points: list[Point], synthetic: bool) -> None:
    table = Table(title=f"{name}" + ("  [SYNTHETIC data]" if synthetic else ""))
    for col in ("benchmark", "model", "beta", "accuracy", "95% CI", "tokens/question", "rounds", "seq. tokens"):
        table.add_column(col, justify="right" if col not in ("benchmark", "model") else "left")
    for p in points:
        table.add_row(p.benchmark, p.model, f"{p.beta:.2f}", f"{100 * p.accuracy:.1f}%",
                      f"{100 * p.accuracy_low:.0f}-{100 * p.accuracy_high:.0f}%", f"{p.tokens / 1000:.1f}k",
                      f"{p.rounds:.1f}", f"{p.seq_tokens / 1000:.1f}k")
    out_console.print(table)
