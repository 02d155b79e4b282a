"""`autotts bank synth|stats` and `autotts convert`: make, inspect and convert trajectory files."""
from __future__ import annotations

import argparse
import json

from rich.table import Table

from autotts import checks
from autotts.commands._shared import console, out_console
from autotts.live.engines import positive_int


def cmd_bank_synth(args: argparse.Namespace) -> int:
    from autotts.trajectories.synthetic import generate
    from autotts.trajectories.writers import write_any

    checks.output_file(args.out, (".parquet", ".jsonl"))
    records = generate(questions=args.questions, trajectories=args.trajectories, seed=args.seed)
    write_any(records, args.out)
    console.print(f"wrote {len(records)} SYNTHETIC trajectories to {args.out}")
    return 0


def cmd_bank_stats(args: argparse.Namespace) -> int:
    from autotts.trajectories.banking import load_bank
    from autotts.trajectories.stats import bank_statistics

    bank = load_bank(args.files, mode=args.answers)
    rows = {f"{b} / {m}": bank_statistics(bank.subset(q)) for (b, m), q in bank.groups().items()}
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(title=("SYNTHETIC bank: " if bank.synthetic else "") + "statistics")
    table.add_column("statistic")
    for name in rows:
        table.add_column(name, justify="right")
    for stat in next(iter(rows.values())):
        table.add_row(stat, *(f"{r[stat]:.3g}" for r in rows.values()))
    out_console.print(table)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from autotts.trajectories.readers import read_any
    from autotts.trajectories.writers import write_any

    checks.input_files(args.files)
    checks.output_file(args.out, (".parquet", ".jsonl"))
    records = []
    for path in args.files:
        records.extend(read_any(path))
    write_any(records, args.out)
    console.print(f"wrote {len(records)} trajectories from {len(args.files)} file(s) to {args.out}")
    return 0


def register(sub) -> None:
    bank = sub.add_parser("bank", help="make or inspect trajectory banks")
    bank_sub = bank.add_subparsers(dest="bank_command", required=True, metavar="ACTION")
    synth = bank_sub.add_parser("synth", help="write the SYNTHETIC default bank (seeded)")
    synth.add_argument("--out", required=True, help="output file (.parquet or .jsonl)")
    synth.add_argument("--seed", type=int, default=0, help="random seed")
    synth.add_argument("--questions", type=positive_int, default=30, help="questions per benchmark (default 30)")
    synth.add_argument("--trajectories", type=positive_int, default=64, help="trajectories per question (default 64)")
    synth.set_defaults(func=cmd_bank_synth)
    stats = bank_sub.add_parser("stats", help="statistics per benchmark and model (calibration)")
    stats.add_argument("files", nargs="+", metavar="FILE")
    stats.add_argument("--answers", choices=("math", "exact"), default="math",
                       help="math: equivalence classes; exact: string answers")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_bank_stats)

    convert = sub.add_parser("convert", help="convert AutoTTS stores or interchange files to Parquet/JSONL")
    convert.add_argument("files", nargs="+", metavar="FILE")
    convert.add_argument("--out", required=True, help="output file (.parquet or .jsonl)")
    convert.set_defaults(func=cmd_convert)
