"""Pure: (catalog, profile) -> Plan: how many rows each table gets and one Rule per column, with why.

A table whose constraints dbtool cannot satisfy by construction is not generated: it stays empty,
with the tables whose NOT NULL foreign keys need it, and its `skipped` says why and what fixes it.
Tables the migrations filled keep exactly their rows; generated rows may reference them.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from dbtool.seed import checks
from dbtool.seed.checks import Unsupported
from dbtool.seed.domains import NUMERIC_KINDS, Domain, raw, scale_of, solve_checks
from dbtool.seed.model import Column, Constraint, Table
from dbtool.seed.profiles import ColumnOverride

INTEGER_BOUNDS = {"int2": (-(2**15), 2**15 - 1), "int4": (-(2**31), 2**31 - 1), "int8": (-(2**63), 2**63 - 1)}
TEXT_TYPES = {"text", "varchar", "bpchar", "citext", "name"}
OTHER_KINDS = {"bool": "boolean", "uuid": "uuid", "json": "json", "jsonb": "json", "bytea": "bytea", "inet": "inet",
               "cidr": "inet"}
JSON_TYPES = {"json", "jsonb"}
ORDERED_KINDS = {"integer", "decimal", "date", "timestamp", "time"}
# Columns that come in this order by their names alone (no CHECK says so): a name holding a word of one
# group, and the same name with a word of a later group in its place, follow each other (start_time <=
# end_time, valid_from <= valid_to, created_at <= updated_at <= deleted_at).
ORDERED_WORDS: tuple[tuple[frozenset[str], ...], ...] = (
    (frozenset({"start", "starts", "started", "begin", "begins", "began"}),
     frozenset({"end", "ends", "ended", "finish", "finishes", "finished", "stop", "stops", "stopped"})),
    (frozenset({"from"}), frozenset({"to", "until", "till"})),
    (frozenset({"open", "opens", "opened"}), frozenset({"close", "closes", "closed"})),
    (frozenset({"created", "inserted"}), frozenset({"updated", "modified", "changed"}),
     frozenset({"deleted", "archived", "removed"})),
)
# Created timestamps: a child row is not older than the parent row its foreign key picks.
CREATED_COLUMN = re.compile(r"^(created|inserted)(_at|_on|_date|_time)?$")
MAX_CYCLE = 1000  # a weighted discriminator repeats its values in a period of at most this many rows


@dataclass(frozen=True)
class Rule:
    """How one column's values are made, and why (what `dbtool plan` prints)."""

    column: str
    kind: str  # key, integer, ..., text, enum, json, bytea, inet, array, null, reference, derived, total, format, hook
    why: str
    domain: Domain = field(default_factory=Domain, compare=False)
    unique: bool = False
    scale: int = 0  # decimals of a decimal column
    text_kind: str = ""  # email, first_name, ... for text
    length: int | None = None
    labels: tuple[str, ...] = ()
    parts: tuple[tuple[str, Rule], ...] = field(default=(), compare=False)  # json: keys generated columns read
    element: str | None = None  # arrays: the element kind
    ref_table: str | None = None  # reference: the parent table and column
    ref_column: str | None = None
    ref_group: str = ""  # columns of one composite foreign key share a parent row
    ref_mode: str = "many"  # many (any parent row), one (row i: a unique FK), self (an earlier row), grid, per, within
    # grid: (stride, size) of this column's digit; per: (N, parent rows); within: (N, parent rows), the N
    # slots of one "per" parent row take distinct rows here (a unique key spans both foreign keys)
    grid: tuple[int, int] = (1, 1)
    grid_total: int = 0  # grid: the combinations of all its keys; rows take them in a permuted order
    weights: tuple[int, ...] = ()  # a profile's weights for the listed values (domain.choices, in order)
    null_fraction: float = 0.0  # a profile's share of NULLs
    source: str | None = None  # derived: the column it follows; hook: the hook's "module:function"
    sources: tuple[tuple[int, str], ...] = ()  # total: the columns it adds (+1) and subtracts (-1)
    op: str = ""  # derived: how it follows (<, <=, >, >=, =, <>)
    timezone: bool = False
    cycle: tuple[int, ...] = ()  # listed values picked by row % len(cycle), so polymorphic children find a kind
    ref_slots: tuple[int, ...] = ()  # reference: parent rows r with r % ref_period in ref_slots (the kinds allowed)
    ref_period: int = 0
    # email/username text: the columns whose first and last names it is made of (the row's own name)
    name_from: tuple[str, ...] = ()
    arc: str = ""  # a CHECK of IS [NOT] NULL alternatives: each row picks one of `arms` by (seed, table, arc, row)
    arms: int = 0
    null_arms: tuple[int, ...] = ()  # the alternatives that need this column NULL

    @property
    def listed(self) -> tuple[object, ...] | None:
        """The values a column of listed values (enum, CHECK IN) picks from, in the order it indexes them."""
        if self.kind == "enum":
            return self.labels
        choices = self.domain.choices
        if choices is None or self.kind == "boolean":
            return None
        if self.kind == "text" and self.text_kind == "choice":
            return tuple(str(c) for c in choices) if self.weights else tuple(sorted(str(c) for c in choices))
        if self.kind in ("integer", "decimal", "date", "timestamp", "time", "interval"):
            return tuple(choices) if self.weights else tuple(sorted(choices))  # type: ignore[type-var]  # raw values of one numeric kind: they sort
        return None


@dataclass(frozen=True)
class TablePlan:
    """One table: its row count, the rules of the columns COPY writes, or why it is not generated."""

    name: str
    count: int
    rules: tuple[Rule, ...] = ()
    skipped: str | None = None  # one line: the constraint and the profile setting that fixes it
    kept: int = 0  # rows the migrations inserted (the table is not generated)
    existing: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    hook: str | None = None  # the profile's "module:function" that sets some of its columns
    hook_slots: bool = False  # the hook says which rows exist (an N-per-parent table's slots)
    capped: str | None = None  # one line: why the table gets fewer rows than its profile asks (a unique key's room)
    hooked_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()  # unique keys (name, columns) a hook sets part of

    @property
    def generated(self) -> bool:
        return self.skipped is None and not self.kept and self.count > 0

    def rule(self, column: str) -> Rule:
        return next(r for r in self.rules if r.column == column)


@dataclass(frozen=True)
class Plan:
    """Every table of the schema, in name order."""

    tables: tuple[TablePlan, ...]
    hooks: dict[str, Callable[..., Any]] = field(default_factory=dict, compare=False, repr=False)  # table -> hook
    directory: str | None = field(default=None, compare=False)  # where the hooks' modules are imported from
    # Enum values ("type oid:label") the migrations added in this transaction, which Postgres < 17
    # cannot store before it commits: left out, and recorded so that verify plans as the seed did.
    left_out_enum_values: tuple[str, ...] = ()

    @cached_property
    def fingerprint(self) -> str:
        """Names what this plan generates: equal plans (a fleet's targets) share generated chunks."""
        return hashlib.sha256(repr(self.tables).encode()).hexdigest()

    def table(self, name: str) -> TablePlan:
        return next(t for t in self.tables if t.name == name)


def plan(tables: list[Table], rows: int, per_table: dict[str, int | tuple[int, str]] | None = None,
         columns: dict[tuple[str, str], ColumnOverride] | None = None,
         hooks: dict[str, tuple[str, frozenset[str], bool]] | None = None,
         refused: dict[str, str] | None = None, epoch: int = 0) -> Plan:
    """Plan every table: `rows` each unless `per_table` gives a count or (N, parent): N per parent row;
    `columns` are a profile's overrides, keyed by (table, column); `hooks` name, per table, the hook
    and the columns it sets; `refused` tables (the server refused their rows: why) stay empty; dates and
    timestamps fall in the window that ends at `epoch` (days after 2026-01-01, the profile's `epoch`)."""
    refused = refused or {}
    per_table = per_table or {}
    columns = columns or {}
    hooks = hooks or {}
    planned: dict[str, TablePlan] = {}
    pending, waits = list(tables), 0
    while pending:  # a table counted per parent row is planned after its parent
        table = pending.pop(0)
        if table.name in refused:
            planned[table.name] = _skip(table, refused[table.name])
            continue
        if waits > len(pending):  # every table left waits for another one: their counts form a cycle
            planned[table.name] = _skip(table, "its profile count is per a table counted per it")
            continue
        wanted = per_table.get(table.name, rows)
        if isinstance(wanted, tuple):
            n, parent = wanted
            if parent not in {t.name for t in tables}:
                planned[table.name] = _skip(table, f"its profile count names {parent}, which is not a table")
                continue
            if parent not in planned:
                if parent == table.name or all(t.name != parent for t in pending):
                    planned[table.name] = _skip(table, f"its profile count is per {parent}, which is counted per it")
                    continue
                pending.append(table)
                waits += 1
                continue
            wanted = n * (planned[parent].kept or planned[parent].count)
        waits = 0
        overrides = {c: o for (t, c), o in columns.items() if t == table.name}
        planned[table.name] = _plan_table(table, wanted, overrides, hooks.get(table.name), epoch) if wanted else TablePlan(table.name, 0)
    by_name = {t.name: t for t in tables}
    _cycle_discriminators(tables, planned)
    changed = True
    while changed:  # a table whose NOT NULL foreign key points at a table that gets no rows gets none either
        changed = False
        for name, tp in planned.items():
            if not tp.generated:
                continue
            per = per_table.get(name)
            updated = _resolve_references(tp, by_name[name], planned, per if isinstance(per, tuple) else None, by_name)
            if updated != tp:
                planned[name], changed = updated, True
    _created_after_parents(tables, planned)
    return Plan(tuple(planned[t.name] for t in tables))


def _created_rule(tp: TablePlan) -> Rule | None:
    """The table's created timestamp when it is generated from the time window (no CHECK, not unique)."""
    for r in tp.rules:
        kind = r.text_kind if r.kind == "derived" else r.kind
        if CREATED_COLUMN.match(r.column.lower()) and kind in ("timestamp", "date") and not r.unique \
                and r.kind in ("timestamp", "date", "derived") and (r.kind != "derived" or r.ref_column) \
                and r.domain.choices is None and not r.domain.modulus and not r.domain.excluded:
            return r
    return None


def _created_after_parents(tables: list[Table], planned: dict[str, TablePlan]) -> None:
    """A child's created timestamp falls between its parent row's and the window's end (orders are
    not older than their customer): through the first NOT NULL single-column foreign key, in name
    order, whose parent is generated with a created timestamp of the same kind; never in a cycle."""
    follows: dict[str, str] = {}
    for table in sorted(tables, key=lambda t: t.name):
        tp = planned[table.name]
        own = _created_rule(tp) if tp.generated else None
        if own is None or own.kind == "derived":
            continue
        for key in sorted(table.of_kind("f"), key=lambda k: k.name):
            if len(key.columns) != 1 or key.ref_table == table.name or not table.column(key.columns[0]).not_null:
                continue
            ref = tp.rule(key.columns[0])
            parent = planned.get(key.ref_table or "")
            if ref.kind != "reference" or ref.null_fraction or ref.arc or parent is None or not parent.generated:
                continue
            theirs = _created_rule(parent)
            kind = theirs and (theirs.text_kind if theirs.kind == "derived" else theirs.kind)
            if theirs is None or kind != own.kind or theirs.scale != own.scale:
                continue
            # The parent's values must lie within this column's own bounds (a CHECK may narrow it).
            if own.domain.lo is None or own.domain.hi is None or theirs.domain.lo is None or theirs.domain.hi is None \
                    or theirs.domain.lo < own.domain.lo or theirs.domain.hi > own.domain.hi:
                continue
            seen, up = {table.name}, parent.name
            while up in follows and up not in seen:
                seen.add(up)
                up = follows[up]
            if up in seen:
                continue  # the parent already follows this table: a cycle
            follows[table.name] = parent.name
            rule = replace(own, kind="derived", why=f"not before its {parent.name}.{theirs.column} ({key.columns[0]})",
                           source=theirs.column, op="<=", text_kind=own.kind, ref_column=key.columns[0],
                           ref_table=parent.name)
            planned[table.name] = replace(tp, rules=tuple(rule if r is own else r for r in tp.rules))
            break


def _skip(table: Table, reason: str) -> TablePlan:
    return TablePlan(table.name, 0, skipped=reason)


def _plan_table(table: Table, rows: int, overrides: dict[str, ColumnOverride] | None = None,
                hook: tuple[str, frozenset[str], bool] | None = None, epoch: int = 0) -> TablePlan:
    if table.rows:
        return TablePlan(table.name, 0, kept=table.rows, existing=table.existing)
    spec, hooked, slots = hook or (None, frozenset(), False)
    try:
        domains, relations = solve_checks(table, hooked)
    except Unsupported as exc:
        return _skip(table, f"{exc}; set tables.{table.name} = 0 in the profile to leave it empty on purpose, "
                            f"or set its columns with a hook (hooks.{table.name})")
    unique = _unique_columns(table)
    rules, cap = [], rows
    fk_columns = {c for k in table.of_kind("f") for c in k.columns}
    derived = {r.right: r for r in relations}
    embedded = _embedded_keys(table, domains, unique, epoch)
    for column in table.columns:
        if column.generated:
            continue
        if column.element in JSON_TYPES and column.category == "A" and column.not_null and column.default \
                and column.name not in hooked:
            continue  # no generator for arrays of JSON: COPY leaves the column out, the server default fills it
        domain = domains.get(column.name, Domain())
        if column.not_null:
            domain.not_null = True
        override = (overrides or {}).get(column.name)
        if column.name in hooked:
            rules.append(Rule(column.name, "hook", f"{spec}", domain, source=spec, timezone=column.base == "timestamptz",
                              text_kind=NUMERIC_KINDS.get(column.base, ""), scale=scale_of(column)))
            continue
        if column.name in fk_columns:
            rules.append(Rule(column.name, "reference", "foreign key", domain,  # resolved once every table is planned
                              null_fraction=override.null_fraction if override else 0.0))
            continue
        if override is not None:
            try:
                rule = _overridden(table, column, domain, column.name in unique, override, epoch)
            except Unsupported as exc:
                return _skip(table, f"column {column.name}: the profile's override: {exc}")
            if rule is not None:
                rules.append(rule)
                continue
        if domain.total_of and not domain.null:
            if any(domains.get(c, Domain()).total_of for _, c in domain.total_of):
                return _skip(table, f"CHECK sums of sums ({column.name}); set tables.{table.name} = 0 in the profile")
            shown = " ".join(f"{'+' if sign > 0 else '-'} {c}" for sign, c in domain.total_of).lstrip("+ ")
            rules.append(Rule(column.name, "total", f"CHECK {column.name} = {shown}", domain, scale=scale_of(column),
                              text_kind=NUMERIC_KINDS.get(column.base, ""), sources=domain.total_of))
            continue
        if column.name in derived and not domain.null and not domains.get(derived[column.name].left, Domain()).null:
            r = derived[column.name]
            _tighten(domains.setdefault(r.left, Domain()), domain, r.op)
            kind = NUMERIC_KINDS.get(column.base, "")
            if r.op not in ("=", "<>") and (not kind or kind != NUMERIC_KINDS.get(table.column(r.left).base)):
                return _skip(table, f"CHECK {r.left} {r.op} {r.right} compares columns dbtool cannot order; "
                                    f"set tables.{table.name} = 0 in the profile to leave it empty")
            rules.append(Rule(column.name, "derived", f"CHECK {r.left} {r.op} {r.right}", domain, source=r.left, op=r.op,
                              scale=scale_of(column), timezone=column.base == "timestamptz", text_kind=kind))
            continue
        try:
            rule, limit = _column_rule(table, column, domain, column.name in unique, epoch)
        except Unsupported as exc:
            return _skip(table, f"column {column.name}: {exc}; set tables.{table.name} = 0 in the profile to leave it empty, "
                                f"or set {column.name} with a hook (hooks.{table.name})")
        rules.append(rule)
        if limit is not None:
            cap = min(cap, limit)
    rules = [replace(r, parts=embedded[r.column]) if r.kind == "json" and r.column in embedded else r for r in rules]
    rules = _named_after_the_row(rules)
    written = {r.column for r in rules}
    keys = [(k.name, k.columns) for k in table.constraints if k.kind in ("p", "u")]
    keys += [(i.name, i.columns) for i in table.unique_indexes if "" not in i.columns and not i.partial]
    hooked_keys = tuple((n, c) for n, c in keys if set(c) & hooked and set(c) <= written)
    return TablePlan(table.name, max(cap, 0), _ordered_by_name(rules), hook=spec, hook_slots=slots,
                     hooked_keys=hooked_keys)


def _overridden(table: Table, column: Column, domain: Domain, unique: bool, override: ColumnOverride,
                epoch: int = 0) -> Rule | None:
    """The rule a profile's override makes for `column`, or None to use the usual one as it is."""
    if override.null_fraction and column.not_null:
        raise Unsupported("null_fraction on a NOT NULL column")
    if override.format:
        return Rule(column.name, "format", f"profile: format {override.format}", domain, unique=unique,
                    text_kind=override.format, null_fraction=override.null_fraction)
    if override.range:
        low, high = (raw(column, v) for v in override.range)
        if not isinstance(low, int) or not isinstance(high, int):
            raise Unsupported(f"range on a {column.type} column")
        domain.lo = low if domain.lo is None else max(domain.lo, low)
        domain.hi = high if domain.hi is None else min(domain.hi, high)
    if override.values and column.labels:
        unknown = [v for v in override.values if v not in column.labels]
        if unknown:
            raise Unsupported(f"{', '.join(map(str, unknown))} not among the enum's labels")
        return Rule(column.name, "enum", f"profile: {len(override.values)} labels", domain, unique=unique,
                    labels=tuple(map(str, override.values)), weights=override.weights,
                    null_fraction=override.null_fraction)
    if override.values:
        domain.choices = tuple(raw(column, v) for v in override.values)
    rule, _ = _column_rule(table, column, domain, unique, epoch)
    weights = override.weights if override.values and rule.domain.choices == domain.choices and (
        len(override.weights) == len(domain.choices or ())) else ()
    if override.values and override.weights and not weights:
        raise Unsupported("some listed values break the column's CHECKs")
    return replace(rule, why=f"profile: {rule.why}", weights=weights, null_fraction=override.null_fraction)


def _tighten(source: Domain, derived: Domain, op: str) -> None:
    """Keep the source inside what the derived column's own bounds leave room for."""
    gap = {"<": 1, "<=": 0, "=": 0, ">": 1, ">=": 0, "<>": 0}[op]
    if op in ("<", "<=", "=") and derived.hi is not None:
        source.hi = derived.hi - gap if source.hi is None else min(source.hi, derived.hi - gap)
    if op in (">", ">=", "=") and derived.lo is not None:
        source.lo = derived.lo + gap if source.lo is None else max(source.lo, derived.lo + gap)


def ordered_pairs(names: list[str]) -> list[tuple[str, str]]:
    """(first, then) for columns whose names put them in order (ORDERED_WORDS): each follows the
    nearest earlier column of its chain; in name order."""
    pairs = []
    for groups in ORDERED_WORDS:
        placed: dict[tuple[str, ...], dict[int, str]] = {}
        for name in sorted(names):
            tokens = name.lower().split("_")
            for i, token in enumerate(tokens):
                step = next((g for g, words in enumerate(groups) if token in words), None)
                if step is not None:
                    placed.setdefault((*tokens[:i], "*", *tokens[i + 1:]), {}).setdefault(step, name)
                    break
        for steps in placed.values():
            chain = [steps[g] for g in sorted(steps)]
            pairs += list(zip(chain, chain[1:], strict=False))
    return pairs


def _ordered_by_name(rules: list[Rule]) -> tuple[Rule, ...]:
    """created_at <= updated_at, start <= end, ... (ORDERED_WORDS) when a table has both and no CHECK
    already relates them: the second follows the first."""
    by_name = {r.column: r for r in rules}
    for first, then in ordered_pairs(list(by_name)):
        source, follower = by_name[first], by_name[then]
        kind = source.text_kind if source.kind == "derived" and not source.ref_column else source.kind
        if source.kind == "derived" and source.why.startswith("CHECK"):
            continue
        if follower.kind != kind or kind not in ORDERED_KINDS:
            continue
        d, s = follower.domain, source.domain
        # derive() clamps into the follower's own bounds: they must not cut below the source's values.
        if follower.unique or follower.scale != source.scale or d.choices is not None or d.modulus or d.excluded \
                or s.choices is not None or (d.hi is not None and (s.hi is None or d.hi < s.hi)):
            continue
        by_name[then] = replace(follower, kind="derived", why=f"not before {first}", source=first, op="<=",
                                text_kind=kind)
    return tuple(by_name[r.column] for r in rules)


def _unique_columns(table: Table) -> set[str]:
    """Columns whose values must differ row to row for every unique key to hold (one per key suffices)."""
    fk = {c for k in table.of_kind("f") for c in k.columns}
    keys = [k.columns for k in table.constraints if k.kind in ("p", "u")]
    keys += [i.columns for i in table.unique_indexes if "" not in i.columns]
    # An expression index (lower(email)) is unique when the columns its expressions read are: those,
    # and the plain columns beside them; with no column named (catalogs read before), every text column.
    for index in table.unique_indexes:
        if "" in index.columns:
            named = [x for x in index.columns if x] + [c for c in index.expression_columns if c not in index.columns]
            keys += [(c,) for c in named or [col.name for col in table.columns if col.base in TEXT_TYPES]]
    unique: set[str] = set()
    for key in keys:
        own = [c for c in key if c not in fk]
        if own:
            unique.add(own[-1] if len(key) > 1 and own[-1] != own[0] and own[0] in unique else own[0])
    return unique


NAME_HINTS: tuple[tuple[str, str], ...] = (
    (r"e_?mail", "email"), (r"first_?name|given_?name", "first_name"), (r"last_?name|surname|family_?name", "last_name"),
    (r"user_?name|login|handle", "username"), (r"^(product|item)_?name$", "product_name"),
    (r"^(company|organi[sz]ation|org|vendor|supplier|business|brand|merchant)_?name$", "company_name"),
    (r"^(category|department|tag|group)_?name$", "category_name"),
    (r"(full_?)?name$|^display_?name", "name"), (r"phone|mobile|fax", "phone"),
    (r"url|website|homepage|link", "url"), (r"city|town", "city"), (r"country", "country"), (r"street|address", "street"),
    (r"zip|postal|postcode", "postal_code"), (r"currency", "currency"), (r"colou?r", "color"), (r"slug", "slug"),
    (r"title|subject|headline", "title"), (r"description|summary|bio|about|details", "description"),
    (r"notes?|comment|body|message|content", "sentence"), (r"sku", "sku"),
    (r"code|ref|number$|_no$", "code"), (r"password|secret|hash|token", "secret"), (r"status$|state$", "status"),
)
# What a table's own `name` (or `label`) column holds, by the last word of the table's name.
TABLE_NAME_KINDS: tuple[tuple[str, str], ...] = (
    (r"^(users?|customers?|people|persons?|clients?|staff|employees?|members?|contacts?|authors?|students?|"
     r"patients?|owners?|drivers?|guests?|admins?|profiles?|players?|teachers?|doctors?|agents?|buyers?|sellers?)$", "name"),
    (r"^(products?|items?|goods|skus?|variants?|listings?|articles?)$", "product_name"),
    (r"^(compan(y|ies)|organi[sz]ations?|orgs?|vendors?|suppliers?|merchants?|brands?|manufacturers?|partners?|"
     r"tenants?|business(es)?|firms?|publishers?|stores?|shops?|teams?|carriers?)$", "company_name"),
    (r"^(categor(y|ies)|tags?|departments?|collections?|genres?|sections?|groups?|topics?)$", "category_name"),
)
TABLE_NAME_COLUMNS = ("name", "label")
# Plausible ranges by what a numeric column's name says; decimals get cents (their scale) on top.
# Order matters: the first match wins (price_cents is cents, discount_percent is a discount).
INTEGER_HINTS: tuple[tuple[str, int, int], ...] = (
    (r"age$", 18, 90), (r"year", 2000, 2025), (r"cents", 100, 50_000), (r"salary|wage", 30_000, 150_000),
    (r"discount", 5, 50), (r"percent|pct|ratio", 0, 100), (r"stock|inventory|on_hand", 0, 500),
    (r"quantity|qty", 1, 10), (r"count|number_of|num_", 0, 50), (r"price|cost", 1, 500),
    (r"amount|total|balance", 1, 2_000), (r"fee|tax|shipping", 0, 50),
    (r"rating|stars", 1, 5), (r"score|rank|priority|level", 1, 5), (r"minutes|duration", 5, 240),
    (r"weight", 1, 50), (r"position|sort|order|seq", 0, 1000),
)
DEFAULT_INTEGER_RANGE = (0, 1000)
# Dates and timestamps fall in the two years before the epoch (2026-01-01; raw 0): never after it.
DEFAULT_DAYS = (-730, 0)


def _column_rule(table: Table, column: Column, domain: Domain, unique: bool, epoch: int = 0) -> tuple[Rule, int | None]:
    """The rule for a column that is neither a foreign key nor derived, and the row cap it implies."""
    name = column.name.lower()
    if domain.null:
        return Rule(column.name, "null", "a CHECK alternative needs it NULL", domain), None
    if column.category == "A":
        element = NUMERIC_KINDS.get(column.element or "") or ("text" if (column.element or "") in TEXT_TYPES else None)
        if column.element in JSON_TYPES and (column.not_null or domain.not_null) and domain.choices is None \
                and not domain.pattern:
            return Rule(column.name, "array", f"{column.type}: NOT NULL, no default: empty", domain, element="json"), None
        if element not in ("integer", "text") or domain.choices is not None or domain.pattern:
            return _null_or_unsupported(column, domain, f"arrays of {column.element}")
        return Rule(column.name, "array", f"{column.type}: a few {element} values", domain, element=element), None
    if column.labels:
        labels = tuple(label for label in column.labels if (domain.choices is None or label in domain.choices)
                       and label not in domain.excluded)
        if not labels:
            raise Unsupported("no enum label satisfies its CHECKs")
        return Rule(column.name, "enum", f"enum: {len(labels)} labels", domain, unique=unique, labels=labels), (
            len(labels) if unique else None)
    kind = NUMERIC_KINDS.get(column.base)
    if kind:
        return _numeric_rule(table, column, domain, unique, kind, name, epoch)
    if column.base in TEXT_TYPES:
        return _text_rule(column, domain, unique, name, table.name)
    other = OTHER_KINDS.get(column.base)
    if other == "boolean" and (domain.choices is not None or domain.excluded):
        allowed = [v for v in (domain.choices if domain.choices is not None else (True, False)) if v not in domain.excluded]
        if not allowed:
            raise Unsupported(f"no value of {column.name} satisfies its CHECKs")
        if len(allowed) == 1:
            domain.choices = (allowed[0],)
            return Rule(column.name, "boolean", "CHECK fixes it", domain), 1 if unique else None
        domain.choices = None
    if other:
        if domain.choices is not None or domain.pattern or domain.excluded:
            raise Unsupported(f"a CHECK on a {column.type} column")
        cap = 2 if other == "boolean" and unique else None
        if other == "json":
            keys = _json_keys(table, column.name)
            why = f"{column.type}" + (f" with the keys other columns read: {', '.join(keys)}" if keys else "")
            return Rule(column.name, "json", why, domain, unique=unique, labels=keys), cap
        return Rule(column.name, other, f"{column.type}", domain, unique=unique), cap
    return _null_or_unsupported(column, domain, f"the type {column.type}")


GENERATED_FROM_KEY = re.compile(r"""^\(*"?(\w+)"?\s*->>\s*'((?:[^']|'')+)'(?:::text)?\)*(?:::[\w ]+)?\)*$""")


def _embedded_keys(table: Table, domains: dict[str, Domain], unique: set[str],
                   epoch: int = 0) -> dict[str, tuple[tuple[str, Rule], ...]]:
    """For a generated column computed as `doc ->> 'key'`, the rule its value follows (its CHECKs, its
    type), planned as if it were an ordinary column: the JSON column then carries that value under 'key'."""
    found: dict[str, list[tuple[str, Rule]]] = {}
    for column in table.columns:
        match = GENERATED_FROM_KEY.match((column.default or "").strip()) if column.generated else None
        if match is None:
            continue
        source, key = match.group(1), match.group(2).replace("''", "'")
        domain = domains.get(column.name, Domain())
        domain.not_null = domain.not_null or column.not_null
        try:
            rule, _ = _column_rule(table, column, domain, column.name in unique, epoch)
        except Unsupported:
            continue
        found.setdefault(source, []).append((key, rule))
    return {source: tuple(parts) for source, parts in found.items()}


def _json_keys(table: Table, column: str) -> tuple[str, ...]:
    """Keys of a JSON column that generated columns and CHECKs read (`message ->> 'id'`): each row's
    document carries them, so a NOT NULL column computed from one gets a value."""
    pattern = re.compile(rf'"?{re.escape(column)}"?\)?\s*->>?\s*\'((?:[^\']|\'\')+)\'')
    texts = [c.default or "" for c in table.columns if c.generated] + [k.definition for k in table.of_kind("c")]
    return tuple(dict.fromkeys(k.replace("''", "'") for text in texts for k in pattern.findall(text)))


def _null_or_unsupported(column: Column, domain: Domain, what: str) -> tuple[Rule, int | None]:
    if not column.not_null and not domain.not_null:
        return Rule(column.name, "null", f"{what}: no generator, nullable, left NULL", domain), None
    raise Unsupported(f"no generator for {what} and it is NOT NULL")


def _numeric_rule(table: Table, column: Column, domain: Domain, unique: bool, kind: str, name: str,
                  epoch: int = 0) -> tuple[Rule, int | None]:
    scale = scale_of(column)
    if domain.choices is not None:  # a list of values meets the other bounds by leaving out those that break them
        m, r = domain.modulus or (1, 0)
        domain.choices = tuple(c for c in domain.choices if isinstance(c, int) and c not in domain.excluded
                               and (domain.lo is None or c >= domain.lo) and (domain.hi is None or c <= domain.hi)
                               and c % m == r)
        if not domain.choices:
            raise Unsupported(f"no listed value of {column.name} fits its other CHECKs")
    is_key = (unique and column.name in table.primary_key and kind == "integer" and domain.lo is None
              and domain.hi is None and domain.choices is None and not domain.modulus and not domain.excluded)
    if is_key or ((column.identity or (column.sequence and kind == "integer")) and not _restricted(domain)):
        return Rule(column.name, "key", "identity/serial/integer key: 1, 2, 3, ...", domain, unique=True), None
    low, high = DEFAULT_INTEGER_RANGE
    if kind == "integer":
        low, high = next(((lo, hi) for pattern, lo, hi in INTEGER_HINTS if re.search(pattern, name)), (low, high))
        # A one-sided CHECK (>= 0) keeps the usual spread from that bound, clipped to the type below.
    elif kind == "decimal":
        low, high = next(((lo, hi) for pattern, lo, hi in INTEGER_HINTS if re.search(pattern, name)), (0, 1000))
        low, high = low * 10**scale, high * 10**scale
        if column.precision:
            # numeric(p, s) holds |x| < 10**(p-s): the type bounds a CHECK's range, not the usual one
            limit = 10 ** column.precision[0] - 1
            high = min(high, limit)
            if domain.hi is not None:
                domain.hi = min(domain.hi, limit)
            if domain.lo is not None:
                domain.lo = max(domain.lo, -limit)
    elif kind == "date":
        low, high = ((-27_000, -7_300) if re.search(r"birth|dob", name) else DEFAULT_DAYS)
        low, high = low + epoch, high + epoch
    elif kind == "timestamp":
        low, high = (DEFAULT_DAYS[0] + epoch) * 86_400, (DEFAULT_DAYS[1] + epoch) * 86_400
    elif kind == "time":
        low, high = 0, 86_399
        domain.lo, domain.hi = max(domain.lo or 0, 0), min(86_399 if domain.hi is None else domain.hi, 86_399)
    elif kind == "interval":
        low, high = 60, 7 * 86_400
    if unique and domain.lo is None and domain.hi is None and domain.choices is None:
        # Unique values need room: a bijection of the row index over a wide range, not a guess's range.
        low, high = {"integer": (1, INTEGER_BOUNDS[column.base][1] if column.base in INTEGER_BOUNDS else 2**31 - 1),
                     "date": (epoch - 36_500, epoch), "timestamp": ((epoch - 36_500) * 86_400, epoch * 86_400),
                     }.get(kind, (low, high))
        if kind == "decimal":
            high = 10 ** column.precision[0] - 1 if column.precision else 10**12
    lo = domain.lo if domain.lo is not None else (low if domain.hi is None or low <= domain.hi else domain.hi - (high - low))
    hi = domain.hi if domain.hi is not None else (high if high >= lo else lo + (high - low))
    if domain.lo is None and domain.hi is None:
        lo, hi = low, high
    if kind == "decimal" and column.precision:
        limit = 10 ** column.precision[0] - 1
        lo, hi = max(lo, -limit), min(hi, limit)
    if kind == "integer":
        lo, hi = max(lo, INTEGER_BOUNDS[column.base][0]), min(hi, INTEGER_BOUNDS[column.base][1])
    domain.lo, domain.hi = lo, hi
    choices = None
    if domain.choices is not None:
        choices = tuple(c for c in domain.choices if c not in domain.excluded)
        domain.choices = choices
    span = len(choices) if choices is not None else _span(domain)
    if span <= 0:
        raise Unsupported(f"no value of {column.name} fits its bounds")
    why = f"{column.type} in {_describe(domain, kind, scale)}"
    return Rule(column.name, kind, why, domain, unique=unique, scale=scale, timezone=column.base == "timestamptz"), (
        span if unique else None)


def _span(domain: Domain) -> int:
    assert domain.lo is not None and domain.hi is not None
    if domain.modulus:
        m, r = domain.modulus
        first = domain.lo + ((r - domain.lo) % m)
        return 0 if first > domain.hi else (domain.hi - first) // m + 1
    return domain.hi - domain.lo + 1 - len([x for x in domain.excluded if isinstance(x, int) and domain.lo <= x <= domain.hi])


def _describe(domain: Domain, kind: str, scale: int) -> str:
    if domain.choices is not None:
        return f"{{{', '.join(map(str, domain.choices))}}}"
    unit = {"decimal": f" (x10^-{scale})", "date": " days from 2026-01-01", "timestamp": " s from 2026-01-01",
            "time": " s of the day", "interval": " s"}.get(kind, "")
    step = f" step {domain.modulus[0]}" if domain.modulus else ""
    return f"[{domain.lo}, {domain.hi}]{step}{unit}"


def _text_rule(column: Column, domain: Domain, unique: bool, name: str, table: str = "") -> tuple[Rule, int | None]:
    length = column.length
    if domain.max_length is not None:
        length = domain.max_length if length is None else min(length, domain.max_length)
    if domain.choices is not None:
        choices = tuple(str(c) for c in domain.choices if c not in domain.excluded
                        and (length is None or len(str(c)) <= length) and len(str(c)) >= (domain.min_length or 0)
                        and (domain.pattern is None or re.search(domain.pattern, str(c))))
        if not choices:
            raise Unsupported(f"no listed value of {column.name} fits its other CHECKs")
        domain.choices = choices
        return Rule(column.name, "text", f"one of {len(choices)} listed values", domain, unique=unique, text_kind="choice",
                    length=length), (len(choices) if unique else None)
    if domain.pattern:
        from dbtool.seed import patterns

        try:
            capacity = patterns.capacity(domain.pattern)
        except patterns.PatternUnsupported as exc:
            raise Unsupported(f"the pattern {domain.pattern!r}: {exc}") from None
        return Rule(column.name, "text", f"CHECK pattern {domain.pattern}", domain, unique=unique, text_kind="pattern",
                    length=length), (capacity if unique else None)
    text_kind = next((k for pattern, k in NAME_HINTS if re.search(pattern, name)), "words")
    if name in TABLE_NAME_COLUMNS:
        last = table.lower().rsplit("_", 1)[-1]
        text_kind = next((k for pattern, k in TABLE_NAME_KINDS if re.search(pattern, last)), "title")
    if column.base == "bpchar" and length is not None and length <= 3 and text_kind not in ("country", "currency"):
        text_kind = "code"
    why = f"{column.type}: looks like {text_kind.replace('_', ' ')}" + (" (unique)" if unique else "")
    cap = 36 ** length if unique and length is not None and length < 8 else None
    return Rule(column.name, "text", why, domain, unique=unique, text_kind=text_kind, length=length), cap


def _named_after_the_row(rules: list[Rule]) -> list[Rule]:
    """Emails and usernames made from the row's own person name (first_name and last_name, or name)."""
    kinds = {r.text_kind: r.column for r in rules if r.kind == "text" and not r.unique}
    source: tuple[str, ...] = ()
    if "first_name" in kinds and "last_name" in kinds:
        source = (kinds["first_name"], kinds["last_name"])
    elif "name" in kinds:
        source = (kinds["name"], kinds["name"])
    if not source:
        return rules
    return [replace(r, name_from=source, why=f"{r.why}, from {' and '.join(dict.fromkeys(source))}")
            if r.kind == "text" and r.text_kind in ("email", "username") else r for r in rules]


def _restricted(domain: Domain) -> bool:
    """True when a CHECK narrows a column beyond NOT NULL (listed values, bounds, patterns)."""
    return bool(domain.choices is not None or domain.lo is not None or domain.hi is not None or domain.modulus
                or domain.excluded or domain.pattern or domain.anti_patterns or domain.min_length or domain.max_length)


def _resolve_references(tp: TablePlan, table: Table, planned: dict[str, TablePlan], per: tuple[int, str] | None,
                        tables: dict[str, Table]) -> TablePlan:
    """Point each foreign key column at its parent's rule (N rows per parent row of a table counted
    so); cap or skip the table when parents fall short. Columns a hook sets keep the hook."""
    rules = {r.column: r for r in tp.rules}
    count = tp.count
    keys = [k for k in table.of_kind("f")]
    unique_sets = [set(k.columns) for k in table.constraints if k.kind in ("p", "u")]
    unique_sets += [set(i.columns) for i in table.unique_indexes if "" not in i.columns]
    absorbed, reason = _overlaps(table, keys, tables)
    if reason:
        return replace(tp, count=0, rules=(), skipped=reason)
    arcs = _arcs(table, {c for k in keys for c in k.columns})
    arc_columns = {c for _, alternatives in arcs for alt in alternatives for c in alt}
    grid_keys = [k for k in keys if k.name not in absorbed and any(set(k.columns) <= s for s in unique_sets)]
    sizes: dict[str, int] = {}  # parent rows a key may point at
    # A key whose columns another key holds takes them from that key's parent row: resolved last, it
    # only says whether its own parent has rows.
    for key in sorted(keys, key=lambda k: k.name in absorbed):
        parent = planned.get(key.ref_table or "")
        nullable = not any(table.column(c).not_null for c in key.columns)
        other_schema = key.ref_schema not in (None, "") and parent is None
        parent_rows = (parent.kept or parent.count if parent and (parent.generated or parent.kept) else 0)
        if key.ref_table == table.name:
            parent_rows = count
        if other_schema or parent_rows == 0:
            if nullable:
                for c in key.columns:
                    rules[c] = Rule(c, "null", f"foreign key to {key.ref_table}, which gets no rows", rules[c].domain)
                continue
            return replace(tp, count=0, rules=(), skipped=f"it needs rows in {key.ref_table} (foreign key {key.name})")
        if key.name in absorbed:
            continue
        if parent and parent.kept and any(c not in parent.existing for c in key.ref_columns):
            return replace(tp, count=0, rules=(), skipped=f"foreign key {key.name} points at columns of {key.ref_table} dbtool did not read")
        if all(rules[c].kind == "hook" for c in key.columns):
            continue
        slots: tuple[int, tuple[int, ...], int] | None = None
        limited = [c for c in key.columns if _restricted(rules[c].domain)]
        if limited:
            assert parent is not None
            slots = _slots(key, limited, rules, parent, parent_rows)
            if slots is None:
                return replace(tp, count=0, rules=(), skipped=(
                    f"a CHECK on {', '.join(limited)} limits which rows of {key.ref_table} foreign key {key.name} may "
                    f"point at (a polymorphic reference), and dbtool cannot tell which rows those are; "
                    f"set tables.{table.name} = 0 in the profile to leave it empty"))
            if slots[2] == 0:
                return replace(tp, count=0, rules=(), skipped=(
                    f"no row of {key.ref_table} has the {', '.join(limited)} a CHECK allows (foreign key {key.name}); "
                    f"give {key.ref_table} more rows, or set tables.{table.name} = 0 in the profile"))
            parent_rows = slots[2]
        sizes[key.name] = parent_rows
        mode = "self" if key.ref_table == table.name else "many"
        if per is not None and per[1] == key.ref_table and mode == "many":
            mode = "per"
        # The foreign key's columns hold a unique key of this table (one-to-one): one parent row each.
        exact = any(s and s <= set(key.columns) for s in unique_sets)
        if exact and mode in ("many", "per"):
            mode = "one"
            count = min(count, parent_rows)
        for c, ref in zip(key.columns, key.ref_columns, strict=True):
            if rules[c].domain.null and c not in arc_columns and not table.column(c).not_null:
                rules[c] = Rule(c, "null", "a CHECK alternative needs it NULL", rules[c].domain)
                continue
            shown = f"{per[0]} rows each" if mode == "per" and per else mode
            shown += f", the {parent_rows} rows a CHECK on {', '.join(limited)} allows" if slots else ""
            rules[c] = Rule(c, "reference", f"foreign key {key.name} -> {key.ref_table}.{ref} ({shown})", rules[c].domain,
                            ref_table=key.ref_table, ref_column=ref, ref_group=key.name, ref_mode=mode,
                            grid=(per[0], parent_rows) if mode == "per" and per else (1, 1),
                            ref_period=slots[0] if slots else 0, ref_slots=slots[1] if slots else ())
    for name, alternatives in arcs:
        reason = _pick_arms(rules, table, name, alternatives)
        if reason:
            return replace(tp, count=0, rules=(), skipped=reason)
    # A unique key made only of foreign keys (a link table): enumerate parent combinations.
    for s in unique_sets:
        members = [k for k in grid_keys if set(k.columns) <= s]
        if len(members) < 2 or any(rules[c].kind != "reference" or rules[c].ref_mode != "many" for k in members for c in k.columns):
            continue
        if any(c not in {x for k in members for x in k.columns} for c in s):
            continue
        stride = 1
        for k in members:
            size = sizes[k.name]
            for c in k.columns:
                rules[c] = replace(rules[c], ref_mode="grid", grid=(stride, size))
            stride *= size
        for k in members:
            for c in k.columns:
                rules[c] = replace(rules[c], grid_total=stride)
        count = min(count, stride)
    count, capped = _within_parent(table, rules, unique_sets, grid_keys, sizes, count, per)
    rules_tuple = tuple(rules[r.column] for r in tp.rules)
    return replace(tp, count=count, rules=rules_tuple, capped=capped or tp.capped)


def _within_parent(table: Table, rules: dict[str, Rule], unique_sets: list[set[str]], keys: list[Constraint],
                   sizes: dict[str, int], count: int, per: tuple[int, str] | None) -> tuple[int, str | None]:
    """A unique key made of the "N per parent" foreign key and one other foreign key (order_items'
    (order_id, product_id)): the N slots of one parent row take distinct rows of the other parent, a
    permutation within the parent; N is cut to the other parent's rows when they are fewer."""
    per_key = next((k for k in keys if all(rules[c].kind == "reference" and rules[c].ref_mode == "per" for c in k.columns)), None)
    if per is None or per_key is None:
        return count, None
    capped = None
    for s in unique_sets:
        rest = s - set(per_key.columns)
        if not set(per_key.columns) <= s or not rest:
            continue
        other = next((k for k in keys if k is not per_key and set(k.columns) == rest), None)
        if other is None or any(rules[c].kind != "reference" or rules[c].ref_mode != "many" for c in other.columns):
            continue  # own columns in the key are unique on their own (a bijection of the row)
        n, parents = rules[per_key.columns[0]].grid
        room = sizes[other.name]
        if room < n:
            capped = (f"{n} per {per[1]} cut to {room}: unique key ({', '.join(sorted(s))}) allows {room} "
                      f"{other.ref_table} row(s) per {per[1]} row")
            n = room
            for c in per_key.columns:
                rules[c] = replace(rules[c], grid=(n, parents), why=rules[c].why.replace(f"{per[0]} rows each", f"{n} rows each"))
            count = min(count, n * parents)
        for c in other.columns:
            rules[c] = replace(rules[c], ref_mode="within", grid=(n, room),
                               why=f"{rules[c].why}, distinct within each {per[1]} row (unique key)")
    return count, capped


def _overlaps(table: Table, keys: list[Constraint], tables: dict[str, Table]) -> tuple[set[str], str | None]:
    """Foreign keys that share columns (tenant_id in tenant_id -> tenants and (tenant_id, fingerprint) ->
    alerts): the widest one picks the parent row, and each narrower one must hold through it.
    Returns the narrower keys' names, or why the table cannot be generated."""
    absorbed: set[str] = set()
    for key in keys:
        wider = [k for k in keys if k is not key and set(k.columns) & set(key.columns)]
        if not wider:
            continue
        widest = min([key, *wider], key=lambda k: (-len(k.columns), k.name))
        if widest is key:
            continue
        if not set(key.columns) <= set(widest.columns):
            return absorbed, (f"foreign keys {widest.name} and {key.name} share {', '.join(sorted(set(key.columns) & set(widest.columns)))} "
                              f"but each has columns of its own, so one parent row of each may not agree; set "
                              f"tables.{table.name} = 0 in the profile, or set them with a hook (hooks.{table.name})")
        if not _implied(key, widest, tables):
            return absorbed, (f"foreign key {key.name} shares its columns with {widest.name}, and no foreign key of "
                              f"{widest.ref_table} makes a row of it satisfy both; set tables.{table.name} = 0 in the "
                              f"profile, or set them with a hook (hooks.{table.name})")
        absorbed.add(key.name)
    return absorbed, None


def _implied(narrow: Constraint, wide: Constraint, tables: dict[str, Table]) -> bool:
    """True when any row of `wide`'s parent satisfies `narrow` with the columns they share: the same
    parent columns, or a foreign key of that parent onto the same columns `narrow` references."""
    to_parent = dict(zip(wide.columns, wide.ref_columns, strict=True))
    wanted = {(to_parent[c], r) for c, r in zip(narrow.columns, narrow.ref_columns, strict=True)}
    if (narrow.ref_table, narrow.ref_schema) == (wide.ref_table, wide.ref_schema) and all(p == r for p, r in wanted):
        return True
    parent = tables.get(wide.ref_table or "")
    return parent is not None and (wide.ref_schema or "") == (narrow.ref_schema or "") and any(
        k.ref_table == narrow.ref_table and set(zip(k.columns, k.ref_columns, strict=True)) == wanted for k in parent.of_kind("f"))


def _cycle_discriminators(tables: list[Table], planned: dict[str, TablePlan]) -> None:
    """A listed column (kind IN (...)) that a polymorphic foreign key reads under a CHECK of its own
    repeats its values row by row, so that the child knows which parent rows hold each value."""
    for table in tables:
        tp = planned[table.name]
        if not tp.generated:
            continue
        for key in table.of_kind("f"):
            parent = planned.get(key.ref_table or "")
            if parent is None or not parent.generated or key.ref_table == table.name:
                continue
            limited = [(c, ref) for c, ref in zip(key.columns, key.ref_columns, strict=True)
                       if any(r.column == c and r.kind != "hook" and _restricted(r.domain) for r in tp.rules)]
            for _c, ref in limited[:1] if len(limited) == 1 else []:
                target = next((r for r in parent.rules if r.column == ref), None)
                if target is None or target.cycle or target.listed is None:
                    continue
                parent = replace(parent, rules=tuple(replace(r, cycle=_cycle(r)) if r is target else r for r in parent.rules))
                planned[parent.name] = parent


def _cycle(rule: Rule) -> tuple[int, ...]:
    """Indexes into the listed values, one per row of a period: each once, or as often as its weight."""
    size = len(rule.listed or ())
    if rule.weights and len(rule.weights) == size:
        common = math.gcd(*rule.weights) or 1
        parts = [w // common for w in rule.weights]
        if sum(parts) <= MAX_CYCLE:
            return tuple(i for i, w in enumerate(parts) for _ in range(w))
    return tuple(range(size))


def _slots(key: Constraint, limited: list[str], rules: dict[str, Rule], parent: TablePlan,
           parent_rows: int) -> tuple[int, tuple[int, ...], int] | None:
    """For a polymorphic key, the parent rows whose discriminator a CHECK of the child allows, as
    (period, allowed residues, how many of the parent's rows): None when dbtool cannot tell."""
    if len(limited) != 1:
        return None
    column = limited[0]
    domain = rules[column].domain
    if domain.lo is not None or domain.hi is not None or domain.modulus or domain.pattern or domain.anti_patterns \
            or domain.min_length or domain.max_length:
        return None
    ref = dict(zip(key.columns, key.ref_columns, strict=True))[column]
    allowed = {str(v) for v in domain.choices} if domain.choices is not None else None
    excluded = {str(v) for v in domain.excluded}

    def fits(value: object) -> bool:
        return (allowed is None or str(value) in allowed) and str(value) not in excluded

    if parent.kept:
        values: tuple[object, ...] = parent.existing.get(ref, ())
        period, slots = len(values), tuple(i for i, v in enumerate(values) if fits(v))
    else:
        target = next((r for r in parent.rules if r.column == ref), None)
        if target is None or not target.cycle or target.listed is None:
            return None
        listed = target.listed
        period, slots = len(target.cycle), tuple(i for i, k in enumerate(target.cycle) if fits(listed[k]))
    if not period:
        return None
    found = (parent_rows // period) * len(slots) + sum(1 for s in slots if s < parent_rows % period)
    return period, slots, found


def _arcs(table: Table, fk_columns: set[str]) -> list[tuple[str, list[dict[str, bool]]]]:
    """CHECKs made only of IS [NOT] NULL on foreign key columns no other CHECK reads (an exclusive
    arc): (name, its consistent alternatives as column -> must be NULL)."""
    found = []
    constraints = table.of_kind("c")
    for k in constraints:
        if not k.columns or not set(k.columns) <= fk_columns:
            continue
        # A column another CHECK also reads is left to solve_checks' one alternative for the whole table.
        if any(set(o.columns) & set(k.columns) for o in constraints if o is not k) \
                or any(table.column(c).domain_checks for c in k.columns):
            continue
        try:
            alternatives = checks.alternatives(checks.parse(k.definition))
        except Unsupported:
            continue
        if all(a.op in ("null", "notnull") and a.left.function is None for alt in alternatives for a in alt):
            found.append((k.name, [{a.left.column: a.op == "null" for a in alt} for alt in alternatives
                                   if len({a.left.column for a in alt}) == len({(a.left.column, a.op) for a in alt})]))
    return found


def _pick_arms(rules: dict[str, Rule], table: Table, name: str, alternatives: list[dict[str, bool]]) -> str | None:
    """Each row takes one alternative of an arc CHECK its columns can meet; None, or why none can."""
    columns = sorted({c for alt in alternatives for c in alt})
    if any(rules[c].kind == "hook" for c in columns):
        return None  # the hook's to meet
    feasible = [alt for alt in alternatives if all(
        not table.column(c).not_null if null else rules[c].kind == "reference" for c, null in alt.items())]
    if not feasible:
        return (f"no alternative of CHECK {name} fits: it needs {' or '.join(columns)} set, and their parents get no "
                f"rows; set tables.{table.name} = 0 in the profile to leave it empty")
    for c in columns:
        if rules[c].kind == "reference":
            nulls = tuple(i for i, alt in enumerate(feasible) if alt.get(c, False))
            rules[c] = replace(rules[c], arc=name, arms=len(feasible), null_arms=nulls,
                               why=f"{rules[c].why}; NULL in {len(nulls)} of the {len(feasible)} alternatives of CHECK {name}")
    return None
