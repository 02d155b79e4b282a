"""Compare the synthetic bank's statistics with the real AutoTTS stores (docs/synthetic-data.md).

    python bench/calibration.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._shared import BENCHMARKS, MODELS, have_stores, store  # noqa: E402
from autotts.trajectories.banking import build_bank, load_bank  # noqa: E402
from autotts.trajectories.stats import bank_statistics  # noqa: E402
from autotts.trajectories.synthetic import generate  # noqa: E402


def main() -> int:
    columns: dict[str, dict[str, float]] = {}
    if have_stores():
        for model in MODELS:
            banks = [load_bank([store(model, bench)]) for bench in BENCHMARKS]
            for bench, bank in zip(BENCHMARKS, banks):
                columns[f"{model} {bench}"] = bank_statistics(bank)
    synthetic = build_bank(generate(), synthetic=True)
    for (bench, model), questions in synthetic.groups().items():
        columns[f"SYNTHETIC {model.removeprefix('synthetic-')} {bench.removeprefix('synthetic-')}"] = \
            bank_statistics(synthetic.subset(questions))
    names = list(columns)
    print("| statistic | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for stat in next(iter(columns.values())):
        print(f"| {stat} | " + " | ".join(f"{columns[n][stat]:.3g}" for n in names) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
