"""dbtool's generated rows for the baselines, whichever generator API the checkout has.

The generator is being optimized while this bench exists: a `TableSpec` has either `.rows(seed,
profile, first, count)` yielding tuples (the scalar generator) or `.chunk(seed, profile, first,
count)` returning `(COPY text, rows)` (the vectorized one). The baselines must load exactly the
rows dbtool generates, so both are read here: as tuples for the naive INSERTs, and as COPY text
for the pre-generated files.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

CHUNK_ROWS = 10_000  # driver rows per generated chunk (the data does not depend on it)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}


def copy_field(value: Any) -> str:
    """One value in COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).translate(_ESCAPES)


def parse_field(text: str) -> str | None:
    """One COPY text field back to its value (as text; the server casts it to the column's type)."""
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(_UNESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _ranges(total: int) -> Iterator[tuple[int, int]]:
    for first in range(0, total, CHUNK_ROWS):
        yield first, min(CHUNK_ROWS, total - first)


def table_text(spec: Any, seed: int, profile: Any) -> Iterator[str]:
    """COPY text of the whole table, in pieces, exactly as dbtool generates it."""
    total = spec.driver(profile)
    if hasattr(spec, "chunk"):
        for first, count in _ranges(total):
            text, _ = spec.chunk(seed, profile, first, count)
            yield text
        return
    for first, count in _ranges(total):
        yield "".join("\t".join(map(copy_field, row)) + "\n" for row in spec.rows(seed, profile, first, count))


def table_rows(spec: Any, seed: int, profile: Any) -> Iterator[tuple[Any, ...]]:
    """The table's rows as tuples, generated lazily (tuples from `.rows`, else parsed from `.chunk`'s text)."""
    if hasattr(spec, "rows"):
        for first, count in _ranges(spec.driver(profile)):
            yield from spec.rows(seed, profile, first, count)
        return
    for text in table_text(spec, seed, profile):
        for line in text.split("\n"):
            if line:  # the text ends with a newline
                yield tuple(map(parse_field, line.split("\t")))
