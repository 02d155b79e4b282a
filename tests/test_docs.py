"""The docs stay true: the controller-API worked example runs as written."""
from __future__ import annotations

import re
from pathlib import Path

from replay_core.controller import load_module_factory
from replay_core.evaluate import evaluate

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_controller_api_worked_example_runs(tmp_path, synthetic_bank):
    text = (DOCS / "controller-api.md").read_text()
    example = re.findall(r"```python\n(.*?)```", text, re.S)[-1]
    module = tmp_path / "probe_majority.py"
    module.write_text(example)
    results = evaluate(synthetic_bank, load_module_factory(module), [0.0, 1.0], permutations=3)
    assert results[0.0].tokens.mean() < results[1.0].tokens.mean()
    assert results[1.0].correct.mean() > 0.3
