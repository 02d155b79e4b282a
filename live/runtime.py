"""The live runtime: drive an engine with a controller, through the replay environment's own
state, validation and accounting (a `ReplayEnv` over a live `Source`), so live and replay cannot
drift apart."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autotts.live.engine import Engine
from replay_core.controller import ControllerFactory
from replay_core.env import ReplayEnv
from replay_core.play import play
from autotts.trajectories.equivalence import AnswerClassifier


class LiveSource:
    """One question answered live: chunks and probes come from the engine; answers are grouped
    into classes as they appear (by mathematical equivalence)."""

    def __init__(self, engine: Engine, prompt: str, max_branches: int, answer_type: str = "math",
                 max_classes: int = 4096):
        self.engine, self.prompt = engine, prompt
        self.available = np.array([max_branches])
        self.n_classes = max_classes
        self.handles: dict[int, object] = {}
        self.classes = AnswerClassifier(answer_type)
        self.confidence_sums: dict[int, float] = {}

    @property
    def texts(self) -> list[str]:
        return self.classes.texts

    def class_of(self, text: str | None) -> int:
        return self.classes.add(text)

    def _handle(self, b: int):
        if b not in self.handles:
            self.handles[b] = self.engine.open(self.prompt)
        return self.handles[b]

    def advance(self, e, b, depth, spent, chunks):
        results = self.engine.extend([self._handle(int(x)) for x in b], [int(k) for k in chunks])
        cost, target, ends, final, last, mean = [], [], [], [], [], []
        for slot, d, produced in zip(b, depth, results):
            total = self.confidence_sums.get(int(slot), 0.0) + sum(c.confidence for c in produced)
            self.confidence_sums[int(slot)] = total
            new_depth = int(d) + len(produced)
            ended = bool(produced and produced[-1].finished)
            cost.append(sum(c.tokens for c in produced))
            target.append(new_depth)
            ends.append(ended)
            final.append(self.class_of(produced[-1].answer) if ended else -1)
            last.append(produced[-1].confidence if produced else float("nan"))
            mean.append(total / new_depth if new_depth else float("nan"))
            if ended:
                self.engine.close(self.handles[int(slot)])
        return (np.array(cost, np.int64), np.array(target, np.int64), np.array(ends, bool),
                np.array(final, np.int64), np.array(last, float), np.array(mean, float))

    def probe(self, e, b, depth):
        answers = self.engine.probe([self.handles[int(x)] for x in b])
        return (np.array([self.class_of(a) for a, _ in answers], np.int64),
                np.array([t for _, t in answers], np.int64))

    def correct(self, answers):
        raise NotImplementedError("a live question has no label")


@dataclass(frozen=True)
class LiveAnswer:
    answer: str | None
    tokens: int
    rounds: int
    seq_tokens: int


def solve(engine: Engine, factory: ControllerFactory, beta: float, prompt: str, max_branches: int = 64,
          answer_type: str = "math") -> LiveAnswer:
    """Answer one question live with a controller (a baseline or a discovered module)."""
    source = LiveSource(engine, prompt, max_branches, answer_type)
    env = play(ReplayEnv(source, max_branches, label=lambda e: "live question"), factory(beta))
    cls = int(env.answer[0])
    return LiveAnswer(source.texts[cls] if cls >= 0 else None, int(env.tokens[0]), int(env.rounds[0]),
                      int(env.seq_tokens[0]))
