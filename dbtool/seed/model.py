"""The seed core's data model: a schema's tables, columns, keys, foreign keys and CHECKs, as plain
dataclasses. Pure: dbtool.db.catalog builds them from the server's catalog; the planner reads them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """A column with its type resolved through domains."""

    name: str
    type: str  # as format_type prints it: "character varying(20)", "numeric(10,2)", "my_domain"
    base: str  # the base type's name: int4, varchar, numeric, _int4, my_enum
    category: str  # pg_type.typcategory of the base: N numeric, S string, D date/time, B bool, U user, A array, E enum
    typmod: int | None
    element: str | None
    element_category: str | None
    labels: tuple[str, ...]
    not_null: bool
    default: str | None
    identity: str  # "a" always, "d" by default, "" none
    generated: str  # "s" stored generated column, "" none
    sequence: str | None  # the serial or identity sequence
    domain_checks: tuple[str, ...]
    # Enum values this transaction added, which the server cannot store before commit (Postgres < 17).
    unusable_labels: tuple[str, ...] = ()

    @property
    def length(self) -> int | None:
        """varchar(n) / char(n) / bit(n) limit."""
        if self.base in ("varchar", "bpchar") and self.typmod is not None and self.typmod >= 4:
            return self.typmod - 4
        return None

    @property
    def precision(self) -> tuple[int, int] | None:
        """(precision, scale) of numeric(p,s)."""
        if self.base == "numeric" and self.typmod is not None and self.typmod >= 4:
            return ((self.typmod - 4) >> 16) & 0xFFFF, (self.typmod - 4) & 0xFFFF
        return None


@dataclass(frozen=True)
class Constraint:
    """A primary key (p), unique (u), foreign key (f) or check (c) constraint."""

    name: str
    kind: str
    definition: str
    columns: tuple[str, ...]
    ref_table: str | None = None
    ref_schema: str | None = None
    ref_columns: tuple[str, ...] = ()
    deferrable: bool = False


@dataclass(frozen=True)
class UniqueIndex:
    """A unique index that backs no constraint; '' in `columns` is an expression."""

    name: str
    columns: tuple[str, ...]
    partial: bool
    expression_columns: tuple[str, ...] = ()  # the table's columns its expressions name (lower(email): email)


@dataclass(frozen=True)
class Table:
    """A table as the migrations left it."""

    name: str
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...]
    unique_indexes: tuple[UniqueIndex, ...]
    rows: int = 0  # rows the migrations inserted
    existing: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)  # their key columns, as text

    @property
    def primary_key(self) -> tuple[str, ...]:
        return next((c.columns for c in self.constraints if c.kind == "p"), ())

    def of_kind(self, kind: str) -> list[Constraint]:
        return [c for c in self.constraints if c.kind == kind]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)
