"""Fuzzing the interchange reader (hypothesis): every malformed row is rejected with a located
FormatError, never a traceback, and valid rows always load."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import row
from autotts.trajectories.readers import read_jsonl
from autotts.trajectories.schema import REQUIRED, FormatError

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                 st.text(max_size=8), st.lists(st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3),
                                                         st.floats(allow_nan=True)), max_size=5),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
FIELDS = list(REQUIRED) + ["chunk_confidence", "probe_correct", "final_correct", "total_tokens", "answer_type", "problem"]


@st.composite
def damaged_rows(draw):
    base = row(traj_id=draw(st.integers(0, 3)))
    for _ in range(draw(st.integers(1, 3))):
        field = draw(st.sampled_from(FIELDS))
        if draw(st.booleans()) and field in base:
            del base[field]
        else:
            base[field] = draw(JUNK)
    return base


def _load(rows: list, raw_line: bytes | None = None):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.jsonl"
        lines = [json.dumps(r).encode() for r in rows] + ([raw_line] if raw_line is not None else [])
        path.write_bytes(b"\n".join(lines) + b"\n")
        return read_jsonl(path)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_rows())
def test_damaged_rows_are_rejected_with_a_location_or_load(damaged):
    try:
        records = _load([damaged])
    except FormatError as err:
        assert err.row == 1 and str(err).startswith(tempfile.gettempdir())
        assert err.field is None or err.field in FIELDS
    else:
        assert len(records) == 1 and records[0].chunk_tokens


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")))
def test_arbitrary_lines_never_crash(line):
    try:
        _load([row()], raw_line=line)
    except FormatError as err:
        assert err.row == 2
