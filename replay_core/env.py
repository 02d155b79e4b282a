"""The replay environment: executes controllers' actions over stored trajectories.

It runs a batch of E episodes in lockstep (one per question x branch-order permutation), charges
each action the tokens it would have cost, and reveals only what was paid for. Costs follow the
AutoTTS reference exactly: a branch generated chunk by chunk pays each chunk, however many chunks
one step generates, and its last chunk pays `max(0, total_tokens - tokens of the chunks before
it)`; reading a trajectory to its end in one go (FULL) pays `max(0, total_tokens - tokens already
generated)`, so from the start it costs exactly its length. A probe costs the bank's probe tokens
(0 in the AutoTTS stores); probing a branch that has ended returns its final answer for free.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from replay_core.actions import DEFAULT_VOTE, FULL, NOT_YET, Actions
from replay_core.bank import Bank
from replay_core.observation import Observation
from replay_core.votes import plurality


class InvalidAction(RuntimeError):
    """A controller asked for something the environment cannot do; the message says what and where."""


class Source(Protocol):
    """Where an environment's trajectories come from: stored ones (`BankSource`) or a live engine
    (`autotts.live.runtime.LiveSource`). Arrays are indexed by episode `e` and branch slot `b`."""

    available: np.ndarray   # per episode: how many trajectories BRANCH may open
    n_classes: int          # answer classes an episode may name

    def advance(self, e: np.ndarray, b: np.ndarray, depth: np.ndarray, spent: np.ndarray, chunks: np.ndarray
                ) -> tuple[np.ndarray, ...]:
        """Generate `chunks` more chunks of branches (e, b) at `depth` having cost `spent`: (cost, new
        depth, ended, final class, last-chunk confidence, mean confidence)."""
        ...

    def probe(self, e: np.ndarray, b: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The probe after chunk `depth` of branches (e, b): (class, cost)."""
        ...

    def correct(self, answers: np.ndarray) -> np.ndarray:
        """Whether each episode's answer class is right (a source without labels raises)."""
        ...


class BankSource:
    """Reveals stored trajectories (replay): what each CONTINUE and PROBE would have produced."""

    def __init__(self, bank: Bank, questions: np.ndarray, order: np.ndarray):
        self.bank = bank
        self.questions = np.asarray(questions, np.int64)
        self.flat = np.where(order >= 0, self.questions[:, None] * bank.max_traj + order, -1)
        self.n_chunks = np.where(order >= 0, bank.n_chunks[self.flat], 0).astype(np.int64)  # gathered once
        self.available = bank.n_traj[self.questions].astype(np.int64)
        self.conf_start = bank.conf_cum[self.flat, 0].ravel()  # gathered once: advance() subtracts it every round
        self.n_classes = max(1, bank.n_classes)

    def advance(self, e: np.ndarray, b: np.ndarray, depth: np.ndarray, spent: np.ndarray, chunks: np.ndarray):
        """Generate `chunks` more chunks of branches (e, b): (cost, new depth, ended, final class,
        last-chunk confidence, mean confidence)."""
        bank = self.bank
        k = e * self.flat.shape[1] + b  # flat index: one 1-D gather each below instead of a 2-D one
        flat = self.flat.ravel()[k]
        n = self.n_chunks.ravel()[k]
        want = depth + np.minimum(chunks, n)
        ends = want >= n
        target = np.minimum(want, n)
        # Chunk by chunk, every chunk before the last costs what it costs even where the stored probes
        # run past the trajectory's length (the reference's semantics), and the last pays the rest;
        # read at once (FULL), a trajectory costs exactly its length.
        at_once, last = chunks >= FULL, bank.chunk_cum[flat, n - 1]
        rest = np.maximum(0, bank.total_tokens[flat] - np.where(at_once, spent, last))
        cost = np.where(ends, np.where(at_once, 0, last - spent) + rest,
                        bank.chunk_cum[flat, np.minimum(target, n - 1)] - spent)
        final = np.where(ends, bank.final_class[flat], -1)
        conf_mean = (bank.conf_cum[flat, target] - self.conf_start[k]) / target
        return cost, target, ends, final, bank.chunk_conf[flat, target - 1], conf_mean

    def probe(self, e: np.ndarray, b: np.ndarray, depth: np.ndarray):
        """The probe after chunk `depth` of branches (e, b): (class, cost)."""
        flat = self.flat[e, b]
        return self.bank.probe_class[flat, depth - 1], self.bank.probe_cost[flat, depth - 1]

    def correct(self, answers: np.ndarray) -> np.ndarray:
        ok = answers >= 0
        out = np.zeros(len(answers), bool)
        out[ok] = self.bank.class_correct[self.questions[ok], answers[ok]]
        return out


class ReplayEnv:
    """E episodes over a `Source` of trajectories with `n_branches` slots each: stored ones
    (`ReplayEnv.of_bank`) or a live engine (`autotts.live.runtime.LiveSource`).

    Use: `obs = env.observe(); env.step(controller.act(obs))` until `env.live` is all False
    (`replay_core.play.play` is that loop).
    With `live_only=True`, observations (and the actions answering them) cover only the episodes
    still running, in the order given by `obs.episode`.
    """

    def __init__(self, source: Source, n_branches: int, label: Callable[[int], str] | None = None,
                 max_rounds: int = 10_000):
        self.source = source
        E, B = len(source.available), n_branches
        self.E, self.B, self.C = E, B, source.n_classes
        self.label = label or (lambda e: f"episode {e}")
        self.max_rounds = max_rounds
        self.step_count = 0
        self.action_count = 0  # individual actions taken, for throughput figures
        self._all = np.arange(E)
        self._rows = self._all
        self._slots = np.arange(B)[None, :]
        # State arrays of one dtype and shape are rows of one block, so that an observation gathers
        # (or copies) each block in one pass instead of one pass per array; the names are views.
        self._episodes = np.zeros((4, E), np.int64)  # the observed per-episode counts, then `available`
        self.n_open, self.tokens, self.rounds, self.available = self._episodes
        self.available[:] = source.available
        self.live = np.ones(E, bool)
        self.answer = np.full(E, -1, np.int64)
        self.seq_tokens = np.zeros(E, np.int64)
        self.seen = np.zeros((E, self.C), bool)
        # branch state: only what has been revealed; the observed int32 arrays first
        self._ints = np.zeros((7, E, B), np.int32)
        (self.depth, self.branch_tokens, self.final, self.probe, self.probe_depth,
         self.gen_tokens, self.probe_tokens) = self._ints  # branch_tokens = gen_tokens + probe_tokens, kept in place
        self.final[:] = -1
        self.probe[:] = -1
        self._flags = np.zeros((2, E, B), bool)
        self.done, self.pruned = self._flags
        self._confidences = np.full((2, E, B), np.nan, np.float32)
        self.conf_last, self.conf_mean = self._confidences

    @classmethod
    def of_bank(cls, bank: Bank, questions: np.ndarray, order: np.ndarray,
                label: Callable[[int], str] | None = None, max_rounds: int = 10_000) -> "ReplayEnv":
        """Replay over stored trajectories: `order[e, b]` is the trajectory that episode e opens as
        its b-th branch (a permutation of question `questions[e]`'s trajectories, padded with -1)."""
        return cls(BankSource(bank, questions, order), order.shape[1], label, max_rounds)

    # ------------------------------------------------------------------ observation
    def observe(self, live_only: bool = False) -> Observation:
        """A snapshot (copies) of what the episodes have paid for. Each state block is gathered
        (or copied) once and made read-only; the observation's arrays are views of those copies."""
        if live_only and not self.live.all():
            rows = np.flatnonzero(self.live)
            episodes = self._episodes[:3].take(rows, axis=1)
            ints, flags = self._ints[:5].take(rows, axis=1), self._flags.take(rows, axis=1)
            confidences, live, available = self._confidences.take(rows, axis=1), self.live[rows], self.available[rows]
        else:  # every row: plain copies, cheaper than gathering
            rows = self._all
            episodes, ints, flags = self._episodes[:3].copy(), self._ints[:5].copy(), self._flags.copy()
            confidences, live, available = self._confidences.copy(), self.live.copy(), self.available
        self._rows = rows
        for block in (episodes, ints, flags, confidences, live):
            block.flags.writeable = False  # before taking views: a view keeps the flag it was made with
        n_open, tokens, n_rounds = episodes
        depth, branch_tokens, final, probe, probe_depth = ints
        done, pruned = flags
        opened = self._slots < n_open[:, None]
        extra = dict(episode=rows.copy(), n_unused=available - n_open, opened=opened, active=opened & ~done & ~pruned)
        for array in extra.values():
            array.flags.writeable = False
        return Observation(**extra, live=live, n_open=n_open, tokens=tokens, rounds=n_rounds, done=done, pruned=pruned,
                           depth=depth, branch_tokens=branch_tokens, final=final, probe=probe,
                           probe_depth=probe_depth, confidence=confidences[0], mean_confidence=confidences[1],
                           n_classes=self.C)

    # ------------------------------------------------------------------ step
    def step(self, actions: Actions) -> None:
        """Apply one round of actions to the episodes of the last observation.

        Raises InvalidAction, naming the episode and the rule, on the first misuse. Each rule is
        checked on the whole batch at once; only when a batch breaks one are the rules replayed
        one by one, in order, to name the first broken rule and episode. CONTINUE and PROBE are
        checked and applied on the branches they name only (flat indices), not on every slot.
        """
        rows = self._rows
        a = self._checked_shapes(actions, len(rows))
        self.step_count += 1
        live = self.live[rows]
        growing = a.extend != 0
        grows, probes, prunes = growing.any(1), a.probe.any(1), a.prune.any(1)
        branching = a.branch != 0
        acts = branching | prunes | grows | probes
        answering = a.answer != NOT_YET
        if not (((acts ^ answering) == live) & ~(acts & answering)).all():  # live: exactly one; ended: neither
            self._require(rows, ~(~live & (acts | answering)), "acted after answering")
            self._require(rows, ~(answering & acts), "ANSWER must be the only action of its round")
            self._require(rows, ~(live & ~acts & ~answering), "made no move this round (every round must act or answer)")
        if self.live.sum() != live.sum():  # a running episode left out of the observation
            unseen = np.setdiff1d(np.flatnonzero(self.live), rows, assume_unique=True)
            self._require(unseen, np.zeros(len(unseen), bool), "made no move this round (every round must act or answer)")
        if self.step_count > self.max_rounds:
            self._require(rows, ~live, f"did not answer within {self.max_rounds} rounds")

        n_open = self.n_open[rows]
        slots = self._slots
        # PRUNE
        if prunes.any():
            pruned = self.pruned[rows]
            self._require(rows, ~(a.prune & ~((slots < n_open[:, None]) & ~pruned)).any(1),
                          "PRUNE of a branch that is not open or already pruned")
            self.pruned[rows] = pruned | a.prune
        # BRANCH
        if branching.any():
            self._require(rows, a.branch >= 0, "BRANCH with a negative count")
            self._require(rows, a.branch <= self.available[rows] - n_open, "BRANCH beyond the unused trajectories")
            n_open = n_open + a.branch
            self.n_open[rows] = n_open
        n_grown = n_probed = 0
        # CONTINUE
        if grows.any():
            i, b, k = self._named(growing, rows)
            chunks = a.extend.ravel()[np.flatnonzero(growing)]
            if (chunks < 0).any() or not self._usable(i, b, k, n_open).all() or self.done.ravel()[k].any():
                usable = (slots < n_open[:, None]) & ~self.pruned[rows]
                self._require(rows, ~(a.extend < 0).any(1), "CONTINUE by a negative number of chunks")
                self._require(rows, ~(growing & ~usable).any(1), "CONTINUE of a branch that is not open or is pruned")
                self._require(rows, ~(growing & self.done[rows]).any(1), "CONTINUE of a branch that has already ended")
            self._extend(rows[i], b, k, chunks)
            n_grown = len(k)
        # PROBE
        if probes.any():
            i, b, k = self._named(a.probe, rows)
            if not self._usable(i, b, k, n_open).all() or not self.depth.ravel()[k].all():
                usable = (slots < n_open[:, None]) & ~self.pruned[rows]
                self._require(rows, ~(a.probe & ~usable).any(1), "PROBE of a branch that is not open or is pruned")
                self._require(rows, ~(a.probe & (self.depth[rows] == 0)).any(1), "PROBE of a branch with no generated chunk")
            self._probe(rows[i], b, k)
            n_probed = len(k)
        self.rounds[rows] += grows | probes
        self.action_count += int(a.branch.sum() + a.prune.sum() + answering.sum()) + n_grown + n_probed
        # ANSWER
        if answering.any():
            self._answer(rows[answering], a.answer[answering])

    def _named(self, chosen: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (row of the observation, slot, flat index into the state arrays) of each chosen branch."""
        i, b = np.divmod(np.flatnonzero(chosen), self.B)
        return i, b, rows[i] * self.B + b

    def _usable(self, i: np.ndarray, b: np.ndarray, k: np.ndarray, n_open: np.ndarray) -> np.ndarray:
        """Whether each named branch is open and not pruned."""
        return (b < n_open[i]) & ~self.pruned.ravel()[k]

    def _extend(self, e: np.ndarray, b: np.ndarray, k: np.ndarray, chunks: np.ndarray) -> None:
        gen, depth = self.gen_tokens.ravel(), self.depth.ravel()  # views: the state arrays are contiguous
        spent = gen[k].astype(np.int64)
        cost, target, ends, final, conf_last, conf_mean = self.source.advance(e, b, depth[k].astype(np.int64), spent, chunks)
        gen[k] = spent + cost
        self.branch_tokens.ravel()[k] = gen[k] + self.probe_tokens.ravel()[k]
        depth[k] = target
        np.add.at(self.tokens, e, cost)
        self.conf_last.ravel()[k] = conf_last
        self.conf_mean.ravel()[k] = conf_mean
        if ends.any():
            fk, fe, cls = k[ends], e[ends], np.asarray(final)[ends]
            self.done.ravel()[fk] = True
            self.final.ravel()[fk] = cls
            self.seen[fe[cls >= 0], cls[cls >= 0]] = True

    def _probe(self, e: np.ndarray, b: np.ndarray, k: np.ndarray) -> None:
        d = self.depth.ravel()[k].astype(np.int64)
        ended = self.done.ravel()[k]
        cls = np.full(len(e), -1, np.int64)
        cost = np.zeros(len(e), np.int64)
        if ended.any():
            cls[ended] = self.final.ravel()[k[ended]]
            if (~ended).any():
                cls[~ended], cost[~ended] = self.source.probe(e[~ended], b[~ended], d[~ended])
        else:
            cls[:], cost[:] = self.source.probe(e, b, d)
        self.probe.ravel()[k] = cls
        self.probe_depth.ravel()[k] = d
        if cost.any():  # free probes (the published stores) leave the token counts as they are
            probe_tokens = self.probe_tokens.ravel()
            probe_tokens[k] += cost
            self.branch_tokens.ravel()[k] = self.gen_tokens.ravel()[k] + probe_tokens[k]
            np.add.at(self.tokens, e, cost)
        self.seen[e[cls >= 0], cls[cls >= 0]] = True

    def _answer(self, episodes: np.ndarray, chosen: np.ndarray) -> None:
        chosen = chosen.copy()
        explicit = chosen != DEFAULT_VOTE
        bad = explicit & ((chosen < 0) | (chosen >= self.C))
        self._require_at(episodes[bad], "ANSWER with an unknown class id")
        ok = np.ones(len(chosen), bool)
        ok[explicit] = self.seen[episodes[explicit], chosen[explicit]]
        self._require_at(episodes[~ok], "ANSWER with a class this episode has not seen")
        if (~explicit).any():
            chosen[~explicit] = self.default_vote(episodes[~explicit])
        self.answer[episodes] = chosen
        self.live[episodes] = False
        self.seq_tokens[episodes] = self.branch_tokens[episodes].max(axis=1)

    def default_vote(self, episodes: np.ndarray) -> np.ndarray:
        """Plurality of the final answers of ended, unpruned branches; where there are none, of the
        last probes of unpruned branches; ties to the earliest-opened branch; -1 if no answer."""
        usable = ~self.pruned[episodes]
        finals = np.where(self.done[episodes] & usable, self.final[episodes], -1)
        winner = plurality(finals, self.C)
        fallback = winner < 0
        if fallback.any():
            probes = np.where(usable[fallback], self.probe[episodes[fallback]], -1)
            winner[fallback] = plurality(probes, self.C)
        return winner

    # ------------------------------------------------------------------ results
    def correct(self) -> np.ndarray:
        """Whether each episode's answer is right. For the evaluator only: never observed."""
        return self.source.correct(self.answer)

    # ------------------------------------------------------------------ checks
    def _checked_shapes(self, a: Actions, n: int) -> Actions:
        if not isinstance(a, Actions):
            raise InvalidAction(f"act() must return Actions, got {type(a).__name__}")
        try:
            return Actions(
                branch=np.asarray(a.branch, np.int64).reshape(n),
                prune=np.asarray(a.prune, bool).reshape(n, self.B),
                extend=np.asarray(a.extend, np.int64).reshape(n, self.B),
                probe=np.asarray(a.probe, bool).reshape(n, self.B),
                answer=np.asarray(a.answer, np.int64).reshape(n),
            )
        except (ValueError, TypeError) as err:
            raise InvalidAction(f"Actions arrays have the wrong shape or type ({err}); "
                                f"use obs.no_actions() for ({n},) and ({n}, {self.B}) arrays") from None

    def _require(self, rows: np.ndarray, ok: np.ndarray, problem: str) -> None:
        ok = np.asarray(ok)
        if not ok.all():
            self._require_at(rows[~ok], problem)

    def _require_at(self, episodes: np.ndarray, problem: str) -> None:
        if len(episodes):
            e = int(episodes[0])
            more = f" (and {len(episodes) - 1} more episodes)" if len(episodes) > 1 else ""
            raise InvalidAction(f"{self.label(e)}, round {self.step_count}: {problem}{more}")
