"""Pure: a table's CHECKs (and domain CHECKs) turned into what each column may hold, in raw units.

`solve_checks` picks one OR-alternative of every CHECK so that they fit together, and returns per
column a Domain (bounds, listed values, patterns, lengths, NULL) and the Relations between columns
(`starts_at < ends_at`), each derived column following one source. Raw units: integers; decimals
scaled by 10**scale; dates as days and timestamps as seconds from 2026-01-01.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from itertools import product
from typing import cast

from dbtool.seed import checks
from dbtool.seed.checks import Atom, Ref, Sum, Unsupported
from dbtool.seed.model import Column, Table

EPOCH_DATE = dt.date(2026, 1, 1)
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NUMERIC_KINDS = {"int2": "integer", "int4": "integer", "int8": "integer", "numeric": "decimal", "float4": "decimal",
                 "float8": "decimal", "money": "decimal", "date": "date", "timestamp": "timestamp",
                 "timestamptz": "timestamp", "time": "time", "interval": "interval"}
FLOAT_SCALE = 2  # real/double precision values are generated with two decimals
MAX_COMBINATIONS = 256
# What jsonb_typeof() answers; the generator's documents are objects, so the first allowed is taken.
JSON_KINDS = ("object", "array", "string", "number", "boolean", "null")


@dataclass
class Domain:
    """What a column's values may be, in raw units (integers; scaled decimals; days; seconds)."""

    lo: int | None = None
    hi: int | None = None
    modulus: tuple[int, int] | None = None
    anti_modulus: tuple[tuple[int, int], ...] = ()  # (m, r): values must not leave remainder r modulo m
    excluded: set[object] = field(default_factory=set)
    choices: tuple[object, ...] | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    nocase: bool = False  # the pattern is matched ignoring case (~*, ILIKE)
    anti_patterns: tuple[str, ...] = ()  # values must not match these (Python syntax: "(?i)" when ~* said so)
    excluded_lengths: frozenset[int] = frozenset()
    case: str | None = None  # "lower" or "upper"
    null: bool = False  # the chosen alternative needs NULL here
    total_of: tuple[tuple[int, str], ...] = ()  # CHECK x = a + b - c: x is that sum of other columns
    not_null: bool = False
    json_types: tuple[str, ...] | None = None  # kinds of JSON value jsonb_typeof() CHECKs allow, best first

    def copy(self) -> Domain:
        return replace(self, excluded=set(self.excluded))

    @property
    def json_type(self) -> str | None:
        """The kind of JSON value to generate when a CHECK names some (None: no CHECK does)."""
        return self.json_types[0] if self.json_types else None


@dataclass(frozen=True)
class Relation:
    """`left op right` between two columns of a row: right is derived from left."""

    left: str
    op: str
    right: str


MAX_SHOWN_CHECK = 200  # a skip reason quotes the CHECK: real ones run to kilobytes, one line must stay readable


def scale_of(column: Column) -> int:
    """Decimals kept for a numeric-like column (numeric's scale; two for floats)."""
    if column.base == "numeric":
        return column.precision[1] if column.precision else 2
    return FLOAT_SCALE if column.base in ("float4", "float8", "money") else 0


def solve_checks(table: Table, hooked: frozenset[str] = frozenset()) -> tuple[dict[str, Domain], list[Relation]]:
    """One alternative of every CHECK (and domain CHECK) that fits together, as domains and relations.
    CHECKs on `hooked` columns alone are the hook's to meet (Postgres still judges every row)."""
    parsed: list[tuple[str, list[list[Atom]]]] = []
    nullable = {c.name for c in table.columns if not c.not_null}
    for k in table.of_kind("c"):
        if k.columns and set(k.columns) <= hooked:
            continue
        try:
            parsed.append((k.name, checks.alternatives(_parse(k.name, k.definition))))
        except Unsupported:
            if not k.columns or not set(k.columns) <= nullable:
                raise
            # A CHECK on nullable columns alone (ckan's `jsonb_typeof(extras) = 'object' AND NOT
            # jsonb_path_exists(...)`) usually holds for NULLs; the server judges every row, and a table
            # whose rows it refuses is left empty with its words.
            parsed.append((k.name, [[Atom(Ref(c), "null") for c in k.columns]]))
    for column in table.columns:
        if column.name in hooked:
            continue
        for definition in column.domain_checks:
            node = _parse(f"domain of {column.name}", definition.replace("VALUE", f'"{column.name}"'))
            parsed.append((f"domain of {column.name}", checks.alternatives(node)))
    columns = {c.name: c for c in table.columns}
    options = [sorted(alts, key=len) for _, alts in parsed]
    last_error = "no alternative fits"
    for count, choice in enumerate(product(*options)):
        if count >= MAX_COMBINATIONS:
            break
        try:
            return _merge([a for alt in choice for a in alt], columns)
        except Unsupported as exc:
            last_error = str(exc)
    names = ", ".join(name for name, _ in parsed)
    raise Unsupported(f"CHECK {names}: {last_error}")


def _parse(name: str, definition: str) -> checks.Node:
    try:
        return checks.parse(definition)
    except Unsupported as exc:
        shown = definition if len(definition) <= MAX_SHOWN_CHECK else definition[:MAX_SHOWN_CHECK - 1] + "…"
        raise Unsupported(f"CHECK {name} ({shown}) is not a supported shape: {exc}") from None


def _merge(atoms: list[Atom], columns: dict[str, Column]) -> tuple[dict[str, Domain], list[Relation]]:
    domains: dict[str, Domain] = {}
    relations: list[Relation] = []
    for atom in atoms:
        name = atom.left.column
        if name not in columns:
            raise Unsupported(f"{name} is not a column")
        column = columns[name]
        domain = domains.setdefault(name, Domain())
        if isinstance(atom.right, Sum):
            sources = tuple((sign, ref.column) for sign, ref in atom.right.terms)
            if atom.op != "=" or domain.total_of or any(c not in columns or c == name for _, c in sources) \
                    or NUMERIC_KINDS.get(column.base) not in ("integer", "decimal"):
                raise Unsupported(f"{name} compared with a sum other than {name} = a sum of numeric columns")
            domain.total_of = sources
            continue
        if isinstance(atom.right, Ref):
            other = atom.right.column
            if other == name and atom.left.function in (None, "lower", "upper") and atom.op == "=":
                case = atom.left.function or atom.right.function
                if case:
                    domain.case = case
                continue
            if other not in columns or atom.left.function or atom.right.function:
                raise Unsupported(f"a comparison of {name} with {other}")
            relations.append(Relation(name, atom.op, other))
            continue
        _restrict(domain, column, atom)
    relations = _settle(relations, domains, columns)
    for name, domain in domains.items():
        column = columns[name]
        if domain.null and (column.not_null or domain.not_null):
            raise Unsupported(f"{name} would have to be NULL but is NOT NULL")
        if domain.lo is not None and domain.hi is not None and domain.lo > domain.hi:
            raise Unsupported(f"no value of {name} fits every bound")
        if domain.choices is None and domain.anti_modulus:
            _avoid_remainders(name, domain)
        if domain.choices is not None:
            m, r = domain.modulus or (1, 0)
            domain.choices = tuple(
                c for c in domain.choices if c not in domain.excluded
                and (not isinstance(c, int) or isinstance(c, bool) or (
                    (domain.lo is None or c >= domain.lo) and (domain.hi is None or c <= domain.hi) and c % m == r
                    and all(c % am != ar for am, ar in domain.anti_modulus)))
                and (not isinstance(c, str) or (
                    len(c) >= (domain.min_length or 0) and (domain.max_length is None or len(c) <= domain.max_length)
                    and (domain.pattern is None or re.search(domain.pattern, c, re.IGNORECASE if domain.nocase else 0))
                    and not any(re.search(p, c) for p in domain.anti_patterns))))
            if not domain.choices:
                raise Unsupported(f"no listed value of {name} fits its other CHECKs")
            if domain.nocase:
                domain.pattern = None  # the listed values left meet it; the plan re-checks patterns case by case
    return domains, relations


STRICTER = {frozenset({"<", "<="}): "<", frozenset({">", ">="}): ">", frozenset({"<=", ">="}): "=",
            frozenset({"<>", "<="}): "<", frozenset({"<>", "<"}): "<", frozenset({"<>", ">="}): ">",
            frozenset({"<>", ">"}): ">", frozenset({"=", "<="}): "=", frozenset({"=", ">="}): "="}
FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "<>": "<>"}
HOLDS = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
         "=": lambda a, b: a == b, "<>": lambda a, b: a != b}


def _settle(relations: list[Relation], domains: dict[str, Domain], columns: dict[str, Column]) -> list[Relation]:
    """One relation per pair of columns, each derived column following one source; pairs of listed
    values are settled here by keeping only values that satisfy the comparison."""
    by_pair: dict[tuple[str, str], str] = {}
    for r in relations:
        left, op, right = (r.left, r.op, r.right) if r.left < r.right else (r.right, FLIP[r.op], r.left)
        known = by_pair.get((left, right))
        if known is not None and known != op:
            combined = STRICTER.get(frozenset({known, op}))
            if combined is None:
                raise Unsupported(f"{left} {known} {right} and {left} {op} {right} together")
            op = combined
        by_pair[(left, right)] = op
    settled: list[Relation] = []
    for (left, right), op in by_pair.items():
        fixed_left = domains.get(left, Domain()).choices
        fixed_right = domains.get(right, Domain()).choices
        if fixed_left is not None and fixed_right is not None:
            pairs = [(a, b) for a in fixed_left for b in fixed_right if _comparable(a, b) and HOLDS[op](a, b)]
            if not pairs:
                raise Unsupported(f"no listed values satisfy {left} {op} {right}")
            domains[left].choices, domains[right].choices = (pairs[0][0],), (pairs[0][1],)
            continue
        right_bounded = fixed_right is not None or _bounded(domains.get(right))
        if right_bounded and not (fixed_left is not None or _bounded(domains.get(left))):
            left, op, right = right, FLIP[op], left  # derive the side that is free to take any value
        settled.append(Relation(left, op, right))
    followed = [r.right for r in settled]
    if len(followed) != len(set(followed)) or set(followed) & {r.left for r in settled}:
        raise Unsupported("a column compared with two others")
    return settled


def _avoid_remainders(name: str, domain: Domain) -> None:
    """Meet `x % m <> r` by construction: a remainder modulo m that none of the CHECKs forbid."""
    moduli = {m for m, _ in domain.anti_modulus}
    if domain.modulus is not None:
        m, r = domain.modulus  # x % m = r already fixes x % n for every n dividing m
        if any(m % n or (n, r % n) in domain.anti_modulus for n in moduli):
            raise Unsupported(f"{name}: its remainders modulo {', '.join(map(str, sorted(moduli)))} cannot be met together")
        return
    if len(moduli) > 1:
        raise Unsupported(f"{name} % {' and % '.join(map(str, sorted(moduli)))} excluded together")
    (m,) = moduli
    allowed = [r for r in range(m) if (m, r) not in domain.anti_modulus]
    if not allowed:
        raise Unsupported(f"{name} % {m}: every remainder is excluded")
    domain.modulus = (m, allowed[0])


def _bounded(domain: Domain | None) -> bool:
    return domain is not None and (domain.lo is not None or domain.hi is not None or domain.modulus is not None)


def _comparable(a: object, b: object) -> bool:
    return isinstance(a, (int, float)) == isinstance(b, (int, float))


def _restrict(domain: Domain, column: Column, atom: Atom) -> None:
    op, value = atom.op, atom.right
    if op == "null":
        domain.null = True
        return
    if op == "notnull":
        domain.not_null = True
        return
    if atom.left.function == "length":
        if op == "<>" and isinstance(value, int):
            domain.excluded_lengths = domain.excluded_lengths | {value}
            return
        if op not in ("=", "<", "<=", ">", ">=") or not isinstance(value, int):
            raise Unsupported(f"length({column.name}) {op} {value!r}")
        low, high = {"=": (value, value), "<": (None, value - 1), "<=": (None, value),
                     ">": (value + 1, None), ">=": (value, None)}[op]
        if low is not None:
            domain.min_length = max(domain.min_length or 0, low)
        if high is not None:
            domain.max_length = high if domain.max_length is None else min(domain.max_length, high)
        return
    if atom.left.function == "json_type":
        _restrict_json(domain, column, op, value)
        return
    if atom.left.function in ("lower", "upper"):
        domain.case = atom.left.function
    if op in ("mod", "notmod"):
        modulus, remainder = cast("tuple[int, object]", value)  # checks.py builds (modulus, remainder)
        if NUMERIC_KINDS.get(column.base) != "integer" or not isinstance(remainder, int):
            raise Unsupported(f"{column.name} % {modulus} on a {column.type} column")
        if op == "mod":
            domain.modulus = (modulus, remainder % modulus)
        else:
            domain.anti_modulus = (*domain.anti_modulus, (modulus, remainder % modulus))
        return
    if op in ("~", "!~", "~*", "!~*"):
        if not isinstance(value, str) or (op in ("~", "~*") and domain.pattern not in (None, value)):
            raise Unsupported(f"{column.name} {op} {value!r}")
        nocase = op.endswith("*")
        if op.startswith("!"):
            _check_regex(column, value)  # anti-patterns are judged by Python's re as values are made
            domain.anti_patterns = (*domain.anti_patterns, f"(?i){value}" if nocase else value)
        else:
            # Values made from the pattern as written match it ignoring case too: ~* matters only
            # when listed values are judged (and a case-sensitive ~ of the same pattern wins).
            domain.nocase = nocase and (domain.pattern is None or domain.nocase)
            domain.pattern = value
        return
    if op in ("in", "notin"):
        listed = tuple(raw(column, v) for v in cast("tuple[object, ...]", value))  # checks.py builds a tuple
        if op == "in":
            domain.choices = listed if domain.choices is None else tuple(v for v in domain.choices if v in listed)
        else:
            domain.excluded.update(listed)
        return
    raw_value = raw(column, value)
    if op == "=":
        domain.choices = (raw_value,) if domain.choices is None else tuple(v for v in domain.choices if v == raw_value)
    elif op == "<>":
        domain.excluded.add(raw_value)
    elif isinstance(raw_value, int) and NUMERIC_KINDS.get(column.base):
        bound = {"<": ("hi", raw_value - 1), "<=": ("hi", raw_value), ">": ("lo", raw_value + 1), ">=": ("lo", raw_value)}[op]
        current = getattr(domain, bound[0])
        better = bound[1] if current is None else (min if bound[0] == "hi" else max)(current, bound[1])
        setattr(domain, bound[0], better)
    else:
        raise Unsupported(f"{column.name} {op} {value!r} on a {column.type} column")


def _check_regex(column: Column, value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise Unsupported(f"the pattern {value!r} on {column.name}: {exc}") from None


def _restrict_json(domain: Domain, column: Column, op: str, value: object) -> None:
    """jsonb_typeof(column) compared with kind names: narrow the kinds the column's values may be."""
    if column.base not in ("json", "jsonb"):
        raise Unsupported(f"{column.name} is not json or jsonb")
    listed = cast("tuple[object, ...]", value) if op in ("in", "notin") else (value,)  # checks.py builds a tuple
    if op not in ("=", "<>", "in", "notin") or not all(isinstance(v, str) for v in listed):
        raise Unsupported(f"jsonb_typeof({column.name}) {op} {value!r}")
    allowed = domain.json_types if domain.json_types is not None else JSON_KINDS
    keep = op in ("=", "in")
    domain.json_types = tuple(k for k in allowed if (k in listed) == keep)
    if not domain.json_types:
        raise Unsupported(f"no kind of JSON value fits the CHECKs on {column.name}")


def json_value(document: dict[str, object], kind: str) -> object:
    """A generated JSON object, or a value of another `kind` (jsonb_typeof's names) made from it."""
    number = next((v for v in reversed(document.values()) if isinstance(v, int)), 0)
    shaped = {"object": document, "array": [document], "string": " ".join(map(str, document.values())),
              "number": number, "boolean": number % 2 == 0, "null": None}
    return shaped[kind]


def raw(column: Column, value: object) -> object:
    """A constant in the column's raw units (see Domain); text stays text."""
    kind = NUMERIC_KINDS.get(column.base) or ("array" if column.category == "A" else None)
    if kind is None:
        if column.base == "bool":
            return str(value).lower() in ("true", "t", "1", "yes", "on")
        return str(value)
    try:
        if kind == "integer":
            return int(Decimal(str(value)))
        if kind == "decimal":
            return int((Decimal(str(value)) * (10 ** scale_of(column))).to_integral_value())
        if kind == "date":
            return (dt.date.fromisoformat(str(value)[:10]) - EPOCH_DATE).days
        if kind == "timestamp":
            moment = dt.datetime.fromisoformat(str(value).replace(" ", "T"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            return int((moment - EPOCH).total_seconds())
    except (InvalidOperation, ValueError):
        pass
    raise Unsupported(f"the constant {value!r} for a {column.type} column")
