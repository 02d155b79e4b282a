"""Locating the reference data in ../shared, and reading its published results table."""
from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("AUTOTTS_SHARED", ROOT.parent / "shared"))
STORES = SHARED / "data" / "autotts-replay"
MODELS = ("Qwen3-0.6B", "Qwen3-1.7B", "Qwen3-4B")
BENCHMARKS = ("aime24", "aime25", "hmmt25")


def store(model: str, benchmark: str) -> Path:
    return STORES / model / f"{benchmark}.json"


def have_stores() -> bool:
    return all(store(m, b).is_file() for m in MODELS for b in BENCHMARKS)


def published_table() -> dict[tuple[str, str, str], tuple[float, float]]:
    """(model, method, benchmark) -> (accuracy %, tokens per question) from ../shared/data/README.md."""
    text = (SHARED / "data" / "README.md").read_text(encoding="utf-8")
    table: dict[tuple[str, str, str], tuple[float, float]] = {}
    model = None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 8 or not re.match(r"^[\d.]+$", cells[2] or ""):
            continue
        model = cells[0] or model
        for i, bench in enumerate(BENCHMARKS):
            acc, tok = cells[2 + 2 * i], cells[3 + 2 * i]
            table[(model, cells[1], bench)] = (float(acc), float(tok.rstrip("k")) * 1000)
    return table


def replace_section(path: Path, name: str, text: str) -> None:
    """Put `text` between the `<!-- name:start -->` and `<!-- name:end -->` markers of a Markdown
    file (appended, with its markers, if they are missing), so that each generating script owns
    one section of a shared document."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    document = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{start}\n{text.strip()}\n{end}"
    if start in document and end in document:
        head, rest = document.split(start, 1)
        document = head + block + rest.split(end, 1)[1]
    else:
        document = document.rstrip("\n") + ("\n\n" if document else "") + block + "\n"
    path.write_text(document, encoding="utf-8")
