"""What the `autotts` command tells a user when something goes wrong, and with which exit code.

Every expected failure becomes one line on stderr (what was wrong, where, what to do) and a
documented exit code; a traceback is shown only with `--verbose`, or for an unexpected exception
(a bug in autotts), and then with a request to report it.
"""
from __future__ import annotations

import sys
import traceback

from replay_core.controller import ControllerError
from replay_core.env import InvalidAction
from autotts.trajectories.schema import FormatError
from autotts.warehouse.db import WarehouseBusy

EXIT_RUN_FAILED = 1   # the run itself failed (or `doctor` found errors); inputs were fine
EXIT_BAD_INPUT = 2    # bad arguments, files, warehouse, controller or configuration; nothing was changed
EXIT_BUG = 3          # an unexpected exception: a bug in autotts
EXIT_BROKEN_PIPE = 141  # the reader of stdout went away (`autotts ... | head`), as a shell reports SIGPIPE
EXIT_INTERRUPTED = 130

BUG_HINT = "this is a bug in autotts: please report it with the traceback above (rerun with --verbose for more)"


class UserError(Exception):
    """Bad input the user can fix; the message says what, where and what to do."""


class RunFailed(Exception):
    """A run failed although its inputs were valid (e.g. a controller crashed in a flow)."""


# Failures of the environment rather than of the input or of autotts, by the start of their message.
ENVIRONMENT_FAILURES = {
    "Timed out while attempting to connect to ephemeral Prefect API server":
        "Prefect's temporary server did not start in time (a busy machine?): retry, raise "
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or start one (`prefect server start`) and set PREFECT_API_URL",
}


EXPECTED: tuple[type[BaseException], ...] = (UserError, FormatError, ControllerError, InvalidAction, WarehouseBusy,
                                            FileNotFoundError, IsADirectoryError, PermissionError, ValueError)


def one_line(text: str) -> str:
    """A message folded onto one line (DuckDB and others put hints on further lines)."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def describe(err: BaseException) -> str:
    """The one-line message for an expected error."""
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or err}"
    return one_line(str(err)) or type(err).__name__


def exit_code(err: BaseException) -> int:
    return EXIT_RUN_FAILED if isinstance(err, RunFailed) else EXIT_BAD_INPUT


def report(err: BaseException, verbose: bool) -> int:
    """Print what went wrong and return the exit code: one line for expected errors, the
    traceback and a request to report it for anything else."""
    known = next((text for start, text in ENVIRONMENT_FAILURES.items() if str(err).startswith(start)), None)
    if known:
        replacement = RunFailed(known)
        replacement.__cause__ = err  # --verbose still shows the original
        err = replacement
    if isinstance(err, (RunFailed,) + EXPECTED):
        if verbose:
            traceback.print_exception(err)
        print(f"error: {describe(err)}", file=sys.stderr, flush=True)
        return exit_code(err)
    traceback.print_exception(err)
    print(f"error: {BUG_HINT}", file=sys.stderr, flush=True)
    return EXIT_BUG
