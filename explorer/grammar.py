"""The offline explorer's program grammar: controllers assembled from small, readable components.

A controller is one choice per *slot* (how wide, how deep, when to probe, how to vote, what to
prune, when to stop), each rendered into the candidate module as a plain function, plus a *table*
of numeric configurations, one per beta step, cheapest first. `make_controller(beta)` picks the
table row nearest to beta, so a candidate's beta map can bend: every row is searched on its own,
and rows that the candidate's own frontier shows to be dominated are replaced (see
`autotts.explorer.offline`). Special cases of the grammar are the built-in baselines (SC@k,
first-k-to-finish, Adaptive-Consistency, Parallel-Probe), so search starts from them.

The module a genome renders to carries the genome as a literal (`GENOME = {...}`), which
`genome_of` reads back: the source is the single record of a program.
"""
from __future__ import annotations

import ast
import json
import math
from dataclasses import dataclass, field

from autotts.explorer.parsing import parse_python
from replay_core.baselines import ENVELOPE_BETAS, adaptive_consistency, confidence_momentum, first_finish, self_consistency
from replay_core.votes import beta_confidence_table

SLOTS = ("width", "depth", "probe", "vote", "prune", "stop")


@dataclass(frozen=True)
class Param:
    """A numeric knob: its range, whether it is a whole number, and whether it moves on a log scale."""

    low: float
    high: float
    integer: bool = False
    log: bool = False

    def clamp(self, value: float) -> float:
        value = min(max(float(value), self.low), self.high)
        return float(round(value)) if self.integer else round(value, 3)

    def at(self, fraction: float) -> float:
        """The value a `fraction` of the way from low to high (geometrically for log knobs)."""
        return self.between(self.low, self.high, fraction)

    def between(self, start: float, end: float, fraction: float) -> float:
        """The value a `fraction` of the way from `start` to `end` (geometrically for log knobs)."""
        if self.log:
            return self.clamp(start * (end / start) ** fraction)
        return self.clamp(start + (end - start) * fraction)


PARAMS: dict[str, Param] = {
    # always present: the width and the budget caps
    "width": Param(1, 64, integer=True, log=True),        # branches opened at the start
    "max_width": Param(1, 64, integer=True, log=True),    # branches opened at most
    "chunks": Param(1, 8, integer=True, log=True),        # chunks a branch generates per round
    "k_max": Param(1, 64, integer=True, log=True),        # answer once this many branches finished
    "max_rounds": Param(4, 200, integer=True, log=True),  # answer after this many rounds at the latest
    "to_end": Param(0, 1, integer=True),                  # 1: read every branch to its end in one step
    # per component
    "grow": Param(1, 16, integer=True, log=True),
    "extra": Param(1, 4, integer=True),
    "probe_weight": Param(0.05, 1.0),
    "margin": Param(0.0, 0.6),
    "gamma": Param(0.0, 3.0),
    "conf_weight": Param(0.0, 30.0),
    "patience": Param(1, 12, integer=True),
    "conf_margin": Param(0.02, 0.5),
    "overlong": Param(1.05, 3.0),
    "min_votes": Param(1, 32, integer=True, log=True),
    "share": Param(0.3, 1.0),
    "threshold": Param(0.5, 0.999),
    "stable": Param(0, 12, integer=True),
    "alpha": Param(0.1, 0.9),
    # a momentum row (see MOMENTUM): the knobs of the paper's loop that the above lack
    "n_init": Param(1, 64, integer=True, log=True),
    "max_branches": Param(1, 64, integer=True, log=True),
    "warm_up": Param(0, 16, integer=True),
    "window": Param(1, 12, integer=True),
    "slack": Param(0.0, 0.2),
    "burst": Param(1, 4, integer=True),
    "widen": Param(1, 8, integer=True),
    "trend": Param(0.0, 0.2),
    "min_finished": Param(1, 16, integer=True),
}
UNIVERSAL = ("width", "max_width", "chunks", "k_max", "max_rounds", "to_end")

# A table row holding `momentum` 1 runs the paper's Confidence Momentum loop
# (replay_core.baselines.confidence_momentum) with these knobs instead of the skeleton below: its
# escalation step by step (abandoning branches that keep deviating from the finished answers' vote)
# wins where the skeleton's programs do not, and they win where it does not (docs/discovery.md), so
# one table may hold operating points of both kinds.
MOMENTUM = ("n_init", "max_branches", "warm_up", "patience", "window", "alpha", "threshold", "slack", "burst",
            "widen", "trend", "min_finished")


def is_momentum(row: dict[str, float]) -> bool:
    """Whether a table row runs the Confidence Momentum loop rather than the program's components."""
    return bool(row.get("momentum"))


def momentum_row(beta: float) -> dict[str, float]:
    """The paper's own operating point at `beta` (its published schedule, to the 3 decimals knobs
    keep: exact at the published beta 0.5 and 1.0 and at every multiple of 0.1) as a momentum row."""
    controller = confidence_momentum.make_controller(beta)
    return {"momentum": 1.0, **{n: PARAMS[n].clamp(getattr(controller, n)) for n in MOMENTUM}}


def paper_points(genome: "Genome", n: int) -> list[dict[str, float]]:
    """At most `n` of the paper's operating points on the baselines' 11-beta grid
    (`ENVELOPE_BETAS`) that the table does not hold yet, as momentum rows, evenly spread over
    the missing ones (all of them, cheapest first, where `n` allows). Why that grid: the paper's
    controller is a fixed schedule like the baselines, and its points on the grid the bar is
    drawn on are the ones the comparisons read. A table that holds some of them already (an
    earlier graft) takes the others: a later merge keeps those the search split's frontier needs."""
    held = {row_key(row) for row in genome.rows}
    missing = [row for b in ENVELOPE_BETAS if row_key(row := momentum_row(b)) not in held]
    if n <= 0 or len(missing) <= n:
        return missing[:max(n, 0)]
    if n == 1:
        return [missing[len(missing) // 2]]
    return [missing[round(i * (len(missing) - 1) / (n - 1))] for i in range(n)]


@dataclass(frozen=True)
class Component:
    """One way to fill a slot: a function named after the slot's hook, and the knobs it reads."""

    slot: str
    name: str
    doc: str
    code: str
    params: tuple[str, ...] = ()


def _c(slot: str, name: str, doc: str, params: tuple[str, ...], code: str) -> Component:
    return Component(slot, name, doc, code.strip("\n"), params)


COMPONENTS: tuple[Component, ...] = (
    # ---------------------------------------------------------------- width: how many branches
    _c("width", "fixed", "keep the opening width; open one more only when no branch is left", (), '''
def widen(c, obs, sure, keep, can_grow):
    return np.where(~keep.any(1) & can_grow, 1, 0)
'''),
    _c("width", "unsure", "open `grow` more branches every round the vote is unsure", ("grow",), '''
def widen(c, obs, sure, keep, can_grow):
    return np.maximum(np.where(can_grow & ~sure, c.grow, 0), ~keep.any(1) & can_grow)
'''),
    _c("width", "refill", "while the vote is unsure, open branches to keep `grow` running (after the opening `width`)",
       ("grow",), '''
def widen(c, obs, sure, keep, can_grow):
    return np.maximum(np.where(can_grow & ~sure, c.grow - keep.sum(1), 0), ~keep.any(1) & can_grow)
'''),
    _c("width", "staged", "when every branch has ended and the vote is unsure, open a stage of `grow`", ("grow",), '''
def widen(c, obs, sure, keep, can_grow):
    return np.where(~keep.any(1) & can_grow, np.where(sure, 1, c.grow), 0)
'''),
    # ---------------------------------------------------------------- depth: how far per round
    _c("depth", "uniform", "every running branch generates `chunks` chunks a round", (), '''
def chunks_for(c, obs, leader, probes):
    return np.full(obs.active.shape, c.chunks)
'''),
    _c("depth", "leader-first", "branches whose last probe agrees with the leader get `extra` more chunks",
       ("extra",), '''
def chunks_for(c, obs, leader, probes):
    agree = (probes >= 0) & (probes == leader[:, None])
    return np.where(agree, c.chunks + c.extra, c.chunks)
'''),
    # ---------------------------------------------------------------- probe: when to buy probes
    _c("probe", "none", "never probe; only finished branches vote", (), '''
def buy_probes(c, obs, top, second, total):
    return np.zeros(len(top), bool)


def probe_votes(c, obs, probes):
    return 0.0
'''),
    _c("probe", "every", "probe every running branch each round; a probe counts `probe_weight` of a vote",
       ("probe_weight",), '''
def buy_probes(c, obs, top, second, total):
    return np.ones(len(top), bool)


def probe_votes(c, obs, probes):
    return c.probe_weight * class_counts(probes, obs.n_classes)
'''),
    _c("probe", "close", "probe only while the lead is under `margin` of the votes", ("probe_weight", "margin"), '''
def buy_probes(c, obs, top, second, total):
    return (top - second) <= c.margin * np.maximum(total, 1.0)


def probe_votes(c, obs, probes):
    return c.probe_weight * class_counts(probes, obs.n_classes)
'''),
    _c("probe", "watch", "probe every running branch each round to steer depth and pruning; only finished "
       "answers vote (a probe only breaks ties), so there is no leader to prune against until one has finished, "
       "as in the paper's controller",
       (), '''
def buy_probes(c, obs, top, second, total):
    return np.ones(len(top), bool)


def probe_votes(c, obs, probes):
    return 0.0
'''),
    # ---------------------------------------------------------------- vote: what a finished branch weighs
    _c("vote", "plain", "every finished answer is one vote", (), '''
def vote_weights(c, obs, finals):
    return None
'''),
    _c("vote", "length", "shorter finished traces weigh more: (shortest length / own length) ** gamma",
       ("gamma",), '''
def vote_weights(c, obs, finals):
    length = np.where(finals >= 0, np.maximum(obs.branch_tokens, 1), np.inf)
    shortest = length.min(1, keepdims=True)
    return np.where(finals >= 0, (np.where(np.isfinite(shortest), shortest, 1.0) / length) ** c.gamma, 0.0)
'''),
    _c("vote", "confidence", "more confident traces weigh more: exp(conf_weight * (confidence - best))",
       ("conf_weight",), '''
def vote_weights(c, obs, finals):
    conf = obs.mean_confidence
    if not np.isfinite(conf).any():
        return None
    best = np.nanmax(np.where(obs.opened & np.isfinite(conf), conf, -np.inf), axis=1, keepdims=True)
    return np.where(np.isfinite(conf), np.exp(c.conf_weight * (conf - np.where(np.isfinite(best), best, 0.0))), 1.0)
'''),
    # ---------------------------------------------------------------- prune: which branches to stop
    _c("prune", "none", "never prune", (), '''
def prune_mask(c, obs, ep, leader, probes):
    return np.zeros(obs.active.shape, bool)
'''),
    _c("prune", "deviation", "stop branches whose probes disagree with the leader `patience` times in a row",
       ("patience",), '''
def prune_mask(c, obs, ep, leader, probes):
    disagree = obs.active & (probes >= 0) & (leader[:, None] >= 0) & (probes != leader[:, None])
    c.off[ep] = np.where(disagree, c.off[ep] + 1, 0)
    return c.off[ep] >= c.patience
'''),
    _c("prune", "low-confidence", "stop branches less confident than the best by `conf_margin`", ("conf_margin",), '''
def prune_mask(c, obs, ep, leader, probes):
    conf = np.where(obs.active & np.isfinite(obs.mean_confidence), obs.mean_confidence, np.inf)
    best = np.max(np.where(np.isfinite(conf), conf, -np.inf), axis=1, keepdims=True)
    return obs.active & (obs.depth >= 3) & (conf < best - c.conf_margin)
'''),
    _c("prune", "overlong", "once a branch finished, stop branches `overlong` times longer than the shortest finisher",
       ("overlong",), '''
def prune_mask(c, obs, ep, leader, probes):
    ended = obs.done & (obs.final >= 0)
    shortest = np.where(ended, obs.branch_tokens, np.inf).min(1, keepdims=True)
    return obs.active & (obs.branch_tokens > c.overlong * shortest)
'''),
    # ---------------------------------------------------------------- stop: when to answer
    _c("stop", "first-k", "answer once `min_votes` branches have finished", ("min_votes",), '''
def confident(c, obs, ep, top, second, total, streak, finished):
    return finished >= c.min_votes
'''),
    _c("stop", "share", "answer once the leader holds `share` of the votes and at least `min_votes`",
       ("share", "min_votes"), '''
def confident(c, obs, ep, top, second, total, streak, finished):
    return (top >= c.share * np.maximum(total, 1e-9)) & (top >= c.min_votes)
'''),
    _c("stop", "posterior", "answer once a Beta posterior puts the leader ahead with probability `threshold` "
       "(Adaptive-Consistency)", ("threshold", "min_votes"), '''
def confident(c, obs, ep, top, second, total, streak, finished):
    return (win_probability(top, second) > c.threshold) & (top >= c.min_votes)
'''),
    _c("stop", "share-or-posterior", "answer once the leader has at least `min_votes` votes and holds `share` of them "
       "or a Beta posterior puts it ahead with probability `threshold`: a share rule that relaxes as votes "
       "accumulate, so a split question stops once its leader is clear, as in Adaptive-Consistency",
       ("share", "min_votes", "threshold"), '''
def confident(c, obs, ep, top, second, total, streak, finished):
    ahead = (top >= c.share * np.maximum(total, 1e-9)) | (win_probability(top, second) > c.threshold)
    return ahead & (top >= c.min_votes)
'''),
    _c("stop", "streak", "answer once the same leader has led `stable` rounds with at least `min_votes`",
       ("stable", "min_votes"), '''
def confident(c, obs, ep, top, second, total, streak, finished):
    return (streak >= c.stable) & (top >= c.min_votes)
'''),
    _c("stop", "momentum", "answer once a moving average (weight `alpha`) of the posterior confidence passes "
       "`threshold` and is not falling", ("alpha", "threshold", "min_votes"), '''
def confident(c, obs, ep, top, second, total, streak, finished):
    now = win_probability(top, second)
    before = c.ema[ep]
    c.ema[ep] = np.where(before < 0, now, c.alpha * now + (1 - c.alpha) * before)
    return (c.ema[ep] > c.threshold) & (c.ema[ep] >= before) & (top >= c.min_votes)
'''),
)
BY_SLOT: dict[str, dict[str, Component]] = {s: {c.name: c for c in COMPONENTS if c.slot == s} for s in SLOTS}

SKELETON = '''

class Controller:
    """Opens branches, advances them, votes, prunes and stops through the component functions above."""

    live_only = True

    def __init__(self, row):
        for name, value in row.items():
            setattr(self, name, int(value) if name in INTEGER else float(value))
        self.max_width = max(1, self.max_width)
        self.width = min(max(1, self.width), self.max_width)
        self.prev = self.streak = self.off = self.ema = None

    def act(self, obs):
        a = obs.no_actions()
        ep = obs.episode
        if self.prev is None:  # the first call sees every episode of the batch
            self.prev = np.full(len(ep), -1)
            self.streak = np.zeros(len(ep), int)
            self.off = np.zeros((len(ep), obs.n_branches), int)
            self.ema = np.full(len(ep), -1.0)
        fresh = obs.n_open == 0
        a.branch[fresh] = np.minimum(self.width, obs.n_unused)[fresh]

        finals = np.where(obs.done & ~obs.pruned, obs.final, -1)
        probes = np.where(obs.active & (obs.probe_depth > 0), obs.probe, -1)
        counts = class_counts(finals, obs.n_classes, vote_weights(self, obs, finals)) + probe_votes(self, obs, probes)
        leader = leading_class(counts, np.where(finals >= 0, finals, probes))
        top = counts.max(1)
        second = np.partition(counts, -2, axis=1)[:, -2] if counts.shape[1] > 1 else np.zeros(len(top))
        total = counts.sum(1)
        self.streak[ep] = np.where((leader >= 0) & (leader == self.prev[ep]), self.streak[ep] + 1, 0)
        self.prev[ep] = leader
        finished = (finals >= 0).sum(1)

        can_grow = (obs.n_open < self.max_width) & (obs.n_unused > 0)
        sure = (leader >= 0) & confident(self, obs, ep, top, second, total, self.streak[ep], finished)
        exhausted = ~obs.active.any(1) & ~can_grow
        stop = ~fresh & (sure | exhausted | (finished >= self.k_max) | (obs.rounds >= self.max_rounds))
        a.answer[stop] = np.where(leader[stop] >= 0, leader[stop], DEFAULT_VOTE)

        go = ~fresh & ~stop
        drop = go[:, None] & obs.active & prune_mask(self, obs, ep, leader, probes)
        drop &= (drop.sum(1) < obs.active.sum(1))[:, None]  # never stop the last running branch
        a.prune[drop] = True
        keep = obs.active & ~drop
        room = np.minimum(obs.n_unused, self.max_width - obs.n_open)
        add = np.where(go, np.minimum(widen(self, obs, sure, keep, can_grow), np.maximum(room, 0)), 0)
        a.branch[go] = add[go]
        slots = np.arange(obs.n_branches)[None, :]
        opening = (slots >= obs.n_open[:, None]) & (slots < (obs.n_open + add)[:, None])
        grow = (go[:, None] & keep) | (go[:, None] & opening) | (fresh[:, None] & (slots < a.branch[:, None]))
        # to_end: a branch read to its end in one step costs exactly its length (chunk by chunk, the
        # last chunk is paid in full); the price is that nothing is learnt until it has finished
        a.extend[grow] = (FULL if self.to_end else chunks_for(self, obs, leader, probes)[grow])
        a.probe[grow & buy_probes(self, obs, top, second, total)[:, None]] = True
        stuck = go & ~grow.any(1)
        a.answer[stuck] = np.where(leader[stuck] >= 0, leader[stuck], DEFAULT_VOTE)
        return a
'''


@dataclass(frozen=True)
class Genome:
    """A program: one component per slot and one configuration row per beta step (cheapest first)."""

    components: dict[str, str]
    rows: tuple[dict[str, float], ...] = field(default_factory=tuple)

    def params(self) -> tuple[str, ...]:
        names = list(UNIVERSAL)
        for slot in SLOTS:
            names += [p for p in BY_SLOT[slot][self.components[slot]].params if p not in names]
        return tuple(names)

    def own_rows(self) -> tuple[dict[str, float], ...]:
        """The rows that run this program's components (not the paper's loop), in table order."""
        return tuple(row for row in self.rows if not is_momentum(row))

    @property
    def has_momentum_rows(self) -> bool:
        return len(self.own_rows()) < len(self.rows)

    def row_params(self, row: dict[str, float]) -> tuple[str, ...]:
        """The knobs a row of this program holds: the components' or, in a momentum row, the loop's."""
        return MOMENTUM if is_momentum(row) else self.params()

    def normalized(self) -> "Genome":
        """Every row holds exactly its kind's knobs (a momentum row: its marker too), each within its range."""
        n = len(self.rows)
        rows = []
        for i, row in enumerate(self.rows):
            if is_momentum(row):
                default = momentum_row(i / (n - 1) if n > 1 else 0.5) if set(MOMENTUM) - set(row) else {}
                knobs = {k: PARAMS[k].clamp(row.get(k, default.get(k))) for k in MOMENTUM}
                # the loop opens n_init branches and sizes its vote table by max_branches
                knobs["max_branches"] = max(knobs["max_branches"], knobs["n_init"])
                rows.append({"momentum": 1.0, **knobs})
            else:
                rows.append({k: PARAMS[k].clamp(row.get(k, default_value(k, i, n))) for k in self.params()})
        return Genome(dict(self.components), tuple(rows))

    def title(self) -> str:
        title = " / ".join(f"{slot}={self.components[slot]}" for slot in SLOTS)
        return title + (" + momentum rows" if self.has_momentum_rows else "")


# Where a knob sits at the cheap end (fraction 0) and the thorough end (fraction 1) of a fresh ladder.
# `to_end` rounds to 1 only in the cheapest row: one whole trajectory, exactly self-consistency@1's cost.
LADDER: dict[str, tuple[float, float]] = {
    "width": (0.0, 0.85), "max_width": (0.2, 1.0), "chunks": (0.0, 0.0), "k_max": (0.0, 0.75),
    "max_rounds": (1.0, 1.0), "to_end": (0.55, 0.0), "grow": (0.0, 0.5), "extra": (0.0, 0.4), "probe_weight": (0.3, 0.6),
    "margin": (0.2, 0.5), "gamma": (0.2, 0.5), "conf_weight": (0.2, 0.4), "patience": (0.4, 0.6),
    "conf_margin": (0.5, 0.3), "overlong": (0.4, 0.8), "min_votes": (0.0, 0.7), "share": (0.4, 0.6),
    "threshold": (0.5, 0.98), "stable": (0.1, 0.4), "alpha": (0.5, 0.5),
}


def default_value(name: str, i: int, n: int) -> float:
    """A knob's value in row i of a fresh n-row ladder: evenly from its cheap to its thorough end."""
    cheap, thorough = LADDER[name]
    fraction = cheap + (thorough - cheap) * (i / (n - 1) if n > 1 else 0.5)
    return PARAMS[name].at(fraction)


def ladder(components: dict[str, str], n: int) -> Genome:
    """A fresh program of these components whose rows climb evenly from cheap to thorough."""
    return Genome(dict(components), tuple({} for _ in range(n))).normalized()


def frontier_indices(curve: list[list[float]]) -> list[int]:
    """Rows on a curve's own accuracy-cost frontier ([beta, tokens, accuracy] per row), cheapest first."""
    order = sorted(range(len(curve)), key=lambda i: (curve[i][1], -curve[i][2]))
    kept, best = [], -1.0
    for i in order:
        if curve[i][2] > best:
            kept.append(i)
            best = curve[i][2]
    return kept


def frontier_rows(genome: Genome, curves: list[list[list[float]]]) -> Genome:
    """The genome cut down to the rows on the frontier of at least one fold, cheapest (summed over
    folds) first. `curves`: one curve per (benchmark, model) fold, [beta, tokens, accuracy] per row
    in table order. A row dominated on every fold is never the best at any budget, so the curves at
    matched budgets are unchanged, and a row that only one model needs stays in."""
    keep = sorted({i for curve in curves for i in frontier_indices(curve)}, key=lambda i: sum(c[i][1] for c in curves))
    return Genome(dict(genome.components), tuple(genome.rows[i] for i in keep)).normalized()


# Knob values that hold a program's own stopping, pruning and weighting back, so that the universal
# knobs alone decide when it answers: the most patient stop, the least pruning, a plain vote.
PATIENT = {"min_votes": 32, "threshold": 0.999, "share": 1.0, "stable": 12, "patience": 12, "conf_margin": 0.5,
           "overlong": 3.0, "probe_weight": 0.05}
PLAIN_VOTE = {"gamma": 0.0, "conf_weight": 0.0}


# Stops that hold Adaptive-Consistency's Beta rule, so a row of theirs can be an ASC operating point.
POSTERIOR_STOPS = ("posterior", "share-or-posterior")


def imitation_row(genome: Genome, baseline: str, beta: float, plain_vote: bool) -> dict[str, float] | None:
    """A configuration row of this program that behaves like a baseline's operating point: SC@k (k
    branches read to the end) and first-k-to-finish (its width of branches chunk by chunk, answering
    once k have ended), which the universal knobs express whatever the components, and
    Adaptive-Consistency (one branch read to its end per round until the Beta posterior is sure) in
    a program whose stop holds that posterior (POSTERIOR_STOPS). The program's own stop, pruning
    and probe votes are held back (PATIENT), and with `plain_vote` its vote weighting too, so the row
    is the baseline's mechanism inside this program (a program that prunes by deviation or deepens
    the leader keeps doing so: there the row is a variant of it); search then moves it like any
    row. Written over the program's dearest row of its own components; None for a baseline they
    cannot express, or a table of momentum rows only."""
    if baseline == "sc":
        k = self_consistency.make_controller(beta).k
        knobs = {"width": k, "max_width": k, "k_max": k, "to_end": 1, "chunks": 1}
    elif baseline == "first-k":
        controller = first_finish.make_controller(beta)
        knobs = {"width": controller.width, "max_width": controller.width, "k_max": controller.k, "to_end": 0,
                 "chunks": controller.step_chunks}
    elif baseline == "asc" and genome.components["stop"] in POSTERIOR_STOPS:
        controller = adaptive_consistency.make_controller(beta)
        knobs = {"width": 1, "max_width": controller.max_samples, "k_max": controller.max_samples, "to_end": 1,
                 "chunks": 1, "grow": 1, "threshold": controller.threshold,
                 "min_votes": unanimous_votes(controller.threshold)}
    else:
        return None
    own = genome.own_rows()
    if not own:
        return None
    base = own[-1]
    names = genome.params()
    held = {n: v for n, v in {**PATIENT, **(PLAIN_VOTE if plain_vote else {})}.items() if n in names}
    return {**base, **held, **{n: v for n, v in knobs.items() if n in names}, "max_rounds": PARAMS["max_rounds"].high}


def hosting(genome: Genome, baseline: str) -> Genome:
    """The program with the least change of components that lets it hold a copy of `baseline`'s
    operating point: a vote-share stop becomes `share-or-posterior` with the posterior held back
    (threshold at its highest, 0.999), so that ASC's Beta rule fits in a new row while the old rows
    stop as before (but where a lopsided vote of ten or more is surer than 0.999 before its share
    is reached). Any other program is returned as it is."""
    if baseline != "asc" or genome.components["stop"] != "share":
        return genome
    rows = tuple(row if is_momentum(row) else {**row, "threshold": PATIENT["threshold"]} for row in genome.rows)
    return Genome(dict(genome.components, stop="share-or-posterior"), rows).normalized()


def written_in(genome: Genome, components: dict[str, str]) -> Genome | None:
    """The program in these components, where they hold it as it is: itself, or a vote-share
    program as `share-or-posterior` with its posterior held back (`hosting`: the same stops but for
    a lopsided vote surer than 0.999 before its share is reached). None otherwise. A refit of a
    hosting program can so assemble its table from the rows its vote-share relatives measured as
    well as from its own."""
    for written in (genome, hosting(genome, "asc")):
        if written.components == components:
            return written
    return None


def unanimous_votes(threshold: float) -> int:
    """The fewest votes (at least two, as ASC asks) whose unanimous posterior passes `threshold`. A
    split vote that passes has at least as many for its leader, so as `min_votes` this leaves ASC's
    rule unchanged, and it makes a vote-share arm that is held at unanimity (share 1.0) agree too."""
    table = beta_confidence_table(int(PARAMS["min_votes"].high) + 1)
    return next((v for v in range(2, len(table)) if table[v, 0] > threshold), int(PARAMS["min_votes"].high))


def row_index(beta: float, n: int) -> int:
    """The table row a beta selects: the nearest of n evenly spaced steps."""
    return min(n - 1, max(0, int(beta * (n - 1) + 0.5)))


def on_grid(genome: Genome, betas: tuple[float, ...]) -> Genome:
    """The same program on another beta grid: at each of `betas` the row that beta selects in the
    program's own table, so every beta of the grid runs the configuration it ran before. A parent
    written for another number of beta steps (a 12-row `discovered` in a `--betas 15` run) can
    then be refined on the run's grid; the row a finer grid repeats is room for a new one."""
    return Genome(dict(genome.components), tuple(dict(genome.rows[row_index(b, len(genome.rows))]) for b in betas))


def row_key(row: dict[str, float]) -> str:
    """A configuration row's identity: equal knobs give equal keys whatever their order (rows met in
    different programs of one family are the same operating point)."""
    return json.dumps(row, sort_keys=True)


MODULE = '''"""{title}
{notes}
Components (offline explorer, grammar v2):
{docs}

beta -> row round(beta * (len(rows) - 1)) of GENOME["rows"]: one configuration per beta step,
cheapest first, searched row by row on the search split's accuracy-cost frontier.
"""
import numpy as np

from replay_core import DEFAULT_VOTE, FULL
{imports}from replay_core.votes import class_counts, leading_class, win_probability

GENOME = {genome}
INTEGER = {integer}


def make_controller(beta):
    """The controller configured by the table row nearest to beta.

    beta -> row round(beta * (len(rows) - 1)) of GENOME["rows"], cheapest first.
    """
    rows = GENOME["rows"]
{choose}

{functions}
{skeleton}'''


MOMENTUM_DOC = """  rows with "momentum": 1 run the paper's Confidence Momentum loop with the row's knobs instead
  (replay_core.baselines.confidence_momentum: every branch a chunk a round, more branches while the
  vote's confidence stalls, deviating branches abandoned, answer once the confidence is high)"""
MOMENTUM_IMPORT = "from replay_core.baselines.confidence_momentum import ConfidenceMomentum\n"
CHOOSE_ROW = '''    return Controller(rows[min(len(rows) - 1, max(0, int(beta * (len(rows) - 1) + 0.5)))])
'''
CHOOSE_ROW_OR_MOMENTUM = '''    row = rows[min(len(rows) - 1, max(0, int(beta * (len(rows) - 1) + 0.5)))]
    if row.get("momentum"):
        return ConfidenceMomentum(**{n: int(v) if n in INTEGER else float(v) for n, v in row.items() if n != "momentum"})
    return Controller(row)
'''


def render(genome: Genome, title: str = "", notes: str = "") -> str:
    """The candidate module's source for a genome; `title` and `notes` open its docstring."""
    genome = genome.normalized()
    chosen = [BY_SLOT[slot][genome.components[slot]] for slot in SLOTS]
    docs = "\n".join(f"  {c.slot:<6} {c.name}: {c.doc}" for c in chosen)
    momentum = genome.has_momentum_rows
    if momentum:
        docs += "\n" + MOMENTUM_DOC
    literal = json.dumps({"components": genome.components, "rows": list(genome.rows)}, separators=(", ", ": "))
    integer = sorted({n for row in genome.rows for n in genome.row_params(row) if PARAMS[n].integer})
    return MODULE.format(title=title or f"Grammar controller: {genome.title()}.",
                         notes=f"\n{notes.strip()}\n" if notes.strip() else "", docs=docs, genome=literal,
                         integer=json.dumps(integer), functions="\n\n\n".join(c.code for c in chosen),
                         skeleton=SKELETON, imports=MOMENTUM_IMPORT if momentum else "",
                         choose=CHOOSE_ROW_OR_MOMENTUM if momentum else CHOOSE_ROW)


def genome_of(source: str) -> Genome | None:
    """Read the GENOME literal back from a grammar module (None for any other source)."""
    try:
        tree = parse_python(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "GENOME" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            if not isinstance(value, dict) or not isinstance(value.get("components"), dict):
                return None
            components = value["components"]
            if set(components) != set(SLOTS) or any(components[s] not in BY_SLOT[s] for s in SLOTS):
                return None
            rows = value.get("rows")
            if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
                return None
            # a program written before `to_end` existed read every branch chunk by chunk
            return Genome(dict(components), tuple({"to_end": 0, **row} for row in rows)).normalized()
    return None


def perturb(value: float, name: str, rng, strength: float = 1.0) -> float:
    """A random step of a knob: multiplicative for log knobs, a share of the range otherwise."""
    p = PARAMS[name]
    if p.log:
        stepped = value * math.exp(rng.gauss(0.0, 0.35 * strength))
        if p.integer and round(stepped) == round(value):
            stepped = value + rng.choice((-1, 1))
        return p.clamp(stepped)
    stepped = value + (p.high - p.low) * rng.gauss(0.0, 0.12 * strength)
    if p.integer and round(stepped) == round(value):
        stepped = value + rng.choice((-1, 1))
    return p.clamp(stepped)
