"""The `autotts` command: the parser, assembled from one module per command group
(`autotts.commands`), and the one place every error is turned into a line or a bug report."""
from __future__ import annotations

import os
import sys

from autotts import __version__, logs
from autotts.arguments import Parser
from autotts.commands import banks, discover, evaluate, live, warehouse
from autotts.commands._shared import console
from autotts.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, report

# The order `autotts --help` lists the command groups in: first steps, then discovery, then storage.
GROUPS = (evaluate, discover, banks, warehouse, live)


def build_parser() -> Parser:
    parser = Parser(
        prog="autotts",
        description="Discover test-time-scaling strategies by replaying stored reasoning trajectories.",
        epilog="Start with `autotts demo`, then `autotts evaluate --help`. Docs: docs/controller-api.md.",
    )
    parser.add_argument("--version", action="version", version=f"autotts {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    verbose = getattr(args, "verbose", False)
    console.quiet = getattr(args, "quiet", False)
    logs.configure(verbose)  # before any flow imports Prefect
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `autotts ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as err:  # noqa: BLE001 - every error ends here: one line, or a bug report
        return report(err, verbose)


if __name__ == "__main__":
    sys.exit(main())
