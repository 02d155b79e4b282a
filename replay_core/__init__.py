"""The replay environment: stored trajectories in arrays, the controller contract, costs, metrics.

Pure numpy; no Prefect, no DuckDB, no network. See docs/controller-api.md.
"""
from replay_core.actions import DEFAULT_VOTE, FULL, NOT_YET, Actions
from replay_core.bank import Bank
from replay_core.env import InvalidAction, ReplayEnv
from replay_core.observation import Observation

__all__ = ["Actions", "Bank", "DEFAULT_VOTE", "FULL", "InvalidAction", "NOT_YET", "Observation", "ReplayEnv"]
