"""An on-disk cache of built banks, keyed by the input files' content.

Grading thousands of distinct answer strings with math-verify takes seconds per benchmark; the
cache makes the second load of the same files instant. Entries are keyed by a hash of the files'
bytes, the answer mode and `CACHE_VERSION`, so an edited file or a changed grader never hits a
stale entry. The cache is a local convenience, written atomically; delete it at will.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

from replay_core.bank import Bank
from trajectories.equivalence import Mode

CACHE_VERSION = 2


def cache_dir() -> Path:
    return Path(os.environ.get("AUTOTTS_CACHE_DIR") or Path.home() / ".cache" / "autotts" / "banks")


def cache_key(paths: list[str | Path], mode: Mode) -> str:
    digest = hashlib.sha256(f"v{CACHE_VERSION}|{mode}".encode())
    for path in paths:
        digest.update(Path(path).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def load_cached(key: str) -> Bank | None:
    path = cache_dir() / f"{key}.pkl"
    try:
        with open(path, "rb") as handle:
            bank = pickle.load(handle)
        return bank if isinstance(bank, Bank) else None
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None


def store(key: str, bank: Bank) -> None:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{key}.{os.getpid()}.tmp"
        with open(tmp, "wb") as handle:
            pickle.dump(bank, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{key}.pkl")
    except OSError:
        pass  # a read-only home is no reason to fail an evaluation
