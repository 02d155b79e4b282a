"""Numbers in words, one style for the report and the terminal."""
from __future__ import annotations


def si(value: float) -> str:
    """200000 -> 200k, 1500000 -> 1.5M."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def saving_words(row: dict) -> str:
    """A `compare_curves` row's token saving at the best baseline's accuracy, in words."""
    if row["token_saving"] is None:
        return f"never reaches {100 * row['target_accuracy']:.1f}%"
    more_or_fewer = "fewer" if row["token_saving"] >= 0 else "more"
    return f"{100 * abs(row['token_saving']):.0f}% {more_or_fewer} than the best baseline's {si(row['baseline_tokens'])}"
