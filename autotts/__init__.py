"""AutoTTS: discover test-time-scaling strategies for LLM reasoning by replaying stored trajectories.

An install maps the project's top-level folders into this namespace (`autotts.flows` is flows/,
pyproject's package-dir). A checkout used without installing it (`PYTHONPATH=.`, the GPU check
script, a second worktree on the path before an editable install of another) finds them the same
way: the checkout's root is searched for subpackages too, so every `autotts.*` module comes from the
checkout that provided `autotts` itself.
"""
from pathlib import Path

__version__ = "0.1.0"

_checkout = Path(__file__).resolve().parent.parent
if (_checkout / "pyproject.toml").is_file() and (_checkout / "flows" / "__init__.py").is_file():
    __path__.append(str(_checkout))  # noqa: F821 (the package's own search path)
