"""Mulberry32, counter-based: draw n of a stream is computed directly, without the n-1 before it.

Mulberry32's state after n steps is `seed + n * 0x6D2B79F5 (mod 2**32)`, so output number
`counter` is the mix of `seed + (counter + 1) * 0x6D2B79F5`. Every table row owns a fixed
slice of the counter space (see `counter`), which makes rows independent of each other:
they can be generated in any order, in chunks or in parallel, with identical output.
"""

from __future__ import annotations

MASK32 = 0xFFFFFFFF
MULBERRY32_INCREMENT = 0x6D2B79F5

# Counter layout (the data contract): 4 bits of stream, 24 bits of row, 4 bits of field.
STREAM_BITS, ROW_BITS, FIELD_BITS = 4, 24, 4
MAX_ROWS_PER_STREAM = 1 << ROW_BITS
DRAWS_PER_ROW = 1 << FIELD_BITS

# A primary key is draws 0-3 as a UUID, with the version nibble (in word 1) and variant bits (in word 2) set.
UUID_VERSION_KEEP, UUID_VERSION_8 = 0xFFFF0FFF, 0x00008000
UUID_VARIANT_KEEP, UUID_VARIANT_RFC = 0x3FFFFFFF, 0x80000000


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


def counter(stream: int, row: int, field: int) -> int:
    """Return the stream position owned by (stream, row, field)."""
    if not (0 <= stream < 1 << STREAM_BITS and 0 <= row < MAX_ROWS_PER_STREAM and 0 <= field < DRAWS_PER_ROW):
        raise ValueError(f"counter out of range: stream={stream} row={row} field={field}")
    return (stream << (ROW_BITS + FIELD_BITS)) | (row << FIELD_BITS) | field


def uuid_from_words(a: int, b: int, c: int, d: int) -> str:
    """Format four 32-bit words as an RFC 9562 version-8 (custom) UUID."""
    b = (b & UUID_VERSION_KEEP) | UUID_VERSION_8
    c = (c & UUID_VARIANT_KEEP) | UUID_VARIANT_RFC
    h = f"{a:08x}{b:08x}{c:08x}{d:08x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
