"""Pure: strings that match a simple regular expression, value n of them for any n (a bijection).

Supported: anchors, literals and escaped literals, `.`, `\\d \\w \\s`, character classes with ranges
(`[A-Z0-9_-]`), groups with alternatives, and the quantifiers `{n}`, `{n,m}`, `?`, `*`, `+`. Each
position's choices form one digit of a mixed-radix number, so string n is computed directly and
strings 0..capacity-1 are all different.
"""

from __future__ import annotations

import string
from functools import lru_cache

UNBOUNDED_REPEATS = 3  # *, + and {n,} repeat this many times (at least their minimum)
DIGITS, WORD = string.digits, string.ascii_letters + string.digits + "_"
ESCAPES = {"d": DIGITS, "w": WORD, "s": " "}


class PatternUnsupported(Exception):
    """A regular expression outside the simple shapes."""


Slot = tuple[str, ...]  # the choices at one position (single characters, or whole alternatives)


@lru_cache(maxsize=256)
def slots(pattern: str) -> tuple[Slot, ...]:
    """The positions of the strings dbtool makes for `pattern`, each with its choices."""
    text = pattern
    if text.startswith("^"):
        text = text[1:]
    if text.endswith("$") and not text.endswith("\\$"):
        text = text[:-1]
    found, rest = _sequence(text, 0)
    if rest != len(text):
        raise PatternUnsupported(f"unexpected {text[rest]!r}")
    return tuple(found)


def _sequence(text: str, i: int) -> tuple[list[Slot], int]:
    out: list[Slot] = []
    while i < len(text) and text[i] not in "|)":
        atom, i = _atom(text, i)
        low, high, i = _quantifier(text, i)
        out.extend([atom] * max(low, high))
    return out, i


def _atom(text: str, i: int) -> tuple[Slot, int]:
    c = text[i]
    if c == "\\":
        if i + 1 >= len(text):
            raise PatternUnsupported("a trailing backslash")
        e = text[i + 1]
        return tuple(ESCAPES.get(e, e)), i + 2
    if c == "[":
        return _class(text, i + 1)
    if c == "(":
        j = i + 1
        if text.startswith("?:", j):
            j += 2
        alternatives = []
        while True:
            seq, j = _sequence(text, j)
            alternatives.append("".join(s[0] for s in seq) if all(len(s) == 1 for s in seq) else None)
            if j >= len(text):
                raise PatternUnsupported("an unclosed group")
            if text[j] == ")":
                break
            j += 1  # |
        if None in alternatives:
            raise PatternUnsupported("a group whose alternatives vary inside")
        return tuple(a for a in alternatives if a is not None), j + 1
    if c == ".":
        return tuple(string.ascii_lowercase), i + 1
    if c in "*+?{":
        raise PatternUnsupported(f"a quantifier {c!r} with nothing before it")
    if c in "^$":
        raise PatternUnsupported("an anchor inside the pattern")
    return (c,), i + 1


def _class(text: str, i: int) -> tuple[Slot, int]:
    if i < len(text) and text[i] == "^":
        raise PatternUnsupported("a negated character class")
    chars: list[str] = []
    while i < len(text) and text[i] != "]":
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            chars.extend(ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        if i + 2 < len(text) and text[i + 1] == "-" and text[i + 2] != "]":
            chars.extend(chr(x) for x in range(ord(c), ord(text[i + 2]) + 1))
            i += 3
            continue
        chars.append(c)
        i += 1
    if i >= len(text):
        raise PatternUnsupported("an unclosed character class")
    unique = tuple(dict.fromkeys(chars))
    if not unique:
        raise PatternUnsupported("an empty character class")
    return unique, i + 1


def _quantifier(text: str, i: int) -> tuple[int, int, int]:
    if i >= len(text):
        return 1, 1, i
    c = text[i]
    if c == "?":
        return 0, 1, i + 1
    if c == "*":
        return 0, UNBOUNDED_REPEATS, i + 1
    if c == "+":
        return 1, UNBOUNDED_REPEATS, i + 1
    if c == "{":
        end = text.index("}", i)
        parts = text[i + 1:end].split(",")
        try:
            low = int(parts[0])
            high = int(parts[1]) if len(parts) > 1 and parts[1] else (low if len(parts) == 1 else max(low, UNBOUNDED_REPEATS))
        except ValueError:
            raise PatternUnsupported(f"the quantifier {text[i:end + 1]}") from None
        return low, high, end + 1
    return 1, 1, i


def capacity(pattern: str) -> int:
    """How many different strings `value` makes for `pattern`."""
    total = 1
    for slot in slots(pattern):
        total *= len(slot)
    return total


def value(pattern: str, n: int) -> str:
    """String number `n` (taken modulo the capacity) for `pattern`: the last position varies fastest."""
    out = []
    for slot in reversed(slots(pattern)):
        n, digit = divmod(n, len(slot))
        out.append(slot[digit])
    return "".join(reversed(out))
