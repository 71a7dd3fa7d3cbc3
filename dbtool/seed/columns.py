"""Vectorized Mulberry32 and the column builders the generator is made of (numpy, pure).

Everything here maps arrays of row numbers to arrays of values: no loops over rows in Python
except the final string joins, so a chunk of 10,000 rows costs a few numpy passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dbtool.seed.prng import (
    FIELD_BITS,
    MASK32,
    MULBERRY32_INCREMENT,
    ROW_BITS,
    UUID_VARIANT_KEEP,
    UUID_VARIANT_RFC,
    UUID_VERSION_8,
    UUID_VERSION_KEEP,
)

Rows = np.ndarray  # int64 row numbers
EPOCH64 = np.datetime64("2026-01-01T00:00:00", "s")
EPOCH_DAY = np.datetime64("2026-01-01", "D")


def mulberry32_array(seed: int, counters: np.ndarray) -> np.ndarray:
    """Output number `counters[k]` of the Mulberry32 stream for `seed`, for every k (uint64 math)."""
    c = counters.astype(np.uint64)
    t = (np.uint64(seed) + (c + np.uint64(1)) * np.uint64(MULBERRY32_INCREMENT)) & np.uint64(MASK32)
    t = ((t ^ (t >> np.uint64(15))) * (t | np.uint64(1))) & np.uint64(MASK32)
    t ^= (t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & np.uint64(MASK32))) & np.uint64(MASK32)
    return (t ^ (t >> np.uint64(14))) & np.uint64(MASK32)


def draws(seed: int, stream: int, rows: Rows, field: int) -> np.ndarray:
    """Field `field`'s draw for each row of `rows` on `stream` (see prng.counter for the layout)."""
    counters = (np.uint64(stream) << np.uint64(ROW_BITS + FIELD_BITS)) | (rows.astype(np.uint64) << np.uint64(FIELD_BITS)) | np.uint64(field)
    return mulberry32_array(seed, counters)


def uuids(seed: int, stream: int, rows: Rows) -> list[str]:
    """Version-8 UUIDs (32 hex digits, Postgres's accepted unhyphenated form) of each row's fields 0-3."""
    a, b, c, d = (draws(seed, stream, rows, f) for f in range(4))
    b = (b & np.uint64(UUID_VERSION_KEEP)) | np.uint64(UUID_VERSION_8)
    c = (c & np.uint64(UUID_VARIANT_KEEP)) | np.uint64(UUID_VARIANT_RFC)
    hexed = np.stack([a, b, c, d], axis=1).astype(">u4").tobytes().hex()
    return [hexed[k : k + 32] for k in range(0, len(hexed), 32)]


def pick(choices: Sequence[str], numbers: np.ndarray) -> list[str]:
    """choices[n % len(choices)] for each number."""
    table = np.array(choices, dtype=object)
    return table[(numbers % np.uint64(len(choices))).astype(np.int64)].tolist()


def timestamps(seconds: np.ndarray) -> list[str]:
    """ISO 8601 UTC timestamps, `seconds` after the epoch."""
    values = EPOCH64 + seconds.astype(np.int64).astype("timedelta64[s]")
    return [s + "Z" for s in np.datetime_as_string(values, unit="s").tolist()]


def dates(days: np.ndarray) -> list[str]:
    """ISO dates, `days` after the epoch's date (negative is before)."""
    return np.datetime_as_string(EPOCH_DAY + days.astype(np.int64).astype("timedelta64[D]"), unit="D").tolist()


def text(numbers: np.ndarray) -> list[str]:
    """Decimal text of each integer."""
    return [str(n) for n in numbers.tolist()]


def copy_text(columns: Sequence[Sequence[str]]) -> str:
    """COPY text format for equal-length columns of values that need no escaping."""
    if not columns or not len(columns[0]):
        return ""
    return "\n".join(map("\t".join, zip(*columns))) + "\n"
