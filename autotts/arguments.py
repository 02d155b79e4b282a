"""The argument parser every `autotts` command uses: one-line errors, `--verbose`/`--quiet` on
every (sub)command, help pages with a description, examples and each option's default."""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from autotts.errors import EXIT_BAD_INPUT

# Shown under "examples:" at the end of a command's --help; keys are command paths.
EXAMPLES: dict[str, list[str]] = {
    "bank synth": ["autotts bank synth --out bank.parquet --questions 30 --trajectories 64"],
    "bank stats": ["autotts bank stats bank.parquet", "autotts bank stats store.json --answers exact --json"],
    "convert": ["autotts convert Qwen3-4B/aime24.json --out aime24.parquet"],
    "evaluate": ["autotts evaluate --bank bank.parquet --controller sc --betas 5",
                 "autotts evaluate --bank bank.parquet --controller sc --set k=16 --json",
                 "autotts evaluate --warehouse w.duckdb --controller mine.py --benchmark aime24 --model Qwen3-4B"],
    "ingest": ["autotts ingest bank.parquet --warehouse w.duckdb"],
    "sql": ["autotts sql \"SELECT * FROM leaderboard WHERE rank <= 3\" --warehouse w.duckdb"],
    "doctor": ["autotts doctor --warehouse w.duckdb"],
    "export": ["autotts export --warehouse w.duckdb --benchmark aime24 --out aime24.parquet"],
    "collect": ["autotts collect --problems problems.jsonl --model Qwen/Qwen3-0.6B --out raw.parquet --n 16"],
    "solve": ["autotts solve --controller first-k --problem \"What is 2+3?\" --model Qwen/Qwen3-0.6B"],
    "report": ["autotts report --warehouse w.duckdb --out report.html"],
    "baselines": ["autotts baselines", "autotts baselines --json"],
    "discover": ["autotts discover --warehouse w.duckdb --bank bank.parquet --search-benchmarks synthetic-aime "
                 "--holdout-benchmarks synthetic-hmmt",
                 "ANTHROPIC_API_KEY=... autotts discover --warehouse w.duckdb --explorer anthropic "
                 "--explorer-model claude-sonnet-4-5 --rounds 4"],
    "demo": ["autotts demo --out demo-output"],
    "cache clear": ["autotts cache clear"],
}

# Help for options that commands declare without one.
COMMON_HELP = {"--json": "print JSON (for scripts) instead of tables", "--warehouse": "the DuckDB warehouse file",
               "--seed": "random seed"}

EXIT_CODES = ("exit codes: 0 success; 1 the run failed (doctor: errors found); 2 bad input, nothing changed; "
              "3 a bug in autotts; 130 interrupted; 141 stdout closed early")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Appends an option's default to its help, unless the help already states it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default is None or default is False or default is argparse.SUPPRESS
                or not action.option_strings or isinstance(default, list)):
            return text
        return f"{text} (default: {default})" if text else f"default: {default}"


class SubCommands(argparse._SubParsersAction):
    """Gives each subcommand its one-line help as description and its examples as epilog."""

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        path = f"{self._prog_prefix.removeprefix('autotts').strip()} {name}".strip()
        kwargs.setdefault("description", kwargs.get("help"))
        examples = EXAMPLES.get(path)
        if examples:
            kwargs.setdefault("epilog", "examples:\n" + "\n".join(f"  {e}" for e in examples) + "\n\n" + EXIT_CODES)
        return super().add_parser(name, **kwargs)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and whose every command takes -v/-q."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", SubCommands)
        loudness = self.add_mutually_exclusive_group()
        # SUPPRESS: a subcommand's parse leaves the value the main parser set (both positions work)
        loudness.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                              help="show Prefect's logs and the traceback of any error")
        loudness.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                              help="print only results and errors (no progress, no notes)")

    def add_argument(self, *names, **kwargs) -> argparse.Action:
        if "help" not in kwargs and names and names[0] in COMMON_HELP:
            kwargs["help"] = COMMON_HELP[names[0]]
        return super().add_argument(*names, **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message} (see `{self.prog} --help`)", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_BAD_INPUT)

