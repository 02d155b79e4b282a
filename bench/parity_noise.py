"""How much of the held-out parity shortfall is measurement noise: the paper's controller against
its own published rows at a given number of permutations, and what pooling its rows with
`discovered`'s gives.

The published AutoTTS rows are means over 100 shuffles of branch order; docs/results.md measures
ours on fewer (20) to keep a night short. This replays, on AIME25 and HMMT25 of the three models
(reference answer semantics), at each number of permutations asked for:

- `cmc`, the paper's controller, on the baselines' 11 β: on 100 shuffles it reproduces its rows to
  the last digit, so its shortfall at fewer shuffles measures the check's own noise;
- `discovered`, the shipped controller, on its own β grid;
- both controllers' rows pooled into one curve, the best pooled row taken at each published budget
  of each held-out cell: hindsight, what a table holding the paper's operating points beside its
  own could reach at best.

Each goes through the held-out rule of docs/results.md (`bench/claims.py`).

    python bench/parity_noise.py [--permutations 20 100] [--out docs/results.md]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench._shared import have_stores, replace_section  # noqa: E402
from bench.claims import (HELD_OUT, PUBLISHED_PERMUTATIONS, PublishedCell, curve, published_cells,  # noqa: E402
                          split_bank)
from replay_core.baselines import BASELINES, ENVELOPE_BETAS, discovered  # noqa: E402

SECTION = "parity-noise"
POOLED = "pooled"


def measure(permutations: int) -> dict[str, list[PublishedCell]]:
    """The held-out cells of cmc, discovered and both pooled at `permutations` shuffles."""
    bank = split_bank(HELD_OUT)
    ours = curve(bank, discovered.make_controller,
                 [float(b) for b in np.linspace(0, 1, len(discovered.GENOME["rows"]))], permutations)
    paper = curve(bank, BASELINES["cmc"].make_controller, list(ENVELOPE_BETAS), permutations)
    return {name: published_cells(bank, points, permutations)
            for name, points in (("cmc", paper), ("discovered", ours), (POOLED, ours + paper))}


def report(results: dict[int, dict[str, list[PublishedCell]]]) -> str:
    shown = " ".join(str(p) for p in results)
    cells = next(iter(next(iter(results.values())).values()))
    lines = [
        "## How much of the parity shortfall is measurement noise",
        "",
        f"Produced by `python bench/parity_noise.py --permutations {shown}`: the held-out rule above "
        "applied at each number of shuffles to the paper's controller (`cmc`, which gives its published "
        "rows to the last digit on the 100 shuffles they average), to `discovered`, and to both "
        "controllers' rows pooled, the best pooled row taken on each held-out cell (hindsight). Cells: "
        "the curve's best accuracy within the published β=0.5 and β=1.0 budgets (published figure in "
        "brackets), ✓ where both reach it. SC@64: its accuracy reached with ≤ 25 % of its tokens and no "
        "more sequential tokens.",
        "",
        "| permutations | curve | parity | SC@64 cheaply | "
        + " | ".join(f"{c.model}/{c.benchmark}" for c in cells) + " |",
        "|---|---|---|---|" + "---|" * len(cells),
    ]
    for permutations, curves in results.items():
        for name, cells in curves.items():
            row = [str(permutations), name, _count(cells, "matches_published"), _count(cells, "reaches_sc64_cheaply")]
            row += [" / ".join(f"{c.ours_at_published[b]:.1f} ({c.published[b][0]:.1f})" for b in ("0.5", "1.0"))
                    + (" ✓" if c.matches_published else "") for c in cells]
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for permutations, curves in results.items():
        parity, cheap = ({name: _count(cells, check) for name, cells in curves.items()}
                         for check in ("matches_published", "reaches_sc64_cheaply"))
        lines.append(f"- On {permutations} permutations, parity: `cmc` {parity['cmc']}, `discovered` "
                     f"{parity['discovered']}, pooled {parity[POOLED]}; SC@64 cheaply: `cmc` {cheap['cmc']}, "
                     f"`discovered` {cheap['discovered']}, pooled {cheap[POOLED]} (the targets for `discovered`: "
                     "≥ 5 and ≥ 4 of 6).")
    lines += ["", "Parity is read to the published figure's shown digit, while the figure itself is a mean over "
              "100 shuffles: on fewer, a row's accuracy moves by more than that digit, so the check can fail "
              "the controller that set it."]
    if PUBLISHED_PERMUTATIONS in results:
        lines[-1] += (f" On {PUBLISHED_PERMUTATIONS} shuffles the pooled rows hold the paper's own β=0.5 and "
                      "β=1.0 rows, so their parity there is by construction.")
    return "\n".join(lines)


def _count(cells: list[PublishedCell], check: str) -> str:
    return f"{sum(getattr(c, check) for c in cells)} of {len(cells)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--permutations", type=int, nargs="+", default=[20, 100],
                        help="numbers of branch-order shuffles to measure at (default: 20 100)")
    parser.add_argument("--out", default=None, help="replace the parity-noise section of this Markdown file")
    args = parser.parse_args()
    if not have_stores():
        print("error: the real AutoTTS stores are not in ../shared/data/autotts-replay", file=sys.stderr)
        return 2
    results = {}
    for permutations in args.permutations:
        started = time.monotonic()
        results[permutations] = measure(permutations)
        print(f"{permutations} permutations: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    text = report(results)
    print(text)
    if args.out:
        replace_section(Path(args.out), SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
