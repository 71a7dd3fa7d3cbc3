"""Figures the fire scenarios report (invocations, kills, reader queries, exit times), printed after the run."""

from __future__ import annotations

from collections import Counter

COUNTS: Counter[str] = Counter()
MAXIMA: dict[str, float] = {}


def count(name: str, amount: int = 1) -> None:
    """Add `amount` to the figure `name`."""
    COUNTS[name] += amount


def maximum(name: str, value: float) -> None:
    """Keep the largest `value` seen for the figure `name`."""
    MAXIMA[name] = max(value, MAXIMA.get(name, value))


def lines() -> list[str]:
    """One line per figure, for the terminal summary."""
    return [f"{name}: {value}" for name, value in sorted(COUNTS.items())] + [
        f"{name}: {value:.3f}" for name, value in sorted(MAXIMA.items())
    ]
