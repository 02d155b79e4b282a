"""Collect one question through any engine: the tests' and benches' shorthand for
`autotts.collection.collector.collect_questions` with a single problem."""
from __future__ import annotations

from autotts.collection.collector import collect_questions
from autotts.collection.problems import Problem
from autotts.live.answers import PROMPT_TEMPLATE
from autotts.live.engine import Engine
from autotts.trajectories.schema import TrajectoryRecord


def collect_question(engine: Engine, problem: Problem, model: str, n: int, max_chunks: int,
                     prompt_template: str = PROMPT_TEMPLATE) -> list[TrajectoryRecord]:
    """N trajectories of one question (see `collect_questions`)."""
    return collect_questions(engine, [problem], model, n, max_chunks, prompt_template)[0]
