"""A scripted engine that replays one stored question, behind the same seam as a real engine.

It serves the question's trajectories in a given order and charges exactly what replay charges,
so the live runtime can be checked against replay without a GPU."""
from __future__ import annotations

from autotts.trajectories.schema import TrajectoryRecord
from autotts.live.engine import Chunk


class ScriptedEngine:
    def __init__(self, trajectories: list[TrajectoryRecord], order: list[int]):
        self.trajectories = trajectories
        self.order = list(order)
        self.opened: list[tuple[int, int, int]] = []  # (trajectory, depth, tokens generated)

    def open(self, prompt: str) -> int:
        if len(self.opened) >= len(self.order):
            raise RuntimeError("no more sampled sequences for this question")
        self.opened.append((self.order[len(self.opened)], 0, 0))
        return len(self.opened) - 1

    def extend(self, handles: list[int], chunks: list[int]) -> list[list[Chunk]]:
        out = []
        for handle, k in zip(handles, chunks):
            t, depth, spent = self.opened[handle]
            rec = self.trajectories[t]
            n = len(rec.chunk_tokens)
            produced = []
            while k > 0 and depth < n:
                depth += 1
                if depth == n:  # the closing step costs what the trajectory still has to generate
                    cost = max(0, rec.length - spent)
                else:
                    cost = rec.chunk_tokens[depth - 1]
                spent += cost
                conf = rec.chunk_confidence[depth - 1] if rec.chunk_confidence else float("nan")
                produced.append(Chunk(cost, conf, depth == n, rec.final_answer if depth == n else None,
                                      cut=depth == n and not rec.finished))
                k -= 1
            self.opened[handle] = (t, depth, spent)
            out.append(produced)
        return out

    def probe(self, handles: list[int]) -> list[tuple[str | None, int]]:
        out = []
        for handle in handles:
            t, depth, _ = self.opened[handle]
            rec = self.trajectories[t]
            out.append((rec.probe_answers[depth - 1], rec.probe_tokens[depth - 1]))
        return out

    def close(self, handle: int) -> None:
        pass
