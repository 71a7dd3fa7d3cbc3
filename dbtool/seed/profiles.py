"""Seed profiles of a project, as plain data: rows per table, column overrides and hooks.

A settings file's top-level `columns` and `hooks` tables apply to every profile; a profile's own
`columns` and `hooks` override them key by key. `ci`, `dev`, `demo` and `load` exist for every
project (GENERIC_ROWS) whether a file names them or not.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches

# Bump whenever the same (seed, profile, scale) would produce different rows: it is recorded in
# dbtool_meta and hashed into the digest, so old and new data are never mistaken for each other.
GENERATOR_VERSION = 4
MAX_SCALE = 5_000


# Rows per table for a project without a generator of its own (any team's schema): what the
# profile names mean everywhere. `load` is multiplied by --scale.
GENERIC_ROWS = {"ci": 10, "dev": 100, "demo": 1000, "load": 1000}


def generic_rows(profile: str, scale: int, own: ProjectProfile | None = None) -> int:
    """Rows per table of a generated schema for `profile` at `scale` (the profile's own `rows` first)."""
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
    if isinstance(body, dict):
        _known_keys(where, body, OVERRIDE_KEYS)
    if not isinstance(body, dict) or not body:
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
    return ColumnOverride(values, weights, tuple(span) if span else None, form, float(fraction))


PROFILE_KEYS = {"rows", "tables", "columns", "hooks", "epoch"}
# Generated dates and timestamps fall in the two years before a profile's `epoch` (never after it).
DEFAULT_EPOCH = dt.date(2026, 1, 1)


def _known_keys(where: str, body: Mapping[str, object], known: set[str]) -> None:
    """ValueError naming the first key of `body` that is not one of `known`, with the closest known one."""
    for key in body:
        if key not in known:
            raise ValueError(f"{where}: unknown key {key!r}{did_you_mean(key, known)}; it takes {', '.join(sorted(known))}")


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the choice closest to a misspelt `name`, or ''."""
    close = get_close_matches(name, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_names(own: ProjectProfile, columns: Mapping[str, Iterable[str]]) -> str | None:
    """What `own` names that the schema lacks (`columns`: each table's columns), as one line with the closest
    name, or None: a typo in a profile must not be silently ignored."""
    tables = set(columns)

    def table(name: str, what: str) -> str | None:
        return None if name in tables else f"{what} names table {name!r}, which the schema does not have{did_you_mean(name, tables)}"

    for name, count in own.tables.items():
        problem = table(name, "tables") or (table(count[1], f"tables.{name} (\"{count[0]} per {count[1]}\")")
                                            if isinstance(count, tuple) else None)
        if problem:
            return problem
    for (name, column) in own.columns:
        problem = table(name, f'columns."{name}.{column}"')
        if problem:
            return problem
        if column not in set(columns[name]):
            return (f'columns."{name}.{column}" names column {column!r}, which table {name} does not have'
                    f"{did_you_mean(column, columns[name])}")
    for name in own.hooks:
        problem = table(name, f"hooks.{name}")
        if problem:
            return problem
    return None


HOOK = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


@dataclass(frozen=True)
class ProjectProfile:
    """A profile of a project: rows per table by default, and per table (a count, or N per parent
    row); column overrides; hooks ("module:function" per table) imported from `directory`."""

    rows: int | None = None
    tables: dict[str, int | tuple[int, str]] = field(default_factory=dict)
    columns: dict[tuple[str, str], ColumnOverride] = field(default_factory=dict)
    hooks: dict[str, str] = field(default_factory=dict)
    directory: str | None = None  # where the declaring file lives: hook modules are imported from there
    epoch: dt.date = DEFAULT_EPOCH  # the end of the window generated dates and timestamps fall in

    @property
    def epoch_days(self) -> int:
        """The epoch as days after DEFAULT_EPOCH (the generator's raw units count from there)."""
        return (self.epoch - DEFAULT_EPOCH).days

    def counts(self, scale: int) -> dict[str, int | tuple[int, str]]:
        """Per-table counts at `scale` (N per parent stays N: the parent scales)."""
        return {t: (c * scale if isinstance(c, int) else c) for t, c in self.tables.items()}


def parse_profiles(table: dict[str, object], origin: str, directory: str | None = None) -> dict[str, ProjectProfile]:
    """The `profiles`, `columns` and `hooks` keys of a dbtool table -> ProjectProfile per name (the
    generic names included when shared columns or hooks apply), or ValueError saying which key is wrong."""
    shared_columns = _columns(table.get("columns"), origin)
    shared_hooks = _hooks(table.get("hooks"), origin)
    profiles = table.get("profiles", {})
    if not isinstance(profiles, dict):
        raise ValueError(f"{origin}: profiles must be a table of profiles ([profiles.NAME])")
    found = {}
    for name, body in profiles.items():
        where = f"{origin}: profiles.{name}"
        if isinstance(body, dict):
            _known_keys(where, body, PROFILE_KEYS)
        else:
            raise ValueError(f"{where} takes rows = N and tables, columns and hooks tables ([profiles.{name}.columns])")
        rows = body.get("rows")
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
            raise ValueError(f"{where}.rows = {rows!r} must be a whole number >= 0")
        tables: dict[str, int | tuple[int, str]] = {}
        for t, count in (body.get("tables") or {}).items():
            if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                tables[t] = count
            elif isinstance(count, str) and (per_parent := PER_PARENT.fullmatch(count)):
                n, parent = per_parent.groups()
                tables[t] = (int(n), parent)
            else:
                raise ValueError(f"{where}.tables.{t} = {count!r} must be a row count or \"N per PARENT_TABLE\"")
        columns = {**shared_columns, **_columns(body.get("columns"), where)}
        hooks = {**shared_hooks, **_hooks(body.get("hooks"), where)}
        found[name] = ProjectProfile(rows, tables, columns, hooks, directory, _epoch(body.get("epoch"), where))
    if shared_columns or shared_hooks:
        for name in GENERIC_ROWS:
            found.setdefault(name, ProjectProfile(columns=shared_columns, hooks=shared_hooks, directory=directory))
    return found


def _epoch(value: object, where: str) -> dt.date:
    if value is None:
        return DEFAULT_EPOCH
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}.epoch = {value!r} must be a date (epoch = 2026-01-01)") from None


def _columns(body: object, where: str) -> dict[tuple[str, str], ColumnOverride]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError(f'{where}: columns must be a table of "TABLE.COLUMN" = {{...}}')
    columns = {}
    for key, value in body.items():
        table_name, dot, column = str(key).partition(".")
        if not dot or not column:
            raise ValueError(f'{where}.columns."{key}" must name TABLE.COLUMN')
        columns[(table_name, column)] = _override(f'{where}.columns."{key}"', value)
    return columns


def _hooks(body: object, where: str) -> dict[str, str]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ValueError(f'{where}: hooks must be a table of TABLE = "module:function"')
    for table_name, spec in body.items():
        if not isinstance(spec, str) or not HOOK.fullmatch(spec):
            raise ValueError(f'{where}.hooks.{table_name} = {spec!r} must be "module:function" (e.g. "seed_hooks:{table_name}")')
    return dict(body)
