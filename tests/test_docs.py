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


def test_every_autotts_command_in_the_docs_parses():
    """Each `autotts ...` line of the README's and docs' shell blocks is accepted by the real parser,
    so a renamed or removed option cannot linger in the documentation."""
    import shlex

    import pytest

    from autotts.cli import build_parser

    parser = build_parser()
    commands = []
    for page in [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md")), DOCS.parent / "deployments" / "README.md"]:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = line.split("  #")[0].strip()
                if line.startswith("autotts ") and "..." not in line:
                    commands.append((page.name, line))
    assert len(commands) > 20
    for page, line in commands:
        try:
            parser.parse_args(shlex.split(line)[1:])
        except SystemExit as stop:  # --help exits 0; a parse error exits 2
            if stop.code:
                pytest.fail(f"{page}: `{line}` does not parse")
