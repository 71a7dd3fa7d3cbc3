"""Pure, vectorized: the values of a planned column for any rows, keyed by (seed, table, column, row).

Every draw comes from Mulberry32 seeded by (seed, table, column, purpose) and counted by the row
index, so a column's values never depend on other columns, other tables or the order of work:
adding a column or a table changes nothing else. Unique values are a bijection of the row index.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence

import numpy as np

from dbtool.seed import patterns, words
from dbtool.seed.domains import json_value
from dbtool.seed.plan import Rule
from dbtool.seed.prng import mulberry32_array

NULL = "\\N"  # COPY text's NULL
RAW_KINDS = {"key", "integer", "decimal", "date", "timestamp", "time", "interval", "boolean"}
DERIVED_SPREAD = {"integer": 100, "decimal": 100, "date": 30, "timestamp": 30 * 86_400, "time": 3_600, "interval": 3_600}
MAX_DRAW_SPAN = 1 << 31
SKU_SPAN = 100_000  # five-digit SKU numbers
EPOCH_DAY = np.datetime64("2026-01-01", "D")
EPOCH_SECOND = np.datetime64("2026-01-01T00:00:00", "s")
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_escaped(values: list[str]) -> list[str]:
    """`values` as COPY text; one scan of the whole column first, since generated text rarely needs it."""
    blob = "".join(values)
    if "\\" in blob or "\t" in blob or "\n" in blob or "\r" in blob:
        return [v.translate(COPY_ESCAPES) for v in values]
    return values


def key32(*parts: str) -> int:
    """A stable 32-bit key for names (blake2b: the same on every machine and Python)."""
    return int.from_bytes(hashlib.blake2b("\0".join(parts).encode(), digest_size=4).digest(), "big")


def draws(seed: int, rows: np.ndarray, *where: str) -> np.ndarray:
    """One 32-bit draw per row for the purpose named by `where` (table, column, ...)."""
    stream_seed = (seed * 0x9E3779B1 + key32(*where)) & 0xFFFFFFFF
    return mulberry32_array(stream_seed, rows.astype(np.uint64))


def permute(rows: np.ndarray, span: int, key: int) -> np.ndarray:
    """A bijection of [0, span) applied to `rows` (< span): distinct rows get distinct numbers."""
    if span <= 1:
        return np.zeros(len(rows), dtype=object if span > MAX_DRAW_SPAN else np.int64)
    a = (key | 1) % span or 1
    while math.gcd(a, span) != 1:
        a += 1
    b = key % span
    if span < (1 << 31):
        return (rows.astype(np.int64) * a + b) % span
    if span <= (1 << 32) and len(rows) and int(rows.max()) < (1 << 31):  # r*a + b < 2**63: exact in uint64
        return ((rows.astype(np.uint64) * np.uint64(a) + np.uint64(b)) % np.uint64(span)).astype(np.int64)
    return np.array([(int(r) * a + b) % span for r in rows.tolist()], dtype=object)


def derive(rule: Rule, base: np.ndarray, seed: int, table: str, rows: np.ndarray) -> np.ndarray:
    spread = DERIVED_SPREAD.get(rule.text_kind, 100) * (10**rule.scale if rule.text_kind == "decimal" else 1)
    step = (draws(seed, rows, table, rule.column, "delta") % np.uint64(spread)).astype(np.int64)
    base = base.astype(np.int64)
    value = {"<": base + 1 + step, "<=": base + step, ">": base - 1 - step, ">=": base - step,
             "=": base, "<>": base + 1 + step}[rule.op]
    # Inside the column's own bounds; the plan left the source room, so the comparison still holds.
    if rule.domain.hi is not None:
        value = np.minimum(value, rule.domain.hi)
    if rule.domain.lo is not None:
        value = np.maximum(value, rule.domain.lo)
    return value


def raw_values(rule: Rule, seed: int, table: str, rows: np.ndarray) -> np.ndarray:
    """Integers for the numeric-like kinds: values, scaled decimals, days, seconds, 0/1."""
    if rule.kind == "key":
        return rows.astype(np.int64) + 1
    d = rule.domain
    if rule.kind == "boolean":
        if d.choices:
            return np.full(len(rows), 1 if d.choices[0] else 0, dtype=np.int64)
        bits = draws(seed, rows, table, rule.column)
        likely_true = any(h in rule.column.lower() for h in ("active", "enabled", "visible", "verified"))
        return ((bits % np.uint64(10)) < np.uint64(8)).astype(np.int64) if likely_true else (bits & np.uint64(1)).astype(np.int64)
    if d.choices is not None:
        choices = np.array(rule.listed, dtype=object)
        return choices[_choice(rule, seed, table, rows, len(choices))]
    assert d.lo is not None and d.hi is not None
    m, r = d.modulus or (1, 0)
    first = d.lo + ((r - d.lo) % m)
    span = (d.hi - first) // m + 1
    if rule.unique:
        n = permute(rows, span, key32(table, rule.column, str(seed)))
    else:
        n = (draws(seed, rows, table, rule.column) % np.uint64(min(span, MAX_DRAW_SPAN))).astype(np.int64)
    values = n * m + first if span < MAX_DRAW_SPAN else np.array([int(x) * m + first for x in n], dtype=object)
    for excluded in sorted(x for x in d.excluded if isinstance(x, int)):
        if (excluded - first) % m == 0:
            values = np.where(values >= excluded, values + m, values)
    return values


def _choice(rule: Rule, seed: int, table: str, rows: np.ndarray, size: int) -> np.ndarray:
    """Which listed value each row takes: a bijection when unique, weighted when the profile says so,
    in turn when polymorphic children pick parent rows by it."""
    if rule.cycle:
        return np.asarray(rule.cycle, dtype=np.int64)[rows.astype(np.int64) % len(rule.cycle)]
    if rule.unique:
        return np.asarray(permute(rows, size, key32(table, rule.column)), dtype=np.int64)
    return pick(draws(seed, rows, table, rule.column), size, rule.weights)


def pick(bits: np.ndarray, size: int, weights: Sequence[int] = ()) -> np.ndarray:
    """An index in [0, size) per draw: uniform, or in proportion to whole-number `weights` (one per index)."""
    if weights:
        bounds = np.cumsum(np.asarray(weights, dtype=np.uint64))
        return np.searchsorted(bounds, bits % bounds[-1], side="right").astype(np.int64)
    return (bits % np.uint64(size)).astype(np.int64)


def formatted(rule: Rule, raw: np.ndarray) -> list[str]:
    kind = rule.text_kind if rule.kind in ("derived", "total") else rule.kind
    if kind in ("key", "integer"):
        return [str(int(v)) for v in raw.tolist()]
    if kind == "boolean":
        return ["t" if v else "f" for v in raw.tolist()]
    if kind == "decimal":
        return [_decimal(int(v), rule.scale) for v in raw.tolist()]
    if kind == "date":
        return np.datetime_as_string(EPOCH_DAY + raw.astype(np.int64).astype("timedelta64[D]"), unit="D").tolist()
    if kind == "timestamp":
        text = np.datetime_as_string(EPOCH_SECOND + raw.astype(np.int64).astype("timedelta64[s]"), unit="s").tolist()
        return [t + "Z" for t in text] if rule.timezone else text
    if kind == "time":
        return [f"{v // 3600 % 24:02d}:{v // 60 % 60:02d}:{v % 60:02d}" for v in raw.astype(np.int64).tolist()]
    if kind == "interval":
        return [f"{v} seconds" for v in raw.astype(np.int64).tolist()]
    raise ValueError(f"no format for {kind}")


def _decimal(value: int, scale: int) -> str:
    if scale == 0:
        return str(value)
    sign, digits = ("-" if value < 0 else ""), str(abs(value)).rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def column_text(table: str, rule: Rule, seed: int, rows: np.ndarray) -> list[str]:
    """COPY text of a column that is neither a reference nor a hook's (any kind, through its raw values)."""
    kind = rule.kind
    if kind in RAW_KINDS:
        return formatted(rule, raw_values(rule, seed, table, rows))
    if kind == "null":
        return [NULL] * len(rows)
    if kind == "enum":
        picks = _choice(rule, seed, table, rows, len(rule.labels))
        return copy_escaped([rule.labels[int(p)] for p in picks.tolist()])
    if kind == "format":
        return copy_escaped([rule.text_kind.format(row=r + 1) for r in rows.tolist()])
    if kind == "uuid":
        return _uuids(seed, table, rule, rows)
    if kind == "text":
        return _texts(seed, table, rule, rows)
    if kind == "json":
        values = draws(seed, rows, table, rule.column) % np.uint64(1000)
        planned = {key: part for key, part in rule.parts}
        columns = {key: column_text(table, part, seed, rows) for key, part in planned.items()}
        documents = []
        for k, (v, r) in enumerate(zip(values.tolist(), rows.tolist(), strict=True)):
            # A key a generated column computes from holds that column's planned value (its CHECKs hold);
            # other keys that columns or CHECKs read hold the row number as text.
            fields: dict[str, object] = {key: (None if columns[key][k] == NULL else columns[key][k]) if key in columns else str(r + 1)
                                        for key in rule.labels}
            fields[rule.column] = int(v)
            documents.append(json.dumps(json_value(fields, rule.domain.json_type or "object")))
        return copy_escaped(documents)
    if kind == "bytea":
        bits = draws(seed, rows, table, rule.column)
        return [f"\\\\x{int(b):08x}{int(r):08x}" for b, r in zip(bits.tolist(), rows.tolist(), strict=True)]
    if kind == "inet":
        n = rows if rule.unique else draws(seed, rows, table, rule.column) % np.uint64(1 << 24)
        return [f"10.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}" for v in np.asarray(n, dtype=np.int64).tolist()]
    if kind == "array":
        if rule.element == "json":  # nothing to say about the documents: an empty array
            return ["{}"] * len(rows)
        sizes = draws(seed, rows, table, rule.column, "size") % np.uint64(3) + np.uint64(1)
        values = draws(seed, rows, table, rule.column) % np.uint64(100)
        if rule.element == "integer":
            return ["{" + ",".join(str((int(v) + k * 7) % 100) for k in range(int(s))) + "}" for v, s in zip(values.tolist(), sizes.tolist(), strict=True)]
        return ["{" + ",".join(words.WORDS[(int(v) + k) % len(words.WORDS)] for k in range(int(s))) + "}"
                for v, s in zip(values.tolist(), sizes.tolist(), strict=True)]
    raise ValueError(f"no generator for rule kind {kind}")


def _uuids(seed: int, table: str, rule: Rule, rows: np.ndarray) -> list[str]:
    a, b, c, d = (draws(seed, rows, table, rule.column, str(k)) for k in range(4))
    if rule.unique:  # the last word is a bijection of the row index: no two rows share a UUID
        d = np.asarray(permute(rows, 1 << 32, key32(table, rule.column)), dtype=np.uint64)
    b = (b & np.uint64(0xFFFF0FFF)) | np.uint64(0x00008000)  # version 8
    c = (c & np.uint64(0x3FFFFFFF)) | np.uint64(0x80000000)  # RFC variant
    hexed = np.stack([a, b, c, d], axis=1).astype(">u4").tobytes().hex().encode("ascii")
    return np.frombuffer(hexed, dtype="S32").astype("U32").tolist()  # 32 hex digits per row


def _texts(seed: int, table: str, rule: Rule, rows: np.ndarray) -> list[str]:
    d = rule.domain
    if rule.text_kind == "choice":
        choices = [str(c) for c in rule.listed or ()]
        values = [choices[int(p)] for p in _choice(rule, seed, table, rows, len(choices)).tolist()]
    elif rule.text_kind == "pattern":
        cap = patterns.capacity(d.pattern or "")
        numbers = permute(rows, cap, key32(table, rule.column)) if rule.unique else draws(seed, rows, table, rule.column)
        values = [patterns.value(d.pattern or "", int(n)) for n in np.asarray(numbers).tolist()]
    else:
        values = _looks_like(seed, table, rule, rows)
    if d.case == "lower":
        values = [v.lower() for v in values]
    elif d.case == "upper":
        values = [v.upper() for v in values]
    if d.min_length:
        values = [v.ljust(d.min_length, "x") for v in values]
    if rule.length is not None and rule.text_kind not in ("choice", "pattern"):
        values = [v[:rule.length] for v in values]
    if d.excluded or d.anti_patterns or d.excluded_lengths:
        values = [_avoid(v, d, rule.length) for v in values]
    return copy_escaped(values)


def _avoid(value: str, d: object, length: int | None) -> str:
    """Nudge a value off an excluded value, length or pattern (one character more, or one changed)."""
    from dbtool.seed.plan import Domain

    assert isinstance(d, Domain)
    for _ in range(3):
        bad = value in d.excluded or len(value) in d.excluded_lengths or any(re.search(p, value) for p in d.anti_patterns)
        if not bad:
            return value
        value = value + "~" if length is None or len(value) < length else value[:-1] + "~"
    return value


def _pick(options: Sequence[str], seed: int, rows: np.ndarray, *where: str) -> list[str]:
    table = np.array(options, dtype=object)
    return table[(draws(seed, rows, *where) % np.uint64(len(options))).astype(np.int64)].tolist()


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def _looks_like(seed: int, table: str, rule: Rule, rows: np.ndarray) -> list[str]:
    """Text shaped by what the column's name says it holds; unique ones carry the row number."""
    kind, column = rule.text_kind, rule.column
    numbers = rows.tolist()
    # An email or username of a row with a person name is made of that name's draws (the row's own name).
    first_from, last_from = rule.name_from or (column, column)
    first = _pick(words.FIRST_NAMES, seed, rows, table, first_from, "first")
    last = _pick(words.LAST_NAMES, seed, rows, table, last_from, "last")
    suffix = [_base36(n) for n in numbers] if rule.unique else [""] * len(numbers)
    if kind == "email":
        domain = _pick(words.DOMAINS, seed, rows, table, column, "domain")
        tag = [str(n) for n in numbers]  # emails are unique in practice, so always numbered
        values = [f"{f.lower()}.{g.lower()}{t}@{dm}" for f, g, t, dm in zip(first, last, tag, domain, strict=True)]
    elif kind == "product_name":
        adjective = _pick(words.PRODUCT_ADJECTIVES, seed, rows, table, column, "adjective")
        material = _pick(words.PRODUCT_MATERIALS, seed, rows, table, column, "material")
        noun = _pick(words.PRODUCT_NOUNS, seed, rows, table, column, "noun")
        values = [f"{a} {m} {n}" + (f" {s}" if s else "") for a, m, n, s in zip(adjective, material, noun, suffix, strict=True)]
    elif kind == "company_name":
        word = _pick(words.COMPANY_WORDS, seed, rows, table, column, "word")
        trade = _pick(words.COMPANY_TRADES, seed, rows, table, column, "trade")
        legal = _pick(words.COMPANY_SUFFIXES, seed, rows, table, column, "legal")
        values = [f"{w} {t} {g}" + (f" {s}" if s else "") for w, t, g, s in zip(word, trade, legal, suffix, strict=True)]
    elif kind == "category_name":
        qualifier = _pick(words.CATEGORY_QUALIFIERS, seed, rows, table, column, "qualifier")
        category = _pick(words.CATEGORY_NAMES, seed, rows, table, column, "category")
        plain = draws(seed, rows, table, column, "plain") % np.uint64(2) == 0
        values = [(c if p else f"{q} {c}") + (f" {s}" if s else "") for q, c, p, s in zip(qualifier, category, plain.tolist(), suffix, strict=True)]
    elif kind == "title":
        adjective = _pick(words.TITLE_ADJECTIVES, seed, rows, table, column, "adjective")
        noun = _pick(words.TITLE_NOUNS, seed, rows, table, column, "noun")
        values = [f"{a} {n}" + (f" {s}" if s else "") for a, n, s in zip(adjective, noun, suffix, strict=True)]
    elif kind == "description":
        opener = _pick(words.DESCRIPTION_OPENERS, seed, rows, table, column, "opener")
        detail = _pick(words.DESCRIPTION_DETAILS, seed, rows, table, column, "detail")
        values = [f"{o}, {d}." + (f" {s}" if s else "") for o, d, s in zip(opener, detail, suffix, strict=True)]
    elif kind == "sku":
        prefix = _pick(words.SKU_PREFIXES, seed, rows, table, column, "prefix")
        if rule.unique:  # a bijection of the first 100,000 rows, then the row number itself (7 digits: no overlap)
            number = permute(np.minimum(rows, SKU_SPAN - 1), SKU_SPAN, key32(table, column))
            values = [f"{p}-{int(m):05d}" if n < SKU_SPAN else f"{p}-{n:07d}"
                      for p, m, n in zip(prefix, np.asarray(number).tolist(), numbers, strict=True)]
        else:
            values = [f"{p}-{int(b) % SKU_SPAN:05d}" for p, b in zip(prefix, draws(seed, rows, table, column).tolist(), strict=True)]
    elif kind == "first_name":
        values = [f + (f" {s}" if s else "") for f, s in zip(first, suffix, strict=True)]
    elif kind == "last_name":
        values = [g + (f" {s}" if s else "") for g, s in zip(last, suffix, strict=True)]
    elif kind == "name":
        values = [f"{f} {g}" + (f" {s}" if s else "") for f, g, s in zip(first, last, suffix, strict=True)]
    elif kind == "username":
        values = [f"{f.lower()}_{g.lower()}{n}" for f, g, n in zip(first, last, numbers, strict=True)]
    elif kind == "phone":
        bits = draws(seed, rows, table, column)
        values = [f"+1-555-{int(b) % 1000:03d}-{n % 10000:04d}" for b, n in zip(bits.tolist(), numbers, strict=True)]
    elif kind == "url":
        values = [f"https://{w}.example.test/{n}" for w, n in zip(_pick(words.WORDS, seed, rows, table, column), numbers, strict=True)]
    elif kind == "city":
        values = [c + (f" {s}" if s else "") for c, s in zip(_pick(words.CITIES, seed, rows, table, column), suffix, strict=True)]
    elif kind == "country":
        listed = words.COUNTRIES if (rule.length is not None and rule.length <= 3) or "code" in column.lower() \
            else words.COUNTRY_NAMES
        values = [c + s for c, s in zip(_pick(listed, seed, rows, table, column), suffix, strict=True)]
    elif kind == "street":
        bits = draws(seed, rows, table, column, "number")
        values = [f"{int(b) % 200 + 1} {s}" + (f" #{x}" if x else "")
                  for b, s, x in zip(bits.tolist(), _pick(words.STREETS, seed, rows, table, column), suffix, strict=True)]
    elif kind == "postal_code":
        values = [f"{n:05d}" if rule.unique else f"{int(b) % 100000:05d}" for n, b in zip(numbers, draws(seed, rows, table, column).tolist(), strict=True)]
    elif kind == "currency":
        values = [c + s for c, s in zip(_pick(words.CURRENCIES, seed, rows, table, column), suffix, strict=True)]
    elif kind == "status":
        values = [c + s for c, s in zip(_pick(words.STATUSES, seed, rows, table, column), suffix, strict=True)]
    elif kind == "color":
        values = [c + s for c, s in zip(_pick(words.COLORS, seed, rows, table, column), suffix, strict=True)]
    elif kind == "code":
        stem = [w.upper() for w in _pick(words.WORDS, seed, rows, table, column, "stem")]
        values = [f"{w}{_base36(n).upper().rjust(3, '0')}" if rule.unique else f"{w}{int(b) % 100:02d}"
                  for w, n, b in zip(stem, numbers, draws(seed, rows, table, column).tolist(), strict=True)]
    elif kind == "secret":
        bits = draws(seed, rows, table, column)
        values = [f"dev-only-{int(b):08x}{s}" for b, s in zip(bits.tolist(), suffix, strict=True)]
    else:
        one = _pick(words.WORDS, seed, rows, table, column, "w1")
        two = _pick(words.WORDS, seed, rows, table, column, "w2")
        if kind == "slug":
            values = [f"{a}-{b}" + (f"-{s}" if s else "") for a, b, s in zip(one, two, suffix, strict=True)]
        elif kind == "title":
            values = [f"{a.title()} {b}" + (f" {s}" if s else "") for a, b, s in zip(one, two, suffix, strict=True)]
        elif kind == "sentence":
            three = _pick(words.WORDS, seed, rows, table, column, "w3")
            values = [f"{a.title()} {b} {c}." + (f" {s}" if s else "") for a, b, c, s in zip(one, two, three, suffix, strict=True)]
        else:
            values = [f"{a} {b}" + (f" {s}" if s else "") for a, b, s in zip(one, two, suffix, strict=True)]
    if rule.unique and rule.length is not None:
        # A short column cannot hold a name and a number: keep what makes each row different.
        values = [v if len(v) <= rule.length else _base36(n)[-rule.length:].rjust(min(rule.length, 4), "0")
                  for v, n in zip(values, numbers, strict=True)]
    return values
