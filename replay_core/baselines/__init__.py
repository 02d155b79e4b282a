"""Built-in controllers: the published test-time-scaling baselines, each `make_controller(beta)`.

Every baseline documents its beta -> knob map and accepts its native knobs as keyword arguments
(`autotts evaluate --set k=64`), so published operating points can be reproduced exactly.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np

from replay_core.baselines import (adaptive_consistency, confidence_momentum, deepconf, discovered, early_stopping,
                                   first_finish, parallel_probe, self_consistency)


@dataclass(frozen=True)
class Baseline:
    name: str
    title: str
    make_controller: Callable
    knobs: dict[str, object]
    needs_confidence: bool = False
    hand_made: bool = True  # False: found by AutoTTS discovery (ours or the paper's); not part of the baseline envelope

    @property
    def summary(self) -> str:
        """The first line of the factory's docstring."""
        return (inspect.getdoc(self.make_controller) or "").split("\n")[0]

    @property
    def beta_map(self) -> str:
        """The docstring's "beta -> ..." sentence: how beta sets the knobs."""
        doc = " ".join((inspect.getdoc(self.make_controller) or "").split())
        start = doc.find("beta ->")
        end = doc.find(". ", start)
        return (doc[start:end + 1] if end >= 0 else doc[start:]) if start >= 0 else ""

    @property
    def source(self) -> str:
        """The module's code: a self-contained candidate (it imports only `replay_core`), so a
        discovery run can start from it (`--start-from`)."""
        return inspect.getsource(inspect.getmodule(self.make_controller))


def _knobs(factory: Callable) -> dict[str, object]:
    params = list(inspect.signature(factory).parameters.values())[1:]
    return {p.name: p.default for p in params}


BASELINES: dict[str, Baseline] = {
    b.name: b for b in (
        Baseline("sc", "Self-Consistency@k", self_consistency.make_controller, _knobs(self_consistency.make_controller)),
        Baseline("asc", "Adaptive-Consistency", adaptive_consistency.make_controller, _knobs(adaptive_consistency.make_controller)),
        Baseline("esc", "Early-Stopping SC", early_stopping.make_controller, _knobs(early_stopping.make_controller)),
        Baseline("parallel-probe", "Parallel-Probe", parallel_probe.make_controller, _knobs(parallel_probe.make_controller)),
        Baseline("first-k", "First-k-to-finish", first_finish.make_controller, _knobs(first_finish.make_controller)),
        Baseline("deepconf", "DeepConf (online)", deepconf.make_controller, _knobs(deepconf.make_controller), needs_confidence=True),
        Baseline("cmc", "Confidence Momentum (the AutoTTS paper's)", confidence_momentum.make_controller,
                 _knobs(confidence_momentum.make_controller), hand_made=False),
        Baseline("discovered", "Discovered (AutoTTS)", discovered.make_controller, {}, hand_made=False),
    )
}


# The bar a candidate must clear: the envelope of these baselines' curves on this beta grid at matched
# budgets. The grid is fixed, whatever grid the candidate runs on: a denser one draws a higher
# envelope, and a score must not depend on a run's `--betas` (docs/discovery.md).
ENVELOPE = ("sc", "asc", "esc", "parallel-probe", "first-k")
ENVELOPE_BETAS = tuple(float(b) for b in np.linspace(0, 1, 11))


def builtin_sources(names: list[str]) -> dict[str, str]:
    """name -> module code of built-in controllers; an unknown name is refused in one line."""
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise ValueError(f"unknown built-in controller {', '.join(unknown)} (known: {', '.join(BASELINES)})")
    return {n: BASELINES[n].source for n in names}
