"""Hypothesis strategies for small random Postgres schemas that are satisfiable by construction.

Every drawn column also gets a *witness* value, and every drawn CHECK is built to be true on the
witness row: an atom is made true or false on purpose (`c < k` with k chosen around the witness,
an IN list with or without it, a regex the witness does or does not match), and AND/OR/NOT are
combined so the whole formula is true. So a schema always has at least one valid row per table,
and `insert_witnesses` proves it against Postgres without any seed generator involved.

Only the shapes issue 15 promises to solve are drawn: IN / = ANY lists, equality and comparisons
with constants, BETWEEN, AND/OR/NOT, IS [NOT] NULL, length/char_length bounds, anchored regexes,
modulo and comparisons between two columns. CHECKs stay off key and FK columns, so a table's
uniqueness never hangs on a small CHECK domain.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from hypothesis import strategies as st
from psycopg import sql

from tests.alembic_projects import PROJECTS_DIR

# The untouched `alembic init -t generic` files every generated project starts from.
TEMPLATE_PROJECT = PROJECTS_DIR / "seed_types"
ENUM_TYPE, ENUM_LABELS = "prop_mood", ("calm", "busy", "away")
DOMAIN_TYPE = "prop_quantity"
PREAMBLE = (
    f"CREATE TYPE {ENUM_TYPE} AS ENUM ({', '.join(repr(v) for v in ENUM_LABELS)})",
    f"CREATE DOMAIN {DOMAIN_TYPE} AS integer CONSTRAINT {DOMAIN_TYPE}_range CHECK (VALUE BETWEEN 1 AND 500)",
)
COMPLEMENT = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "=": "<>", "<>": "="}
ORDERED_KINDS = ("int", "numeric", "date", "timestamptz")
MAX_INT_WITNESS = 1000  # witnesses and constants stay well inside smallint

Draw = Any  # hypothesis' draw function


@dataclass
class Column:
    """One column: its DDL pieces and a witness value (Python and SQL) a valid row may hold."""

    name: str
    sql_type: str
    kind: str
    not_null: bool
    witness: Any
    literal: str
    default: str | None = None
    identity: str | None = None  # "ALWAYS" or "BY DEFAULT"
    serial: bool = False
    checkable: bool = False
    pattern: list[tuple[str, int]] | None = None  # text witnesses: the regex segments they were drawn from

    def ddl(self) -> str:
        parts = [self.name, self.sql_type]
        if self.identity:
            parts.append(f"GENERATED {self.identity} AS IDENTITY")
        if self.not_null:
            parts.append("NOT NULL")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        return " ".join(parts)

    @property
    def assigned_by_server(self) -> bool:
        return self.identity is not None or self.serial


@dataclass
class ForeignKey:
    """FK columns of the child, the parent table and the parent's key columns."""

    columns: list[str]
    parent: str
    parent_columns: list[str]
    closes_cycle: bool = False  # nullable edge back up the table order (or to itself)


@dataclass
class Table:
    name: str
    columns: list[Column]
    primary_key: list[str]
    uniques: list[list[str]] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def create(self) -> str:
        lines = [c.ddl() for c in self.columns]
        lines.append(f"CONSTRAINT {self.name}_pkey PRIMARY KEY ({', '.join(self.primary_key)})")
        lines += [f"CONSTRAINT {self.name}_uq_{i} UNIQUE ({', '.join(u)})" for i, u in enumerate(self.uniques)]
        lines += [f"CONSTRAINT {self.name}_ck_{i} CHECK ({c})" for i, c in enumerate(self.checks)]
        return f"CREATE TABLE {self.name} (\n    " + ",\n    ".join(lines) + "\n)"

    def add_foreign_keys(self) -> list[str]:
        return [
            f"ALTER TABLE {self.name} ADD CONSTRAINT {self.name}_fk_{i} FOREIGN KEY ({', '.join(fk.columns)}) "
            f"REFERENCES {fk.parent} ({', '.join(fk.parent_columns)})"
            for i, fk in enumerate(self.foreign_keys)
        ]


@dataclass
class Schema:
    tables: list[Table]

    def statements(self) -> list[str]:
        return [*PREAMBLE, *(t.create() for t in self.tables), *(s for t in self.tables for s in t.add_foreign_keys())]

    def ddl(self) -> str:
        return ";\n".join(self.statements()) + ";"


# --- witness values -------------------------------------------------------------------------

TEXT_CLASSES = {"[A-Z]": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "[a-z]": "abcdefghijklmnopqrstuvwxyz", "[0-9]": "0123456789"}
SEPARATORS = ("-", "_")


@st.composite
def text_pattern(draw: Draw, max_length: int) -> list[tuple[str, int]]:
    """An anchored-regex body as segments: (character class, count) or (separator, 1)."""
    segments: list[tuple[str, int]] = []
    length = 0
    for _ in range(draw(st.integers(1, 3))):
        if segments and segments[-1][0] in TEXT_CLASSES and draw(st.booleans()) and length < max_length:
            segments.append((draw(st.sampled_from(SEPARATORS)), 1))
            length += 1
        room = max_length - length
        if room < 1:
            break
        count = draw(st.integers(1, min(4, room)))
        segments.append((draw(st.sampled_from(sorted(TEXT_CLASSES))), count))
        length += count
    return segments


def regex_of(segments: list[tuple[str, int]]) -> str:
    return "^" + "".join(s if s in SEPARATORS else f"{s}{{{n}}}" for s, n in segments) + "$"


@st.composite
def matching_text(draw: Draw, segments: list[tuple[str, int]]) -> str:
    out = []
    for s, n in segments:
        out.append(s if s in SEPARATORS else "".join(draw(st.sampled_from(TEXT_CLASSES[s])) for _ in range(n)))
    return "".join(out)


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def literal(kind: str, value: Any, sql_type: str) -> str:
    """The witness as a typed SQL literal."""
    if kind == "int":
        return str(value)
    if kind == "numeric":
        return f"{value}"
    if kind in ("text", "char"):
        return quote(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "date":
        return f"DATE '{value.isoformat()}'"
    if kind == "timestamptz":
        return f"TIMESTAMPTZ '{value.strftime('%Y-%m-%d %H:%M:%S')}+00'"
    if kind == "timestamp":
        return f"TIMESTAMP '{value.strftime('%Y-%m-%d %H:%M:%S')}'"
    return f"{value}::{sql_type}"  # the remaining kinds carry a ready-made literal text


def offset(kind: str, value: Any, steps: int) -> Any:
    """`value` moved by `steps` units of its kind (1, 0.25, a day, an hour)."""
    if kind == "int":
        return value + steps
    if kind == "numeric":
        return value + Decimal(steps) / 4
    if kind == "date":
        return value + dt.timedelta(days=steps)
    return value + dt.timedelta(hours=steps)


def holds(left: Any, op: str, right: Any) -> bool:
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right,
            "=": left == right, "<>": left != right}[op]


DATE_RANGE = (dt.date(2000, 1, 1), dt.date(2030, 12, 31))
TS_RANGE = (dt.datetime(2000, 1, 1), dt.datetime(2030, 12, 31))


@st.composite
def plain_column(draw: Draw, name: str) -> Column:
    """A non-key column of a random supported type, with its witness."""
    choice = draw(st.sampled_from([
        "smallint", "integer", "bigint", "numeric", "text", "varchar", "char", "uuid", "boolean", "date",
        "timestamp", "timestamptz", "interval", "json", "jsonb", "bytea", "inet", "integer[]", "text[]",
        "enum", "domain",
    ]))
    not_null = draw(st.booleans())
    if choice in ("smallint", "integer", "bigint"):
        v = draw(st.integers(0, MAX_INT_WITNESS))
        return Column(name, choice, "int", not_null, v, str(v), checkable=True)
    if choice == "numeric":
        v = Decimal(draw(st.integers(0, 999_999))) / 100
        return Column(name, "numeric(8,2)", "numeric", not_null, v, str(v), checkable=True)
    if choice in ("text", "varchar"):
        limit = draw(st.integers(6, 40)) if choice == "varchar" else 16
        segments = draw(text_pattern(min(limit, 12)))
        v = draw(matching_text(segments))
        sql_type = f"varchar({limit})" if choice == "varchar" else "text"
        return Column(name, sql_type, "text", not_null, v, quote(v), checkable=True, pattern=segments)
    if choice == "char":
        n = draw(st.integers(2, 6))
        v = "".join(draw(st.sampled_from(TEXT_CLASSES["[A-Z]"])) for _ in range(n))
        return Column(name, f"char({n})", "char", not_null, v, quote(v))
    if choice == "boolean":
        v = draw(st.booleans())
        return Column(name, "boolean", "bool", not_null, v, literal("bool", v, "boolean"), checkable=True)
    if choice == "date":
        v = draw(st.dates(*DATE_RANGE))
        return Column(name, "date", "date", not_null, v, literal("date", v, "date"), checkable=True)
    if choice in ("timestamp", "timestamptz"):
        v = draw(st.datetimes(*TS_RANGE)).replace(microsecond=0)
        return Column(name, choice, choice, not_null, v, literal(choice, v, choice), checkable=choice == "timestamptz")
    fixed = {
        "uuid": ("uuid", lambda: quote(str(draw(st.uuids())))),
        "interval": ("interval", lambda: quote(f"{draw(st.integers(0, 10_000))} minutes")),
        "json": ("json", lambda: quote(f'{{"n": {draw(st.integers(0, 99))}}}')),
        "jsonb": ("jsonb", lambda: quote(f'{{"tags": ["t{draw(st.integers(0, 9))}"]}}')),
        "bytea": ("bytea", lambda: f"decode('{draw(st.binary(min_size=1, max_size=8)).hex()}', 'hex')"),
        "inet": ("inet", lambda: quote(f"10.{draw(st.integers(0, 255))}.{draw(st.integers(0, 255))}.1")),
        "integer[]": ("integer[]", lambda: f"ARRAY[{draw(st.integers(0, 9))}, {draw(st.integers(0, 9))}]"),
        "text[]": ("text[]", lambda: f"ARRAY['{draw(st.sampled_from('abc'))}']"),
        "enum": (ENUM_TYPE, lambda: quote(draw(st.sampled_from(ENUM_LABELS)))),
        "domain": (DOMAIN_TYPE, lambda: str(draw(st.integers(1, 500)))),
    }
    sql_type, make = fixed[choice]
    text = make()
    return Column(name, sql_type, choice, not_null, text, f"{text}::{sql_type}")


# --- CHECK formulas ---------------------------------------------------------------------------

@st.composite
def atom(draw: Draw, columns: list[Column], truth: bool) -> str:
    """One supported CHECK atom over `columns` whose value on the witness row is `truth`."""
    column = draw(st.sampled_from(columns))
    kind, w = column.kind, column.witness
    shapes = ["compare", "in", "any"]
    if kind == "int":
        shapes += ["between", "modulo"]
    if kind in ("numeric", "date", "timestamptz"):
        shapes += ["between"]
    if kind == "text":
        shapes += ["length", "char_length", "regex"]
    if not column.not_null:
        shapes += ["null"]
    comparable = [c for c in columns if c is not column and same_family(c, column)]
    if comparable:
        shapes += ["columns"]
    shape = draw(st.sampled_from(shapes))
    name = column.name

    if shape == "null":
        return f"{name} IS NOT NULL" if truth else f"{name} IS NULL"  # witnesses are never NULL
    if shape == "columns":
        other = draw(st.sampled_from(comparable))
        op = draw(st.sampled_from(sorted(COMPLEMENT)))
        if holds(w, op, other.witness) != truth:
            op = COMPLEMENT[op]
        return f"{name} {op} {other.name}"
    if kind == "bool":
        return f"{name} = {literal('bool', w if truth else not w, 'boolean')}"
    if shape in ("in", "any"):
        others = draw(st.lists(st.integers(1, 50), min_size=0 if truth else 1, max_size=3, unique=True))
        values = [bump(kind, w, n) for n in others] + ([w] if truth else [])
        values = draw(st.permutations(values))
        items = ", ".join(literal(kind, v, column.sql_type) for v in values)
        return f"{name} IN ({items})" if shape == "in" else f"{name} = ANY (ARRAY[{items}])"
    if shape == "between":
        if truth:
            lo, hi = offset(kind, w, -draw(st.integers(0, 20))), offset(kind, w, draw(st.integers(0, 20)))
        else:
            lo = offset(kind, w, draw(st.integers(1, 20)))
            hi = offset(kind, lo, draw(st.integers(0, 20)))
        return f"{name} BETWEEN {literal(kind, lo, column.sql_type)} AND {literal(kind, hi, column.sql_type)}"
    if shape == "modulo":
        m = draw(st.integers(2, 20))
        r = w % m if truth else draw(st.sampled_from([x for x in range(m) if x != w % m]))
        return f"{name} % {m} = {r}"
    if shape in ("length", "char_length"):
        op = draw(st.sampled_from(sorted(COMPLEMENT)))
        bound = max(0, len(w) + draw(st.integers(-3, 3)))
        if holds(len(w), op, bound) != truth:
            op = COMPLEMENT[op]
        return f"{shape}({name}) {op} {bound}"
    if shape == "regex":
        segments = column.pattern or []
        if not truth:
            segments = draw(text_pattern(12).filter(lambda s: not re.fullmatch(regex_of(s), w)))
        return f"{name} ~ '{regex_of(segments)}'"
    # compare with a constant
    op = draw(st.sampled_from(sorted(COMPLEMENT)))
    if kind == "text":
        op = draw(st.sampled_from(["=", "<>"]))  # ordering of text depends on the collation
        constant = w if draw(st.booleans()) else bump(kind, w, draw(st.integers(1, 50)))
    else:
        constant = offset(kind, w, draw(st.integers(-20, 20)))
    if holds(w, op, constant) != truth:
        op = COMPLEMENT[op]
    return f"{name} {op} {literal(kind, constant, column.sql_type)}"


def bump(kind: str, value: Any, n: int) -> Any:
    """A value of `kind` different from `value` (n >= 1)."""
    if kind == "text":
        return f"{value}{n}"
    return offset(kind, value, n)


def same_family(a: Column, b: Column) -> bool:
    return a.kind == b.kind and a.kind in ORDERED_KINDS


@st.composite
def formula(draw: Draw, columns: list[Column], truth: bool = True, depth: int = 2) -> str:
    """AND/OR/NOT of atoms, true (or false) on the witness row."""
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(atom(columns, truth))
    op = draw(st.sampled_from(["AND", "OR", "NOT"]))
    if op == "NOT":
        return f"NOT ({draw(formula(columns, not truth, depth - 1))})"
    if (op == "AND") == truth:  # true AND: both true; false OR: both false
        left, right = truth, truth
    else:  # true OR / false AND: one side decides, the other is free
        left = draw(st.booleans())
        right = truth if left != truth else draw(st.booleans())
    return f"({draw(formula(columns, left, depth - 1))}) {op} ({draw(formula(columns, right, depth - 1))})"


# --- whole schemas ----------------------------------------------------------------------------

# Defaults only on columns no CHECK reads, so a default never has to satisfy one.
DEFAULTS = {"uuid": "gen_random_uuid()", "timestamp": "now()", "jsonb": "'{}'::jsonb", "interval": "'1 hour'",
            "enum": f"'{ENUM_LABELS[0]}'", "domain": "1", "char": "'XX'"}

KEY_KINDS = ("identity always", "identity by default", "serial", "integer", "text", "uuid", "composite")


@st.composite
def key_columns(draw: Draw) -> list[Column]:
    kind = draw(st.sampled_from(KEY_KINDS))
    if kind == "identity always":
        return [Column("id", "integer", "int", True, None, "", identity="ALWAYS")]
    if kind == "identity by default":
        return [Column("id", "bigint", "int", True, None, "", identity="BY DEFAULT")]
    if kind == "serial":
        return [Column("id", "serial", "int", True, None, "", serial=True)]
    if kind == "integer":
        v = draw(st.integers(1, 10**6))
        return [Column("id", "integer", "int", True, v, str(v))]
    if kind == "text":
        return [Column("code", "text", "text", True, "K-1", quote("K-1"))]
    if kind == "uuid":
        u = str(draw(st.uuids()))
        return [Column("id", "uuid", "uuid", True, u, f"{quote(u)}::uuid")]
    return [Column("region", "smallint", "int", True, 1, "1"), Column("code", "varchar(12)", "text", True, "A1", quote("A1"))]


def fk_type(parent_column: Column) -> str:
    """The type a referencing column needs (serial and identity keys are integers underneath)."""
    return "integer" if parent_column.sql_type == "serial" else parent_column.sql_type


@st.composite
def schemas(draw: Draw, max_tables: int = 4) -> Schema:
    """1..max_tables tables with keys, random columns, FKs (some closing a nullable cycle) and CHECKs."""
    tables: list[Table] = []
    for i in range(draw(st.integers(1, max_tables))):
        name = f"t{i}"
        keys = draw(key_columns())
        plain = [draw(plain_column(f"c{j}")) for j in range(draw(st.integers(1, 5)))]
        table = Table(name, [*keys, *plain], [k.name for k in keys])
        if tables and draw(st.integers(0, 3)):
            for parent in draw(st.lists(st.sampled_from(tables), min_size=1, max_size=2, unique_by=lambda t: t.name)):
                add_reference(draw, table, parent, nullable=draw(st.booleans()))
        unique_candidates = [c for c in plain if c.kind in ("int", "text", "uuid", "date", "timestamptz") and c.sql_type != "smallint"]
        if unique_candidates and draw(st.booleans()):
            table.uniques.append([draw(st.sampled_from(unique_candidates)).name])
        if len(plain) >= 2 and draw(st.integers(0, 3)) == 0:
            pair = draw(st.lists(st.sampled_from(plain), min_size=2, max_size=2, unique_by=lambda c: c.name))
            if all(c.kind not in ("bool", "json", "jsonb") for c in pair):
                table.uniques.append([c.name for c in pair])
        in_unique = {n for u in table.uniques for n in u}
        checkable = [c for c in plain if c.checkable and c.name not in in_unique]
        for c in plain:
            if c.kind in DEFAULTS and c.name not in in_unique and draw(st.integers(0, 2)) == 0:
                c.default = DEFAULTS[c.kind]
        if checkable:
            table.checks = [draw(formula(checkable)) for _ in range(draw(st.integers(0, 3)))]
        tables.append(table)
    if draw(st.integers(0, 3)) == 0:  # a nullable FK up the order or to itself: a cycle to break
        child = draw(st.sampled_from(tables))
        parent = draw(st.sampled_from([t for t in tables if tables.index(t) >= tables.index(child)]))
        add_reference(draw, child, parent, nullable=True, closes_cycle=True)
    return Schema(tables)


def add_reference(draw: Draw, child: Table, parent: Table, nullable: bool, closes_cycle: bool = False) -> None:
    """Give `child` FK columns to `parent`'s primary key."""
    names = []
    for key in parent.primary_key:
        parent_column = parent.column(key)
        name = f"{parent.name}_{key}_{len(child.foreign_keys)}"
        child.columns.append(Column(name, fk_type(parent_column), parent_column.kind, not nullable, None, ""))
        names.append(name)
    child.foreign_keys.append(ForeignKey(names, parent.name, list(parent.primary_key), closes_cycle))


@st.composite
def check_only_schemas(draw: Draw) -> Schema:
    """One table whose only difficulty is a random combination of CHECKs on its columns."""
    columns = [draw(plain_column(f"c{j}").filter(lambda c: c.checkable)) for j in range(draw(st.integers(2, 6)))]
    table = Table("checked", [Column("id", "integer", "int", True, None, "", identity="ALWAYS"), *columns], ["id"])
    table.checks = [draw(formula(columns, depth=3)) for _ in range(draw(st.integers(1, 4)))]
    return Schema([table])


# --- using a drawn schema ---------------------------------------------------------------------

def write_project(schema: Schema, directory: Path, revision: str = "0a1b2c3d4e5f") -> Path:
    """A one-revision Alembic project (generic template) creating `schema`; returns its alembic.ini."""
    directory.mkdir(parents=True)
    for name in ("alembic.ini", "env.py", "script.py.mako"):
        shutil.copy(TEMPLATE_PROJECT / name, directory / name)
    (directory / "versions").mkdir()
    body = "\n".join(f"    op.execute({s!r})" for s in schema.statements())
    (directory / "versions" / f"{revision}_random_schema.py").write_text(
        textwrap.dedent(f'''\
            """random schema

            Revision ID: {revision}
            Revises:
            """
            from alembic import op

            revision = {revision!r}
            down_revision = None
            branch_labels = None
            depends_on = None


            def upgrade() -> None:
            ''') + body + "\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    return directory / "alembic.ini"


def insert_witnesses(conn: psycopg.Connection[Any], schema: Schema) -> None:
    """Insert one witness row per table (parents first, cycle edges NULL): Postgres must take them all."""
    keys: dict[str, dict[str, Any]] = {}
    for table in schema.tables:
        fk_values: dict[str, Any] = {}
        for fk in table.foreign_keys:
            for col, parent_col in zip(fk.columns, fk.parent_columns, strict=True):
                fk_values[col] = None if fk.closes_cycle or fk.parent not in keys else keys[fk.parent][parent_col]
        names, values = [], []
        for c in table.columns:
            if c.assigned_by_server:
                continue
            names.append(sql.Identifier(c.name))
            if c.name in fk_values:
                values.append(sql.Literal(fk_values[c.name]))
            else:
                values.append(sql.SQL(c.literal))
        returning = sql.SQL(", ").join(sql.Identifier(k) for k in table.primary_key)
        query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
            sql.Identifier(table.name), sql.SQL(", ").join(names), sql.SQL(", ").join(values), returning
        ) if names else sql.SQL("INSERT INTO {} DEFAULT VALUES RETURNING {}").format(sql.Identifier(table.name), returning)
        row = conn.execute(query).fetchone()
        assert row is not None
        keys[table.name] = dict(zip(table.primary_key, row, strict=True))
