"""Named seed profiles: how many rows of each table, as plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Bump whenever the same (seed, profile, scale) would produce different rows: it is recorded in
# dbtool_meta and hashed into the digest, so old and new data are never mistaken for each other.
GENERATOR_VERSION = 1
MAX_SCALE = 5_000  # keeps every table inside its 2**24-row slice of the PRNG counter space
TABLES = (
    "staff",
    "services",
    "clients",
    "pets",
    "invoices",
    "invoice_line_items",
    "invoice_tip_splits",
    "grooming_visit_logs",
)


# Rows per table for a project without a generator of its own (any team's schema): what the
# profile names mean everywhere. `load` is multiplied by --scale.
GENERIC_ROWS = {"ci": 10, "dev": 100, "demo": 1000, "load": 1000}


def generic_rows(profile: str, scale: int, custom: dict[str, ProjectProfile] | None = None) -> int:
    """Rows per table of a generated schema for `profile` at `scale`."""
    own = (custom or {}).get(profile)
    if own is not None and own.rows is not None:
        return own.rows * scale
    return GENERIC_ROWS.get(profile, GENERIC_ROWS["dev"]) * scale


PER_PARENT = re.compile(r"\s*(\d+)\s+per\s+([A-Za-z_][A-Za-z0-9_]*)\s*")


@dataclass(frozen=True)
class ColumnOverride:
    """A profile's say on one column: listed values (weighted), a range, a format with the row
    number, a constant, and/or a fraction of NULLs."""

    values: tuple[object, ...] = ()
    weights: tuple[int, ...] = ()
    range: tuple[object, object] | None = None
    format: str | None = None  # "INV-{row:06d}": the row number counts from 1
    null_fraction: float = 0.0


OVERRIDE_KEYS = {"values", "weights", "range", "format", "constant", "null_fraction"}


def _override(where: str, body: object) -> ColumnOverride:
    if not isinstance(body, dict) or not body or set(body) - OVERRIDE_KEYS:
        raise ValueError(f"{where} takes {', '.join(sorted(OVERRIDE_KEYS))}")
    values = tuple(body.get("values", ())) + ((body["constant"],) if "constant" in body else ())
    weights = tuple(body.get("weights", ()))
    if weights and (len(weights) != len(values) or any(not isinstance(w, int) or w < 0 for w in weights) or not sum(weights)):
        raise ValueError(f"{where}.weights must be one whole number >= 0 per value, not all 0")
    span = body.get("range")
    if span is not None and (not isinstance(span, list) or len(span) != 2):
        raise ValueError(f"{where}.range must be [low, high]")
    form = body.get("format")
    if form is not None:
        try:
            str(form).format(row=1)
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"{where}.format must use only {{row}} (e.g. \"INV-{{row:06d}}\")") from None
    fraction = body.get("null_fraction", 0.0)
    if not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
        raise ValueError(f"{where}.null_fraction must be between 0 and 1")
    return ColumnOverride(values, weights, tuple(span) if span else None, form, float(fraction))  # type: ignore[arg-type]


@dataclass(frozen=True)
class ProjectProfile:
    """A profile of a team's own project: rows per table by default, and per table (a count, or N per parent row)."""

    rows: int | None = None
    tables: dict[str, int | tuple[int, str]] = field(default_factory=dict)
    columns: dict[tuple[str, str], ColumnOverride] = field(default_factory=dict)

    def counts(self, scale: int) -> dict[str, int | tuple[int, str]]:
        """Per-table counts at `scale` (N per parent stays N: the parent scales)."""
        return {t: (c * scale if isinstance(c, int) else c) for t, c in self.tables.items()}


def parse_profiles(table: object, origin: str) -> dict[str, ProjectProfile]:
    """[tool.dbtool.profiles.NAME] tables -> ProjectProfile, or ValueError saying which key is wrong."""
    if not isinstance(table, dict):
        raise ValueError(f"{origin}: profiles must be a table of profiles ([profiles.NAME])")
    found = {}
    for name, body in table.items():
        where = f"{origin}: profiles.{name}"
        if not isinstance(body, dict) or set(body) - {"rows", "tables", "columns"}:
            raise ValueError(f"{where} takes rows = N, a tables table and a columns table ([profiles.{name}.columns])")
        rows = body.get("rows")
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
            raise ValueError(f"{where}.rows = {rows!r} must be a whole number >= 0")
        tables: dict[str, int | tuple[int, str]] = {}
        for t, count in (body.get("tables") or {}).items():
            if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                tables[t] = count
            elif isinstance(count, str) and PER_PARENT.fullmatch(count):
                n, parent = PER_PARENT.fullmatch(count).groups()  # type: ignore[union-attr]
                tables[t] = (int(n), parent)
            else:
                raise ValueError(f"{where}.tables.{t} = {count!r} must be a row count or \"N per PARENT_TABLE\"")
        columns = {}
        for key, body_ in (body.get("columns") or {}).items():
            table_name, dot, column = str(key).partition(".")
            if not dot or not column:
                raise ValueError(f'{where}.columns."{key}" must name TABLE.COLUMN')
            columns[(table_name, column)] = _override(f'{where}.columns."{key}"', body_)
        found[name] = ProjectProfile(rows, tables, columns)
    return found


@dataclass(frozen=True)
class Profile:
    """Row counts for the tables whose size is chosen; dependent tables follow from the data."""

    name: str
    description: str
    staff: int
    clients: int
    pets: int
    invoices: int
    visits: int
    days: int  # invoices and visits spread over this many days after the epoch
    services: int = 10  # the catalog does not grow with scale

    def scaled(self, scale: int) -> Profile:
        """Return this profile with every scalable count multiplied by `scale`."""
        if scale == 1:
            return self
        return Profile(
            name=self.name,
            description=self.description,
            staff=self.staff * scale,
            clients=self.clients * scale,
            pets=self.pets * scale,
            invoices=self.invoices * scale,
            visits=self.visits * scale,
            days=self.days,
            services=self.services,
        )


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("ci", "small set for fast tests", staff=4, clients=10, pets=18, invoices=50, visits=50, days=30),
        Profile("dev", "local development (default)", staff=4, clients=100, pets=176, invoices=1000, visits=1000, days=90),
        Profile("demo", "4x dev spread over a year", staff=8, clients=400, pets=704, invoices=4000, visits=4000, days=365),
        Profile("load", "dev counts over a year; use with --scale N", staff=4, clients=100, pets=176, invoices=1000, visits=1000, days=365),
    )
}
