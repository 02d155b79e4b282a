"""The on-disk cache of built banks and bank snapshots, with a size cap.

Grading thousands of distinct answer strings with math-verify takes seconds per benchmark; the
`banks/` entries make the second load of the same files instant. They are keyed by a hash of the
files' bytes, the answer mode and `CACHE_VERSION`, so an edited file or a changed grader never hits
a stale entry. The `snapshots/` entries are the banks that flows hand to their replay workers
(see `autotts.tasks.evaluate.snapshot_bank`), named by a hash of their content so that equal selections
share one file and a worker's in-memory copy can never be stale.

Everything lives under one folder (`AUTOTTS_CACHE_DIR`, default `~/.cache/autotts`), written
atomically; after each write the oldest entries are removed while the folder is larger than
`AUTOTTS_CACHE_MAX_MB` (default 4096). `autotts cache clear` empties it. Delete it at will.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

from replay_core.bank import Bank
from autotts.trajectories.equivalence import Mode

CACHE_VERSION = 2
DEFAULT_MAX_MB = 4096
KINDS = ("banks", "snapshots")


def cache_root() -> Path:
    return Path(os.environ.get("AUTOTTS_CACHE_DIR") or Path.home() / ".cache" / "autotts")


def cache_dir(kind: str = "banks") -> Path:
    return cache_root() / kind


def max_bytes() -> int:
    return int(float(os.environ.get("AUTOTTS_CACHE_MAX_MB") or DEFAULT_MAX_MB) * 1e6)


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


def _write(folder: Path, name: str, data: bytes) -> Path:
    """Write atomically, then trim the cache to its cap (never removing what was just written)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tmp = folder / f"{name}.{os.getpid()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)
    trim(keep=path)
    return path


def store(key: str, bank: Bank) -> None:
    try:
        _write(cache_dir(), f"{key}.pkl", pickle.dumps(bank, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only home is no reason to fail an evaluation


def store_snapshot(bank: Bank) -> Path:
    """The bank as a file replay workers load, named by its content."""
    data = pickle.dumps(bank, protocol=pickle.HIGHEST_PROTOCOL)
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.pkl"
    existing = cache_dir("snapshots") / name
    if existing.exists():
        existing.touch()  # recently used: the last to be trimmed
        return existing
    return _write(cache_dir("snapshots"), name, data)


_SNAPSHOTS: dict[str, Bank] = {}


def load_snapshot(path: str | Path) -> Bank:
    """A bank snapshot written by `store_snapshot`, read once per process: replay tasks of one
    run share a worker process and would otherwise unpickle the same bank per task."""
    key = str(path)
    if key not in _SNAPSHOTS:
        with open(key, "rb") as handle:
            _SNAPSHOTS[key] = pickle.load(handle)
    return _SNAPSHOTS[key]


def entries() -> list[Path]:
    """Every cache file, oldest first."""
    files = [p for kind in KINDS if (cache_dir(kind)).is_dir() for p in cache_dir(kind).iterdir() if p.is_file()]
    return sorted(files, key=lambda p: p.stat().st_mtime)


def trim(keep: Path | None = None, limit: int | None = None) -> list[Path]:
    """Remove the oldest entries while the cache is larger than `limit` bytes; returns them."""
    limit = max_bytes() if limit is None else limit
    files = entries()
    total = sum(p.stat().st_size for p in files)
    removed = []
    for path in files:
        if total <= limit:
            break
        if path == keep:
            continue
        total -= path.stat().st_size
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def clear() -> tuple[int, int]:
    """Empty the cache; returns (files removed, bytes freed)."""
    files = entries()
    freed = sum(p.stat().st_size for p in files)
    for path in files:
        path.unlink(missing_ok=True)
    return len(files), freed
