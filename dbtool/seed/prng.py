"""Mulberry32, counter-based: draw n of a stream is computed directly, without the n-1 before it.

Mulberry32's state after n steps is `seed + n * 0x6D2B79F5 (mod 2**32)`, so output number
`counter` is the mix of `seed + (counter + 1) * 0x6D2B79F5`. Row r of a column reads output r
of that column's own stream (seed.rules.draws), which makes rows independent of each other:
they can be generated in any order, in chunks or in parallel, with identical output.
"""

from __future__ import annotations

import numpy as np

MASK32 = 0xFFFFFFFF
MULBERRY32_INCREMENT = 0x6D2B79F5

def _mix(t: int) -> int:
    """Mulberry32's output function for state `t` (the xorshift-multiply mix)."""
    t = ((t ^ (t >> 15)) * (t | 1)) & MASK32
    t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & MASK32)) & MASK32
    return (t ^ (t >> 14)) & MASK32


def mulberry32(seed: int, counter: int) -> int:
    """Return output number `counter` (0-based) of the Mulberry32 stream for `seed`."""
    return _mix((seed + (counter + 1) * MULBERRY32_INCREMENT) & MASK32)


class Mulberry32:
    """The classic sequential generator; the reference the counter form is tested against."""

    def __init__(self, seed: int) -> None:
        self.state = seed & MASK32

    def next(self) -> int:
        """Advance one step and return its 32-bit output."""
        self.state = (self.state + MULBERRY32_INCREMENT) & MASK32
        return _mix(self.state)


def mulberry32_array(seed: int, counters: np.ndarray) -> np.ndarray:
    """Output number `counters[k]` of the Mulberry32 stream for `seed`, for every k (uint64 math)."""
    c = counters.astype(np.uint64)
    t = (np.uint64(seed) + (c + np.uint64(1)) * np.uint64(MULBERRY32_INCREMENT)) & np.uint64(MASK32)
    t = ((t ^ (t >> np.uint64(15))) * (t | np.uint64(1))) & np.uint64(MASK32)
    t ^= (t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & np.uint64(MASK32))) & np.uint64(MASK32)
    return (t ^ (t >> np.uint64(14))) & np.uint64(MASK32)
