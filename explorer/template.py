"""The controller family the offline explorer searches: a vote-and-stop controller whose every
knob is a beta map (value at beta=0, value at beta=1) stored in the module's GENOME literal.

It opens `width` branches, advances them `chunks` per round, optionally probes them, counts votes
(finished answers weigh 1, live probes `probe_weight`), prunes branches that keep disagreeing
with the leader, opens `grow` more while unsure, and answers once the leader holds `share` of
the votes with at least `min_votes` behind it and has led for `stable` rounds. Special cases of
it are SC@k, first-k-to-finish and Parallel-Probe, so search starts from the baselines and moves
between them.
"""
from __future__ import annotations

import ast
import json

# knob -> (kind, lowest allowed, highest allowed). Geometric knobs move multiplicatively with beta.
KNOBS: dict[str, tuple[str, float, float]] = {
    "width": ("geometric", 1, 64),
    "grow": ("linear", 0, 16),
    "max_width": ("geometric", 1, 64),
    "chunks": ("geometric", 1, 8),
    "probe_weight": ("linear", 0.0, 1.0),
    "share": ("linear", 0.3, 1.0),
    "min_votes": ("geometric", 1, 32),
    "stable": ("linear", 0, 12),
    "patience": ("linear", 0, 12),
    "max_rounds": ("geometric", 4, 120),
    "conf_weight": ("linear", 0.0, 30.0),
    "conf_margin": ("linear", 0.0, 0.5),
}

SEEDS: dict[str, dict[str, list[float]]] = {
    # vote over the first finishers: SC@1-cheap at beta=0, first-12-of-64 at beta=1
    "first-k": {"width": [1, 64], "grow": [0, 0], "max_width": [1, 64], "chunks": [1, 1], "probe_weight": [0, 0],
                "share": [0.3, 0.3], "min_votes": [1, 12], "stable": [0, 0], "patience": [0, 0], "max_rounds": [120, 120],
                "conf_weight": [0, 0], "conf_margin": [0, 0]},
    # the first finisher of a widening pool (short traces are more often right)
    "first-of-w": {"width": [1, 64], "grow": [0, 0], "max_width": [1, 64], "chunks": [1, 1], "probe_weight": [0, 0],
                   "share": [0.3, 0.3], "min_votes": [1, 3], "stable": [0, 0], "patience": [0, 0], "max_rounds": [120, 120],
                   "conf_weight": [0, 0], "conf_margin": [0, 0]},
    # stop as soon as the first finishers agree
    "first-agree": {"width": [2, 64], "grow": [0, 0], "max_width": [2, 64], "chunks": [1, 1], "probe_weight": [0, 0],
                    "share": [0.6, 0.75], "min_votes": [1, 4], "stable": [0, 0], "patience": [0, 0], "max_rounds": [120, 120],
                    "conf_weight": [0, 0], "conf_margin": [0, 0]},
    # Parallel-Probe-like: probe consensus with deviation pruning
    "probe-consensus": {"width": [2, 48], "grow": [0, 0], "max_width": [2, 48], "chunks": [1, 1], "probe_weight": [1, 1],
                        "share": [0.5, 0.7], "min_votes": [1, 16], "stable": [1, 10], "patience": [6, 8], "max_rounds": [60, 120],
                        "conf_weight": [0, 0], "conf_margin": [0, 0]},
    # start narrow, widen while unsure (ASC-like, but in parallel)
    "adaptive-width": {"width": [1, 16], "grow": [1, 8], "max_width": [4, 64], "chunks": [2, 1], "probe_weight": [0.3, 0.5],
                       "share": [0.6, 0.8], "min_votes": [1, 8], "stable": [1, 3], "patience": [0, 6], "max_rounds": [40, 120],
                       "conf_weight": [0, 0], "conf_margin": [0, 0]},
    # confidence-guided at low budgets, many early finishers at high budgets
    "confident-then-wide": {"width": [4, 64], "grow": [1, 0], "max_width": [16, 64], "chunks": [1, 1],
                            "probe_weight": [0, 0], "share": [0.7, 0.4], "min_votes": [1, 3], "stable": [0, 0],
                            "patience": [0, 0], "max_rounds": [120, 120], "conf_weight": [10, 4],
                            "conf_margin": [0.15, 0.05]},
    # DeepConf-like: confidence-weighted votes, low-confidence branches pruned (banks with confidences)
    "confident": {"width": [2, 32], "grow": [1, 4], "max_width": [8, 64], "chunks": [1, 1], "probe_weight": [0, 0],
                  "share": [0.7, 0.9], "min_votes": [1, 6], "stable": [0, 0], "patience": [0, 0], "max_rounds": [120, 120],
                  "conf_weight": [10, 10], "conf_margin": [0.15, 0.1]},
}

TEMPLATE = '''"""Vote-and-stop controller (offline explorer, template v1).

Every knob is a beta map: GENOME[knob] = [value at beta=0, value at beta=1].
"""
import numpy as np

from replay_core import DEFAULT_VOTE
from replay_core.votes import class_counts

GENOME = {genome}
GEOMETRIC = {geometric}


def knob(name, beta):
    low, high = GENOME[name]
    if name in GEOMETRIC and low > 0 and high > 0:
        return low * (high / low) ** beta
    return low + (high - low) * beta


def make_controller(beta):
    return VoteAndStop(**{{name: knob(name, beta) for name in GENOME}})


class VoteAndStop:
    live_only = True

    def __init__(self, width, grow, max_width, chunks, probe_weight, share, min_votes, stable, patience, max_rounds,
                 conf_weight, conf_margin):
        self.max_width = max(1, round(max_width))
        self.width = min(max(1, round(width)), self.max_width)
        self.grow = max(0, round(grow))
        self.chunks = max(1, round(chunks))
        self.probe_weight = float(probe_weight)
        self.share = float(share)
        self.min_votes = float(min_votes)
        self.stable = round(stable)
        self.patience = round(patience)
        self.max_rounds = max(1, round(max_rounds))
        self.conf_weight = float(conf_weight)
        self.conf_margin = float(conf_margin)
        self.prev = self.streak = self.off = None

    def act(self, obs):
        a = obs.no_actions()
        ep, C = obs.episode, obs.n_classes
        if self.prev is None:
            self.prev = np.full(len(ep), -1)
            self.streak = np.zeros(len(ep), int)
            self.off = np.zeros((len(ep), obs.n_branches), int)
        slots = np.arange(obs.n_branches)[None, :]
        fresh = obs.n_open == 0
        width = np.minimum(self.width, obs.n_unused)
        a.branch[fresh] = width[fresh]

        finals = np.where(obs.done & ~obs.pruned, obs.final, -1)
        probes = np.where(obs.active & (obs.probe_depth > 0), obs.probe, -1)
        weights = None
        if self.conf_weight > 0 and np.isfinite(obs.mean_confidence).any():
            conf = np.where(np.isfinite(obs.mean_confidence), obs.mean_confidence, np.nan)
            best = np.nanmax(np.where(obs.opened, conf, -np.inf), axis=1, keepdims=True)
            weights = np.where(np.isfinite(conf), np.exp(self.conf_weight * (conf - np.where(np.isfinite(best), best, 0))), 1.0)
        counts = class_counts(finals, C, weights)
        if self.probe_weight > 0:
            counts = counts + self.probe_weight * class_counts(probes, C)
        leader = np.where(counts.max(1) > 0, counts.argmax(1), -1)
        total = counts.sum(1)
        top = counts.max(1)
        streak = np.where(leader == self.prev[ep], self.streak[ep] + 1, 0)
        self.streak[ep] = streak
        self.prev[ep] = leader

        can_grow = (obs.n_open < self.max_width) & (obs.n_unused > 0)
        confident = (leader >= 0) & (top >= self.share * np.maximum(total, 1e-9)) & (top >= self.min_votes) \\
            & (streak >= self.stable)
        exhausted = ~obs.active.any(1) & ~can_grow
        stop = ~fresh & (confident | exhausted | (obs.rounds >= self.max_rounds))
        a.answer[stop] = np.where(leader[stop] >= 0, leader[stop], DEFAULT_VOTE)

        go = ~fresh & ~stop
        keep = obs.active.copy()
        if self.patience > 0:
            disagree = obs.active & (probes >= 0) & (probes != leader[:, None]) & (leader[:, None] >= 0)
            off = np.where(disagree, self.off[ep] + 1, 0)
            self.off[ep] = off
            drop = go[:, None] & (off >= self.patience) & (obs.active.sum(1, keepdims=True) > 1)
            a.prune[drop] = True
            keep &= ~drop
        if self.conf_margin > 0 and np.isfinite(obs.mean_confidence).any():
            conf = np.where(obs.active & np.isfinite(obs.mean_confidence), obs.mean_confidence, np.inf)
            top_conf = np.max(np.where(np.isfinite(conf), conf, -np.inf), axis=1, keepdims=True)
            weak = go[:, None] & keep & (obs.depth >= 3) & (conf < top_conf - self.conf_margin)
            weak &= keep.sum(1, keepdims=True) > 1
            a.prune[weak] = True
            keep &= ~weak
        more = go & can_grow & (~confident | ~keep.any(1))
        add = np.where(more, np.minimum(np.maximum(self.grow, (~keep.any(1)).astype(int)),
                                        np.minimum(obs.n_unused, self.max_width - obs.n_open)), 0)
        a.branch[go] = add[go]
        opening = (slots >= obs.n_open[:, None]) & (slots < (obs.n_open + a.branch)[:, None])
        grow = (go[:, None] & keep) | opening
        a.extend[grow] = self.chunks
        a.probe[grow] = self.probe_weight > 0
        stuck = go & ~grow.any(1)
        a.prune[stuck] = False
        a.answer[stuck] = np.where(leader[stuck] >= 0, leader[stuck], DEFAULT_VOTE)
        return a
'''


def clamp(genome: dict[str, list[float]]) -> dict[str, list[float]]:
    """Keep every endpoint within its knob's range (and rounded sensibly)."""
    out = {}
    for name, (kind, low, high) in KNOBS.items():
        values = genome.get(name, SEEDS["adaptive-width"][name])
        out[name] = [round(min(max(float(v), low), high), 3) for v in values]
    return out


def render(genome: dict[str, list[float]]) -> str:
    """The candidate module's source for a genome."""
    genome = clamp(genome)
    geometric = sorted(k for k, (kind, _, _) in KNOBS.items() if kind == "geometric")
    return TEMPLATE.format(genome=json.dumps(genome), geometric=json.dumps(geometric))


def genome_of(source: str) -> dict[str, list[float]] | None:
    """Read the GENOME literal back from a template module (None for other sources)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "GENOME" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            return clamp(value) if isinstance(value, dict) else None
    return None
