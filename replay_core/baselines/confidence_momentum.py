"""Confidence Momentum: the controller the AutoTTS paper's own discovery found (Zhang et al., 2026,
"Confidence Momentum Controller"), whose β=0.5 and β=1.0 rows are the published AutoTTS figures.

Every running branch advances one chunk a round (branches agreeing with the vote of the finished
answers advance `burst` chunks), so the shortest trajectories finish first and vote first. The
controller keeps an exponential moving average of the vote's Beta-majority confidence and answers
once it is high and not falling; it opens more branches while the average stalls, and after a
warm-up abandons branches whose latest probe has disagreed with the vote for `patience` rounds.
Written from the algorithm and β schedule of the paper's public code; replayed on the shared stores
with 100 permutations and reference answers, it gives the published rows to their shown digit
(bench/reproduce_published.py), paying episode by episode what the reference simulator charges.
With the default answers, a trajectory that ends with no answer neither votes nor counts as
finished (the reference counts its "ERR"). Not hand-made: it is not part of the baseline envelope.
"""
from __future__ import annotations

from typing import Generator

from replay_core.actions import DEFAULT_VOTE, Actions
from replay_core.observation import Observation
from replay_core.votes import beta_confidence_table


def make_controller(beta: float, n_init: int | None = None, max_branches: int | None = None,
                    warm_up: int | None = None, patience: int | None = None, window: int | None = None,
                    alpha: float | None = None, threshold: float | None = None, slack: float | None = None,
                    burst: int | None = None, widen: int | None = None, trend: float | None = None,
                    min_finished: int | None = None) -> "ConfidenceMomentum":
    """Confidence Momentum: EMA-of-confidence stop, widening while it stalls, deviation abandoning.

    beta -> n_init = round(2 + 6b), max_branches = round(4 + 60b), warm_up = round(2 + 8b),
    patience = round(3 + 9b), window = round(2 + 6b), alpha = 0.7 - 0.4b, threshold = 0.85 + 0.12b,
    slack = trend = 0.04 - 0.03b, burst = round(1 + 2b), widen = round(1 + 3b), min_finished =
    round(2 + 3b) (the paper's schedule; rounding as Python's round). Knobs: those names.
    """
    b = min(1.0, max(0.0, float(beta)))
    given = {"n_init": n_init, "max_branches": max_branches, "warm_up": warm_up, "patience": patience,
             "window": window, "alpha": alpha, "threshold": threshold, "slack": slack, "burst": burst,
             "widen": widen, "trend": trend, "min_finished": min_finished}
    schedule = {
        "n_init": max(2, round(2 + 6 * b)), "max_branches": min(64, round(4 + 60 * b)),
        "warm_up": max(2, round(2 + 8 * b)), "patience": max(3, round(3 + 9 * b)),
        "window": max(2, round(2 + 6 * b)), "alpha": round(0.7 - 0.4 * b, 4),
        "threshold": round(0.85 + 0.12 * b, 4), "slack": round(0.04 - 0.03 * b, 4),
        "burst": max(1, round(1 + 2 * b)), "widen": max(1, round(1 + 3 * b)),
        "trend": round(0.04 - 0.03 * b, 4), "min_finished": max(2, round(2 + 3 * b)),
    }
    return ConfidenceMomentum(**{k: (v if given[k] is None else given[k]) for k, v in schedule.items()})


def vote(answers: list[int]) -> tuple[int, int, int]:
    """(leader, its votes, the runner-up's votes); ties go to the answer that was cast first."""
    counts: dict[int, int] = {}
    for a in answers:
        counts[a] = counts.get(a, 0) + 1
    if not counts:
        return -1, 0, 0
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: first cast wins a tie
    return ranked[0][0], ranked[0][1], ranked[1][1] if len(ranked) > 1 else 0


class Branch:
    """One branch's state as the controller knows it. (A plain class, not a dataclass: the module
    also runs as a candidate loaded from its source, outside `sys.modules`.)"""

    def __init__(self, slot: int):
        self.slot = slot
        self.latest = -1          # its last probe answer, or its final answer once finished
        self.finished = False
        self.abandoned = False
        self.depth = 0            # chunks generated: deeper branches are served first
        self.disagree = 0         # rounds in a row its latest answer differed from the vote


MAX_STEPS = 500  # the reference's cap on rounds of its loop (the stores' trajectories end well before)

# What an episode's program asks for next: ("act", opened, pruned slots, [(slot, chunks)]) or ("answer", class).
Request = tuple[object, ...]
Reply = tuple[Observation, int]


class ConfidenceMomentum:
    live_only = True  # per-episode programs are indexed by obs.episode

    def __init__(self, n_init: int, max_branches: int, warm_up: int, patience: int, window: int, alpha: float,
                 threshold: float, slack: float, burst: int, widen: int, trend: float, min_finished: int):
        if min(n_init, max_branches, window, burst, widen, min_finished) < 1:
            raise ValueError("n_init, max_branches, window, burst, widen and min_finished must be at least 1")
        self.n_init, self.max_branches, self.warm_up, self.patience = n_init, max_branches, warm_up, patience
        self.window, self.alpha, self.threshold, self.slack = window, alpha, threshold, slack
        self.burst, self.widen, self.trend, self.min_finished = burst, widen, trend, min_finished
        self.table = beta_confidence_table(max_branches + 1)  # no more finished answers than branches
        self.programs: dict[int, Generator[Request, Reply, None]] = {}

    def confidence(self, top: int, second: int) -> float:
        """The vote's Beta-majority confidence, P(p > 1/2) for p ~ Beta(top + 1, second + 1), and 0
        before any answer has finished (as the reference has it)."""
        return float(self.table[top, second]) if top > 0 else 0.0

    def act(self, obs: Observation) -> Actions:
        """Each episode runs its own program, written as the paper's loop; it stops at every point
        where it needs what an action reveals, and the round carries that action."""
        a = obs.no_actions()
        for i, episode in enumerate(obs.episode.tolist()):
            program = self.programs.get(episode)
            if program is None:
                program = self.programs[episode] = self.episode(obs.n_unused[i])
                request = next(program)
            else:
                request = program.send((obs, i))
            if request[0] == "answer":
                a.answer[i] = request[1]
                del self.programs[episode]
                continue
            _, opened, pruned, grown = request
            a.branch[i] = opened
            a.prune[i, pruned] = True
            for slot, chunks in grown:
                a.extend[i, slot] = chunks
                a.probe[i, slot] = True
        return a

    def episode(self, unused: int) -> Generator[Request, Reply, None]:
        """The paper's loop for one episode: each `yield` hands `act` one round's actions and gets
        back the observation (and this episode's row in it) that shows what they revealed."""
        branches: list[Branch] = []
        finished: list[int] = []  # final answers in the order they arrived: the vote's tie order

        def advance(pruned: list[int], steps: list[tuple[Branch, int]], opened: int = 0):
            obs, i = yield ("act", opened, pruned, [(br.slot, k) for br, k in steps])
            for br, _ in steps:  # in the order served, so simultaneous finishers vote in that order
                br.depth = int(obs.depth[i, br.slot])
                if obs.done[i, br.slot]:
                    br.finished, br.latest = True, int(obs.final[i, br.slot])
                    if br.latest >= 0:
                        finished.append(br.latest)
                else:
                    br.latest = int(obs.probe[i, br.slot])

        def open_branches(n: int):
            new = [Branch(len(branches) + j) for j in range(n)]
            branches.extend(new)
            yield from advance([], [(br, 1) for br in new], opened=n)

        def running() -> list[Branch]:
            return [br for br in branches if not br.finished and not br.abandoned]

        if unused == 0:
            yield ("answer", DEFAULT_VOTE)
            return
        yield from open_branches(min(self.n_init, unused))
        ema, recent, step = 0.0, [], 0
        while step < MAX_STEPS:
            leader, top, second = vote(finished)
            ema = (1 - self.alpha) * ema + self.alpha * self.confidence(top, second)
            recent = (recent + [ema])[-self.window:]
            warm = step >= self.warm_up and leader >= 0
            pruned = []
            if warm:
                for br in running():
                    br.disagree = br.disagree + 1 if br.latest != leader else 0
                stubborn = sorted((br for br in running() if br.disagree >= self.patience), key=lambda br: -br.disagree)
                for br in stubborn[:max(0, len(running()) - 2)]:  # keep two running
                    br.abandoned = True
                    pruned.append(br.slot)
            steps = [(br, self.burst if warm and br.latest == leader else 1)
                     for br in sorted(running(), key=lambda br: -br.depth)]
            if steps or pruned:
                yield from advance(pruned, steps)
            leader, top, second = vote(finished)
            ema = (1 - self.alpha) * ema + self.alpha * self.confidence(top, second)
            recent[-1] = ema
            rise = recent[-1] - recent[0]
            if (step >= self.warm_up and len(finished) >= self.min_finished and ema >= self.threshold
                    and rise >= -self.slack):
                yield ("answer", leader)
                return
            if not running():
                break
            room = min(self.max_branches, unused) - len(branches)
            if room > 0 and rise <= self.trend and step >= max(1, self.warm_up // 2) and ema < self.threshold:
                yield from open_branches(min(self.widen, room))
            step += 1
        leader, _, _ = vote(finished)
        if leader < 0:
            leader, _, _ = vote([br.latest for br in branches if not br.abandoned and br.latest >= 0])
        yield ("answer", leader if leader >= 0 else DEFAULT_VOTE)
