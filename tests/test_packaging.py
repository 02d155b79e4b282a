"""What a plain, non-editable `pip install .` ships: the controller API the LLM prompt quotes (as
package data, from the one source docs/controller-api.md), no deployments script as a package, no
test-only helpers; and the Anthropic explorer builds its prompt from the installed package, run
from outside the checkout, through the real SDK over a mock transport."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT

PROBE = """
import json, sys
import anthropic, httpx2
import autotts.explorer as explorer
from autotts.explorer.anthropic_explorer import AnthropicExplorer, default_model
from autotts.explorer.base import DiscoveryContext
from autotts.explorer.programs_db import ProgramsDatabase

seen = []

def handler(request):
    seen.append(json.loads(request.content))
    return httpx2.Response(200, json={"id": "m", "type": "message", "role": "assistant", "model": "t",
        "content": [{"type": "text", "text": "no code"}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5}})

client = anthropic.Anthropic(api_key="k", http_client=httpx2.Client(transport=httpx2.MockTransport(handler)))
AnthropicExplorer(model=default_model(), client=client).propose(DiscoveryContext(ProgramsDatabase(), 0, 0, ""), 1)
print(json.dumps({"explorer": explorer.__file__, "prompt": seen[0]["messages"][0]["content"]}))
"""


def test_a_wheel_ships_the_prompt_doc_and_no_script_or_test_helpers(tmp_path, synthetic_file):
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".*cache", ".hypothesis"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", ".", "-w",
                    str(tmp_path / "dist")], cwd=source, check=True, capture_output=True, timeout=300)
    (wheel,) = (tmp_path / "dist").glob("autotts-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        shipped_doc = archive.read("autotts/explorer/controller-api.md").decode()
    assert shipped_doc == (ROOT / "docs" / "controller-api.md").read_text()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"autotts", "replay_core"}  # one namespace, plus the controller contract candidates import
    assert not [n for n in names if Path(n).stem in ("scripted_engine", "scripted", "tiny_model")]

    installed = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(installed), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["explorer"].startswith(str(installed))  # the installed copy, not the checkout
    assert shipped_doc.strip().splitlines()[0] in out["prompt"]

    # the command line from the installed namespace: replay with answers graded in worker processes
    # (whose initializer is named by module path, so it must resolve in the install too)
    cli = subprocess.run([sys.executable, "-m", "autotts", "evaluate", "--bank", str(synthetic_file), "--controller",
                          "sc", "--betas", "2", "--permutations", "2", "--json"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    curve = json.loads(cli.stdout)
    assert curve["synthetic"] and curve["answer_mode"] == "math" and {p["beta"] for p in curve["points"]} == {0.0, 1.0}


def test_an_uninstalled_checkout_resolves_the_namespace_from_itself(tmp_path):
    """A second checkout on PYTHONPATH (a worktree, the GPU check script) takes every `autotts.*`
    module from itself, never from the editable install of another, and offers only the mapped
    folders (as a wheel would)."""
    other = tmp_path / "other-checkout"
    shutil.copytree(ROOT, other, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".*cache", ".hypothesis"))
    probe = ("import json, importlib.util, autotts.flows.discover, autotts.warehouse.db; "
             "print(json.dumps([autotts.flows.discover.__file__, autotts.warehouse.db.__file__, "
             "importlib.util.find_spec('autotts.replay_core') is None, importlib.util.find_spec('autotts.tests') is None]))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(other)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    flows, db, no_replay_core, no_tests = json.loads(done.stdout)
    assert flows.startswith(str(other)) and db.startswith(str(other)) and no_replay_core and no_tests
