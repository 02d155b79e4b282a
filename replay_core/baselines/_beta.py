"""Shared beta -> knob maps: beta in [0, 1] moves a knob geometrically from its cheap to its
thorough end, so a uniform beta grid gives evenly spread points on a log-token axis."""
from __future__ import annotations


def geometric(beta: float, low: float, high: float) -> float:
    """low at beta=0, high at beta=1, geometric in between."""
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must be in [0, 1], got {beta}")
    return low * (high / low) ** beta


def geometric_int(beta: float, low: int, high: int) -> int:
    return max(1, int(round(geometric(beta, low, high))))


def linear(beta: float, low: float, high: float) -> float:
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta must be in [0, 1], got {beta}")
    return low + (high - low) * beta
