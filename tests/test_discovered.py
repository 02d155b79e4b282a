"""The shipped `discovered` controller: listed, documented with its provenance, and its stated
held-out figures reproduced on the real stores (skipped where ../shared is absent)."""
from __future__ import annotations

import re

import numpy as np
import pytest

from bench._shared import have_stores
from replay_core.baselines import BASELINES, discovered


def test_discovered_is_a_built_in_with_its_provenance():
    entry = BASELINES["discovered"]
    assert not entry.hand_made and entry.knobs == {}
    doc = discovered.__doc__
    for needed in ("python bench/real_discovery.py", "seed", "run ", "search-split gain", "held out"):
        assert needed in doc
    assert entry.beta_map.startswith("beta ->")


@pytest.mark.skipif(not have_stores(), reason="the real AutoTTS stores are not in ../shared/data/autotts-replay")
def test_discovered_reproduces_its_stated_held_out_figures():
    from bench.claims import HELD_OUT, curve, published_cells, split_bank

    stated = re.search(r"with (\d+) permutations.*?on (\d+) of (\d+) cells, and reaches SC@64's accuracy with at "
                       r"most 25 % of its tokens and no more sequential tokens on (\d+) of", " ".join(discovered.__doc__.split()))
    assert stated, "the docstring states no held-out figures"
    permutations, matched, cells, cheap = (int(g) for g in stated.groups())
    held = split_bank(HELD_OUT)
    rows = len(discovered.GENOME["rows"])
    betas = [float(b) for b in np.linspace(0, 1, rows)]
    measured = published_cells(held, curve(held, discovered.make_controller, betas, permutations), permutations)
    assert len(measured) == cells
    assert sum(c.matches_published for c in measured) == matched
    assert sum(c.reaches_sc64_cheaply for c in measured) == cheap


def test_the_headroom_scan_replays_grammar_programs_that_read_back_as_written():
    """bench/headroom.py's families are grammar programs that read back exactly as written (no knob
    clamped into another configuration than its label says) and replay through the same code as
    discovery's; first-k never waits for more branches than it opens, and no configuration repeats."""
    from autotts.explorer.grammar import genome_of, render, row_key
    from bench.headroom import families

    scanned = families()
    for name, genome in scanned.items():  # nothing clamped or rounded away: each row runs as written
        assert genome_of(render(genome)) == genome, name
    assert all(row["k_max"] <= row["width"] == row["max_width"] for row in scanned["first-k of W"].rows)
    assert len({row_key(row) for row in scanned["first-k of W"].rows}) == len(scanned["first-k of W"].rows)
