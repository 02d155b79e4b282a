"""How Prefect runs under `autotts`: its logs go to a log file always, to the terminal only with
`--verbose`; no telemetry; a patient start-up for its temporary server. Set up before Prefect is
imported (it reads its settings at import, and the temporary API server it starts inherits them
through the environment)."""
from __future__ import annotations

import os
from pathlib import Path

from autotts.trajectories.bank_cache import cache_root

CONFIG = Path(__file__).resolve().parent / "prefect_logging.yml"
MAX_LOG_BYTES = 10_000_000  # beyond this, the log is rotated once (autotts.log -> autotts.log.1)


def log_path() -> Path:
    return Path(os.environ.get("AUTOTTS_LOG_FILE") or cache_root() / "autotts.log")


def configure(verbose: bool) -> Path:
    """Send Prefect's records to the log file (and to stderr when verbose); returns the log's path.
    A user's own PREFECT_LOGGING_SETTINGS_PATH is respected."""
    os.environ.setdefault("DO_NOT_TRACK", "1")  # telemetry would retry against a closed network
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Prefect waits 20 s for its temporary server, which a busy machine can exceed on a first run
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except OSError:
        path = Path(os.devnull)  # an unwritable home must not stop a run
    os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", str(CONFIG))
    os.environ["PREFECT_LOGGING_HANDLERS_LOGFILE_FILENAME"] = str(path)
    os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "INFO" if verbose else "CRITICAL"
    return path
