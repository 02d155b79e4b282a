"""The one episode loop: observe, act, step, until every episode has answered.

Replay (`evaluate.run_episodes`), execution traces (`traces.run_traced`), the sandbox's side-by-side
replay (`candidate.run_side_by_side`, whose "controller" is a set of jailed workers) and the live
runtime (`autotts.live.runtime.solve`) all play through here, so the contract a controller sees, including
`live_only`, is the same everywhere. The sandbox's worker process serves `act` over a pipe rather
than stepping an environment; it reads `live_only` through `wants_live_only` too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from replay_core.actions import Actions
from replay_core.env import ReplayEnv
from replay_core.observation import Observation

if TYPE_CHECKING:  # at run time this module imports what the sandbox's workers already hold
    from replay_core.controller import Controller


def wants_live_only(controller: Controller) -> bool:
    """The controller's `live_only` (the protocol's default, False, when it does not say)."""
    return bool(getattr(controller, "live_only", False))


def play(env: ReplayEnv, controller: Controller,
         step: Callable[[Observation, Actions], None] | None = None) -> ReplayEnv:
    """Run `controller` on `env` until no episode is live; returns `env` for its results. `step`
    applies a round's actions in place of `env.step` (traces wrap it to record what each round did)."""
    live_only = wants_live_only(controller)
    while env.live.any():
        obs = env.observe(live_only)
        actions = controller.act(obs)
        if step is None:
            env.step(actions)
        else:
            step(obs, actions)
    return env
