"""How hard the fire suite pushes: DBTOOL_FIRE_SCALE=default (a few minutes on 2 cores) or full (the issue's sizes)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FireSize:
    """Counts for every scenario; `full` is the size the issue asks for."""

    name: str
    processes: int  # scenario 1: concurrent dbtool processes
    rounds: int  # scenario 1: commands each process runs
    kills: int  # scenario 2: kill -9 at drop, migrate and seed, in turn
    signal_repeats: int  # scenario 3: runs of each signal case
    reader_resets: int  # scenario 4: resets and seeds while the readers read
    hold_seconds: float  # scenario 5: how long the long transaction holds its lock
    losses: int  # scenario 6: server stops mid-run
    full_matrix: bool  # scenario 8: every option combination, not a sample


SIZES = {
    "default": FireSize("default", processes=4, rounds=3, kills=6, signal_repeats=1, reader_resets=6,
                        hold_seconds=4.0, losses=2, full_matrix=False),
    "full": FireSize("full", processes=8, rounds=5, kills=24, signal_repeats=3, reader_resets=20,
                     hold_seconds=15.0, losses=4, full_matrix=True),
}

OVERRIDES = {  # field -> environment variable, for one-off runs between the two sizes
    "processes": "DBTOOL_FIRE_PROCESSES",
    "rounds": "DBTOOL_FIRE_ROUNDS",
    "kills": "DBTOOL_FIRE_KILLS",
}


def fire_size() -> FireSize:
    """The size chosen by DBTOOL_FIRE_SCALE (default or full) and any DBTOOL_FIRE_* override."""
    name = os.environ.get("DBTOOL_FIRE_SCALE", "default") or "default"
    if name not in SIZES:
        raise ValueError(f"DBTOOL_FIRE_SCALE={name!r}; use one of {', '.join(SIZES)}")
    size = SIZES[name]
    for field, variable in OVERRIDES.items():
        if os.environ.get(variable):
            size = replace(size, **{field: int(os.environ[variable])})
    return size
