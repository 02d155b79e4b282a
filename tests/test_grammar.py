"""The offline explorer's program grammar, its search operators and successive halving."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from autotts.explorer.base import DiscoveryContext
from autotts.explorer.comparison import losses
from autotts.explorer.grammar import (BY_SLOT, PARAMS, SLOTS, Genome, frontier_rows, genome_of, imitation_row, ladder,
                                      render, row_index)
from autotts.explorer.halving import promote, rungs
from autotts.explorer.offline import SEEDS, OfflineExplorer, _Folds, seed_genome
from autotts.explorer.programs_db import Program
from autotts.explorer import row_cache
from autotts.explorer.row_cache import RowCache
from replay_core.candidate import evaluate_candidate
from replay_core.controller import load_module_factory
from replay_core.evaluate import run_batch
from replay_core.metrics import Point, Scoring
from replay_core.sandbox import MAX_SOURCE_CHARS, Limits

FAST = Limits(round_seconds=5, total_seconds=60, cpu_seconds=40, memory_bytes=2 << 30)


def covering_genomes(rows: int = 3) -> list[Genome]:
    """Few programs that between them use every component of every slot."""
    widest = max(len(BY_SLOT[slot]) for slot in SLOTS)
    return [ladder({slot: sorted(BY_SLOT[slot])[i % len(BY_SLOT[slot])] for slot in SLOTS}, rows) for i in range(widest)]


def test_every_component_is_used_by_the_covering_programs():
    used = {(slot, g.components[slot]) for g in covering_genomes() for slot in SLOTS}
    assert used == {(slot, name) for slot in SLOTS for name in BY_SLOT[slot]}


@pytest.mark.parametrize("genome", covering_genomes(), ids=lambda g: g.title())
def test_every_component_renders_a_module_that_passes_the_sandbox(genome, synthetic_bank, tmp_path):
    source = render(genome)
    result = evaluate_candidate(synthetic_bank, source, [0.0, 0.5, 1.0], permutations=2, limits=FAST)
    assert result.ok, f"{genome.title()}: {result.error}"  # includes the batch-independence check
    module = tmp_path / "candidate.py"
    module.write_text(source)
    direct = run_batch(synthetic_bank, load_module_factory(module), 1.0, np.arange(synthetic_bank.n_questions),
                       np.arange(2))
    assert np.array_equal(np.sort(result.results[1.0].tokens), np.sort(direct.tokens))


def test_a_module_reads_back_to_its_genome_and_rejects_foreign_source():
    genome = seed_genome(2, 5)
    assert genome_of(render(genome)) == genome
    assert genome_of("GENOME = {'components': {'width': 'magic'}, 'rows': [{}]}") is None
    assert genome_of("def make_controller(beta):\n    return None\n") is None
    assert genome_of(render(genome) + '"\ud800"\n') is None  # a lone surrogate cannot be parsed
    # a program written before the to_end knob existed keeps reading branches chunk by chunk
    older = render(genome).replace('"to_end": 1.0, ', "").replace('"to_end": 0.0, ', "")
    assert "to_end" not in older.split("GENOME = ")[1].split("\n")[0]
    assert all(row["to_end"] == 0 for row in genome_of(older).rows)


def test_rows_hold_exactly_the_programs_knobs_within_range():
    genome = Genome(dict(ladder({s: next(iter(BY_SLOT[s])) for s in SLOTS}, 2).components,
                         stop="posterior"), ({"width": 500, "threshold": 7.0, "gamma": 1.0}, {}))
    rows = genome.normalized().rows
    assert all(set(r) == set(genome.params()) for r in rows)
    assert rows[0]["width"] == PARAMS["width"].high and rows[0]["threshold"] == PARAMS["threshold"].high
    assert "gamma" not in rows[0]  # a knob of a component the program does not use


def test_beta_selects_the_nearest_row():
    assert [row_index(b, 11) for b in (0.0, 0.04, 0.06, 0.5, 0.96, 1.0)] == [0, 0, 1, 5, 10, 10]
    assert row_index(0.7, 1) == 0


def test_no_program_is_proposed_twice_across_rounds(tmp_path):
    from autotts.explorer.programs_db import Program, ProgramsDatabase, candidate_id
    from autotts.warehouse.db import connect
    from autotts.warehouse.discovery_store import DiscoveryStore
    from autotts.warehouse.results import start_run

    warehouse = str(tmp_path / "w.duckdb")
    with connect(warehouse):  # a new, empty warehouse at the current schema
        pass
    run_id = start_run(warehouse, "discover", {})
    explorer, seen = OfflineExplorer(), []
    scores = random.Random(0)
    for rnd in range(4):
        db = ProgramsDatabase.load(DiscoveryStore(warehouse, run_id))
        proposals, usage = explorer.propose(DiscoveryContext(db, rnd, 0, "", betas=(0.0, 0.25, 0.5, 0.75, 1.0)), 10)
        assert len(proposals) == 10 and usage.cost_usd == 0
        seen += [p.source for p in proposals]
        fresh = db.propose([Program(candidate_id(p.source), rnd, p.island, p.source, list(p.parents))
                            for p in proposals])
        for program in fresh:  # a made-up score and curve stand in for evaluation
            program.status, program.score, program.permutations = "evaluated", scores.random(), 3
            program.curve = [[b / 4, 1000.0 * scores.random(), scores.random()] for b in range(5)]
            db.record(program)
    assert len(seen) == len(set(seen)) == 40
    assert {genome_of(s).components["stop"] for s in seen} > {"first-k"}  # mechanisms change, not only knobs


def test_round_zero_starts_from_the_seed_programs():
    from autotts.explorer.programs_db import ProgramsDatabase

    proposals, _ = OfflineExplorer().propose(DiscoveryContext(ProgramsDatabase(), 0, 7, "", betas=tuple(i / 10 for i in range(11))), len(SEEDS))
    assert [genome_of(p.source) for p in proposals] == [seed_genome(i, 11) for i in range(len(SEEDS))]
    single, _ = OfflineExplorer().propose(DiscoveryContext(ProgramsDatabase(), 0, 7, "", beta_parameterized=False), 2)
    assert all(len(genome_of(p.source).rows) == 1 for p in single)  # the no-beta ablation: one configuration


def test_successive_halving_rungs_and_promotion():
    assert rungs(20) == [2, 6, 20] and rungs(100) == [3, 11, 33, 100] and rungs(4) == [4]
    scores = {"b": 0.5, "a": 0.5, "c": 0.9, "d": 0.1, "e": 0.3}
    assert promote(scores) == ["c", "a"]  # best ceil(5/3), ties by id
    assert promote(dict(reversed(list(scores.items())))) == ["c", "a"]  # order of arrival does not matter
    with pytest.raises(ValueError):
        rungs(0)


def test_a_resumed_round_promotes_the_candidates_an_uninterrupted_one_would():
    """Killed while the promoted replayed on the next rung, a round resumes with some of them scored
    at that higher fidelity. Whatever those scores now are, the same ids go on."""
    rng = random.Random(0)
    for _ in range(300):
        scores = {f"c{i}": rng.choice([0.1, 0.2, 0.3, rng.random()]) for i in range(rng.randint(1, 12))}
        promoted = promote(scores)
        reached = frozenset(rng.sample(promoted, rng.randint(0, len(promoted))))
        resumed = {cid: rng.random() if cid in reached else score for cid, score in scores.items()}
        assert set(promote(resumed, promoted_before=reached)) == set(promoted), (scores, reached)
    scores = {"a": 0.9, "b": 0.8, "c": 0.7, "d": 0.1}
    assert set(promote({**scores, "a": 0.0}, promoted_before=frozenset({"a"}))) == {"a", "b"}
    assert set(promote({**scores, "a": 0.0})) == {"b", "c"}  # ranked again by its new score, it would lose its place


def test_successive_halving_is_deterministic_for_a_seed(tmp_path, synthetic_file, prefect_harness, monkeypatch):
    """Two runs of one seed promote the same candidates; a lone survivor skips the rungs between
    (rungs of 2, 6 and 20: three candidates on 2, the best third straight on to 20)."""
    from autotts.explorer.discovery import ROWS
    from autotts.flows.discover import discover_flow
    from autotts.flows.ingest import ingest_flow
    from autotts.warehouse.db import connect

    replayed = []
    evaluate = ROWS.evaluate
    monkeypatch.setattr(ROWS, "evaluate", lambda bank, key, source, betas, permutations, *rest:
                        replayed.append(permutations) or evaluate(bank, key, source, betas, permutations, *rest))
    outcomes = []
    for name in ("a", "b"):
        warehouse = str(tmp_path / f"{name}.duckdb")
        ingest_flow(paths=[str(synthetic_file)], warehouse=warehouse)
        discover_flow(warehouse, rounds=1, candidates=3, betas=3, permutations=20, parallel=2, seed=3)
        with connect(warehouse, read_only=True) as con:
            outcomes.append(con.execute("SELECT controller_id, status, permutations, score FROM candidates "
                                        "ORDER BY controller_id").fetchall())
    assert outcomes[0] == outcomes[1]
    fidelity = [row[2] for row in outcomes[0] if row[1] == "evaluated"]
    assert sorted(fidelity) == [2, 2, 20]
    assert sorted(replayed) == [2] * 6 + [20] * 2  # never on 6: a lone contender goes on whatever it scores


@pytest.mark.parametrize("grid", [tuple(np.linspace(0, 1, 12)), tuple(np.linspace(0, 1, 5)), (0.5,)],
                         ids=["finer", "coarser", "no-beta"])
def test_a_program_of_another_table_size_is_refined_on_the_runs_grid(grid, synthetic_bank, tmp_path):
    """A parent with 11 rows (as the shipped `discovered`) in a run of another grid: on the run's
    grid it replays exactly as it did at every beta, its measured points belong to the rows that
    ran them, and the explorer's children have the run's number of rows."""
    from autotts.explorer.grammar import on_grid, row_key
    from autotts.explorer.programs_db import ProgramsDatabase, candidate_id

    grid = tuple(float(b) for b in grid)
    eleven = seed_genome(2, 11)
    regridded = on_grid(eleven, grid)
    assert len(regridded.rows) == len(grid)
    questions, seeds = np.arange(synthetic_bank.n_questions), np.arange(2)
    for name, genome in (("eleven", eleven), ("regridded", regridded)):
        (tmp_path / f"{name}.py").write_text(render(genome))
    for beta in grid:
        before, after = (run_batch(synthetic_bank, load_module_factory(tmp_path / f"{name}.py"), beta, questions, seeds)
                         for name in ("eleven", "regridded"))
        assert np.array_equal(before.tokens, after.tokens) and np.array_equal(before.answers, after.answers)

    source = render(eleven)
    parent = Program(candidate_id(source), -1, 0, source, status="evaluated", score=0.5, permutations=3)
    ran = {beta: row_index(beta, 11) for beta in grid}  # the row of its own table each beta ran
    points = [Point(beta, "b", "m", 0.5, 1000.0 * (ran[beta] + 1), 1.0, 1.0, 0.4, 0.6, 30, 3) for beta in grid]
    folds = _Folds(Scoring.from_points([]), {parent.controller_id: points}, {})
    measured = folds.measured([(parent, regridded)])
    assert {row_key(m.row): m.tokens for m in measured} == {row_key(eleven.rows[i]): 1000.0 * (i + 1)
                                                             for i in set(ran.values())}

    context = DiscoveryContext(ProgramsDatabase([parent]), 0, 3, "", beta_parameterized=len(grid) > 1,
                               betas=grid if len(grid) > 1 else tuple(np.linspace(0, 1, 11)))
    proposals, _ = OfflineExplorer().propose(context, 6)
    assert len(proposals) == 6
    assert all(len(genome_of(p.source).rows) == len(grid) and p.parents[0] == parent.controller_id for p in proposals)


def test_reading_to_the_end_costs_exactly_a_trajectory_and_chunking_never_less(synthetic_bank, tmp_path):
    """One branch read to its end in one step is self-consistency@1 to the token. Chunk by chunk it
    never costs less (on the real stores the last chunk is paid in full, so there it costs more)."""
    from replay_core.baselines import self_consistency

    questions, seeds = np.arange(synthetic_bank.n_questions), np.arange(3)
    single = {"width": 1, "max_width": 1, "k_max": 1, "threshold": 0.5, "min_votes": 1}
    tokens = {}
    for to_end in (0, 1):
        genome = ladder({s: "fixed" if s == "width" else "uniform" if s == "depth" else
                         "posterior" if s == "stop" else "none" if s in ("probe", "prune") else "plain"
                         for s in SLOTS}, 1)
        genome = Genome(genome.components, ({**genome.rows[0], **single, "to_end": to_end},)).normalized()
        module = tmp_path / f"to_end_{to_end}.py"
        module.write_text(render(genome))
        tokens[to_end] = run_batch(synthetic_bank, load_module_factory(module), 0.0, questions, seeds).tokens
    sc = run_batch(synthetic_bank, lambda beta: self_consistency.make_controller(beta, k=1), 0.0, questions, seeds)
    assert np.array_equal(tokens[1], sc.tokens)
    assert (tokens[0] >= tokens[1]).all()


@pytest.mark.parametrize("width", ["refill", "unsure"])
def test_an_unsure_vote_opens_grow_branches_not_one_more(width, synthetic_bank, tmp_path):
    """With `grow` 1 and every branch read to its end, an unsure program opens one trajectory a
    round, as Adaptive-Consistency does, exactly as `staged` widening does (one extra branch a
    round, as the nothing-running fallback once added, costs more)."""
    questions, seeds = np.arange(synthetic_bank.n_questions), np.arange(3)
    tokens = {}
    for name in (width, "staged"):
        components = {"width": name, "depth": "uniform", "probe": "none", "vote": "plain", "prune": "none",
                      "stop": "share"}
        row = {**ladder(components, 1).rows[0], "width": 1, "max_width": 64, "grow": 1, "to_end": 1, "k_max": 4,
               "share": 1.0, "min_votes": 32}
        module = tmp_path / f"{name}.py"
        module.write_text(render(Genome(components, (row,)).normalized()))
        tokens[name] = run_batch(synthetic_bank, load_module_factory(module), 0.0, questions, seeds).tokens
    assert np.array_equal(tokens[width], tokens["staged"])


def _point(beta: float, model: str, tokens: float, accuracy: float, permutations: int = 20) -> Point:
    return Point(beta, "bench", model, accuracy, tokens, 1.0, tokens, accuracy, accuracy, 30, permutations)


def test_assembly_keeps_a_row_only_one_model_needs_and_stops_when_no_row_helps():
    """Rows picked by the worst fold's gain: a row that wins on one model only stays in (the
    fold-averaged frontier would drop it), a dominated row and a less accurate copy do not."""
    baseline = [_point(b, m, t, a) for m in ("small", "large") for b, (t, a) in enumerate([(100, 0.3), (1000, 0.6)])]
    genome = ladder(dict(SEEDS[0][0]), 4)
    program = Program("p", 0, 0, render(genome), status="evaluated", permutations=20)
    other = seed_genome(0, 4)
    low_fidelity = Program("q", 0, 0, render(other), status="evaluated", permutations=2)
    curves = {"p": [  # row 0: good on the small model only; row 1: on the large only; row 2: dominated
        _point(0.0, "small", 120, 0.55), _point(0.0, "large", 120, 0.20),
        _point(1 / 3, "small", 600, 0.30), _point(1 / 3, "large", 600, 0.65),
        _point(2 / 3, "small", 900, 0.30), _point(2 / 3, "large", 900, 0.30),
        _point(1.0, "small", 2000, 0.60), _point(1.0, "large", 2000, 0.60)],
        "q": [_point(b, m, 50, 0.9, permutations=2) for b in (0.0, 1 / 3, 2 / 3, 1.0) for m in ("small", "large")]}
    folds = _Folds(Scoring.from_points(baseline), curves, {"sc": baseline})
    assert len(folds.measured([(low_fidelity, other)])) == 4
    measured = folds.measured([(program, genome), (low_fidelity, other)])
    assert [m.permutations for m in measured] == [20] * 4  # the lucky two-permutation rows are left out
    chosen = folds.assemble(measured, keep=4)
    assert {json.dumps(m.row, sort_keys=True) for m in chosen} == {json.dumps(genome.rows[i], sort_keys=True)
                                                                 for i in (0, 1)}
    assert folds.assemble(measured, keep=4) == chosen
    assert len(folds.assemble(measured, keep=1)) == 1


NEUTRAL_SEEDS = [i for i, (components, _) in enumerate(SEEDS)  # pruning by deviation and leader-first
                 if components["prune"] != "deviation" and components["depth"] != "leader-first"]  # depth keep acting


# every seed whose own mechanisms stay quiet, and seed 2 with each other stop (PATIENT must hold every stop back)
COPY_HOSTS = [(i, SEEDS[i][0]["stop"]) for i in NEUTRAL_SEEDS] + [(2, stop) for stop in sorted(BY_SLOT["stop"])
                                                                   if stop != SEEDS[2][0]["stop"]]


@pytest.mark.parametrize("seed,stop", COPY_HOSTS, ids=lambda x: str(x))
@pytest.mark.parametrize("baseline,beta", [("first-k", 0.6), ("first-k", 0.9), ("sc", 0.5), ("asc", 0.0),
                                           ("asc", 0.5), ("asc", 0.918)])
def test_a_baseline_copied_into_a_program_replays_as_the_baseline(seed, stop, baseline, beta, synthetic_bank, tmp_path):
    """An imitation row with a plain vote makes any program stop where the baseline's operating point
    does, token for token, and answer as it does (SC@k and ASC exactly; first-k but where more than
    k branches end in the same round): the copy is the baseline's mechanism inside the program. ASC
    needs a stop that holds its posterior; other programs get no copy of it."""
    from autotts.explorer.grammar import POSTERIOR_STOPS
    from replay_core.baselines import BASELINES

    own = stop == SEEDS[seed][0]["stop"]
    genome = seed_genome(seed, 3) if own else ladder(dict(SEEDS[seed][0], stop=stop), 3)
    row = imitation_row(genome, baseline, beta, plain_vote=True)
    if baseline == "asc" and stop not in POSTERIOR_STOPS:
        assert row is None
        return
    module = tmp_path / "copy.py"
    module.write_text(render(Genome(genome.components, (row,))))
    questions, seeds = np.arange(synthetic_bank.n_questions), np.arange(3)
    copy = run_batch(synthetic_bank, load_module_factory(module), 0.0, questions, seeds)
    original = run_batch(synthetic_bank, BASELINES[baseline].make_controller, beta, questions, seeds)
    assert np.array_equal(copy.tokens, original.tokens)
    if baseline in ("sc", "asc"):
        assert np.array_equal(copy.correct, original.correct)
    else:  # first-k votes over exactly the k shortest; the program over every branch that ended by then
        assert (copy.correct != original.correct).mean() <= 0.02


@pytest.mark.parametrize("seed", [7, 2, 0], ids=["posterior stop", "vote-share stop", "first-k stop"])
def test_a_refit_copies_the_baseline_points_a_parent_loses_to_most(seed):
    """Where the parent is below the envelope, its largest losses name baseline points, largest
    first; each copy is a row of the parent's own program. ASC goes into a posterior stop as it is,
    into a vote-share stop through `share-or-posterior` with the old rows' posterior held back, and
    not into a program whose stop cannot hold its rule."""
    from autotts.explorer.grammar import hosting

    genome = seed_genome(seed, 4)
    baselines = {"first-k": [_point(0.8, m, 700, 0.5) for m in ("small", "large")],  # loses 0.2 from 700 on
                 "asc": [_point(b, m, t, a) for m in ("small", "large")  # 0.12 from 400 to 700
                         for b, t, a in ((0.0, 100, 0.2), (1.0, 400, 0.42))]}
    program = Program("p", 0, 0, render(genome), status="evaluated", permutations=20)
    curves = {"p": [_point(b, m, t, 0.3) for b, t in ((0.0, 100), (1 / 3, 300), (2 / 3, 600), (1.0, 1000))
                    for m in ("small", "large")]}
    folds = _Folds(Scoring.from_points([p for pts in baselines.values() for p in pts]), curves, baselines)
    host, copies = folds.imitations(random.Random(0), program, genome)
    stop = genome.components["stop"]
    assert host == hosting(genome, "asc") and (host == genome) is (stop != "share")
    if stop == "share":
        assert host.components == {**genome.components, "stop": "share-or-posterior"}
        assert [{k: v for k, v in r.items() if k != "threshold"} for r in host.rows] == list(genome.rows)
        assert {r["threshold"] for r in host.rows} == {PARAMS["threshold"].high}
    (budget, row), *asc = copies
    assert 700 <= budget <= 900 and row in (imitation_row(genome, "first-k", 0.8, plain_vote=True),
                                            imitation_row(genome, "first-k", 0.8, plain_vote=False))
    if stop == "first-k":
        assert asc == []
    else:
        assert 400 <= asc[0][0] < 700 and len(asc) == 1 and asc[0][1] in (imitation_row(host, "asc", 1.0, plain_vote=True),
                                                               imitation_row(host, "asc", 1.0, plain_vote=False))
    chosen = folds.measured([(program, genome)])[:2]  # the parent's own rows: without a hosting stop's knob
    child = OfflineExplorer._refit(random.Random(1), host, chosen, copies)
    assert child.components == host.components and len(child.rows) == 4
    kept = [{**host.rows[0], **m.row} for m in chosen] + [{**host.rows[0], **r} for _, r in copies]
    assert all(Genome(host.components, (r,)).normalized().rows[0] in child.rows for r in kept)


def test_a_vote_share_program_hosting_asc_stops_as_before(synthetic_bank, tmp_path):
    """`hosting` turns a vote-share stop into `share-or-posterior` with the posterior held back: the
    old rows replay as they did (here token for token; in general up to a lopsided vote surer than
    0.999 before its share is reached)."""
    from autotts.explorer.grammar import hosting

    genome = seed_genome(2, 5)
    questions, seeds = np.arange(synthetic_bank.n_questions), np.arange(3)
    for name, program in (("share", genome), ("hosting", hosting(genome, "asc"))):
        (tmp_path / f"{name}.py").write_text(render(program))
    for beta in np.linspace(0, 1, 5):
        before, after = (run_batch(synthetic_bank, load_module_factory(tmp_path / f"{name}.py"), beta, questions, seeds)
                         for name in ("share", "hosting"))
        assert np.array_equal(before.tokens, after.tokens) and np.array_equal(before.answers, after.answers)


def test_losses_and_the_prompts_loss_lines_name_the_same_budgets():
    """The explorer's copies and the LLM prompt read one comparison: the budgets `losses` lists are
    the ones the prompt's line names, with the same baseline, and the largest loss comes first."""
    from autotts.explorer.comparison import losses_text

    baselines = {"first-k": [_point(0.8, "m", 700, 0.5)], "sc": [_point(0.0, "m", 100, 0.2), _point(1.0, "m", 900, 0.45)]}
    candidate = [_point(0.0, "m", 100, 0.3), _point(1.0, "m", 1000, 0.4)]
    found = losses(candidate, baselines, budgets=8)
    line = losses_text(candidate, baselines, budgets=8)
    assert found and f"behind at {len(found)} of 8 budgets" in line
    assert {loss.baseline for loss in found} == {"first-k"} and line.count("vs first-k") == len(found)
    assert found[0].gap == min(loss.gap for loss in found) and all(loss.beta == 0.8 for loss in found)


def test_the_frontier_names_a_baseline_that_can_afford_the_budget_even_where_the_envelope_is_zero():
    """Where every affordable baseline point scores 0, the budget's leader (what the prompt's frontier
    and loss lines name) is a baseline with a point there, not the first name of a tie at 0."""
    from autotts.explorer.comparison import _leaders

    baselines = {"asc": [_point(0.0, "m", 200, 0.3), _point(1.0, "m", 1000, 0.6)],
                 "sc": [_point(0.0, "m", 100, 0.0), _point(1.0, "m", 900, 0.5)]}
    envelope, leaders = _leaders(baselines, ("bench", "m"), np.array([150.0, 250.0]))
    assert list(envelope) == [0.0, 0.3] and leaders == ["sc", "asc"]


def test_shipping_keeps_the_rows_on_any_models_frontier_cheapest_first():
    genome = ladder(dict(SEEDS[0][0]), 4)
    small = [[0, 100, 0.5], [1, 300, 0.4], [2, 200, 0.6], [3, 900, 0.6]]  # row 1 dominated here
    large = [[0, 100, 0.2], [1, 300, 0.7], [2, 200, 0.3], [3, 900, 0.6]]  # row 3 dominated on both
    assert frontier_rows(genome, [small, large]).rows == (genome.rows[0], genome.rows[2], genome.rows[1])


def test_a_row_replayed_once_gives_the_same_results_as_replaying_it_again(synthetic_bank, monkeypatch):
    """The row cache: a child that keeps three of its parent's four rows replays only the new one,
    and its results equal those of replaying the whole child; on more permutations only the ones not
    yet known are replayed, and the joined results equal a whole run on them; a source the grammar did
    not render exactly (here, one comment added, or code beside a new docstring) never reads from the
    cache, while one whose docstring alone was rewritten (as shipping does) does."""
    parent = seed_genome(1, 4)
    rows = [dict(r) for r in parent.rows]
    rows[2]["min_votes"] = rows[2]["min_votes"] + 1
    child = Genome(dict(parent.components), tuple(rows)).normalized()
    betas = [0.0, 1 / 3, 2 / 3, 1.0]
    cache = RowCache()
    first = evaluate_candidate(synthetic_bank, render(parent), betas, permutations=2, limits=FAST)
    cache.add("bank", render(parent), first.results, 2)
    known, missing = cache.split("bank", render(child), betas, 2)
    assert missing == {2 / 3: 0} and sorted(known) == [0.0, 1 / 3, 1.0]
    assert cache.split("bank", render(child) + "# edited\n", betas, 2)[1] == dict.fromkeys(betas, 0)
    shipped = '"""Shipped: provenance rewritten."""' + render(child).split('"""', 2)[2]  # a new docstring
    assert cache.split("bank", shipped, betas, 2)[0].keys() == known.keys()
    for smuggled in ('# coding: latin-1\n' + shipped, shipped.replace('"""\n', '"""; import os\n', 1)):
        assert cache.split("bank", smuggled, betas, 2)[1] == dict.fromkeys(betas, 0)
    assert not known[0.0].tokens.flags.writeable  # shared, so read-only
    tiny = RowCache(capacity_bytes=known[0.0].tokens.nbytes)
    tiny.add("bank", render(parent), first.results, 2)
    assert tiny.split("bank", render(parent), betas, 2)[1] == dict.fromkeys(betas, 0)  # over its byte cap: dropped
    fresh = evaluate_candidate(synthetic_bank, render(child), list(missing), permutations=2, limits=FAST).results
    whole = evaluate_candidate(synthetic_bank, render(child), betas, permutations=5, limits=FAST).results
    for beta in betas:
        got = known.get(beta) or fresh[beta]
        _assert_same_episodes(got, whole[beta].first(2), beta)

    # five permutations through the cache: the child's new row replays from 0, the rows it shares with
    # its parent only from 2 (the two known are kept), and the joined results equal a whole run
    starts = []
    replay = row_cache.evaluate_candidate
    monkeypatch.setattr(row_cache, "evaluate_candidate",
                        lambda *args, **kw: starts.append(kw["first_seed"]) or replay(*args, **kw))
    joined = cache.evaluate(synthetic_bank, "bank", render(child), betas, 5, FAST)
    assert joined.ok and starts == [0, 2]
    for beta in betas:
        _assert_same_episodes(joined.results[beta], whole[beta], beta)
    again, missing = cache.split("bank", render(parent), betas, 2)
    assert missing == {}  # the first two of five are the two-permutation run
    for beta in betas:
        _assert_same_episodes(again[beta], first.results[beta], beta)
    assert cache.split("bank", render(parent), betas, 5)[1] == {2 / 3: 2}  # the parent's own row: known on 2
    # every row known, yet over the sandbox's size limit (a long docstring): refused as it would be uncached
    padded = '"""' + "x" * MAX_SOURCE_CHARS + '"""' + render(parent).split('"""', 2)[2]
    assert cache.split("bank", padded, betas, 2)[1] == {}
    refused = cache.evaluate(synthetic_bank, "bank", padded, betas, 2, FAST)
    assert not refused.ok and "characters; at most 40000" in refused.error


def test_a_candidate_replayed_in_sandboxes_side_by_side_gives_the_same_results(synthetic_bank, monkeypatch):
    """A lone candidate's betas dealt out to two sandboxes at once replay the same episodes, and its
    execution traces are the same, as in one sandbox."""
    source, betas = render(seed_genome(1, 4)), [0.0, 1 / 3, 2 / 3, 1.0]
    dealt = []
    replay = row_cache.evaluate_candidate
    monkeypatch.setattr(row_cache, "evaluate_candidate",
                        lambda bank, source, todo, *args, **kw: dealt.append(list(todo)) or replay(bank, source, todo,
                                                                                                   *args, **kw))
    split = RowCache().evaluate(synthetic_bank, "bank", source, betas, 3, FAST, (0.0,), side_by_side=2)
    assert split.ok and sorted(dealt) == [[0.0, 2 / 3], [1 / 3, 1.0]]
    whole = replay(synthetic_bank, source, betas, 3, FAST, trace_betas=(0.0,))
    for beta in betas:
        _assert_same_episodes(split.results[beta], whole.results[beta], beta)
    assert split.diagnoses == whole.diagnoses


def _assert_same_episodes(got, want, beta) -> None:
    for name in ("questions", "seeds", "correct", "tokens", "rounds", "seq_tokens", "answers"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), (beta, name)


def test_a_refit_copies_from_the_worst_fold_first():
    """Selection ranks by the worst fold, so copies come from its losses first even when another
    fold loses more at one budget: here the large model trails ASC by 0.12 from 400 tokens on and
    is the worst fold, while the small one, far ahead below 700 tokens, trails first-k by 0.3 at
    700. The first copy is ASC's point, the second first-k's."""
    genome = seed_genome(7, 4)  # a posterior stop: ASC goes in as it is
    asc = [_point(b, m, t, a) for m in ("small", "large") for b, t, a in ((0.0, 100, 0.2), (1.0, 400, 0.42))]
    baselines = {"asc": asc, "first-k": [_point(0.8, "small", 700, 0.9), _point(0.8, "large", 700, 0.35)]}
    program = Program("p", 0, 0, render(genome), status="evaluated", permutations=20)
    curves = {"p": [_point(b, m, t, a) for b, t in ((0.0, 100), (1 / 3, 300), (2 / 3, 600), (1.0, 1000))
                    for m, a in (("small", 0.6), ("large", 0.3))]}
    folds = _Folds(Scoring.from_points([p for pts in baselines.values() for p in pts]), curves, baselines)
    gains = {model: gain for (_, model), (_, gain) in folds.scoring.score(curves["p"])[2].items()}
    largest = losses(curves["p"], baselines)[0]
    assert gains["large"] < gains["small"] and (largest.group[1], largest.baseline) == ("small", "first-k")
    _, ((asc_budget, asc_row), (fk_budget, fk_row)) = folds.imitations(random.Random(0), program, genome)
    assert 400 <= asc_budget < 700 and asc_row in [imitation_row(genome, "asc", 1.0, plain) for plain in (True, False)]
    assert fk_budget >= 700 and fk_row in [imitation_row(genome, "first-k", 0.8, plain) for plain in (True, False)]


def test_a_hosting_program_merges_the_rows_its_vote_share_relatives_measured():
    """A vote-share program is written in `share-or-posterior` by holding its posterior back, so a
    merge for a program that hosts ASC assembles from its vote-share relatives' rows too, each with
    the points it was measured at; nothing is written in components that would change what it does."""
    from autotts.explorer.grammar import hosting, written_in

    share = seed_genome(2, 4)
    hosted = hosting(share, "asc")
    assert written_in(share, share.components) is share and written_in(share, hosted.components) == hosted
    assert written_in(hosted, share.components) is None and written_in(seed_genome(7, 4), hosted.components) is None
    program = Program("relative", 0, 0, render(share), status="evaluated", permutations=20)
    curves = {"relative": [_point(b, m, 100 + 300 * b, 0.3) for b in (0.0, 1 / 3, 2 / 3, 1.0)
                           for m in ("small", "large")]}
    folds = _Folds(Scoring.from_points(curves["relative"]), curves, {"sc": curves["relative"]})
    rows = folds.measured([(program, written_in(share, hosted.components))])
    assert [m.row for m in rows] == list(hosted.rows) and {m.row["threshold"] for m in rows} == {0.999}
    assert [m.points for m in rows] == [m.points for m in folds.measured([(program, share)])]


def test_a_table_that_repeats_a_row_keeps_every_row_and_takes_a_copy_in_the_repeat():
    """A parent written for fewer beta steps repeats a row on a finer grid (`on_grid`). Where it
    loses to ASC, `extend` keeps all its rows, written as the host writes them, and puts ASC's
    point in the repeated slot, in cost order; a refit would assemble the table afresh instead."""
    from autotts.explorer.grammar import hosting, on_grid, row_key
    from autotts.explorer.offline import OfflineExplorer

    three = seed_genome(2, 3)  # a vote-share stop: ASC is hosted through share-or-posterior
    parent = on_grid(three, (0.0, 1 / 3, 2 / 3, 1.0))
    assert len({row_key(r) for r in parent.rows}) == 3
    program = Program("p", -1, 0, render(three), status="evaluated", permutations=20)
    curves = {"p": [_point(b, m, t, 0.3) for b, t in ((0.0, 100), (0.5, 300), (1.0, 900)) for m in ("small", "large")]}
    baselines = {"asc": [_point(0.0, m, 150, 0.45) for m in ("small", "large")]}
    folds = _Folds(Scoring.from_points([p for pts in baselines.values() for p in pts]), curves, baselines)
    measured = folds.measured([(program, parent)])
    host, copies = folds.imitations(random.Random(0), program, parent, n=1)
    child = OfflineExplorer._extend(parent, host, measured, copies)
    assert host == hosting(parent, "asc") and child.components == host.components
    kept = [dict(r) for r in hosting(three, "asc").rows]
    asc = [dict(r) for r in child.rows if dict(r) not in kept]
    assert len(child.rows) == 4 and [dict(r) for r in child.rows if dict(r) in kept] == kept
    assert len(asc) == 1 and asc[0]["threshold"] == imitation_row(host, "asc", 0.0, True)["threshold"]
    assert [dict(r) for r in child.rows].index(asc[0]) == 1  # 150 tokens: between the 100- and 300-token rows


def test_extend_bridges_the_widest_budget_gap_with_a_narrower_copy_of_the_row_above_it():
    """Without baseline copies, the repeated slots take bridges: the row above the widest budget gap
    (by cost ratio) with its widths divided by the square root of the ratio, placed at the gap's
    geometric middle; the next bridge splits the widest gap left. Every parent row stays as it was."""
    from autotts.explorer.grammar import on_grid
    from autotts.explorer.offline import WIDTHS, _bridges

    three = seed_genome(2, 3)
    parent = on_grid(three, (0.0, 0.25, 0.5, 0.75, 1.0))  # five steps, three distinct rows: two repeats
    program = Program("p", -1, 0, render(three), status="evaluated", permutations=20)
    curves = {"p": [_point(b, m, t, 0.3) for b, t in ((0.0, 100), (0.5, 400), (1.0, 900)) for m in ("small", "large")]}
    folds = _Folds(Scoring.from_points(curves["p"]), curves, {"sc": curves["p"]})
    child = OfflineExplorer._extend(parent, parent, folds.measured([(program, parent)]), [])
    rows = [dict(r) for r in child.rows]
    cheap, middle, dear = (dict(r) for r in three.rows)
    # gaps 4.0 (100 -> 400) then, after the first bridge at 200 tokens, 2.25 (400 -> 900): each
    # bridge is the dearer neighbour made narrower, in cost order between its neighbours
    narrower = [{**row, **{n: PARAMS[n].clamp(row[n] / ratio ** 0.5) for n in WIDTHS if n in row}}
                for row, ratio in ((middle, 4.0), (dear, 2.25))]
    assert rows == [cheap, narrower[0], middle, narrower[1], dear]
    assert narrower[0]["max_width"] < middle["max_width"]  # a real change, not a repeat
    # no gap worth a row (ratios under 1.25), or no table: nothing to add, the dearest repeats as before
    assert _bridges([(100.0, cheap), (110.0, middle)], 2) == [] and _bridges([], 1) == []
    # a dearer row one branch wide cannot be made narrower (halving only its `grow` would act the
    # same): its gap is passed over for the next widest
    single = {**middle, "width": 1.0, "max_width": 1.0, "grow": 4.0}
    (tokens, row), = _bridges([(100.0, cheap), (1000.0, single), (3000.0, dear)], 1)
    assert tokens == pytest.approx(1000 * 3 ** 0.5) and row["max_width"] < dear["max_width"]
    assert _bridges([(100.0, cheap), (1000.0, single)], 1) == []
    flat = {"p": [_point(b, m, t, 0.3) for b, t in ((0.0, 100), (0.5, 110), (1.0, 120)) for m in ("small", "large")]}
    folds = _Folds(Scoring.from_points(flat["p"]), flat, {"sc": flat["p"]})
    child = OfflineExplorer._extend(parent, parent, folds.measured([(program, parent)]), [])
    assert [dict(r) for r in child.rows] == [cheap, middle, dear, dear, dear]


def _mixed(rows: int = 3) -> Genome:
    """Seed 2's table with two rows of the paper's Confidence Momentum loop after it."""
    from autotts.explorer.grammar import momentum_row

    seed = seed_genome(2, rows)
    return Genome(dict(seed.components), seed.rows + (momentum_row(0.5), momentum_row(1.0))).normalized()


def test_a_table_with_momentum_rows_passes_the_sandbox_and_runs_the_papers_loop_in_them(synthetic_bank, tmp_path):
    """A momentum row runs the paper's loop (the built-in `cmc`) with its knobs, in the sandbox and
    its batch-independence check; the program's own rows are untouched by the other kind beside them."""
    from replay_core.baselines import BASELINES

    mixed = _mixed()
    assert genome_of(render(mixed)) == mixed and mixed.title().endswith("+ momentum rows")
    assert "ConfidenceMomentum" not in render(seed_genome(2, 3))  # a program without them renders as before
    betas = [0.0, 0.5, 0.75, 1.0]  # rows 0, 2 (the program's), 3 and 4 (momentum: cmc at beta 0.5 and 1.0)
    result = evaluate_candidate(synthetic_bank, render(mixed), betas, permutations=2, limits=FAST)
    assert result.ok, result.error
    questions, shuffles = np.arange(synthetic_bank.n_questions), np.arange(2)
    for beta, paper_beta in ((0.75, 0.5), (1.0, 1.0)):
        cmc = run_batch(synthetic_bank, BASELINES["cmc"].make_controller, paper_beta, questions, shuffles)
        assert np.array_equal(np.sort(result.results[beta].tokens), np.sort(cmc.tokens))
        assert np.array_equal(np.sort(result.results[beta].correct), np.sort(cmc.correct))
    module = tmp_path / "program.py"
    module.write_text(render(seed_genome(2, 3)))
    own = run_batch(synthetic_bank, load_module_factory(module), 1.0, questions, shuffles)  # its row 2, as here
    assert np.array_equal(np.sort(result.results[0.5].tokens), np.sort(own.tokens))


def test_a_graft_keeps_every_row_and_search_never_mixes_the_kinds_of_a_row():
    """`extend+graft` keeps each parent row and puts momentum rows in the repeated slots; tuning,
    refits, swaps and crossover then change knobs within a row's kind, never a row's kind."""
    from autotts.explorer.grammar import MOMENTUM, is_momentum, momentum_row, on_grid

    three = seed_genome(2, 3)
    parent = on_grid(three, (0.0, 0.25, 0.5, 0.75, 1.0))
    program = Program("p", -1, 0, render(three), status="evaluated", permutations=20)
    curves = {"p": [_point(b, m, t, 0.3) for b, t in ((0.0, 100), (0.5, 400), (1.0, 900)) for m in ("small", "large")]}
    folds = _Folds(Scoring.from_points(curves["p"]), curves, {"sc": curves["p"]})
    grafts = [momentum_row(0.0), momentum_row(1.0)]
    child = OfflineExplorer._extend(parent, parent, folds.measured([(program, parent)]), [], grafts)
    assert [dict(r) for r in child.rows] == [dict(r) for r in three.rows] + grafts
    rng = random.Random(0)
    for _ in range(40):
        mutated = rng.choice([OfflineExplorer._tune(rng, child, 2.0), OfflineExplorer._swap(rng, child),
                              OfflineExplorer._crossover(rng, child, seed_genome(5, 5))])
        assert [is_momentum(r) for r in mutated.rows] == [False] * 3 + [True] * 2
        assert all(set(r) == {"momentum", *MOMENTUM} for r in mutated.rows[3:])
        assert all(set(r) == set(mutated.params()) for r in mutated.rows[:3])
    refit = OfflineExplorer._refit(rng, child, folds.measured([(program, parent)])[:1])
    assert [is_momentum(r) for r in refit.rows] == [False] * 5  # the free slots vary the chosen row, of its kind
    assert imitation_row(child, "sc", 1.0, True)["width"] == 64 and "momentum" not in imitation_row(child, "sc", 1.0, True)
    # the loop opens n_init branches and sizes its vote table by max_branches: never fewer
    narrow = Genome(child.components, ({**grafts[1], "n_init": 12.0, "max_branches": 3.0},)).normalized()
    assert narrow.rows[0]["max_branches"] == 12


def test_grafts_take_the_papers_points_on_the_envelope_grid_that_a_table_lacks():
    """Grafts are the paper's schedule on the baselines' 11-beta grid: spread evenly over the
    points a table lacks, never one it holds, and never more than the repeated slots."""
    from autotts.explorer.grammar import momentum_row, paper_points, row_key

    def betas(rows):
        return [b for row in rows for b in (i / 10 for i in range(11)) if row_key(row) == row_key(momentum_row(b))]

    fresh = seed_genome(2, 3)
    assert betas(paper_points(fresh, 6)) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert betas(paper_points(fresh, 1)) == [0.5]
    assert len(paper_points(fresh, 20)) == 11 and paper_points(fresh, 0) == []
    holding = Genome(fresh.components, fresh.rows + tuple(momentum_row(b) for b in (0.0, 0.4, 0.6, 0.8))).normalized()
    assert betas(paper_points(holding, 3)) == [0.1, 0.5, 1.0]
    assert betas(paper_points(holding, 13)) == [0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]
    every = Genome(fresh.components, fresh.rows + tuple(paper_points(fresh, 11))).normalized()
    assert paper_points(every, 5) == []


def test_the_row_cache_keys_a_momentum_row_by_its_knobs_alone():
    """A momentum row acts the same in any program, so another program's replay of it is reused."""
    from autotts.explorer.grammar import momentum_row
    from autotts.explorer.row_cache import _row_keys

    row = momentum_row(0.5)
    a, b = seed_genome(2, 2), seed_genome(5, 2)
    keys_a = _row_keys("bank", render(Genome(a.components, a.rows + (row,))), [0.0, 1.0])
    keys_b = _row_keys("bank", render(Genome(b.components, b.rows + (row,))), [0.0, 1.0])
    assert keys_a[1.0] == keys_b[1.0] and keys_a[0.0] != keys_b[0.0]
