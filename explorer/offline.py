"""The offline explorer: an evolutionary search over programs of the controller grammar.

No API key, no network. A program is a choice of components (autotts.explorer.grammar) plus a table of
configurations, one per beta step. Each round it proposes, per island (as in FunSearch), children
of tournament-selected parents by one of six operators:

- *swap* one component for another of its slot (a new mechanism, e.g. a Beta-posterior stop
  instead of a vote share), its knobs starting from an even ladder;
- *crossover*: each slot, with its knobs, from one of two parents;
- *refit*: a new table assembled from the parent's measured rows: greedily, the row that most
  raises the worst fold's gain over the baseline envelope at matched budgets (then the mean gain),
  until no row helps; the other rows are variations of the chosen ones. The beta map bends towards
  the best configuration at every budget, and a row that only one model needs stays in. *merge*
  assembles from every measured program the parent's components can write as it is (the same
  components, or for a hosting parent its vote-share relatives: `grammar.written_in`; each row is
  an operating point of its own, so rows measured in different programs of one family combine),
  at the highest fidelity they reached, so that lucky few-permutation rows do not crowd out measured ones.
  Half the refits also *imitate*: where the parent loses most to a baseline at matched budgets
  (on its worst fold first), a free slot gets that baseline's operating point written in the
  parent's own components (`grammar.imitation_row`; ASC into a vote-share program through the
  least change of its stop that can hold it, `grammar.hosting`), the comparison an LLM explorer
  reads in its prompt turned into a row;
- *extend*: a parent whose table repeats rows on the run's grid (written for fewer beta steps:
  `grammar.on_grid`) keeps every row, where a refit would assemble its table afresh and leave rows
  out, and takes in the repeated slots either imitated baseline points or *bridges*: narrower
  copies of the row above the widest budget gap of its curve, costing about the gap's middle;
  or *grafts*: rows of the paper's Confidence Momentum loop (`grammar.MOMENTUM`) at the points of
  its schedule on the baselines' 11-beta grid that the table lacks (`grammar.paper_points`),
  which later refits and merges may keep;
- *tune* a few knobs of a few rows (of either kind; a row never changes its kind).

With trace feedback on, one more step leans towards caution (more votes, higher thresholds) for
parents whose diagnosis shows premature answers, and towards thrift for parents that wasted budget
after their vote had settled. Round 0 proposes the seed programs, which mimic the baselines.
"""
from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from autotts.explorer.base import DiscoveryContext, Proposal, Usage
from autotts.explorer.comparison import Curves, losses
from autotts.explorer.grammar import (BY_SLOT, MOMENTUM, PARAMS, SLOTS, Genome, genome_of, hosting, imitation_row,
                                      is_momentum, ladder, on_grid, paper_points, perturb, render, row_index, row_key,
                                      written_in)
from autotts.explorer.programs_db import Program
from replay_core.metrics import Point, Scoring

CAUTION = ("min_votes", "threshold", "share", "stable", "k_max", "patience")

# Seed programs: components, and knobs whose cheap/thorough ends differ from the generic ladder.
SEEDS: tuple[tuple[dict[str, str], dict[str, tuple[float, float]]], ...] = (
    ({"width": "fixed", "depth": "uniform", "probe": "none", "vote": "plain", "prune": "none", "stop": "first-k"},
     {"width": (1, 48), "max_width": (1, 48), "min_votes": (1, 12), "k_max": (64, 64)}),
    ({"width": "refill", "depth": "uniform", "probe": "none", "vote": "plain", "prune": "none", "stop": "posterior"},
     {"width": (1, 4), "grow": (1, 3), "max_width": (8, 64), "threshold": (0.55, 0.95), "min_votes": (1, 2),
      "k_max": (64, 64), "to_end": (1, 0)}),
    ({"width": "refill", "depth": "uniform", "probe": "none", "vote": "length", "prune": "overlong", "stop": "share"},
     {"width": (2, 8), "grow": (1, 4), "max_width": (8, 64), "share": (0.5, 0.75), "min_votes": (1, 3),
      "gamma": (1.0, 0.5), "overlong": (2.0, 2.5), "k_max": (64, 64)}),
    ({"width": "fixed", "depth": "uniform", "probe": "none", "vote": "plain", "prune": "overlong", "stop": "share"},
     {"width": (2, 48), "max_width": (2, 48), "share": (0.6, 0.7), "min_votes": (1, 6), "overlong": (1.5, 2.5),
      "k_max": (2, 24)}),
    ({"width": "fixed", "depth": "uniform", "probe": "none", "vote": "length", "prune": "none", "stop": "share"},
     {"width": (2, 48), "max_width": (2, 48), "gamma": (1.0, 0.5), "share": (0.5, 0.6), "min_votes": (1, 8),
      "k_max": (2, 24)}),
    ({"width": "fixed", "depth": "uniform", "probe": "every", "vote": "plain", "prune": "deviation", "stop": "streak"},
     {"width": (2, 48), "max_width": (2, 48), "probe_weight": (1, 1), "patience": (6, 8), "stable": (2, 10),
      "min_votes": (1, 16), "k_max": (64, 64)}),
    ({"width": "unsure", "depth": "leader-first", "probe": "watch", "vote": "plain", "prune": "deviation",
      "stop": "momentum"},
     {"width": (2, 16), "grow": (1, 4), "max_width": (4, 64), "patience": (6, 8),
      "threshold": (0.8, 0.97), "min_votes": (2, 6), "k_max": (64, 64)}),
    ({"width": "staged", "depth": "uniform", "probe": "none", "vote": "length", "prune": "overlong", "stop": "posterior"},
     {"width": (2, 16), "grow": (2, 16), "max_width": (4, 64), "threshold": (0.6, 0.95), "min_votes": (1, 3),
      "overlong": (1.5, 2.5), "k_max": (64, 64)}),
)


def seed_genome(index: int, rows: int) -> Genome:
    """Seed program `index` with `rows` beta steps."""
    components, ends = SEEDS[index % len(SEEDS)]
    genome = ladder(components, rows)
    table = []
    for i, row in enumerate(genome.rows):
        f = i / (rows - 1) if rows > 1 else 0.5
        row = dict(row)
        for name, (cheap, thorough) in ends.items():
            row[name] = PARAMS[name].between(cheap, thorough, f)
        table.append(row)
    return Genome(dict(components), tuple(table)).normalized()


class OfflineExplorer:
    name = "offline"

    def propose(self, context: DiscoveryContext, k: int) -> tuple[list[Proposal], Usage]:
        rng = random.Random(context.seed * 1_000_003 + context.round)
        grid = tuple(context.betas) if context.beta_parameterized and context.betas else (0.5,)
        rows = len(grid)
        parents = [(p, g if len(g.rows) == rows else on_grid(g, grid))
                   for p in context.db.evaluated() if (g := genome_of(p.source))]
        known = {p.source for p in context.db.programs.values()} | {render(g) for _, g in parents}
        folds = _Folds.of(context) if parents else None
        out: list[Proposal] = []
        for slot in range(k):
            island = slot % context.db.islands
            if not parents:  # the first round: the seed programs, then mutations of them
                genome, lineage, operator = seed_genome(slot, rows), (), "seed"
                if slot >= len(SEEDS):
                    genome, operator = self._swap(rng, genome), "seed+swap"
            else:
                genome, lineage, operator = self._child(rng, parents, island, context, folds)
            source = render(genome)
            for _ in range(50):  # never propose a program twice
                if source not in known:
                    break
                genome = self._tune(rng, genome, strength=2.0)
                source = render(genome)
            else:
                continue
            known.add(source)
            out.append(Proposal(source, island, lineage, note=operator))
        return out, Usage()

    def _child(self, rng: random.Random, parents: list[tuple[Program, Genome]], island: int,
               context: DiscoveryContext, folds: "_Folds") -> tuple[Genome, tuple[str, ...], str]:
        pool = [pg for pg in parents if pg[0].island == island] or parents
        parent, genome = _tournament(rng, pool)
        if context.round % 3 == 2 and island == context.db.weakest_island():
            parent, genome = max(parents, key=lambda pg: _rank(pg[0]))  # migration: the best seeds the weakest
        lineage: tuple[str, ...] = (parent.controller_id,)
        family = [(other, written) for other, g in parents
                  if other is not parent and (written := written_in(g, genome.components))]
        measured = folds.measured([(parent, genome)])
        repeats = len(genome.rows) - len({row_key(r) for r in genome.rows})
        if repeats and measured and (roll := rng.random()) < 0.5:
            if roll < 0.15 and (grafts := paper_points(genome, repeats)):
                return self._extend(genome, genome, measured, [], grafts), lineage, "extend+graft"
            host, copies = folds.imitations(rng, parent, genome, n=repeats) if roll < 0.25 else (genome, [])
            operator = "extend+imitate" if copies else "extend+bridge"  # bridges also fill slots no copy fills
            return self._extend(genome, host, measured, copies), lineage, operator
        roll = rng.random()
        if roll < 0.15:
            child, operator = self._swap(rng, genome), "swap"
        elif roll < 0.3 and len(parents) > 1:
            other, other_genome = _tournament(rng, [pg for pg in parents if pg[0] is not parent])
            child, operator = self._crossover(rng, genome, other_genome), "crossover"
            lineage += (other.controller_id,)
        elif roll < 0.85 and len(genome.rows) > 2 and measured:
            operator = "refit"
            if family and rng.random() < 0.7:  # merge: assembled from every program of one family
                family = sorted(family, key=lambda pg: -_rank(pg[0]))
                measured = folds.measured([(parent, genome)] + family)
                lineage += tuple(other.controller_id for other, _ in family)
                operator = "merge"
            chosen = folds.assemble(measured, keep=len(genome.rows) - max(2, len(genome.rows) // 4))
            host, copies = folds.imitations(rng, parent, genome) if rng.random() < 0.5 else (genome, [])
            child = self._refit(rng, host, chosen, copies)
            operator += "+imitate" if copies else ""
        else:
            child, operator = self._tune(rng, genome), "tune"
        if context.trace_feedback and parent.feedback:
            child = self._lean(rng, child, parent.feedback)
        return child, lineage, operator

    @staticmethod
    def _swap(rng: random.Random, genome: Genome) -> Genome:
        slot = rng.choice(SLOTS)
        choices = [name for name in BY_SLOT[slot] if name != genome.components[slot]]
        components = dict(genome.components, **{slot: rng.choice(choices)})
        fresh = ladder(components, len(genome.rows))
        rows = tuple(old if is_momentum(old) else {**new, **{n: v for n, v in old.items() if n in new}}
                     for old, new in zip(genome.rows, fresh.rows))
        return Genome(components, rows).normalized()

    @staticmethod
    def _crossover(rng: random.Random, a: Genome, b: Genome) -> Genome:
        from_b = [slot for slot in SLOTS if rng.random() < 0.5]
        components = {slot: (b if slot in from_b else a).components[slot] for slot in SLOTS}
        taken = {p for slot in from_b for p in BY_SLOT[slot][b.components[slot]].params}
        rows = tuple(ra if is_momentum(ra) or is_momentum(rb) else {**ra, **{n: v for n, v in rb.items() if n in taken}}
                     for ra, rb in zip(a.rows, b.rows))
        return Genome(components, rows).normalized()

    @staticmethod
    def _refit(rng: random.Random, genome: Genome, chosen: list["Measured"],
               copies: list[tuple[float, dict]] = ()) -> Genome:
        """A new table: the chosen rows and the baseline copies (tokens, row) in cost order, the free
        slots filled with variations of the chosen rows."""
        fill = _filler(genome)
        table: list[tuple[float, dict]] = [(m.tokens, fill(m.row)) for m in chosen]
        for tokens, row in copies[:len(genome.rows) - len(table)]:
            row = fill(row)
            if all(row != r for _, r in table):
                table.append((tokens, row))
        while len(table) < len(genome.rows):
            tokens, row = rng.choice(table[:len(chosen)])
            row = dict(row)
            for name in rng.sample(genome.row_params(row), rng.randint(1, 2)):
                row[name] = perturb(row[name], name, rng)
            if all(row != r for _, r in table):
                table.append((tokens * (1 + 1e-6 * len(table)), row))
        table.sort(key=lambda tr: tr[0])
        return Genome(dict(genome.components), tuple(r for _, r in table)).normalized()

    @staticmethod
    def _extend(genome: Genome, host: Genome, measured: list["Measured"], copies: list[tuple[float, dict]],
                grafts: Sequence[dict] = ()) -> Genome:
        """Every distinct row of a table that repeats rows (a parent written for fewer beta steps,
        on a finer grid: `grammar.on_grid`), as `host` writes it, and in the repeated slots the
        baseline copies (tokens, row), then bridges (`_bridges`), in cost order. A refit assembles a
        table afresh and leaves out rows its greedy assembly does not pick; this keeps every row and
        adds the new ones beside them. Trace feedback does not lean it: the point is to keep the
        parent's measured rows as they are.

        `grafts` (*graft*): momentum rows (`grammar.MOMENTUM`, the paper's loop) for the repeated
        slots, after the measured rows, as given (their cost is unknown until measured). Adding
        rows never lowers a curve at matched budgets, so the child is at least its parent, and
        a later merge of the family may keep the rows of both kinds that raise its gains."""
        fill = _filler(host)
        tokens = {row_key(m.row): m.tokens for m in measured}
        table: dict[str, tuple[float, dict]] = {}
        for row, written in zip(genome.rows, host.rows):
            table.setdefault(row_key(written), (tokens.get(row_key(row), 0.0), written))
        for budget, row in copies:
            table.setdefault(row_key(fill(row)), (budget, fill(row)))
        for row in grafts[:len(genome.rows) - len(table)]:
            table.setdefault(row_key(row), (float("inf"), row))
        for budget, row in _bridges(list(table.values()), len(genome.rows) - len(table)):
            table.setdefault(row_key(row), (budget, row))
        rows = [row for _, row in sorted(table.values(), key=lambda tr: tr[0])]
        rows += [rows[-1]] * (len(genome.rows) - len(rows))  # fewer copies and bridges than repeats: the dearest again
        return Genome(dict(host.components), tuple(rows)).normalized()

    @staticmethod
    def _tune(rng: random.Random, genome: Genome, strength: float = 1.0) -> Genome:
        rows = [dict(r) for r in genome.rows]
        if rng.random() < 0.25:  # move one knob in every row (of the kind that holds it): shifts the whole curve
            names = genome.params()
            if genome.has_momentum_rows:
                names = tuple(dict.fromkeys(names + MOMENTUM))
            name = rng.choice(names)
            for row in rows:
                if name in genome.row_params(row):
                    row[name] = perturb(row[name], name, random.Random(rng.random()), strength)
        else:
            for i in rng.sample(range(len(rows)), min(len(rows), rng.randint(1, 3))):
                for name in rng.sample(genome.row_params(rows[i]), rng.randint(1, 2)):
                    rows[i][name] = perturb(rows[i][name], name, rng, strength)
        return Genome(dict(genome.components), tuple(rows)).normalized()

    @staticmethod
    def _lean(rng: random.Random, genome: Genome, feedback: str) -> Genome:
        premature, wasted = _shares(feedback)
        if premature == wasted:
            return genome
        direction = 1 if premature > wasted else -1
        names = [n for n in CAUTION if n in genome.params()]
        if not names:
            return genome
        name = rng.choice(names)
        p = PARAMS[name]
        rows = [dict(r) for r in genome.rows]
        for i in rng.sample(range(len(rows)), min(len(rows), rng.randint(1, 3))):
            if name not in genome.row_params(rows[i]):
                continue
            step = (rows[i][name] * 0.3 if p.log else (p.high - p.low) * 0.08) * direction
            rows[i][name] = p.clamp(rows[i][name] + (step if abs(step) >= 1 or not p.integer else direction))
        return Genome(dict(genome.components), tuple(rows)).normalized()


WIDTHS = ("width", "max_width", "grow")  # branches opened at the start, at most, kept running
MOMENTUM_WIDTHS = ("n_init", "max_branches", "widen")  # the same in a momentum row
MIN_GAP = 1.25  # a cost ratio between neighbouring rows worth a bridge


def _bridges(table: list[tuple[float, dict]], n: int) -> list[tuple[float, dict]]:
    """Up to `n` rows (tokens, row) for the widest budget gaps of a table (tokens, row): the
    parent's measured rows, and baseline copies at their baselines' budgets.

    A curve is a step between its rows, so the widest gap (by cost ratio) between neighbours is
    where one more row of the same kind adds most budget range. The bridge is the dearer
    neighbour made narrower (`_narrower`) by the square root of the ratio, so it costs about the
    gap's geometric middle (its estimated tokens, until it is measured); each gap it splits is
    measured again for the next. A gap whose dearer row cannot be made narrower is passed over;
    ties go to the dearer gap; gaps under `MIN_GAP` are not worth a row."""
    table = sorted(((t, r) for t, r in table if 0 < t < float("inf")), key=lambda tr: tr[0])  # 0, inf: never measured
    out: list[tuple[float, dict]] = []
    while len(out) < n:
        gaps = sorted(((hi / lo, i) for i, ((lo, _), (hi, _)) in enumerate(zip(table, table[1:]))), reverse=True)
        bridge = next(((i, ratio, row) for ratio, i in gaps if ratio >= MIN_GAP
                       and (row := _narrower(table[i + 1][1], ratio ** 0.5)) is not None
                       and all(row != r for _, r in table)), None)
        if bridge is None:
            return out
        i, ratio, row = bridge
        table.insert(i + 1, (table[i][0] * ratio ** 0.5, row))
        out.append(table[i + 1])
    return out


def _narrower(row: dict, factor: float) -> dict | None:
    """`row` with its widths divided by `factor`; None where that opens no fewer branches (a width
    of one, or rounding), since a row that differs only in `grow` would act the same."""
    widths = MOMENTUM_WIDTHS if is_momentum(row) else WIDTHS
    narrow = dict(row)
    for name in widths:
        if name in narrow:
            narrow[name] = PARAMS[name].clamp(narrow[name] / factor)
    return None if all(narrow[n] == row[n] for n in widths[:2]) else narrow


@dataclass(frozen=True)
class Measured:
    """One table row of an evaluated program and its operating points on the search split's folds."""

    row: dict
    tokens: float               # mean over folds: orders a table cheapest first
    points: tuple[Point, ...]   # one per (benchmark, model) fold
    permutations: int


@dataclass(frozen=True)
class _Folds:
    """The run's per-fold curves and the scoring that ranks them, read once per proposal batch."""

    scoring: Scoring
    curves: dict[str, list[Point]]
    baselines: Curves

    @staticmethod
    def of(context: DiscoveryContext) -> "_Folds":
        baselines, candidates = context.search_curves()
        return _Folds(Scoring.from_points([p for pts in baselines.values() for p in pts]), candidates, baselines)

    def imitations(self, rng: random.Random, program: Program, genome: Genome,
                   n: int = 2) -> tuple[Genome, list[tuple[float, dict]]]:
        """Rows that copy the baseline points a program loses to most, each with the budget where it
        loses: the curve comparison turned into code, as an LLM explorer reads it from its prompt.
        The losses of the program's worst fold come first (largest first, one copy per baseline
        point), then the other folds' by fold: selection ranks by the worst fold, so that is where
        a copy can raise a program's rank; the largest loss overall is often on a fold that is well
        ahead already. Baselines the program's components cannot express are copied into the
        least change of them that can (`grammar.hosting`: ASC into a vote-share program needs a
        posterior arm), returned with the rows; others are skipped (`grammar.imitation_row`).
        Half the copies also drop the vote weighting."""
        points = self.curves.get(program.controller_id, [])
        top = max((p.permutations for p in points), default=0)
        measured = [p for p in points if p.permutations == top]
        fold_gain = {key: gain for key, (_, gain) in self.scoring.score(measured)[2].items()}
        out: list[tuple[float, dict]] = []
        seen: set[tuple[str, float]] = set()
        for loss in sorted(losses(measured, self.baselines), key=lambda loss: (fold_gain.get(loss.group, 0.0),
                                                                                loss.gap)):
            if (loss.baseline, loss.beta) in seen:
                continue
            seen.add((loss.baseline, loss.beta))
            host = hosting(genome, loss.baseline)
            row = imitation_row(host, loss.baseline, loss.beta, plain_vote=rng.random() < 0.5)
            if row is not None:
                genome = host
                out.append((loss.budget, row))
            if len(out) == n:
                break
        return genome, out

    def measured(self, programs: list[tuple[Program, Genome]]) -> list["Measured"]:
        """Every distinct row of these programs with its per-fold points, at the highest fidelity
        the programs reached (rows of one fidelity are comparable; a row measured twice counts once,
        with its most precise measurement)."""
        rows: dict[str, Measured] = {}
        for program, genome in programs:
            by_row: dict[int, list[Point]] = {}
            for point in self.curves.get(program.controller_id, []):
                by_row.setdefault(row_index(point.beta, len(genome.rows)), []).append(point)
            for i, points in by_row.items():
                key = row_key(genome.rows[i])
                row = Measured(genome.rows[i], sum(p.tokens for p in points) / len(points), tuple(points),
                               min(p.permutations for p in points))
                if key not in rows or row.permutations > rows[key].permutations:
                    rows[key] = row
        top = max((m.permutations for m in rows.values()), default=0)
        return [m for m in rows.values() if m.permutations == top]

    def assemble(self, measured: list["Measured"], keep: int) -> list["Measured"]:
        """Greedy forward selection of at most `keep` rows: each step adds the row that most raises
        (worst fold's gain, mean gain) over the baseline envelope at matched budgets, and it stops
        when no row raises it. Adding a row never lowers a curve at matched budgets, so the rows not
        chosen are the ones no budget needs."""
        chosen: list[int] = []
        best = (-float("inf"), -float("inf"))
        while len(chosen) < keep:
            options = [(self._objective([measured[j] for j in chosen + [i]]), i)
                       for i in range(len(measured)) if i not in chosen]
            if not options:
                break
            value, i = max(options, key=lambda o: (o[0], -o[1]))
            if value <= best:
                break
            best = value
            chosen.append(i)
        return [measured[i] for i in chosen]

    def _objective(self, rows: list["Measured"]) -> tuple[float, float]:
        _, gain, per_fold = self.scoring.score([p for m in rows for p in m.points])
        return min((g for _, g in per_fold.values()), default=gain), gain


def _filler(host: Genome):
    """Completes a row for `host`'s table: a row of its components takes the knobs it lacks (a
    hosting stop's threshold) from the host's first such row; a momentum row stays as it is."""
    base = next(iter(host.own_rows()), {})
    return lambda row: row if is_momentum(row) else {**base, **row}


def _rank(program: Program) -> float:
    return program.score or 0.0


def _tournament(rng: random.Random, pool: list[tuple[Program, Genome]], size: int = 3) -> tuple[Program, Genome]:
    picks = [rng.choice(pool) for _ in range(min(size, len(pool)))]
    return max(picks, key=lambda pg: _rank(pg[0]))


def _shares(feedback: str) -> tuple[float, float]:
    """Premature-answer and wasted-budget shares averaged over the betas of a stored diagnosis."""
    premature = [float(x) for x in re.findall(r"premature answers: (\d+)%", feedback)]
    wasted = [float(x) for x in re.findall(r"wasted budget: (\d+)%", feedback)]
    mean = lambda xs: sum(xs) / len(xs) if xs else 0.0  # noqa: E731
    return mean(premature), mean(wasted)
