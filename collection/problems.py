"""The problems file: JSONL with question_id, benchmark, problem, gold."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from autotts.trajectories.schema import FormatError

FIELDS = ("question_id", "benchmark", "problem", "gold")


@dataclass(frozen=True)
class Problem:
    question_id: str
    benchmark: str
    problem: str
    gold: str
    answer_type: str = "math"


def read_problems(path: str | Path) -> list[Problem]:
    source = str(path)
    problems, seen = [], set()
    with open(path, "rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                raise FormatError(source, line_no, None, f"not valid JSON ({err})") from None
            if not isinstance(raw, dict):
                raise FormatError(source, line_no, None, "expected an object")
            for field in FIELDS:
                if not isinstance(raw.get(field), (str, int)) or isinstance(raw.get(field), bool) or raw.get(field) == "":
                    raise FormatError(source, line_no, field, "missing or not a string")
            key = (str(raw["benchmark"]), str(raw["question_id"]))
            if key in seen:
                raise FormatError(source, line_no, "question_id", f"duplicate question {key[1]!r}")
            seen.add(key)
            problems.append(Problem(str(raw["question_id"]), str(raw["benchmark"]), str(raw["problem"]),
                                    str(raw["gold"]), str(raw.get("answer_type") or "math")))
    if not problems:
        raise FormatError(source, None, None, "contains no problems")
    return problems
