"""AutoTTS: discover test-time-scaling strategies for LLM reasoning by replaying stored trajectories.

An install maps the project's top-level folders into this namespace (`autotts.flows` is flows/,
pyproject's package-dir). A checkout used without installing it (`PYTHONPATH=.`, the GPU check
script, a second worktree on the path before an editable install of another) finds exactly those
folders the same way, from the checkout that provided `autotts` itself, and nothing else under
`autotts.` (so `autotts.replay_core` is an error here as in a wheel).
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import tomllib
from pathlib import Path

__version__ = "0.1.0"


class _CheckoutFolders(importlib.abc.MetaPathFinder):
    """Finds `autotts.<name>` at `<checkout>/<folder>` for the mapped folders of pyproject.toml."""

    def __init__(self, folders: dict[str, Path]):
        self.folders = folders

    def find_spec(self, fullname, path=None, target=None):
        folder = self.folders.get(fullname)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(fullname, folder / "__init__.py",
                                                      submodule_search_locations=[str(folder)])


def _checkout_folders(root: Path) -> dict[str, Path]:
    """pyproject's package-dir mapping, when `root` is an AutoTTS checkout (else nothing)."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text())
    except (OSError, ValueError):
        return {}
    if project.get("project", {}).get("name") != "autotts":
        return {}
    mapping = project.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    return {name: root / folder for name, folder in mapping.items()
            if name.startswith(__name__ + ".") and (root / folder / "__init__.py").is_file()}


_folders = _checkout_folders(Path(__file__).resolve().parent.parent)
if _folders:  # ahead of an editable install's finder, which may point at another checkout
    sys.meta_path.insert(0, _CheckoutFolders(_folders))
