"""The controller contract and how candidates are loaded.

A controller module defines `make_controller(beta: float)`, returning an object with
`act(obs: Observation) -> Actions`. `make_controller` is called once per batch of episodes; `act`
once per round. Decisions for one episode must depend only on that episode's observations.
"""
from __future__ import annotations

import importlib.util
import inspect
import typing
from functools import partial
from pathlib import Path
from typing import Any, Callable, Protocol

from replay_core.actions import Actions
from replay_core.observation import Observation


class Controller(Protocol):
    """`act` once per round for the whole batch. `live_only = True` asks for observations of the
    episodes still running only (rows in `obs.episode` order), which is cheaper; the default, False,
    shows every episode every round."""

    live_only: bool = False

    def act(self, obs: Observation) -> Actions: ...


ControllerFactory = Callable[[float], Controller]


class ControllerError(ValueError):
    """A controller could not be loaded or configured."""


def load_module_factory(path: str | Path) -> ControllerFactory:
    """`make_controller` of a trusted module file (untrusted code goes through the sandbox)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(f"autotts_controller_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ControllerError(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise ControllerError(f"{path}: failed to import ({type(err).__name__}: {err})") from err
    factory = getattr(module, "make_controller", None)
    if not callable(factory):
        raise ControllerError(f"{path}: defines no make_controller(beta)")
    return factory


def resolve(name_or_path: str, knobs: dict[str, Any] | None = None) -> tuple[str, ControllerFactory]:
    """A built-in baseline by name, or a module by path; knobs are bound as keyword arguments."""
    from replay_core.baselines import BASELINES

    knobs = knobs or {}
    if name_or_path in BASELINES:
        factory = BASELINES[name_or_path].make_controller
        name = name_or_path
    elif name_or_path.endswith(".py"):
        factory = load_module_factory(name_or_path)
        name = Path(name_or_path).stem
    else:
        raise ControllerError(f"unknown controller {name_or_path!r}: use a built-in name "
                              f"({', '.join(BASELINES)}) or a path to a .py module")
    if knobs:
        accepted = list(inspect.signature(factory).parameters)[1:]
        unknown = sorted(set(knobs) - set(accepted))
        if unknown:
            raise ControllerError(f"{name} has no knob {', '.join(unknown)}; knobs: {', '.join(accepted) or 'none'}")
        for key, value in knobs.items():
            _check_knob_type(name, factory, key, value)
        factory = partial(factory, **knobs)
    return labelled(name, knobs), factory


def labelled(name: str, knobs: dict[str, Any]) -> str:
    """A controller's name with its pinned knobs: `sc(k=8)`."""
    return name + ("(" + ",".join(f"{k}={v}" for k, v in sorted(knobs.items())) + ")" if knobs else "")


def _check_knob_type(name: str, factory: ControllerFactory, key: str, value: Any) -> None:
    """A numeric knob (by its annotation, else its default) must get a number, and a whole one
    when it takes only integers: a string would otherwise fail deep inside the replay."""
    try:
        hint = typing.get_type_hints(factory).get(key)
    except Exception:  # unresolvable annotations: fall back to the default's type
        hint = None
    default = inspect.signature(factory).parameters[key].default
    types = set(typing.get_args(hint)) or {hint} if hint is not None else {type(default)}
    if bool in types or isinstance(value, bool) or not types & {int, float}:
        return
    if isinstance(value, str) or (float not in types and isinstance(value, float)):
        kind = "a number" if float in types else "a whole number"
        raise ControllerError(f"{name}: knob {key} takes {kind}, got {value!r} (--set {key}=VALUE)")


def parse_knob(text: str) -> tuple[str, Any]:
    """`k=64` -> ("k", 64); values are int, float, bool or string."""
    if "=" not in text:
        raise ControllerError(f"--set expects KNOB=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    for cast in (int, float):
        try:
            return key.strip(), cast(raw)
        except ValueError:
            pass
    if raw.lower() in ("true", "false"):
        return key.strip(), raw.lower() == "true"
    return key.strip(), raw
